//go:build linux

package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
	"github.com/onfact/onfact-dropbox/internal/syncbuf"
)

// TestUnreadableIsTold runs the real binary as an office user (nobody: CI runs as root,
// which ignores permissions) with a keychain of its own, on an export folder where a
// subfolder and a file cannot be read. `sync --once` used to say "up to date" and exit 0,
// and `status` showed 0 refused: the documents inside were never backed up, silently. Now
// the run exits 1 naming both with the reason, the rest is in Dropbox, and `status` lists
// them.
func TestUnreadableIsTold(t *testing.T) {
	cmd := asNobody(t) // skips unless root; a copy of the binary nobody may run
	bin := cmd.Args[len(cmd.Args)-1]
	for _, tool := range []string{"setpriv", "dbus-run-session", "dbus-send", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	env := emutest.Start(t, dropboxemu.Options{AutoApprove: true}, dropboxemu.AccountInfo{Email: "office@example.be"})

	home := nobodyDir(t)
	folder := filepath.Join(home, "export")
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(folder, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("factuur 2026-03-01.pdf", "%PDF-1.7 a\n%%EOF\n", 0o644)
	write("geheim 2026-03-02.pdf", "%PDF-1.7 b\n%%EOF\n", 0o000)
	write("dicht/factuur 2026-03-03.pdf", "%PDF-1.7 c\n%%EOF\n", 0o644)
	chownAll(t, home)
	os.Chmod(filepath.Join(folder, "dicht"), 0o000)

	// One session as nobody: its own D-Bus and gnome-keyring, a connection added with the
	// code pasted as a person without a browser does, then the sync and the status.
	script := `set -u
export XDG_DATA_HOME="$HOME/keyring"
mkdir -p "$XDG_DATA_HOME"
eval "$(printf 'office' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
# The daemon forks before it owns its bus name: asking for the Secret Service before then
# makes D-Bus start a second, locked one.
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true; do
	i=$((i + 1)); [ "$i" -lt 100 ] || exit 8; sleep 0.05
done
"$BIN" connections add --name Acme --folder "$FOLDER" --structure year --company Acme --code-stdin --no-browser <&3 || exit 9
"$BIN" sync --once; echo "sync exit $?"
"$BIN" status; echo "status exit $?"`
	run := exec.Command("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
		"dbus-run-session", "--", "sh", "-c", script)
	// Not the test session's keyring folder and control socket (root's): a daemon D-Bus
	// starts for this session gets its environment.
	run.Env = headlessEnv(home, "HOME="+home, "LANG=C.UTF-8", "BIN="+bin, "FOLDER="+folder,
		"XDG_DATA_HOME="+filepath.Join(home, "keyring"), "GNOME_KEYRING_CONTROL=",
		"ONFACT_DROPBOX_APP_KEY="+emutest.AppKey, "ONFACT_DROPBOX_API_URL="+env.URL)
	codeR, codeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	run.ExtraFiles = []*os.File{codeR} // fd 3
	var out, errOut syncbuf.Buffer
	run.Stderr = &errOut
	stdout, _ := run.StdoutPipe()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	codeR.Close()
	go pasteCode(t, io.TeeReader(stdout, &out), codeW)
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		run.Process.Kill()
		t.Fatalf("the session as nobody did not end:\n%s\n%s", out.String(), errOut.String())
	}
	if err != nil {
		t.Fatalf("the session as nobody: %v\n%s\n%s", err, out.String(), errOut.String())
	}

	all := out.String() + errOut.String()
	if !strings.Contains(out.String(), "sync exit 1") {
		t.Fatalf("sync --once did not fail although two documents are not in Dropbox:\n%s", all)
	}
	for _, want := range []string{"dicht", "geheim 2026-03-02.pdf", "no permission"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("sync --once does not say %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "2 refused") || !strings.Contains(out.String(), "refused\tdicht\t") {
		t.Errorf("status does not list what cannot be read:\n%s", out.String())
	}
	if got := (&emutest.Env{Srv: env.Srv, Account: env.Account}).Files(); len(got) != 1 {
		t.Errorf("Dropbox holds %v, want the one readable document", got)
	}
}

var codeOnPage = regexp.MustCompile(`<code id="code">([^<]*)</code>`)

// pasteCode plays the person of `connections add --code-stdin`: it opens the permission
// page the command prints, as another browser would, and pastes the code shown.
func pasteCode(t *testing.T, stdout io.Reader, code io.WriteCloser) {
	defer code.Close()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		i := strings.Index(sc.Text(), "http://")
		if i < 0 {
			continue
		}
		resp, err := http.Get(strings.Fields(sc.Text()[i:])[0])
		if err != nil {
			t.Errorf("open the permission page: %v", err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := codeOnPage.FindStringSubmatch(string(body)); m != nil {
			fmt.Fprintln(code, html.UnescapeString(m[1]))
		}
		break
	}
	io.Copy(io.Discard, stdout)
}

// nobodyDir is a folder the user nobody owns, removed when the test ends.
func nobodyDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "onfact-nobody-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { os.Chmod(p, 0o755); return nil })
		os.RemoveAll(dir)
	})
	return dir
}

// chownAll gives a tree to nobody (uid and gid 65534).
func chownAll(t *testing.T, dir string) {
	t.Helper()
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 65534, 65534)
	})
	if err != nil {
		t.Fatal(err)
	}
}
