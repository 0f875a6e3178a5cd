package app

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// TestOpenResetsADamagedStore: the tray app started at login used to crash at every start
// on a damaged state.db. It starts, with an empty store, the damaged file kept aside, and
// StoreReset telling the GUI to say so once; the next start is an ordinary one.
func TestOpenResetsADamagedStore(t *testing.T) {
	dir := t.TempDir()
	junk := make([]byte, 8*4096)
	for i := range junk {
		junk[i] = byte(i * 31)
	}
	if err := os.WriteFile(service.StorePath(dir), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: dir, Tokens: &auth.MemoryStore{}, Engine: engine.Options{Settle: time.Millisecond},
		Logf: t.Logf}
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := a.StoreReset()
	if r == nil || !errors.Is(r.Cause, store.ErrDamaged) {
		t.Fatalf("reset %+v", r)
	}
	if b, err := os.ReadFile(r.Broken); err != nil || len(b) != len(junk) {
		t.Fatalf("the damaged file was not kept: %v", err)
	}
	// It publishes its status for "onfact-dropbox status" while it runs.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(service.StatusPath(dir))
		var rep service.Report
		if err == nil && json.Unmarshal(b, &rep) == nil && rep.Running && rep.PID == os.Getpid() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no status file: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(service.StatusPath(dir)); !os.IsNotExist(err) {
		t.Fatalf("the status file outlived the app: %v", err)
	}

	a, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.StoreReset() != nil {
		t.Fatal("reset again")
	}
	if m, _ := filepath.Glob(service.StorePath(dir) + ".broken-*"); len(m) != 1 {
		t.Fatalf("set aside: %v", m)
	}
}
