package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"golang.org/x/oauth2"
)

// issued stores a token minted by the emulator for the env's account, as connect would,
// with its access token already expired on our side when expired is set.
func (e *testEnv) issued(t *testing.T, store TokenStore, id string, expired bool) *oauth2.Token {
	t.Helper()
	access, refresh, err := e.srv.IssueToken(e.account, testAppKey, true)
	if err != nil {
		t.Fatal(err)
	}
	tok := &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "bearer",
		Expiry: e.clock.Now().Add(dropboxemu.DefaultTokenLifetime)}
	if expired {
		tok.Expiry = e.clock.Now().Add(-time.Minute)
	}
	if err := store.Save(id, tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

func (e *testEnv) tokenSource(t *testing.T, id string, store TokenStore) *TokenSource {
	t.Helper()
	ts, err := e.cfg.TokenSource(id, store)
	if err != nil {
		t.Fatal(err)
	}
	ts.now = e.clock.Now
	return ts
}

// Many workers asking at once for an expired token cause one refresh and one write back,
// and all get the same new token.
func TestTokenSourceConcurrentRefresh(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{})
	store := &countingStore{}
	old := e.issued(t, store, "c1", true)
	saves := store.Saves()
	ts := e.tokenSource(t, "c1", store)

	const workers = 64
	got := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			tok, err := ts.Token()
			errs[i] = err
			if tok != nil {
				got[i] = tok.AccessToken
			}
		})
	}
	close(start)
	wg.Wait()
	for i := range workers {
		if errs[i] != nil {
			t.Fatalf("worker %d: %v", i, errs[i])
		}
		if got[i] == old.AccessToken || got[i] != got[0] {
			t.Fatalf("worker %d got a different or the old token", i)
		}
	}
	if n := e.tokenCalls(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	if n := store.Saves() - saves; n != 1 {
		t.Errorf("%d writes back, want 1", n)
	}
	if s := mustLoad(t, store, "c1"); s.AccessToken != got[0] || s.RefreshToken != old.RefreshToken {
		t.Error("the stored token is not the refreshed one with the old refresh token")
	}
	// The new token works against the API, through the SDK, for many callers at once.
	for range 8 {
		wg.Go(func() {
			if _, err := e.currentAccount(t, ts); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := e.tokenCalls(); n != 1 {
		t.Errorf("%d refreshes after use, want still 1", n)
	}
}

// Dropbox refusing the refresh token (access removed under "Connected apps") means
// reconnect; the stored token stays, and Dropbox is not asked again.
func TestTokenSourceInvalidGrant(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{})
	store := &countingStore{}
	old := e.issued(t, store, "c1", true)
	saves := store.Saves()
	if err := e.srv.RevokeAccess(e.account, testAppKey); err != nil {
		t.Fatal(err)
	}
	ts := e.tokenSource(t, "c1", store)
	for i := range 3 {
		_, err := ts.Token()
		if !errors.Is(err, dropbox.ErrReconnect) {
			t.Fatalf("call %d: %v, want dropbox.ErrReconnect", i, err)
		}
		if !isRetrieveError(err, "invalid_grant") {
			t.Errorf("call %d: the RetrieveError is not in the chain: %v", i, err)
		}
		assertNoToken(t, "the error", err.Error(), old.AccessToken, old.RefreshToken)
	}
	if n := e.tokenCalls(); n != 1 {
		t.Errorf("token endpoint called %d times, want 1", n)
	}
	if store.Saves() != saves {
		t.Error("the token was written after a refused refresh")
	}
	if s := mustLoad(t, store, "c1"); s.AccessToken != old.AccessToken || s.RefreshToken != old.RefreshToken {
		t.Error("the stored token changed after a refused refresh")
	}
}

// A fresh token is handed out without asking Dropbox; Expire with the current token makes
// the next call refresh, Expire with an old one does nothing.
func TestTokenSourceExpire(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Options{})
	store := &MemoryStore{}
	old := e.issued(t, store, "c1", false)
	ts := e.tokenSource(t, "c1", store)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != old.AccessToken || e.tokenCalls() != 0 {
		t.Fatalf("fresh token: %v, same %v, refreshes %d", err, tok != nil && tok.AccessToken == old.AccessToken, e.tokenCalls())
	}
	ts.Expire("some-older-token")
	if tok, _ := ts.Token(); tok.AccessToken != old.AccessToken {
		t.Error("Expire with another token forced a refresh")
	}
	ts.Expire(old.AccessToken)
	tok, err = ts.Token()
	if err != nil || tok.AccessToken == old.AccessToken || e.tokenCalls() != 1 {
		t.Errorf("after Expire: %v, refreshes %d", err, e.tokenCalls())
	}
	// Within RefreshBefore of the expiry counts as expired.
	e.clock.Advance(dropboxemu.DefaultTokenLifetime - RefreshBefore + time.Second)
	if _, err := ts.Token(); err != nil || e.tokenCalls() != 2 {
		t.Errorf("near expiry: %v, refreshes %d, want 2", err, e.tokenCalls())
	}
}

// A token endpoint that rotates refresh tokens, or sends none, is handled as x/oauth2
// does, and the result is written back; a failed write of a rotated token is an error
// until it succeeds, since the old refresh token may be dead.
func TestTokenSourceWriteBack(t *testing.T) {
	tests := []struct {
		name        string
		response    map[string]any
		saveErr     error
		wantRefresh string
		wantErr     error
	}{
		{"rotated", map[string]any{"access_token": "a2", "refresh_token": "r2", "expires_in": 14400, "token_type": "bearer"}, nil, "r2", nil},
		{"kept", map[string]any{"access_token": "a2", "expires_in": 14400, "token_type": "bearer"}, nil, "r1", nil},
		{"rotated, keychain locked", map[string]any{"access_token": "a2", "refresh_token": "r2", "expires_in": 14400, "token_type": "bearer"}, ErrNoKeychain, "r2", ErrNoKeychain},
		{"kept, keychain locked", map[string]any{"access_token": "a2", "expires_in": 14400, "token_type": "bearer"}, ErrNoKeychain, "r1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != "r1" || r.FormValue("client_id") != testAppKey {
					http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(tt.response)
			}))
			defer srv.Close()
			cfg := Config{AppKey: testAppKey, Dropbox: Dropbox{AuthURL: srv.URL, TokenURL: srv.URL}}
			store := &countingStore{}
			store.Save("c1", &oauth2.Token{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(-time.Hour)})
			store.failSaves(tt.saveErr)
			ts, err := cfg.TokenSource("c1", store)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ts.Token()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Token: %v, want %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, dropbox.ErrTokenSource) {
				t.Errorf("a keychain failure is not dropbox.ErrTokenSource: %v", err)
			}
			if err == nil && (tok.AccessToken != "a2" || tok.RefreshToken != tt.wantRefresh) {
				t.Errorf("token %q/%q, want a2/%s", tok.AccessToken, tok.RefreshToken, tt.wantRefresh)
			}
			if tt.saveErr == nil {
				if s := mustLoad(t, store, "c1"); s.AccessToken != "a2" || s.RefreshToken != tt.wantRefresh {
					t.Errorf("stored %q/%q, want a2/%s", s.AccessToken, s.RefreshToken, tt.wantRefresh)
				}
				return
			}
			// The keychain comes back: the pending write happens on the next call.
			store.failSaves(nil)
			if tok, err := ts.Token(); err != nil || tok.AccessToken != "a2" {
				t.Fatalf("after the keychain came back: %v", err)
			}
			if s := mustLoad(t, store, "c1"); s.AccessToken != "a2" || s.RefreshToken != tt.wantRefresh {
				t.Errorf("stored %q/%q after retry, want a2/%s", s.AccessToken, s.RefreshToken, tt.wantRefresh)
			}
		})
	}
}

func TestTokenSourceMissingToken(t *testing.T) {
	cfg := Config{AppKey: testAppKey, Dropbox: RealDropbox()}
	_, err := cfg.TokenSource("nope", &MemoryStore{})
	if !errors.Is(err, dropbox.ErrReconnect) || !errors.Is(err, ErrNoToken) {
		t.Errorf("missing token: %v, want dropbox.ErrReconnect and ErrNoToken", err)
	}
}

// A caller whose context ends while another refreshes stops waiting.
func TestTokenSourceWaitHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"a2","expires_in":14400,"token_type":"bearer"}`))
	}))
	defer srv.Close()
	defer close(release)
	cfg := Config{AppKey: testAppKey, Dropbox: Dropbox{AuthURL: srv.URL, TokenURL: srv.URL}}
	store := &MemoryStore{}
	store.Save("c1", &oauth2.Token{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(-time.Hour)})
	ts, _ := cfg.TokenSource("c1", store)
	var wg sync.WaitGroup
	wg.Go(func() { ts.TokenContext(context.Background()) }) // holds the refresh
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := ts.TokenContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting caller: %v, want DeadlineExceeded", err)
	}
	release <- struct{}{}
	wg.Wait()
}

// Many calls hitting expired_access_token at once (Dropbox's clock ahead of ours) cause
// one refresh: each call expires the token it failed with, and a token already replaced
// is not refreshed again.
func TestTokenSourceOneRefreshForManyExpiredCalls(t *testing.T) {
	// Longer than RefreshBefore, so the refreshed token counts as fresh on our side.
	const lifetime = 10 * time.Minute
	e := newTestEnv(t, dropboxemu.Options{TokenLifetime: lifetime})
	store := &countingStore{}
	e.issued(t, store, "c1", false) // we think it lives for hours
	ts := e.tokenSource(t, "c1", store)
	e.clock.Advance(lifetime + time.Minute) // Dropbox thinks it expired
	c := e.cfg.client(ts)

	const calls = 32
	errs := make([]error, calls)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range calls {
		wg.Go(func() {
			<-start
			_, errs[i] = c.Account(context.Background())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := e.tokenCalls(); n != 1 {
		t.Errorf("%d refreshes for %d calls that met an expired token, want 1", n, calls)
	}
	if got := e.srv.Stats()["users/get_current_account"].Status[http.StatusUnauthorized]; got == 0 {
		t.Error("no call met the expired token: the test proves nothing")
	}
}

// A keychain that cannot be written when a rotated token must be kept fails the call as
// a token source failure, not as being offline.
func TestTokenSourceFailureIsNotOffline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"a2","refresh_token":"r2","expires_in":14400,"token_type":"bearer"}`))
	}))
	defer srv.Close()
	cfg := Config{AppKey: testAppKey, Dropbox: Dropbox{AuthURL: srv.URL, TokenURL: srv.URL, APIURL: srv.URL}}
	store := &countingStore{}
	store.Save("c1", &oauth2.Token{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(-time.Hour)})
	store.failSaves(ErrNoKeychain)
	ts, err := cfg.TokenSource("c1", store)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.client(ts).Account(context.Background())
	if dropbox.KindOf(err) != dropbox.KindTokenSource || !errors.Is(err, dropbox.ErrTokenSource) || !errors.Is(err, ErrNoKeychain) {
		t.Fatalf("Account: %v (kind %d), want KindTokenSource", err, dropbox.KindOf(err))
	}
	if v := dropbox.Decide(err, 0); v.Offline || v.Stop != dropbox.ErrTokenSource || v.Wait != time.Minute {
		t.Errorf("Decide = %+v", v)
	}
}
