package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
	"github.com/onfact/onfact-dropbox/internal/porttest"
	"github.com/onfact/onfact-dropbox/internal/service"
)

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// TestMain keeps the app's loopback OAuth ports to this package while its tests run (the
// smoke test's binary connects through them), then removes the binary the tests built.
func TestMain(m *testing.M) {
	code := porttest.Run(m)
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// binary builds the real onfact-dropbox binary once per test run (the Fyne build is slow)
// and returns its path. The tests run it as a user would: a separate process.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "onfact-dropbox-bin-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "onfact-dropbox")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// headlessEnv is the environment of a headless command as cron or a service gives it:
// the test's, with home as the settings folder and no locale variables but the ones given.
func headlessEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "ONFACT_DROPBOX_HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "ONFACT_DROPBOX_HOME="+home), extra...)
}

// TestNoFyneLocaleNoise runs headless commands as cron and ssh sessions do, with LANG=C
// or C.UTF-8 and no LC_ALL: Fyne reads the locale in its init and used to print
// "Fyne error: Error parsing user locale C" into every command's output.
func TestNoFyneLocaleNoise(t *testing.T) {
	bin := binary(t)
	for _, lang := range []string{"C", "C.UTF-8", "POSIX", "POSIX.UTF-8"} {
		for _, args := range [][]string{{"status"}, {"version"}, {"connections", "list"}} {
			t.Run(lang+"/"+strings.Join(args, "_"), func(t *testing.T) {
				cmd := exec.Command(bin, args...)
				cmd.Env = headlessEnv(t.TempDir(), "LANG="+lang)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, stderr.String())
				}
				if strings.Contains(stderr.String(), "Fyne") {
					t.Fatalf("stderr has Fyne's noise:\n%s", stderr.String())
				}
			})
		}
	}
}

// uploadRoutes are every route that carries a document's content.
var uploadRoutes = []string{"files/upload", "files/upload_session/start", "files/upload_session/start_batch",
	"files/upload_session/append_v2", "files/upload_session/append_batch", "files/upload_session/finish",
	"files/upload_session/finish_batch_v2", "files/upload_session/finish_batch"}

// headless is one connection "Acme" (structure year, company Acme) to an emulated Dropbox,
// its token in the real keychain, for running the real binary's headless commands.
type headless struct {
	env          *emutest.Env
	home, folder string
	conn         config.Connection
}

func newHeadless(t *testing.T) *headless {
	t.Helper()
	keys := keychainOrSkip(t)
	env := emutest.Start(t, dropboxemu.Options{}, dropboxemu.AccountInfo{Email: "office@example.be"})
	h := &headless{env: env, home: t.TempDir(), folder: t.TempDir()}
	h.conn = config.Connection{ID: config.NewID(), Name: "Acme", Folder: h.folder, Structure: "year", Company: "Acme",
		Language: "nl", AccountEmail: "office@example.be"}
	c := config.Default()
	c.Connections = []config.Connection{h.conn}
	if err := config.Save(config.Path(h.home), c); err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(h.conn.ID, &oauth2.Token{AccessToken: env.Token, RefreshToken: env.Refresh, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Delete(h.conn.ID) })
	return h
}

// write puts a document in the export folder, settled an hour ago.
func (h *headless) write(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(h.folder, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
}

// command is the real binary with args in h's settings folder, as cron runs it.
func (h *headless) command(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(binary(t), args...)
	cmd.Env = headlessEnv(h.home, "LANG=C.UTF-8", "ONFACT_DROPBOX_APP_KEY="+emutest.AppKey, "ONFACT_DROPBOX_API_URL="+h.env.URL)
	return cmd
}

// run runs a command to its end and returns its exit code, stdout and stderr.
func (h *headless) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := h.command(t, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errOut.String(), "panic:") || strings.Contains(errOut.String(), "goroutine ") {
		t.Fatalf("%v crashed:\n%s", args, errOut.String())
	}
	return code, out.String(), errOut.String()
}

// TestStatusWhileRunning asks "status" and "status --json" while "run --headless" runs:
// it used to refuse ("its window and tray show the live status", and there is none). It
// must say each connection's state, the counts and each refused file with its reason,
// and once the run stopped answer from the store.
func TestStatusWhileRunning(t *testing.T) {
	h := newHeadless(t)
	h.write(t, "factuur 2026-03-01 A.pdf", "%PDF a")
	h.write(t, "factuur 2026-03-02 B.pdf", "%PDF b")
	h.write(t, "factuur 2026-03-03 C.pdf", "%PDF c")
	// A folder in Dropbox where C goes: Dropbox refuses C, for good until it changes, so
	// the status must not say that all documents are in Dropbox.
	blocked := "/Acme/2026/factuur 2026-03-03 C.pdf"
	if err := h.env.Srv.PutFile(h.env.Account, blocked+"/in the way.txt", []byte("x"), time.Now()); err != nil {
		t.Fatal(err)
	}

	run := h.command(t, "run", "--headless")
	var runErr strings.Builder
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			run.Process.Signal(syscall.SIGTERM)
			run.Wait()
		}
	}
	t.Cleanup(stop)

	var r service.Report
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, out, errOut := h.run(t, "status", "--json")
		if code == 0 {
			r = service.Report{}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("status --json: %v\n%s", err, out)
			}
			if len(r.Connections) == 1 && r.Connections[0].State == "idle" && r.Connections[0].Refused == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no idle status with one refused file: exit %d\n%s%s\nrun's log:\n%s", code, out, errOut, runErr.String())
		}
		time.Sleep(300 * time.Millisecond)
	}
	c := r.Connections[0]
	if !r.Running || r.Stale || r.PID != run.Process.Pid || time.Since(r.Updated) > time.Minute {
		t.Errorf("report %+v", r)
	}
	if c.Name != "Acme" || c.Account != "office@example.be" || c.Waiting != 0 || !c.InitialCopyDone || c.LastSync.IsZero() {
		t.Errorf("connection %+v", c)
	}
	if len(c.Problems) != 1 || c.Problems[0].Path != "factuur 2026-03-03 C.pdf" || c.Problems[0].Reason == "" {
		t.Fatalf("problems %+v", c.Problems)
	}

	code, out, errOut := h.run(t, "status")
	if code != 0 || !strings.Contains(out, "Acme\toffice@example.be\tup to date, except 1 document that is not in Dropbox\tinitial copy done\t") ||
		!strings.Contains(out, "\t0 waiting\t1 refused\n") ||
		!strings.Contains(out, "  refused\tfactuur 2026-03-03 C.pdf\t"+c.Problems[0].Reason+"\n") {
		t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
	}
	if errOut != "" {
		t.Errorf("status printed on stderr:\n%s", errOut)
	}

	// Stopped, it removes its file and status answers from the store.
	stop()
	if _, err := os.Stat(service.StatusPath(h.home)); !os.IsNotExist(err) {
		t.Errorf("the status file outlived the run: %v", err)
	}
	code, out, errOut = h.run(t, "status")
	if code != 0 || !strings.Contains(out, "Acme\toffice@example.be\tnot running\tinitial copy done\t") ||
		!strings.Contains(out, "  refused\tfactuur 2026-03-03 C.pdf\t") {
		t.Fatalf("status after the run: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDamagedStateIsRebuilt scribbles over the state store between two runs, as a failing
// disk does. The command used to panic with a stack trace at every start; now it tells the
// user once, keeps the damaged file aside and rebuilds the state from the folder and the
// Dropbox listing, sending no document again.
func TestDamagedStateIsRebuilt(t *testing.T) {
	for _, damage := range []string{"meta pages", "data pages"} {
		t.Run(damage, func(t *testing.T) {
			h := newHeadless(t)
			for i := range 30 {
				h.write(t, fmt.Sprintf("factuur 2026-03-%02d %03d.pdf", i%28+1, i), fmt.Sprintf("%%PDF %d", i))
			}
			if code, out, errOut := h.run(t, "sync", "--once"); code != 0 {
				t.Fatalf("first sync: exit %d\n%s%s", code, out, errOut)
			}
			if n := len(h.env.Files()); n != 30 {
				t.Fatalf("%d files in Dropbox", n)
			}

			db := service.StorePath(h.home)
			b, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			from, to := 0, 2*4096 // both meta pages: bbolt's "invalid database"
			if damage == "data pages" {
				from, to = 2*4096, len(b) // every page of the tree: bbolt panicked on them
			}
			for i := from; i < to; i++ {
				b[i] = byte(i*7 + 13)
			}
			os.WriteFile(db, b, 0o600)

			h.env.Srv.ResetStats()
			code, out, errOut := h.run(t, "sync", "--once")
			if code != 0 {
				t.Fatalf("sync after the damage: exit %d\n%s%s", code, out, errOut)
			}
			if n := strings.Count(errOut, "was damaged"); n != 1 || !strings.Contains(errOut, "not sent again") {
				t.Fatalf("the user was told %d times:\n%s", n, errOut)
			}
			if n := h.env.Srv.Calls(uploadRoutes...); n != 0 {
				t.Fatalf("%d upload calls after the reset: documents were sent again", n)
			}
			if m, _ := filepath.Glob(db + ".broken-*"); len(m) != 1 {
				t.Fatalf("damaged file kept as %v", m)
			}
			// Told once: the next run is an ordinary one.
			code, out, errOut = h.run(t, "sync", "--once")
			if code != 0 || strings.Contains(errOut, "damaged") {
				t.Fatalf("next sync: exit %d\n%s%s", code, out, errOut)
			}
			if code, out, errOut := h.run(t, "status"); code != 0 || !strings.Contains(out, "initial copy done") {
				t.Fatalf("status: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// TestKeychainWithoutSessionBus runs the keychain's commands as cron does, with no session
// bus: go-keyring used to autolaunch a dbus-daemon that outlived every command, and said
// "failed to unlock correct collection 'login'". Now the command says the keychain cannot
// be reached and how to fix it, and leaves no process behind.
func TestKeychainWithoutSessionBus(t *testing.T) {
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this user has a systemd session bus: every command finds it")
	}
	home := t.TempDir()
	c := config.Default()
	c.Connections = []config.Connection{{ID: config.NewID(), Name: "Acme", Folder: t.TempDir(), Structure: "year", Company: "Acme"}}
	if err := config.Save(config.Path(home), c); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"sync", "--once"}, {"run", "--headless"}, {"connections", "remove", "Acme"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			cmd := exec.Command(binary(t), args...)
			var env []string
			for _, kv := range headlessEnv(home, "ONFACT_DROPBOX_APP_KEY="+emutest.AppKey, "ONFACT_DROPBOX_API_URL=http://127.0.0.1:1") {
				if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
					env = append(env, kv)
				}
			}
			cmd.Env = env
			var errOut strings.Builder
			cmd.Stderr = &errOut
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit %v\n%s", err, errOut.String())
			}
			msg := errOut.String()
			if !strings.Contains(msg, "keychain") || !strings.Contains(msg, "cannot be reached") ||
				!strings.Contains(msg, "dbus-run-session") || strings.Contains(msg, "collection") {
				t.Errorf("message:\n%s", msg) // and look for what it left running all the same
			}
			// dbus-launch's daemon forks away from the command: it carries the command's
			// environment, so a process with this settings folder in it is the command's.
			time.Sleep(300 * time.Millisecond)
			procs, _ := filepath.Glob("/proc/[0-9]*/environ")
			for _, p := range procs {
				b, err := os.ReadFile(p)
				if err == nil && strings.Contains(string(b), "ONFACT_DROPBOX_HOME="+home+"\x00") {
					cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
					t.Errorf("left running: pid %s: %s", filepath.Base(filepath.Dir(p)), strings.ReplaceAll(string(cmdline), "\x00", " "))
				}
			}
		})
	}
}

// messageLine is the first line of a command's stderr: what the user reads. The lines
// after it are the log's ("detail: ..."), for support.
func messageLine(stderr string) string {
	line, _, _ := strings.Cut(stderr, "\n")
	return line
}

// TestDamagedSettingsSaySo: a damaged config.json used to print "unexpected end of JSON
// input"; every command now says which file is damaged and what to do.
func TestDamagedSettingsSaySo(t *testing.T) {
	home := t.TempDir()
	os.WriteFile(config.Path(home), []byte(`{"version": 1, "connections": [{"id": "x", "na`), 0o600)
	h := &headless{env: &emutest.Env{URL: "http://127.0.0.1:1"}, home: home}
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"sync", "--once"}, {"run", "--headless"}, {"connections", "list"}} {
		code, _, errOut := h.run(t, args...)
		msg := messageLine(errOut)
		if code != 1 || !strings.Contains(msg, "the settings file "+config.Path(home)+" is damaged") ||
			strings.Contains(msg, "JSON") || !strings.Contains(errOut, "detail: ") {
			t.Errorf("%v: exit %d\n%s", args, code, errOut)
		}
	}
}

// asNobody returns a command that runs the real binary as the unprivileged user nobody
// (CI runs as root, which may write anywhere), from a copy nobody may run.
func asNobody(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to run the binary as another user")
	}
	dir, err := os.MkdirTemp("", "onfact-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "onfact-dropbox")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return exec.Command("setpriv", append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", bin}, args...)...)
}

// TestSettingsFolderNotWritable runs status as a user who may read the settings but not
// write in their folder (someone else's, or read-only): a plain message, no stack trace.
func TestSettingsFolderNotWritable(t *testing.T) {
	cmd := asNobody(t, "status")
	home, err := os.MkdirTemp("", "onfact-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	os.Chmod(home, 0o755) // root's: nobody reads, may not write
	c := config.Default()
	c.Connections = []config.Connection{{ID: config.NewID(), Name: "Acme", Folder: home, Structure: "year", Company: "Acme"}}
	if err := config.Save(config.Path(home), c); err != nil {
		t.Fatal(err)
	}
	os.Chmod(config.Path(home), 0o644)
	cmd.Env = headlessEnv(home, "LANG=C.UTF-8")
	var errOut strings.Builder
	cmd.Stderr = &errOut
	err = cmd.Run()
	msg := messageLine(errOut.String())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 ||
		!strings.Contains(msg, "may not write in its folder "+home) || strings.Contains(msg, "permission denied") ||
		strings.Contains(errOut.String(), "panic") {
		t.Fatalf("exit %v\n%s", err, errOut.String())
	}
}

// TestDiskFull fills the disk the settings folder is on (a tmpfs of its own) between two
// syncs: the sync says the disk is full in plain words, loses nothing, and once space is
// freed the next sync sends what waited.
func TestDiskFull(t *testing.T) {
	h := newHeadless(t)
	if os.Getuid() != 0 {
		t.Skip("needs root to mount a small file system")
	}
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", disk).Run() })
	b, _ := os.ReadFile(config.Path(h.home))
	os.WriteFile(config.Path(disk), b, 0o600)
	h.home = disk

	h.write(t, "factuur 2026-03-01 A.pdf", "%PDF a")
	if code, out, errOut := h.run(t, "sync", "--once"); code != 0 {
		t.Fatalf("first sync: exit %d\n%s%s", code, out, errOut)
	}
	// Fill the disk to the last byte.
	filler, err := os.Create(filepath.Join(disk, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for n := len(chunk); n > 0; n /= 2 {
		for {
			if _, err := filler.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	filler.Close()
	for i := range 20 {
		h.write(t, fmt.Sprintf("factuur 2026-03-%02d B%02d.pdf", i+2, i), strings.Repeat("%PDF b", 200+i))
	}
	code, out, errOut := h.run(t, "sync", "--once")
	all := out + errOut
	t.Logf("on a full disk:\n%s", all)
	if code != 1 || !strings.Contains(all, "the disk of this computer is full") || strings.Contains(out, "no space left") {
		t.Fatalf("sync on a full disk: exit %d\n%s%s", code, out, errOut)
	}
	for _, l := range strings.Split(all, "\n") {
		if strings.Contains(l, "no space left") && !strings.Contains(l, "detail: ") {
			t.Errorf("a raw error outside the detail lines: %q", l)
		}
	}

	os.Remove(filepath.Join(disk, "filler"))
	if code, out, errOut := h.run(t, "sync", "--once"); code != 0 {
		t.Fatalf("sync after freeing space: exit %d\n%s%s", code, out, errOut)
	}
	if n := len(h.env.Files()); n != 21 {
		t.Fatalf("%d files in Dropbox, want 21", n)
	}
}
