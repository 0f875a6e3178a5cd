package service

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

func TestRunOnceAllConnections(t *testing.T) {
	env := emutest.Start(t, dropboxemu.Options{}, dropboxemu.AccountInfo{Email: "a@b.be"})
	srv, acct := env.Srv, env.Account

	folder := t.TempDir()
	p := filepath.Join(folder, "factuur 2026-03-01.pdf")
	os.WriteFile(p, []byte("x"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)

	svc, err := Open(Options{Dir: t.TempDir(), APIURL: env.URL,
		Tokens: func(string) (oauth2.TokenSource, error) {
			return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: env.Token}), nil
		},
		Engine: engine.Options{Settle: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	conns := []config.Connection{
		{ID: "1", Name: "Acme", Folder: folder, Structure: "year", Company: "Acme"},
		{ID: "2", Name: "Broken", Folder: folder, Structure: "{nonsense}"},
	}
	res, err := svc.Run(context.Background(), conns, "")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]error{}
	for _, r := range res {
		byName[r.Name] = r.Err
	}
	if len(res) != 2 || byName["Acme"] != nil || byName["Broken"] == nil {
		t.Fatalf("results %+v", res)
	}
	if got := srv.Entries(acct); len(got) != 3 || got[2].PathDisplay != "/Acme/2026/factuur 2026-03-01.pdf" {
		t.Fatalf("entries %+v", got)
	}
	if _, err := svc.Run(context.Background(), conns, "Nobody"); err == nil {
		t.Fatal("unknown connection accepted")
	}
}

// Two connections to one Dropbox account share its commit lock: with Dropbox's write lock
// on, their commits never collide.
func TestConnectionsOfOneAccountShareCommits(t *testing.T) {
	env := emutest.Start(t, dropboxemu.Options{Faults: dropboxemu.Faults{WriteLock: true, Latency: 30 * time.Millisecond}},
		dropboxemu.AccountInfo{Email: "a@b.be"})
	srv, acct := env.Srv, env.Account
	folder := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for i := range 40 {
		p := filepath.Join(folder, "factuur 2026-03-01 "+string(rune('a'+i%26))+string(rune('a'+i/26))+".pdf")
		os.WriteFile(p, []byte(p), 0o644)
		os.Chtimes(p, old, old)
	}
	svc, err := Open(Options{Dir: t.TempDir(), APIURL: env.URL,
		Tokens: func(string) (oauth2.TokenSource, error) {
			return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: env.Token}), nil
		},
		Engine: engine.Options{Settle: time.Millisecond, BatchSize: 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	var conns []config.Connection
	for _, id := range []string{"1", "2", "3"} {
		conns = append(conns, config.Connection{ID: id, Name: "C" + id, Folder: folder, Structure: "year", Company: "C" + id, AccountID: acct})
	}
	res, err := svc.Run(context.Background(), conns, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	st := srv.Stats()["files/upload_session/finish_batch_v2"]
	if st.Status[429] != 0 || st.Calls < 24 {
		t.Fatalf("commits %+v", st)
	}
}
