package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

	home, folder := t.TempDir(), t.TempDir()
	conn := config.Connection{ID: config.NewID(), Name: "Crash", Folder: folder, Structure: "year-type", Company: "Acme", Language: "nl"}
	c := config.Default()
	c.Connections = []config.Connection{conn}
	if err := config.Save(config.Path(home), c); err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(conn.ID, &oauth2.Token{AccessToken: env.Token, RefreshToken: env.Refresh, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Delete(conn.ID) })

	const files = 2500
	want := map[string]string{}
	old := time.Now().Add(-time.Hour)
	rng := rand.New(rand.NewSource(1))
	for i := range files {
		name := fmt.Sprintf("factuur 2025-%02d-%02d %05d.pdf", i%12+1, i%28+1, i)
		data := make([]byte, 512+rng.Intn(4096))
		rng.Read(data)
		p := filepath.Join(folder, fmt.Sprint(i%10), name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		h, _ := dropbox.ContentHash(strings.NewReader(string(data)))
		want["/Acme/2025/Facturen/"+name] = h
	}

	bin := binary(t)
	cmdEnv := append(os.Environ(), "ONFACT_DROPBOX_HOME="+home, "ONFACT_DROPBOX_APP_KEY="+emutest.AppKey, "ONFACT_DROPBOX_API_URL="+env.URL)
	syncOnce := func() *exec.Cmd {
		cmd := exec.Command(bin, "sync", "--once")
		cmd.Env = cmdEnv
		return cmd
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

	got := env.Files()
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
