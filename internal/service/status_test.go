package service

import (
	"errors"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// TestReadStatusWhileLocked: while another process holds the store (here: this test), the
// status comes from the status file; one not rewritten for StaleAfter is stale, and
// without one the reader says the app does not publish its status.
func TestReadStatusWhileLocked(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(StorePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conns := []config.Connection{{ID: "1", Name: "Acme"}}

	if _, _, err := ReadStatus(dir, conns); !errors.Is(err, ErrNoStatus) {
		t.Fatalf("no status file: %v", err)
	}
	want := Report{PID: 42, Updated: time.Now().Add(-2 * StaleAfter).UTC(),
		Connections: []ConnReport{{ID: "1", Name: "Acme", State: "idle", Refused: 1, Problems: []Problem{{Path: "a.pdf", Reason: "a folder is in the way"}}}}}
	if err := writeJSON(StatusPath(dir), want); err != nil {
		t.Fatal(err)
	}
	r, _, err := ReadStatus(dir, conns)
	if err != nil || !r.Running || !r.Stale || r.PID != 42 || len(r.Connections) != 1 || r.Connections[0].Problems[0].Path != "a.pdf" {
		t.Fatalf("stale file: %+v %v", r, err)
	}
	want.Updated = time.Now().UTC()
	writeJSON(StatusPath(dir), want)
	if r, _, err := ReadStatus(dir, conns); err != nil || r.Stale {
		t.Fatalf("fresh file: %+v %v", r, err)
	}
}

// TestReadStatusNotRunning: with nothing running, the store answers and a status file
// left by a killed app is removed.
func TestReadStatusNotRunning(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(StorePath(dir))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c := st.Conn("1")
	c.Enqueue(now, "b.pdf")
	c.Apply(store.Update{Path: "a.pdf", Record: &store.FileRecord{Size: 1, Failure: "Dropbox does not take this name"}})
	c.SetMeta(store.Meta{InitialCopyDone: true, LastSync: now})
	st.Close()
	writeJSON(StatusPath(dir), Report{Running: true, PID: 1, Updated: now})

	r, reset, err := ReadStatus(dir, []config.Connection{{ID: "1", Name: "Acme", AccountEmail: "a@b.be"}})
	if err != nil || reset != nil || r.Running || len(r.Connections) != 1 {
		t.Fatalf("%+v %+v %v", r, reset, err)
	}
	cr := r.Connections[0]
	if cr.State != "not running" || cr.Waiting != 1 || cr.Refused != 1 || cr.Problems[0] != (Problem{Path: "a.pdf", Reason: "Dropbox does not take this name"}) ||
		!cr.InitialCopyDone || cr.Account != "a@b.be" {
		t.Fatalf("%+v", cr)
	}
	if _, _, err := ReadStatus(dir, nil); err != nil {
		t.Fatal(err)
	}
}
