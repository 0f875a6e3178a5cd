package service

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

func TestRunOnceAllConnections(t *testing.T) {
	srv, err := dropboxemu.New(dropboxemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	srv.RegisterApp(dropboxemu.App{Key: "k"})
	acct, _ := srv.AddAccount(dropboxemu.AccountInfo{Email: "a@b.be"})
	tok, _, _ := srv.IssueToken(acct, "k", false)

	folder := t.TempDir()
	p := filepath.Join(folder, "factuur 2026-03-01.pdf")
	os.WriteFile(p, []byte("x"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)

	svc, err := Open(Options{Dir: t.TempDir(), APIURL: ts.URL,
		Tokens: func(string) (oauth2.TokenSource, error) {
			return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}), nil
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
