package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/autostart"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// connected runs the app over the demo's emulated Dropbox with one connection, linked
// through the real OAuth flow, and waits for its initial copy.
func connected(t *testing.T, opts Options) (*App, *demo.Demo, config.Connection) {
	t.Helper()
	d, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tokens := &auth.MemoryStore{}
	opts.Dir, opts.Auth, opts.Tokens = d.Dir, d.Auth, tokens
	opts.Engine = engine.Options{Settle: 10 * time.Millisecond}
	opts.Logf = t.Logf
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	conn := addDemo(t, a, d, "Demo onFact")
	waitStatus(t, a, "the initial copy", func(s engine.Status) bool {
		return s.ID == conn.ID && s.State == engine.StateIdle && s.InitialCopyDone
	})
	return a, d, conn
}

// waitStatus polls the app's status until one connection's status satisfies ok.
func waitStatus(t *testing.T, a *App, what string, ok func(engine.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, s := range a.Status() {
			if ok(s) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, a.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dropboxFiles lists the emulated account's files, path → content hash.
func dropboxFiles(d *demo.Demo) map[string]string {
	out := map[string]string{}
	for _, e := range d.Emulator.Entries(d.Account) {
		if !e.Folder {
			out[e.PathDisplay] = e.ContentHash
		}
	}
	return out
}

// uploadedBytes sums the file contents the emulated Dropbox received.
func uploadedBytes(d *demo.Demo) int64 {
	var n int64
	for route, st := range d.Emulator.Stats() {
		if strings.HasPrefix(route, "files/upload") && route != "files/upload_session/start_batch" &&
			!strings.HasPrefix(route, "files/upload_session/finish_batch") {
			n += st.BytesIn
		}
	}
	return n
}

// remoteUnder is where the file at local (relative to the export folder) goes under l.
func remoteUnder(t *testing.T, dir, local string, l layout.Layout) string {
	t.Helper()
	res, err := layout.Preview(context.Background(), dir, l, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Rows {
		if r.Path == local {
			return r.Remote
		}
	}
	t.Fatalf("%s is not mapped", local)
	return ""
}

// TestEditKeepsWhatIsInDropbox changes a synced connection's structure and name: the files
// already in Dropbox stay where they are, an unchanged file touched on disk is not sent
// again, and a new document goes to the new structure.
func TestEditKeepsWhatIsInDropbox(t *testing.T) {
	a, d, conn := connected(t, Options{Autostart: autostart.Entry{Dir: t.TempDir()}})
	before := dropboxFiles(d)
	if len(before) != 24+15 {
		t.Fatalf("%d files in Dropbox after the initial copy", len(before))
	}

	edited := conn
	edited.Name, edited.Structure = "Demo boekhouding", layout.PresetYear
	if err := a.Edit(edited); err != nil {
		t.Fatal(err)
	}
	if c := a.Connections()[0]; c.Name != "Demo boekhouding" || c.Structure != layout.PresetYear || c.Language != "nl" {
		t.Fatalf("stored %+v", c)
	}
	saved, err := config.Load(config.Path(d.Dir))
	if err != nil || saved.Connections[0].Structure != layout.PresetYear {
		t.Fatalf("saved %+v %v", saved.Connections, err)
	}
	waitStatus(t, a, "the restart under the new name", func(s engine.Status) bool {
		return s.ID == conn.ID && s.Name == "Demo boekhouding" && s.State == engine.StateIdle
	})
	d.Emulator.ResetStats()

	// An unchanged document whose mtime moved (a re-export), and a new document.
	var touched string
	entries, _ := os.ReadDir(filepath.Join(d.Export, "2026"))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".pdf") {
			touched = "2026/" + e.Name()
			break
		}
	}
	if touched == "" {
		t.Fatal("no PDF in the demo's 2026 folder")
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(d.Export, filepath.FromSlash(touched)), old, old); err != nil {
		t.Fatal(err)
	}
	newDoc := []byte("%PDF-1.4\nFactuur F2026-0999 Nieuwe Klant\n%%EOF\n")
	fresh := "2026/Factuur F2026-0999 Nieuwe Klant.pdf"
	if err := os.WriteFile(filepath.Join(d.Export, filepath.FromSlash(fresh)), newDoc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(d.Export, filepath.FromSlash(fresh)), old, old); err != nil {
		t.Fatal(err)
	}
	l := layout.Layout{Structure: layout.MustParseStructure(layout.PresetYear), Language: layout.Dutch, Company: "Demo BV"}
	lOld := l
	lOld.Structure = layout.MustParseStructure(layout.PresetYearType)
	wantNew := remoteUnder(t, d.Export, fresh, l)
	touchedNew, touchedOld := remoteUnder(t, d.Export, touched, l), remoteUnder(t, d.Export, touched, lOld)
	if touchedNew == touchedOld || wantNew == remoteUnder(t, d.Export, fresh, lOld) {
		t.Fatalf("the structures map alike: %s %s", touchedNew, touchedOld)
	}

	a.SyncNow(conn.ID)
	deadline := time.Now().Add(30 * time.Second)
	for dropboxFiles(d)[wantNew] == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the new document never reached %s: %v", wantNew, dropboxFiles(d))
		}
		time.Sleep(20 * time.Millisecond)
	}
	waitStatus(t, a, "idle", func(s engine.Status) bool {
		return s.ID == conn.ID && s.State == engine.StateIdle && s.Queued == 0
	})

	after := dropboxFiles(d)
	for p, h := range before {
		if after[p] != h {
			t.Errorf("%s changed in Dropbox", p)
		}
	}
	if len(after) != len(before)+1 {
		var extra []string
		for p := range after {
			if _, ok := before[p]; !ok {
				extra = append(extra, p)
			}
		}
		t.Fatalf("new in Dropbox: %q, want only %s", extra, wantNew)
	}
	if _, ok := after[touchedNew]; ok || after[touchedOld] == "" {
		t.Fatalf("the touched file moved: %s", touchedNew)
	}
	if n := uploadedBytes(d); n != int64(len(newDoc)) {
		t.Fatalf("%d bytes sent after the edit, want only the new document's %d", n, len(newDoc))
	}
}

// TestEditRefuses checks what Edit will not take; nothing is saved then.
func TestEditRefuses(t *testing.T) {
	a, d, conn := connected(t, Options{Autostart: autostart.Entry{Dir: t.TempDir()}})
	file := filepath.Join(t.TempDir(), "f.pdf")
	os.WriteFile(file, []byte("x"), 0o600)
	for _, tc := range []struct {
		name   string
		change func(*config.Connection)
	}{
		{"another account", func(c *config.Connection) { c.AccountID = "dbid:other" }},
		{"unknown id", func(c *config.Connection) { c.ID = "nope" }},
		{"empty name", func(c *config.Connection) { c.Name = "  " }},
		{"bad structure", func(c *config.Connection) { c.Structure = "/{year}/{company}" }},
		{"missing folder", func(c *config.Connection) { c.Folder = filepath.Join(t.TempDir(), "gone") }},
		{"a file", func(c *config.Connection) { c.Folder = file }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := conn
			tc.change(&c)
			if err := a.Edit(c); err == nil {
				t.Fatal("accepted")
			}
			saved, _ := config.Load(config.Path(d.Dir))
			if len(saved.Connections) != 1 || saved.Connections[0].Name != conn.Name || saved.Connections[0].Structure != conn.Structure ||
				a.Connections()[0].Folder != conn.Folder {
				t.Fatalf("changed: %+v", saved.Connections)
			}
		})
	}
	if err := a.Edit(config.Connection{ID: "nope"}); !errors.Is(err, ErrNoConnection) {
		t.Fatalf("unknown id: %v", err)
	}
}

// failingAutostart is the OS refusing the registration.
type failingAutostart struct{ autostart.Entry }

func (failingAutostart) Enable(string) error { return errors.New("access denied") }

// TestSetSettings saves every setting, registers start at login for real (in a temp
// folder), keeps the flag off when the OS refuses, and applies a bandwidth limit and a
// number of uploads at once to the running connection.
func TestSetSettings(t *testing.T) {
	entry := autostart.Entry{Dir: t.TempDir()}
	a, d, conn := connected(t, Options{Autostart: entry})

	s := a.Settings()
	s.Language, s.Notifications, s.StartAtLogin, s.Concurrency, s.BandwidthLimit = "fr", false, true, 2, 1<<20
	if err := a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if on, err := entry.Enabled(); err != nil || !on {
		t.Fatalf("not registered to start at login: %v %v", on, err)
	}
	saved, err := config.Load(config.Path(d.Dir))
	if err != nil || saved.Settings != s || a.Settings() != s {
		t.Fatalf("saved %+v, app %+v, want %+v (%v)", saved.Settings, a.Settings(), s, err)
	}
	if a.svc.Limiter().Limit() != 1<<20 {
		t.Fatalf("bandwidth limit %d", a.svc.Limiter().Limit())
	}
	if ec, err := a.svc.Conn(conn); err != nil || ec.Concurrency != 2 {
		t.Fatalf("uploads at once %d %v", ec.Concurrency, err)
	}
	waitStatus(t, a, "the restart", func(s engine.Status) bool { return s.ID == conn.ID && s.State == engine.StateIdle })

	// A new document goes through the shared limiter.
	passed := a.svc.Limiter().Passed()
	doc := []byte("%PDF-1.4\nFactuur F2026-0998 Beperkt\n%%EOF\n")
	p := filepath.Join(d.Export, "Factuur F2026-0998 Beperkt.pdf")
	old := time.Now().Add(-time.Hour)
	os.WriteFile(p, doc, 0o644)
	os.Chtimes(p, old, old)
	a.SyncNow(conn.ID)
	deadline := time.Now().Add(30 * time.Second)
	for a.svc.Limiter().Passed()-passed < int64(len(doc)) {
		if time.Now().After(deadline) {
			t.Fatalf("the new document did not go through the limiter: %d bytes", a.svc.Limiter().Passed()-passed)
		}
		time.Sleep(20 * time.Millisecond)
	}

	s.StartAtLogin, s.BandwidthLimit, s.Concurrency = false, 0, 0
	if err := a.SetSettings(s); err != nil {
		t.Fatal(err)
	}
	if on, _ := entry.Enabled(); on || a.svc.Limiter().Limit() != 0 {
		t.Fatalf("still registered (%v) or limited (%d)", on, a.svc.Limiter().Limit())
	}

	a.opts.Autostart = failingAutostart{entry}
	s.StartAtLogin, s.Language = true, "en"
	err = a.SetSettings(s)
	if err == nil || !strings.Contains(err.Error(), "starting at login") {
		t.Fatalf("refused registration: %v", err)
	}
	saved, _ = config.Load(config.Path(d.Dir))
	if a.Settings().StartAtLogin || saved.Settings.StartAtLogin || saved.Settings.Language != "fr" {
		t.Fatalf("saved after a refused registration: %+v", saved.Settings)
	}
}
