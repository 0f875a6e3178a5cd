package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
)

// This file holds the two API calls the auth package makes itself, through
// internal/dropbox (the app's only door to Dropbox): get_current_account after a connect,
// and token/revoke when a connection is removed.

// client is a Dropbox client for one token source at c.Dropbox. Someone is waiting on these
// calls (the wizard, the CLI), so a Dropbox that cannot be reached fails after a couple of
// quick retries instead of backing off for minutes.
func (c Config) client(ts oauth2.TokenSource) *dropbox.Client {
	return dropbox.New(ts, dropbox.Options{BaseURL: c.Dropbox.APIURL, Retries: 2})
}

// account fetches the account behind tok.
func (c Config) account(ctx context.Context, tok *oauth2.Token) (Account, error) {
	a, err := c.client(oauth2.StaticTokenSource(tok)).Account(ctx)
	if err != nil {
		return Account{}, err
	}
	if a.ID == "" {
		return Account{}, errors.New("Dropbox returned an account without an ID")
	}
	return Account{ID: a.ID, Name: a.Name, Email: a.Email}, nil
}

// revokeQuietly revokes a token that is being thrown away; failing is harmless (the
// token is forgotten either way), so it is bounded and its error ignored.
func (c Config) revokeQuietly(ctx context.Context, tok *oauth2.Token) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	_ = c.client(oauth2.StaticTokenSource(tok)).Revoke(ctx)
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
	case errors.Is(err, dropbox.ErrReconnect): // a damaged entry: nothing to revoke with
		return c.deleteToken(id, store)
	case err != nil:
		return err
	}
	// Through the refreshing source: an expired access token is refreshed first.
	err = c.client(c.newTokenSource(id, store, tok)).Revoke(ctx)
	if err == nil || errors.Is(err, dropbox.ErrReconnect) {
		return c.deleteToken(id, store) // Dropbox no longer accepts it anyway
	}
	return fmt.Errorf("revoke the Dropbox access of connection %s: %w", id, redactErr(err, tok.AccessToken, tok.RefreshToken))
}

func (c Config) deleteToken(id string, store TokenStore) error {
	if err := store.Delete(id); err != nil {
		return fmt.Errorf("delete the token of connection %s: %w", id, err)
	}
	return nil
}
