package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"golang.org/x/oauth2"
)

// The whole life of a connection against the emulator: consent in the browser, the
// loopback redirect, the token, the account, a refresh when the access token expires, and
// the revoke when the connection is removed.
func TestConnectEndToEnd(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{})
	b := newBrowser("allow")
	opts := e.options()
	opts.OpenBrowser = b.open

	res, err := e.cfg.Connect(context.Background(), opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	assertPortsFree(t, e.ports...)
	want := Account{ID: e.account, Name: "An Peeters", Email: "an@example.be"}
	if res.Account != want {
		t.Errorf("account %+v, want %+v", res.Account, want)
	}
	if res.Token == nil || res.Token.AccessToken == "" || res.Token.RefreshToken == "" {
		t.Fatalf("want an access and a refresh token, got %v", res.Token != nil)
	}
	status, page := b.result(t)
	if status != http.StatusOK || !strings.Contains(page, "Je Dropbox is gekoppeld. Je kan dit tabblad sluiten en terugkeren naar onFact Dropbox Sync.") {
		t.Errorf("browser got %d:\n%s", status, page)
	}
	assertNoToken(t, "the result's text", fmt.Sprintf("%v %+v %#v %s", res, res, res, res), res.Token.AccessToken, res.Token.RefreshToken)

	// The engine's side: a token source over the stored token.
	store := &countingStore{}
	if err := store.Save("c1", res.Token); err != nil {
		t.Fatal(err)
	}
	ts, err := e.cfg.TokenSource("c1", store)
	if err != nil {
		t.Fatal(err)
	}
	ts.now = e.clock.Now
	if _, err := e.currentAccount(t, ts); err != nil {
		t.Fatalf("get_current_account: %v", err)
	}
	if n := e.tokenCalls(); n != 1 {
		t.Errorf("token endpoint called %d times before expiry, want 1 (the exchange)", n)
	}

	// Four hours on, Dropbox (the emulator) no longer takes the access token; the source
	// refreshes first and writes the new token back, keeping the refresh token.
	e.clock.Advance(dropboxemu.DefaultTokenLifetime)
	acc, err := e.currentAccount(t, ts)
	if err != nil {
		t.Fatalf("get_current_account after expiry: %v", err)
	}
	if acc.ID != e.account {
		t.Errorf("account %s, want %s", acc.ID, e.account)
	}
	if n := e.tokenCalls(); n != 2 {
		t.Errorf("token endpoint called %d times, want 2 (exchange, refresh)", n)
	}
	stored := mustLoad(t, store, "c1")
	if stored.AccessToken == res.Token.AccessToken || stored.RefreshToken != res.Token.RefreshToken {
		t.Errorf("stored token after refresh: new access token %v, same refresh token %v",
			stored.AccessToken != res.Token.AccessToken, stored.RefreshToken == res.Token.RefreshToken)
	}
	if store.Saves() != 2 {
		t.Errorf("%d saves, want 2 (connect, refresh)", store.Saves())
	}
	// Still fresh: no further refresh.
	if _, err := e.currentAccount(t, ts); err != nil || e.tokenCalls() != 2 {
		t.Errorf("third call: %v, token calls %d", err, e.tokenCalls())
	}

	// Removing the connection revokes at Dropbox and deletes the token.
	if err := e.cfg.Revoke(context.Background(), "c1", store); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := store.Load("c1"); !errors.Is(err, ErrNoToken) {
		t.Errorf("after Revoke, Load: %v, want ErrNoToken", err)
	}
	_, err = e.currentAccount(t, oauth2.StaticTokenSource(stored))
	if tokenTag(err) != "invalid_access_token" {
		t.Errorf("revoked access token: %v, want invalid_access_token", err)
	}
	dead := e.cfg.newTokenSource("c1", &MemoryStore{}, &oauth2.Token{RefreshToken: stored.RefreshToken})
	if _, err := dead.Token(); !errors.Is(err, dropbox.ErrReconnect) {
		t.Errorf("revoked refresh token: %v, want dropbox.ErrReconnect", err)
	}
}

// Every way the browser flow can fail ends in a clear error, a page for the browser, and
// a closed listener.
func TestConnectFailures(t *testing.T) {
	errBrowser := errors.New("no browser here")
	tests := []struct {
		name string
		// setup prepares the env and options; it may return a browser of its own.
		setup    func(e *testEnv, opts *Options, b *fakeBrowser)
		ctx      func(t *testing.T) (context.Context, context.CancelFunc)
		want     error
		check    func(t *testing.T, e *testEnv, err error)
		status   int    // the listener's answer to the browser; 0: the browser never got there
		wantPage string // part of it
	}{
		{
			name: "wrong state",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) {
				b.tamper = func(u *url.URL) {
					q := u.Query()
					q.Set("state", "forged")
					u.RawQuery = q.Encode()
				}
			},
			want: ErrStateMismatch, status: http.StatusBadRequest,
			wantPage: "Dit antwoord hoort niet bij de koppeling",
		},
		{
			name:  "denied consent",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) { b.decision = "deny" },
			want:  ErrAccessDenied, status: http.StatusOK,
			wantPage: "Je hebt onFact Dropbox Sync geen toegang gegeven",
		},
		{
			name: "timeout",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) {
				opts.Timeout = 200 * time.Millisecond
				// The user never comes back from the browser.
				opts.OpenBrowser = func(context.Context, string) error { return nil }
			},
			want: ErrTimeout,
		},
		{
			name: "cancelled",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) {
				opts.OpenBrowser = func(context.Context, string) error { return nil }
			},
			ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 100*time.Millisecond)
			},
			want: context.DeadlineExceeded,
		},
		{
			name: "browser does not open",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) {
				opts.OpenBrowser = func(context.Context, string) error { return errBrowser }
			},
			want: errBrowser,
		},
		{
			name: "code expired before the exchange",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) {
				// The user left the tab alone: Dropbox's codes live 10 minutes.
				b.beforeCallback = func() { e.clock.Advance(11 * time.Minute) }
			},
			want: ErrCodeRejected,
			check: func(t *testing.T, e *testEnv, err error) {
				if !isRetrieveError(err, "invalid_grant") {
					t.Errorf("want the *oauth2.RetrieveError invalid_grant in the chain: %v", err)
				}
			},
			status: http.StatusBadRequest, wantPage: "Het koppelen van je Dropbox is mislukt",
		},
		{
			name: "token endpoint answers 404",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) {
				e.cfg.Dropbox.TokenURL = e.ts.URL + "/oauth2/no-such-endpoint"
			},
			check: func(t *testing.T, e *testEnv, err error) {
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.Response.StatusCode != http.StatusNotFound {
					t.Errorf("want a RetrieveError with 404: %v", err)
				}
				if !strings.HasPrefix(err.Error(), "exchange the code at Dropbox: ") {
					t.Errorf("error %q does not say what failed", err)
				}
			},
			status: http.StatusBadRequest, wantPage: "Het koppelen van je Dropbox is mislukt",
		},
		{
			name: "different account on reconnect",
			setup: func(e *testEnv, opts *Options, b *fakeBrowser) {
				other, err := e.srv.AddAccount(dropboxemu.AccountInfo{Email: "jan@example.nl", GivenName: "Jan", Surname: "Jansen"})
				if err != nil {
					panic(err)
				}
				if err := e.srv.SetBrowserAccount(other); err != nil {
					panic(err)
				}
				opts.ExpectedAccountID = e.account
			},
			want: ErrDifferentAccount,
			check: func(t *testing.T, e *testEnv, err error) {
				var de *DifferentAccountError
				if !errors.As(err, &de) || de.Got.Email != "jan@example.nl" || de.Want != e.account {
					t.Errorf("want a *DifferentAccountError naming jan@example.nl: %#v", err)
				}
				if !strings.Contains(err.Error(), "to avoid mixing backups") {
					t.Errorf("error %q does not say why", err)
				}
				// The unwanted token was revoked, not left valid.
				if n := e.srv.Calls("auth/token/revoke"); n != 1 {
					t.Errorf("token/revoke called %d times, want 1", n)
				}
			},
			status: http.StatusOK, wantPage: "Om back-ups niet te vermengen",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, dropboxemu.Options{})
			b := newBrowser("allow")
			opts := e.options()
			opts.OpenBrowser = b.open
			tt.setup(e, &opts, b)
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx(t)
			}
			defer cancel()

			res, err := e.cfg.Connect(ctx, opts)
			if err == nil {
				t.Fatalf("Connect succeeded with %v", res)
			}
			t.Logf("error: %v", err)
			if res.Token != nil {
				t.Errorf("a failed connect returned a token")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			assertPortsFree(t, e.ports...)
			assertNoToken(t, "the error", err.Error())
			if tt.check != nil {
				tt.check(t, e, err)
			}
			if tt.status != 0 {
				status, page := b.result(t)
				if status != tt.status || !strings.Contains(page, tt.wantPage) {
					t.Errorf("browser got %d, want %d with %q:\n%s", status, tt.status, tt.wantPage, page)
				}
			}
		})
	}
}

// A second request with a code, while the first is being exchanged, gets a polite page
// and changes nothing.
func TestSecondCodeIsIgnored(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{AutoApprove: true})
	var f *LoopbackFlow
	var second struct {
		status int
		page   string
		err    error
	}
	var hits atomic.Int32
	// The token request is the moment the first code is in hand and the listener is still
	// up: the second code arrives then.
	e.cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/oauth2/token" && hits.Add(1) == 1 {
			cb := f.RedirectURI() + "?" + url.Values{"code": {"second-code"}, "state": {f.state}}.Encode()
			resp, page, err := get(r.Context(), http.DefaultClient, cb)
			second.page, second.err = page, err
			if resp != nil {
				second.status = resp.StatusCode
			}
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	var err error
	f, err = e.cfg.Listen(e.options())
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser("allow")
	go b.open(context.Background(), f.URL())
	res, err := f.Wait(context.Background())
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if res.Account.ID != e.account {
		t.Errorf("account %s, want %s", res.Account.ID, e.account)
	}
	if second.err != nil || second.status != http.StatusOK || !strings.Contains(second.page, "Deze koppeling is al afgehandeld") {
		t.Errorf("second code: %v %d\n%s", second.err, second.status, second.page)
	}
	if status, page := b.result(t); status != http.StatusOK || !strings.Contains(page, "Je Dropbox is gekoppeld") {
		t.Errorf("first request got %d:\n%s", status, page)
	}
	if n := e.tokenCalls(); n != 1 {
		t.Errorf("token endpoint called %d times, want 1", n)
	}
	assertPortsFree(t, e.ports...)
	if _, err := f.Wait(context.Background()); !errors.Is(err, ErrFlowDone) {
		t.Errorf("second Wait: %v, want ErrFlowDone", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Requests that are not Dropbox's redirect (other paths, other host names, other methods)
// are refused without using up the flow.
func TestListenerRefusesStrayRequests(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{AutoApprove: true})
	f, err := e.cfg.Listen(e.options())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := fmt.Sprintf("http://127.0.0.1:%d", f.Port())
	for _, tc := range []struct {
		method, path, host string
		want               int
	}{
		{http.MethodGet, "/favicon.ico", "", http.StatusNotFound},
		{http.MethodPost, CallbackPath, "", http.StatusMethodNotAllowed},
		{http.MethodGet, CallbackPath + "?code=x&state=" + f.state, "attacker.example:" + fmt.Sprint(f.Port()), http.StatusMisdirectedRequest},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, _, err := do(http.DefaultClient, req)
		if err != nil || resp.StatusCode != tc.want {
			t.Errorf("%s %s (Host %q): %v %v, want %d", tc.method, tc.path, tc.host, err, resp, tc.want)
		}
	}
	b := newBrowser("allow")
	go b.open(context.Background(), f.URL())
	if _, err := f.Wait(context.Background()); err != nil {
		t.Fatalf("the real redirect after stray requests: %v", err)
	}
	assertPortsFree(t, e.ports...)
}

// A taken port is skipped for the next one of the list; with every port taken, Listen
// returns the typed error the GUI and CLI turn into the paste flow.
func TestPorts(t *testing.T) {
	t.Run("fallback", func(t *testing.T) {
		e := newTestEnv(t, dropboxemu.Options{AutoApprove: true})
		occupy(t, e.ports[0])
		b := newBrowser("allow")
		opts := e.options()
		var got string
		opts.OpenBrowser = func(ctx context.Context, u string) error {
			got = u
			return b.open(ctx, u)
		}
		if _, err := e.cfg.Connect(context.Background(), opts); err != nil {
			t.Fatalf("Connect with the first port taken: %v", err)
		}
		u, _ := url.Parse(got)
		if r := u.Query().Get("redirect_uri"); r != RedirectURI(e.ports[1]) {
			t.Errorf("redirect_uri %s, want %s", r, RedirectURI(e.ports[1]))
		}
		assertPortsFree(t, e.ports[1:]...)
	})
	t.Run("all taken", func(t *testing.T) {
		e := newTestEnv(t, dropboxemu.Options{AutoApprove: true})
		var ls []interface{ Close() error }
		for _, p := range e.ports {
			ls = append(ls, occupy(t, p))
		}
		f, err := e.cfg.Listen(e.options())
		if err == nil {
			f.Close()
			t.Fatal("Listen succeeded with every port taken")
		}
		var pe *PortsInUseError
		if !errors.Is(err, ErrNoFreePort) || !errors.As(err, &pe) || !slices.Equal(pe.Ports, e.ports) {
			t.Fatalf("error %#v, want a *PortsInUseError for %v", err, e.ports)
		}
		if !strings.Contains(err.Error(), "paste the code") {
			t.Errorf("error %q does not offer the paste flow", err)
		}
		for _, l := range ls {
			l.Close()
		}
		assertPortsFree(t, e.ports...)
	})
}

// The authorize URL asks for what Dropbox needs: PKCE S256, offline access, the scopes,
// the redirect URI of the bound port, a state.
func TestAuthorizeURL(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{})
	f, err := e.cfg.Listen(e.options())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, err := url.Parse(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"client_id": testAppKey, "response_type": "code", "code_challenge_method": "S256",
		"token_access_type": "offline", "redirect_uri": RedirectURI(e.ports[0]), "locale": "nl",
		"scope": "account_info.read files.metadata.read files.content.read files.content.write",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s=%q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("state")) < 20 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q or code_challenge %q too short", q.Get("state"), q.Get("code_challenge"))
	}
	if strings.Contains(f.URL(), f.verifier) {
		t.Error("the URL carries the PKCE verifier")
	}
	if !strings.HasPrefix(f.URL(), e.ts.URL+"/oauth2/authorize?") {
		t.Errorf("URL %s is not the emulator's authorize endpoint", f.URL())
	}
}

// The no-redirect flow: no listener, the user pastes the code Dropbox shows.
func TestPasteFlow(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{})
	f, err := e.cfg.NoRedirect(Options{Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(f.URL())
	for _, k := range []string{"redirect_uri", "state"} {
		if u.Query().Has(k) {
			t.Errorf("no-redirect URL has %s: %s", k, f.URL())
		}
	}
	if u.Query().Get("code_challenge") == "" || u.Query().Get("token_access_type") != "offline" {
		t.Errorf("no-redirect URL lacks PKCE or offline: %s", f.URL())
	}

	if _, err := f.ExchangeCode(context.Background(), "  \n"); err == nil || !strings.Contains(err.Error(), "paste the code") {
		t.Errorf("empty code: %v", err)
	}
	code := pastedCode(t, f.URL())
	res, err := f.ExchangeCode(context.Background(), " "+code+"\r\n") // as pasted in a terminal
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if res.Account.Email != "an@example.be" || res.Token.RefreshToken == "" {
		t.Errorf("result %v", res)
	}
	// A code works once.
	_, err = f.ExchangeCode(context.Background(), code)
	if !errors.Is(err, ErrCodeRejected) {
		t.Errorf("reused code: %v, want ErrCodeRejected", err)
	}
	assertNoToken(t, "the error", err.Error(), code)
}

// Reconnecting the same account works and brings a new token for the same account.
func TestReconnectSameAccount(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{AutoApprove: true})
	b := newBrowser("allow")
	opts := e.options()
	opts.OpenBrowser = b.open
	opts.ExpectedAccountID = e.account
	res, err := e.cfg.Connect(context.Background(), opts)
	if err != nil || res.Account.ID != e.account {
		t.Fatalf("reconnect: %v %v", res, err)
	}
	if e.srv.Calls("auth/token/revoke") != 0 {
		t.Error("a good reconnect revoked its token")
	}
}

// Wait and Close race safely: Close while waiting ends Wait at once and frees the port.
func TestCloseWhileWaiting(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{})
	f, err := e.cfg.Listen(e.options())
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := f.Wait(context.Background())
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	f.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrFlowDone) {
			t.Errorf("Wait after Close: %v, want ErrFlowDone", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after Close")
	}
	assertPortsFree(t, e.ports...)
}

func TestNoAppKey(t *testing.T) {
	cfg := Config{Dropbox: RealDropbox()}
	if _, err := cfg.Listen(Options{}); !errors.Is(err, ErrNoAppKey) {
		t.Errorf("Listen: %v", err)
	}
	if _, err := cfg.NoRedirect(Options{}); !errors.Is(err, ErrNoAppKey) {
		t.Errorf("NoRedirect: %v", err)
	}
	if _, err := cfg.TokenSource("x", &MemoryStore{}); !errors.Is(err, ErrNoAppKey) {
		t.Errorf("TokenSource: %v", err)
	}
}
