package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// TestConnectSyncRefreshLeavesNoSecrets runs a full cycle through the command line:
// connect, sync, sync again after the access token expired (so it is refreshed and
// written back), remove. No token may appear in the settings folder, the state store or
// anything printed, and remove forgets the connection's state.
func TestConnectSyncRefreshLeavesNoSecrets(t *testing.T) {
	// Tokens live a minute: inside auth.RefreshBefore, so every sync refreshes first.
	e := newCLIEnvWith(t, dropboxemu.Options{TokenLifetime: time.Minute})
	p := filepath.Join(e.export, "factuur 2026-03-01.pdf")
	os.WriteFile(p, []byte("%PDF factuur"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)

	var logs bytes.Buffer
	addOut, addErr := e.add(t)
	logs.WriteString(addOut + addErr)
	conn := e.config(t).Connections[0]
	secrets := []string{}
	remember := func() {
		tok := storedToken(t, conn.ID)
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	}
	remember()

	for round := range 2 {
		var out, errOut bytes.Buffer
		if code := Sync(context.Background(), []string{"--once", "-v"}, &out, &errOut); code != ExitOK {
			t.Fatalf("sync %d: exit %d\n%s%s", round, code, out.String(), errOut.String())
		}
		logs.WriteString(out.String() + errOut.String())
		remember()
	}
	if secrets[0] == secrets[2] {
		t.Fatal("the access token was never refreshed")
	}
	if got := e.srv.Entries(e.account); len(got) == 0 {
		t.Fatal("nothing was synced")
	}
	var out, errOut bytes.Buffer
	if code := Status(context.Background(), nil, &out, &errOut); code != ExitOK || !strings.Contains(out.String(), "initial copy done") {
		t.Fatalf("status: %d %s%s", code, out.String(), errOut.String())
	}
	logs.WriteString(out.String() + errOut.String())

	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs.String(), s) {
			t.Error("a token was printed")
		}
	}
	assertNoSecretsIn(t, e.home, secrets...)

	// Removing forgets the state too.
	out.Reset()
	errOut.Reset()
	if code := Connections(context.Background(), []string{"remove", conn.Name}, &out, &errOut, nil); code != ExitOK {
		t.Fatalf("remove: %d %s", code, errOut.String())
	}
	st, err := store.Open(service.StorePath(e.home))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if m, _ := st.Conn(conn.ID).Meta(); m.InitialCopyDone {
		t.Fatal("remove kept the connection's state")
	}
}
