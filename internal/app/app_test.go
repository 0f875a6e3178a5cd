package app

import (
	"context"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// TestDemoConnectSyncPauseRemove drives the app the way the wizard and the tray will: the
// demo's emulated Dropbox, a real OAuth connect through the loopback listener, the initial
// copy, pause and resume remembered in the settings, then remove.
func TestDemoConnectSyncPauseRemove(t *testing.T) {
	d, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tokens := &auth.MemoryStore{}
	a, err := Open(Options{Dir: d.Dir, Auth: d.Auth, Tokens: tokens, Engine: engine.Options{Settle: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	// Connect: the emulated Dropbox approves by itself, the "browser" follows redirects.
	conn := addDemo(t, a, d, "Demo onFact")
	wait := func(what string, ok func(engine.Status) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			for _, s := range a.Status() {
				if s.ID == conn.ID && ok(s) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %+v", what, a.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("the initial copy", func(s engine.Status) bool { return s.State == engine.StateIdle && s.InitialCopyDone })
	files := 0
	for _, e := range d.Emulator.Entries(d.Account) {
		if !e.Folder {
			files++
		}
	}
	if files != 24+15 { // 24 PDFs, and the UBL of the 15 invoices and credit notes
		t.Fatalf("%d files in Dropbox", files)
	}
	if got := a.InDropbox(a.Status())[conn.ID]; got != files {
		t.Fatalf("the store counts %d documents in Dropbox, the emulated Dropbox holds %d", got, files)
	}
	if a.DropboxWebsite() {
		t.Fatal("the emulated Dropbox is taken for dropbox.com")
	}

	if err := a.SetPaused("", true); err != nil {
		t.Fatal(err)
	}
	wait("paused", func(s engine.Status) bool { return s.State == engine.StatePaused })
	if !a.Paused() || !a.Connections()[0].Paused {
		t.Fatal("pause not remembered")
	}
	a.SetPaused("", false)
	wait("resumed", func(s engine.Status) bool { return s.State == engine.StateIdle })

	if err := a.Remove(context.Background(), conn.ID); err != nil {
		t.Fatal(err)
	}
	if len(a.Connections()) != 0 {
		t.Fatal("connection kept")
	}
	if _, err := tokens.Load(conn.ID); err == nil {
		t.Fatal("token kept")
	}
}

// addDemo adds a connection for the demo's export folder through the use case, with the
// emulated Dropbox approving in the "browser".
func addDemo(t *testing.T, a *App, d *demo.Demo, name string) config.Connection {
	t.Helper()
	conn, err := a.Connector().AddNew(context.Background(),
		Choice{Name: name, Company: "Demo BV", Folder: d.Export, Structure: "year-type", Language: "nl"},
		auth.Options{Language: "nl"}, demo.Browse)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}
