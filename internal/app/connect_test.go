package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/internal/keychaintest"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "factuur.pdf")
	if err := os.WriteFile(file, []byte("%PDF"), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := []config.Connection{{ID: "a", Name: " Bakkerij Janssens "}}
	ok := Choice{Name: "Acme", Folder: dir, Structure: "year-type"}
	with := func(f func(*Choice)) Choice { c := ok; f(&c); return c }
	for _, tc := range []struct {
		name string
		self string
		ch   Choice
		want error
	}{
		{"fine", "", ok, nil},
		{"no name", "", with(func(c *Choice) { c.Name = "  " }), ErrNoName},
		{"tab in name", "", with(func(c *Choice) { c.Name = "A\tB" }), ErrNameControl},
		{"taken, other case and spaces", "", with(func(c *Choice) { c.Name = "bakkerij JANSSENS  " }), ErrNameTaken},
		{"its own name on edit", "a", with(func(c *Choice) { c.Name = "Bakkerij Janssens" }), nil},
		{"no folder", "", with(func(c *Choice) { c.Folder = " " }), ErrNoFolder},
		{"missing folder", "", with(func(c *Choice) { c.Folder = filepath.Join(dir, "nope") }), ErrFolderMissing},
		{"a file", "", with(func(c *Choice) { c.Folder = file }), ErrNotAFolder},
		{"bad structure", "", with(func(c *Choice) { c.Structure = "{year}/{company}" }), layout.ErrCompanyNotFirst},
		{"bad language", "", with(func(c *Choice) { c.Language = "de" }), ErrUnknownLanguage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Validate(kept, tc.self, tc.ch)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
		})
	}

	t.Run("defaults and trimming", func(t *testing.T) {
		t.Chdir(filepath.Dir(dir))
		got, err := Validate(kept, "", Choice{Name: "  Acme onFact ", Company: "   ", Folder: filepath.Base(dir) + " ",
			Structure: " year "})
		if err != nil {
			t.Fatal(err)
		}
		want := config.Connection{Name: "Acme onFact", Company: "Acme onFact", Folder: dir, Structure: "year", Language: "nl"}
		if got.Name != want.Name || got.Company != want.Company || got.Folder != want.Folder ||
			got.Structure != want.Structure || got.Language != want.Language {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		got, _ = Validate(kept, "", with(func(c *Choice) { c.Company = " Acme BV " }))
		if got.Company != "Acme BV" {
			t.Fatalf("company %q", got.Company)
		}
	})
}

// TestAddRollsBack: two adds of the same name race (the second finishes while the first
// waits in the browser). The first one's token was saved before its connection was
// refused: it must be gone from the keychain and revoked at Dropbox.
func TestAddRollsBack(t *testing.T) {
	d, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	keys := keychaintest.New(t)
	a, err := Open(Options{Dir: d.Dir, Auth: d.Auth, Tokens: keys, Engine: engine.Options{Settle: 10 * time.Millisecond}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx := context.Background()
	ch := Choice{Name: "Bakkerij", Folder: d.Export, Structure: "year"}
	var second config.Connection
	var secondErr error
	conn, err := a.Connector().AddNew(ctx, ch, auth.Options{}, func(ctx context.Context, u string) error {
		second, secondErr = a.Connector().AddNew(ctx, Choice{Name: " bakkerij", Folder: d.Export, Structure: "year"}, auth.Options{}, demo.Browse)
		return demo.Browse(ctx, u)
	})
	if secondErr != nil {
		t.Fatalf("the second add: %v", secondErr)
	}
	if !errors.Is(err, ErrNameTaken) || conn.ID != "" {
		t.Fatalf("the first add: %+v, %v; want ErrNameTaken", conn, err)
	}
	if ids := keychaintest.Entries(t, keys.Service); len(ids) != 1 || ids[0] != second.ID {
		t.Fatalf("keychain holds %q, want only the second connection's %s", ids, second.ID)
	}
	if st := d.Emulator.Stats()["auth/token/revoke"]; st.Calls != 1 || st.Status[200] != 1 {
		t.Fatalf("revoke at Dropbox: %+v, want one that succeeded", st)
	}
	if c := a.Connections(); len(c) != 1 || c[0].ID != second.ID || c[0].Name != "bakkerij" {
		t.Fatalf("connections %+v", c)
	}
	// The second one's token is untouched and works.
	waitStatus(t, a, "the second connection's copy", func(s engine.Status) bool {
		return s.ID == second.ID && s.State == engine.StateIdle && s.InitialCopyDone
	})
}

// TestAddRevokesAnUnsavedToken: a keychain that refuses the token leaves nothing valid at
// Dropbox either.
func TestAddRevokesAnUnsavedToken(t *testing.T) {
	d, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	a, err := Open(Options{Dir: d.Dir, Auth: d.Auth, Tokens: refusingStore{&auth.MemoryStore{}}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	_, err = a.Connector().AddNew(context.Background(), Choice{Name: "X", Folder: d.Export, Structure: "year"}, auth.Options{}, demo.Browse)
	if !errors.Is(err, auth.ErrNoKeychain) {
		t.Fatalf("%v, want ErrNoKeychain", err)
	}
	if st := d.Emulator.Stats()["auth/token/revoke"]; st.Status[200] != 1 {
		t.Fatalf("revoke at Dropbox: %+v", st)
	}
	if len(a.Connections()) != 0 {
		t.Fatal("a connection was kept")
	}
}

// refusingStore is a keychain that cannot save: the one error the real one cannot be made
// to give on demand.
type refusingStore struct{ *auth.MemoryStore }

func (refusingStore) Save(id string, _ *oauth2.Token) error {
	return fmt.Errorf("save token of connection %s: %w", id, auth.ErrNoKeychain)
}

// TestDemoConnectsWithoutBrowser: in demo mode the app approves by itself when no browser
// opens, whether there is no xdg-open at all or it fails; outside the demo the failure is
// reported.
func TestDemoConnectsWithoutBrowser(t *testing.T) {
	failing := t.TempDir()
	if err := os.WriteFile(filepath.Join(failing, "xdg-open"), []byte("#!/bin/sh\necho no browser >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path string }{
		{"no xdg-open", t.TempDir()},
		{"xdg-open fails", failing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			t.Setenv("DISPLAY", ":99") // a desktop, only without a browser
			d, err := demo.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			opts := Options{Dir: d.Dir, Auth: d.Auth, Tokens: &auth.MemoryStore{}, Logf: t.Logf}
			plain, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			ch := Choice{Name: "Demo", Folder: d.Export, Structure: "year"}
			_, err = plain.Connector().AddNew(context.Background(), ch, auth.Options{Timeout: 10 * time.Second}, auth.OpenBrowser)
			if err == nil || !strings.Contains(err.Error(), "browser") {
				t.Fatalf("without SelfApprove: %v, want the browser's failure", err)
			}
			plain.Close()

			opts.SelfApprove = demo.Browse
			a, err := Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			conn, err := a.Connector().AddNew(context.Background(), ch, auth.Options{Timeout: 10 * time.Second}, auth.OpenBrowser)
			if err != nil {
				t.Fatal(err)
			}
			if conn.AccountEmail != demo.Email || len(a.Connections()) != 1 {
				t.Fatalf("added %+v; connections %+v", conn, a.Connections())
			}
		})
	}
}
