// Package emutest starts the Dropbox emulator for other packages' tests: one call gives a
// served emulator with a registered app, an account and an access token for it.
package emutest

import (
	"net/http/httptest"
	"testing"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

// AppKey is the app every Env registers.
const AppKey = "test-app"

// Env is an emulator served on loopback for one test.
type Env struct {
	Srv     *dropboxemu.Server
	URL     string
	Account string
	// Token is an access token for Account; Refresh its refresh token.
	Token, Refresh string
}

// Start serves an emulator with opts until the test ends, with one account and an offline
// token for it.
func Start(t testing.TB, opts dropboxemu.Options, account dropboxemu.AccountInfo) *Env {
	t.Helper()
	srv, ts := Serve(t, opts)
	srv.RegisterApp(dropboxemu.App{Key: AppKey})
	id, err := srv.AddAccount(account)
	if err != nil {
		t.Fatal(err)
	}
	token, refresh, err := srv.IssueToken(id, AppKey, true)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Srv: srv, URL: ts.URL, Account: id, Token: token, Refresh: refresh}
}

// Serve serves an emulator with opts on loopback until the test ends, with no app and no
// account yet: for tests that set up their own.
func Serve(t testing.TB, opts dropboxemu.Options) (*dropboxemu.Server, *httptest.Server) {
	t.Helper()
	srv, err := dropboxemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return srv, ts
}

// Files lists the account's files as path_display → content_hash.
func (e *Env) Files() map[string]string {
	out := map[string]string{}
	for _, en := range e.Srv.Entries(e.Account) {
		if !en.Folder {
			out[en.PathDisplay] = en.ContentHash
		}
	}
	return out
}

// Versions is every version the emulator with dataDir (Options.DataDir) ever committed at
// path, in order (dropboxemu.Versions).
func Versions(t testing.TB, dataDir, path string) []string {
	t.Helper()
	v, err := dropboxemu.Versions(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return v[dropboxemu.PathLower(path)]
}
