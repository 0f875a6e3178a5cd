package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
)

// needsReconnect marks an error as dropbox.ErrReconnect while keeping its own message and
// chain: Dropbox no longer accepts the connection's refresh token (the user removed the
// app under "Connected apps", Dropbox revoked it, ...) or there is no usable token on this
// computer. The connection shows "needs reconnect"; its stored token, state and queue are
// kept, and connecting the same account again resumes where it stopped.
type needsReconnect struct{ error }

// Is matches dropbox.ErrReconnect, so the Dropbox client classes a refused refresh as
// "connect again", not as a network failure.
func (e needsReconnect) Is(target error) bool { return target == dropbox.ErrReconnect }
func (e needsReconnect) Unwrap() error        { return e.error }

// keychainFailure marks a failure of the token store (the keychain could not be read or
// written) as dropbox.ErrTokenSource while keeping its own message and chain (ErrNoKeychain),
// so the Dropbox client reports it as what it is and never as being offline.
type keychainFailure struct{ error }

func (e keychainFailure) Is(target error) bool { return target == dropbox.ErrTokenSource }
func (e keychainFailure) Unwrap() error        { return e.error }

// RefreshBefore is how long before its expiry an access token is refreshed, so a request
// never leaves with a token that expires on the way (Dropbox's live 4 hours).
const RefreshBefore = 5 * time.Minute

// refreshTimeout bounds a refresh started by Token, which has no context.
const refreshTimeout = time.Minute

// TokenSource is the refreshing token source of one connection: it hands out the access
// token, refreshes it RefreshBefore its expiry with the refresh token, and writes every
// refreshed token back to the TokenStore (keeping the refresh token when Dropbox sends
// none, storing a rotated one).
//
// It is safe for concurrent use: one caller refreshes while the others wait for it and
// get the same new token, so concurrent requests cause one refresh and one write. Once
// Dropbox refuses the refresh token (invalid_grant), every call returns an error wrapping
// dropbox.ErrReconnect without asking Dropbox again, and the stored token is left as it was.
type TokenSource struct {
	cfg   Config
	id    string
	store TokenStore
	now   func() time.Time // the clock; tests move it with the emulator's

	// sem is held while the token is read or refreshed; a channel rather than a mutex so
	// that waiting honours the caller's context.
	sem chan struct{}
	tok *oauth2.Token
	// unsaved is set when writing a refreshed token back failed; the write is retried on
	// every call. fatal is set when the failed token carries a new refresh token, which
	// must not be lost: calls fail until it is saved.
	unsaved, fatal bool
	dead           error
}

var _ oauth2.TokenSource = (*TokenSource)(nil)

// TokenSource loads the connection's token from store and returns its refreshing token
// source. A missing or damaged token is an error wrapping dropbox.ErrReconnect (and ErrNoToken
// when missing); a keychain failure wraps ErrNoKeychain and dropbox.ErrTokenSource.
func (c Config) TokenSource(id string, store TokenStore) (*TokenSource, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	tok, err := store.Load(id)
	if errors.Is(err, ErrNoToken) {
		return nil, needsReconnect{err}
	}
	if err != nil {
		return nil, keychainFailure{err}
	}
	return c.newTokenSource(id, store, tok), nil
}

func (c Config) newTokenSource(id string, store TokenStore, tok *oauth2.Token) *TokenSource {
	return &TokenSource{cfg: c, id: id, store: store, tok: tok, now: time.Now, sem: make(chan struct{}, 1)}
}

// Token implements oauth2.TokenSource; a refresh it starts gives up after a minute.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	return s.TokenContext(ctx)
}

// TokenContext is Token with a context for the wait and the refresh.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.sem }()

	if s.dead != nil {
		return nil, s.dead
	}
	if s.unsaved {
		if err := s.save(); err != nil && s.fatal {
			return nil, err
		}
	}
	if !s.fresh() {
		if err := s.refresh(ctx); err != nil {
			return nil, err
		}
	}
	t := *s.tok
	return &t, nil
}

// Expire makes the next call refresh, if accessToken is still the current token. Call it
// when Dropbox answers 401 expired_access_token or invalid_access_token to a token this
// source handed out (clock skew, or access revoked: then the refresh reports dropbox.ErrReconnect),
// with the token the failed request carried, not the one Token returns now: many workers
// hitting the same 401 then cause one refresh, as the ones after the first find their
// token already replaced. The Dropbox client does so.
func (s *TokenSource) Expire(accessToken string) {
	s.sem <- struct{}{}
	defer func() { <-s.sem }()
	if s.tok != nil && s.tok.AccessToken == accessToken {
		t := *s.tok
		t.AccessToken, t.Expiry = "", time.Time{}
		s.tok = &t
	}
}

func (s *TokenSource) fresh() bool {
	if s.tok == nil || s.tok.AccessToken == "" {
		return false
	}
	return s.tok.Expiry.IsZero() || s.now().Add(RefreshBefore).Before(s.tok.Expiry)
}

// refresh trades the refresh token for a new access token and writes the result back.
// The caller holds sem.
func (s *TokenSource) refresh(ctx context.Context) error {
	old := s.tok
	if old == nil || old.RefreshToken == "" {
		return needsReconnect{fmt.Errorf("refresh token of connection %s: the connection has no refresh token", s.id)}
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.cfg.httpClient())
	nt, err := s.cfg.oauth2("").TokenSource(ctx, &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			s.dead = needsReconnect{fmt.Errorf("refresh token of connection %s: %w (Dropbox: %w)",
				s.id, dropbox.ErrReconnect, redactErr(err, old.RefreshToken, old.AccessToken))}
			return s.dead
		}
		return fmt.Errorf("refresh token of connection %s: %w", s.id, redactErr(err, old.RefreshToken, old.AccessToken))
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = old.RefreshToken
	}
	if nt.ExpiresIn > 0 {
		// x/oauth2 stamped Expiry with time.Now; use our clock, as fresh does.
		nt.Expiry = s.now().Add(time.Duration(nt.ExpiresIn) * time.Second)
	}
	s.tok = nt
	s.unsaved = true
	s.fatal = nt.RefreshToken != old.RefreshToken
	if err := s.save(); err != nil && s.fatal {
		return err
	}
	return nil
}

// save writes the current token back; the caller holds sem.
func (s *TokenSource) save() error {
	if err := s.store.Save(s.id, s.tok); err != nil {
		return keychainFailure{fmt.Errorf("store refreshed token: %w", err)}
	}
	s.unsaved, s.fatal = false, false
	return nil
}
