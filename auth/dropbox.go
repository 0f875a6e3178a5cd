package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	sdk "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	dbxauth "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/users"
	"golang.org/x/oauth2"
)

// This file holds the two API calls the auth package makes itself, through the real SDK:
// get_current_account after a connect, and token/revoke when a connection is removed.
// Everything else goes through internal/dropbox.

// sdkConfig points the SDK at c.Dropbox, authenticating with ts over c.HTTPClient.
func (c Config) sdkConfig(ts oauth2.TokenSource) sdk.Config {
	hc := c.httpClient()
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return sdk.Config{
		Client:       &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}, Timeout: hc.Timeout},
		URLGenerator: c.Dropbox.URLGenerator(),
	}
}

// account fetches the account behind tok.
func (c Config) account(ctx context.Context, tok *oauth2.Token) (Account, error) {
	fa, err := users.NewContext(c.sdkConfig(oauth2.StaticTokenSource(tok))).GetCurrentAccountContext(ctx)
	if err != nil {
		return Account{}, err
	}
	acc := Account{ID: fa.AccountId, Email: fa.Email}
	if fa.Name != nil {
		acc.Name = fa.Name.DisplayName
	}
	if acc.ID == "" {
		return Account{}, errors.New("Dropbox returned an account without an ID")
	}
	return acc, nil
}

// revokeToken calls auth/token/revoke with tok: the access token and its refresh token
// stop working.
func (c Config) revokeToken(ctx context.Context, tok *oauth2.Token) error {
	return dbxauth.NewContext(c.sdkConfig(oauth2.StaticTokenSource(tok))).TokenRevokeContext(ctx)
}

// revokeQuietly revokes a token that is being thrown away; failing is harmless (the
// token is forgotten either way), so it is bounded and its error ignored.
func (c Config) revokeQuietly(ctx context.Context, tok *oauth2.Token) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_ = c.revokeToken(ctx, tok)
}

// tokenTag returns the AuthError tag of a 401 from the API ("" for anything else).
func tokenTag(err error) string {
	var ae dbxauth.AuthAPIError
	if errors.As(err, &ae) && ae.AuthError != nil {
		return ae.AuthError.Tag
	}
	return ""
}

// Revoke disconnects a connection: auth/token/revoke at Dropbox (its access and refresh
// tokens stop working), then the token is deleted from store. When Dropbox no longer
// accepts the token anyway (already revoked, refresh refused) it is deleted all the same.
// Any other failure (offline, Dropbox down) keeps the token and returns the error, so
// the caller can try again. With no token stored there is nothing to do.
func (c Config) Revoke(ctx context.Context, id string, store TokenStore) error {
	if err := c.check(); err != nil {
		return err
	}
	tok, err := store.Load(id)
	switch {
	case errors.Is(err, ErrNoToken):
		return nil
	case errors.Is(err, ErrReconnect): // a damaged entry: nothing to revoke with
		return c.deleteToken(id, store)
	case err != nil:
		return err
	}
	ts := c.newTokenSource(id, store, tok)
	err = c.revokeWith(ctx, ts)
	if err == nil || errors.Is(err, ErrReconnect) || tokenTag(err) == dbxauth.AuthErrorInvalidAccessToken {
		return c.deleteToken(id, store)
	}
	return fmt.Errorf("revoke the Dropbox access of connection %s: %w", id, redactErr(err, tok.AccessToken, tok.RefreshToken))
}

// revokeWith revokes the token of ts, refreshing it first if it expired; an access token
// Dropbox calls expired (clock skew) is refreshed once more.
func (c Config) revokeWith(ctx context.Context, ts *TokenSource) error {
	for attempt := 0; ; attempt++ {
		at, err := ts.TokenContext(ctx)
		if err != nil {
			return err
		}
		err = c.revokeToken(ctx, at)
		if attempt == 0 && tokenTag(err) == dbxauth.AuthErrorExpiredAccessToken {
			ts.Expire(at.AccessToken)
			continue
		}
		return err
	}
}

func (c Config) deleteToken(id string, store TokenStore) error {
	if err := store.Delete(id); err != nil {
		return fmt.Errorf("delete the token of connection %s: %w", id, err)
	}
	return nil
}
