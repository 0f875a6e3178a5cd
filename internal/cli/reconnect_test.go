package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/keychaintest"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// TestConnectionsAddRollsBack: while the person is in the browser, the app adds a
// connection of the same name. Dropbox gave a token and it was saved; the connection is
// refused, so the token must be gone from the keychain and revoked at Dropbox.
func TestConnectionsAddRollsBack(t *testing.T) {
	e := newCLIEnv(t)
	b := &followBrowser{}
	meanwhile := func(u string) {
		c := config.Default()
		c.Connections = []config.Connection{{ID: "gui", Name: " ACME onfact", Folder: e.export, Structure: "year"}}
		if err := config.Save(config.Path(e.home), c); err != nil {
			t.Error(err)
		}
		b.open(u)
	}
	code, stdout, stderr := runConnections(t, nil, meanwhile, "add", "--name", "Acme onFact", "--folder", e.export, "--no-browser")
	if code != ExitError || !strings.Contains(stderr, `a connection named " ACME onfact" already exists`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if ids := keychaintest.Entries(t, keychain.Service); len(ids) != 0 {
		t.Fatalf("the keychain still holds tokens for %q", ids)
	}
	if st := e.srv.Stats()["auth/token/revoke"]; st.Calls != 1 || st.Status[200] != 1 {
		t.Fatalf("revoke at Dropbox: %+v, want one that succeeded", st)
	}
	if c := e.config(t); len(c.Connections) != 1 || c.Connections[0].ID != "gui" {
		t.Fatalf("connections %+v", c.Connections)
	}
}

// TestConnectionsReconnect: a connection whose access was revoked is reconnected with the
// same account, its queue kept; another account is refused in plain words and changes
// nothing.
func TestConnectionsReconnect(t *testing.T) {
	e := newCLIEnv(t)
	e.add(t)
	conn := e.config(t).Connections[0]
	before := storedToken(t, conn.ID)
	st, err := store.Open(service.StorePath(e.home))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Conn(conn.ID).Enqueue(time.Now(), "2026/factuur-1.pdf"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := e.srv.RevokeAccess(e.account, cliAppKey); err != nil { // the user cut the app off
		t.Fatal(err)
	}

	b := &followBrowser{}
	code, stdout, stderr := runConnections(t, nil, b.open, "reconnect", "acme ONFACT", "--no-browser")
	if code != ExitOK || !strings.Contains(stdout, `Reconnected "Acme onFact" to the Dropbox of An Peeters (an@example.be).`) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(b.page, "Je Dropbox is gekoppeld") {
		t.Errorf("the browser got %v:\n%s", b.err, b.page)
	}
	after := storedToken(t, conn.ID)
	if after.AccessToken == before.AccessToken {
		t.Fatal("the old token is still stored")
	}
	if acc, err := e.apiToken(t, after).GetCurrentAccount(); err != nil || acc.AccountId != e.account {
		t.Fatalf("the new token: %v", err)
	}
	if c := e.config(t); len(c.Connections) != 1 || fmt.Sprint(c.Connections[0]) != fmt.Sprint(conn) {
		t.Fatalf("the connection changed: %+v", c.Connections)
	}
	st, err = store.Open(service.StorePath(e.home))
	if err != nil {
		t.Fatal(err)
	}
	q, err := st.Conn(conn.ID).Queue()
	st.Close()
	if err != nil || len(q) != 1 || q[0].Path != "2026/factuur-1.pdf" {
		t.Fatalf("queue after reconnect: %+v, %v", q, err)
	}

	// Another account signs in: refused, the token and settings stay as they are.
	other, err := e.srv.AddAccount(dropboxemu.AccountInfo{Email: "jan@elders.be", GivenName: "Jan", Surname: "Elders"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.SetBrowserAccount(other); err != nil {
		t.Fatal(err)
	}
	revokes := e.srv.Calls("auth/token/revoke")
	code, stdout, stderr = runConnections(t, nil, (&followBrowser{}).open, "reconnect", "Acme onFact", "--no-browser")
	want := `you signed in to Dropbox as Jan Elders (jan@elders.be), but "Acme onFact" backs up to the Dropbox of an@example.be`
	if code != ExitError || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, want 1 with %q\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
	}
	if storedToken(t, conn.ID).AccessToken != after.AccessToken {
		t.Fatal("the other account's token was stored")
	}
	if e.srv.Calls("auth/token/revoke") != revokes+1 {
		t.Fatal("the other account's token was not revoked")
	}
	assertPortsFree(t)
}

func TestConnectionsReconnectErrors(t *testing.T) {
	e := newCLIEnv(t)
	e.add(t)
	for _, tc := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"reconnect"}, ExitUsage, "give the name of one connection"},
		{[]string{"reconnect", "a", "b"}, ExitUsage, "give the name of one connection"},
		{[]string{"reconnect", "Nobody", "--no-browser"}, ExitError, `no connection named "Nobody"`},
		{[]string{"reconnect", "-h"}, ExitOK, "Only the connection's own Dropbox account"},
	} {
		code, _, stderr := runConnections(t, nil, nil, tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", tc.args, code, tc.want, tc.msg, stderr)
		}
	}
}
