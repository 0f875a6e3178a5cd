package dropboxemu

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/users"
)

// testAppKey is the app every test registers.
const testAppKey = "test-app"

// env is an emulator behind a real HTTP server with one account and a token for it.
type env struct {
	srv     *Server
	ts      *httptest.Server
	account string
	token   string
	clock   *testClock
}

// testClock is a settable clock so tests expire tokens and sessions without sleeping.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time          { return c.t }
func (c *testClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	srv.RegisterApp(App{Key: testAppKey, RedirectURIs: []string{"http://127.0.0.1:53682/callback"}})
	id, err := srv.AddAccount(AccountInfo{Email: "an@example.be", GivenName: "An", Surname: "Peeters"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := srv.IssueToken(id, testAppKey, false)
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, ts: ts, account: id, token: tok, clock: clock}
}

// config is an SDK config pointing at the emulator with the given token.
func (e *env) config(token string) dropbox.Config {
	return dropbox.Config{Token: token, URLGenerator: URLGenerator(e.ts.URL)}
}

func (e *env) files() files.Client { return files.New(e.config(e.token)) }
func (e *env) users() users.Client { return users.New(e.config(e.token)) }
