package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
)

// keychainOrSkip returns the keychain, or skips the test where there is none (a developer
// machine without a Secret Service); under CI a missing keychain fails.
func keychainOrSkip(t *testing.T) auth.Keychain {
	t.Helper()
	k := auth.Keychain{}
	if err := k.Check(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no keychain in CI: %v", err)
		}
		t.Skipf("no keychain here (%v); make test runs one", err)
	}
	return k
}

// TestKillDuringInitialCopy kills the headless binary with SIGKILL at random moments of an
// initial copy of a few thousand files, restarts it, and checks that Dropbox ends up equal
// to the folder: every file there with the right content, nothing duplicated, nothing else.
func TestKillDuringInitialCopy(t *testing.T) {
	keys := keychainOrSkip(t)
	env := emutest.Start(t, dropboxemu.Options{Faults: dropboxemu.Faults{Seed: 3, Latency: 60 * time.Millisecond}},
		dropboxemu.AccountInfo{Email: "crash@example.be"})

	folder, syncOnce := crashConnection(t, keys, env.Token, env.Refresh, env.URL)
	const files = 2500
	want := map[string]string{}
	rng := rand.New(rand.NewSource(1))
	for i := range files {
		name := fmt.Sprintf("factuur 2025-%02d-%02d %05d.pdf", i%12+1, i%28+1, i)
		data := make([]byte, 512+rng.Intn(4096))
		rng.Read(data)
		want["/Acme/2025/Facturen/"+name] = writeOld(t, filepath.Join(folder, fmt.Sprint(i%10), name), data)
	}

	// Kill it at random moments, several times over.
	for round := range 6 {
		cmd := syncOnce()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+rng.Intn(900)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		t.Logf("round %d: killed with %d files in Dropbox", round, len(env.Files()))
	}
	out, err := syncOnce().CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}

	equalToFolder(t, env.Files(), want)
}

// crashConnection sets up one connection to the emulator at apiURL (settings in a fresh
// home, its token in the keychain) and returns its export folder and a maker of
// "sync --once" commands of the real binary.
func crashConnection(t *testing.T, keys auth.Keychain, token, refresh, apiURL string) (folder string, syncOnce func() *exec.Cmd) {
	t.Helper()
	home := t.TempDir()
	folder = t.TempDir()
	conn := config.Connection{ID: config.NewID(), Name: "Crash", Folder: folder, Structure: "year-type", Company: "Acme", Language: "nl"}
	c := config.Default()
	c.Connections = []config.Connection{conn}
	if err := config.Save(config.Path(home), c); err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(conn.ID, &oauth2.Token{AccessToken: token, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Delete(conn.ID) })
	bin := binary(t)
	cmdEnv := append(os.Environ(), "ONFACT_DROPBOX_HOME="+home, "ONFACT_DROPBOX_APP_KEY="+emutest.AppKey, "ONFACT_DROPBOX_API_URL="+apiURL)
	return folder, func() *exec.Cmd {
		cmd := exec.Command(bin, "sync", "--once")
		cmd.Env = cmdEnv
		return cmd
	}
}

// writeOld writes a file dated an hour ago (settled) and returns its content hash.
func writeOld(t *testing.T, p string, data []byte) string {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	h, _ := dropbox.ContentHash(bytes.NewReader(data))
	return h
}

// equalToFolder checks that Dropbox holds exactly the files wanted, with their content.
func equalToFolder(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("Dropbox has %d files, the folder %d", len(got), len(want))
	}
	for p, h := range want {
		if got[p] != h {
			t.Errorf("%s: hash %q, want %q", p, got[p], h)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected file in Dropbox: %s", p)
		}
	}
}

// TestKillDuringLargeCommit kills the headless binary with SIGKILL while it commits a large
// file (upload_session/finish): before the request reaches Dropbox, while Dropbox commits
// it (the answer never read), and right after Dropbox answered (not yet recorded). After a
// final run every file is in Dropbox once, with its content, and each path has exactly one
// version: nothing lost, nothing committed twice or as a mix.
func TestKillDuringLargeCommit(t *testing.T) {
	keys := keychainOrSkip(t)
	data := t.TempDir()
	srv, err := dropboxemu.New(dropboxemu.Options{DataDir: data, Faults: dropboxemu.Faults{Seed: 4, Latency: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.RegisterApp(dropboxemu.App{Key: emutest.AppKey})
	account, err := srv.AddAccount(dropboxemu.AccountInfo{Email: "crash-large@example.be"})
	if err != nil {
		t.Fatal(err)
	}
	token, refresh, err := srv.IssueToken(account, emutest.AppKey, true)
	if err != nil {
		t.Fatal(err)
	}

	// The kill comes from the emulator's front door, when a finish arrives: that is the
	// one moment a test cannot hit by timing. The emulator still serves the request as
	// Dropbox would for a client that vanished.
	const (
		beforeDropbox   = iota // the request never reaches Dropbox
		whileCommitting        // Dropbox commits for a client already dead
		afterAnswer            // Dropbox answered; the client had no time to record it
		moments
	)
	var mu sync.Mutex
	var victim *os.Process
	var moment int
	killed := make(chan int, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		p, m := victim, moment
		if r.URL.Path == "/2/files/upload_session/finish" {
			victim = nil
		}
		mu.Unlock()
		if r.URL.Path != "/2/files/upload_session/finish" || p == nil {
			srv.ServeHTTP(w, r)
			return
		}
		switch m {
		case beforeDropbox:
			p.Signal(syscall.SIGKILL)
			killed <- m
			panic(http.ErrAbortHandler) // no answer at all, as a connection cut on the way
		case whileCommitting:
			p.Signal(syscall.SIGKILL)
			// Dead (reaped by the test's Wait) before Dropbox commits.
			for deadline := time.Now().Add(5 * time.Second); p.Signal(syscall.Signal(0)) == nil && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			srv.ServeHTTP(w, r)
		case afterAnswer:
			srv.ServeHTTP(w, r)
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			p.Signal(syscall.SIGKILL)
		}
		killed <- m
	}))
	t.Cleanup(front.Close)

	folder, syncOnce := crashConnection(t, keys, token, refresh, front.URL)
	want := map[string]string{}
	rng := rand.New(rand.NewSource(2))
	for i := range 8 { // large: through upload sessions, two chunks each
		content := make([]byte, 12<<20+rng.Intn(1<<20))
		rng.Read(content)
		copy(content[len(content)-7:], "\n%%EOF\n")
		name := fmt.Sprintf("factuur 2025-11-%02d bijlagen.pdf", i+1)
		want["/Acme/2025/Facturen/"+name] = writeOld(t, filepath.Join(folder, "groot", name), content)
	}
	for i := range 200 { // small ones around them, committed in batches
		content := make([]byte, 512+rng.Intn(4096))
		rng.Read(content)
		name := fmt.Sprintf("factuur 2025-10-%02d %04d.pdf", i%28+1, i)
		want["/Acme/2025/Facturen/"+name] = writeOld(t, filepath.Join(folder, "klein", name), content)
	}

	for round := range 2 * moments {
		cmd := syncOnce()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		victim, moment = cmd.Process, round%moments
		mu.Unlock()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err = <-exited:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
			t.Fatal("sync --once neither committed a large file nor finished within two minutes")
		}
		mu.Lock()
		taken := victim == nil // by the front door, which then says when it is done
		victim = nil
		mu.Unlock()
		if taken {
			t.Logf("round %d: killed at a large commit (moment %d) with %d files in Dropbox", round, <-killed, len(srv.Entries(account)))
		} else {
			t.Logf("round %d: finished before a large commit came (%v)", round, err)
		}
	}
	out, err := syncOnce().CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}

	equalToFolder(t, (&emutest.Env{Srv: srv, Account: account}).Files(), want)
	versions, err := dropboxemu.Versions(data)
	if err != nil {
		t.Fatal(err)
	}
	for p, h := range want {
		if v := versions[strings.ToLower(p)]; len(v) != 1 || v[0] != h {
			t.Errorf("%s: versions %v, want only %s", p, v, h)
		}
	}
}
