package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"golang.org/x/oauth2"
)

func TestRevoke(t *testing.T) {
	tests := []struct {
		name string
		// setup stores the connection's token (or not) and may break things.
		setup       func(t *testing.T, e *testEnv, store TokenStore) *oauth2.Token
		wantErr     bool
		wantDeleted bool
		wantRevokes int
	}{
		{
			name:        "valid token",
			setup:       func(t *testing.T, e *testEnv, s TokenStore) *oauth2.Token { return e.issued(t, s, "c1", false) },
			wantDeleted: true, wantRevokes: 1,
		},
		{
			name: "expired access token is refreshed first",
			setup: func(t *testing.T, e *testEnv, s TokenStore) *oauth2.Token {
				return e.issued(t, s, "c1", true)
			},
			wantDeleted: true, wantRevokes: 1,
		},
		{
			name: "access already removed at Dropbox",
			setup: func(t *testing.T, e *testEnv, s TokenStore) *oauth2.Token {
				tok := e.issued(t, s, "c1", false)
				if err := e.srv.RevokeAccess(e.account, testAppKey); err != nil {
					t.Fatal(err)
				}
				return tok
			},
			wantDeleted: true, wantRevokes: 1, // answered 401 invalid_access_token
		},
		{
			name: "refresh refused",
			setup: func(t *testing.T, e *testEnv, s TokenStore) *oauth2.Token {
				tok := e.issued(t, s, "c1", true)
				if err := e.srv.RevokeAccess(e.account, testAppKey); err != nil {
					t.Fatal(err)
				}
				return tok
			},
			wantDeleted: true, wantRevokes: 0,
		},
		{
			name: "Dropbox unreachable",
			setup: func(t *testing.T, e *testEnv, s TokenStore) *oauth2.Token {
				tok := e.issued(t, s, "c1", false)
				dead := httptest.NewServer(nil)
				dead.Close()
				e.cfg.Dropbox, _ = DropboxAt(dead.URL)
				return tok
			},
			wantErr: true, wantDeleted: false,
		},
		{
			name:        "no token stored",
			setup:       func(t *testing.T, e *testEnv, s TokenStore) *oauth2.Token { return nil },
			wantDeleted: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, dropboxemu.Options{})
			store := &MemoryStore{}
			tok := tt.setup(t, e, store)
			err := e.cfg.Revoke(context.Background(), "c1", store)
			if err != nil {
				t.Logf("error: %v", err)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("Revoke: %v, want error %v", err, tt.wantErr)
			}
			if err != nil && tok != nil {
				assertNoToken(t, "the error", err.Error(), tok.AccessToken, tok.RefreshToken)
			}
			_, lerr := store.Load("c1")
			if deleted := errors.Is(lerr, ErrNoToken); deleted != tt.wantDeleted {
				t.Errorf("token deleted %v, want %v", deleted, tt.wantDeleted)
			}
			if n := e.srv.Calls("auth/token/revoke"); n != tt.wantRevokes {
				t.Errorf("token/revoke called %d times, want %d", n, tt.wantRevokes)
			}
			if tt.wantRevokes == 1 && !tt.wantErr {
				_, err := e.currentAccount(t, oauth2.StaticTokenSource(tok))
				if tag := tokenTag(err); tag != "invalid_access_token" {
					t.Errorf("after Revoke the token gets %q, want invalid_access_token", tag)
				}
			}
		})
	}
}
