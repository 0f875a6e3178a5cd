// Package service runs the configured connections: it turns the config file's connections
// into engine connections with their Dropbox clients and token sources, and runs them. The
// headless command line and the tray app both use it, so they behave the same.
package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// TokenSources gives the token source of a connection (the keychain-backed refreshing one
// in the app, a fixed token in tests).
type TokenSources func(connID string) (oauth2.TokenSource, error)

// Options configure a Service.
type Options struct {
	// Dir holds config.json and state.db (config.Dir() in the app).
	Dir string
	// APIURL points every Dropbox host at one address (the emulator); empty is Dropbox.
	APIURL string
	Tokens TokenSources
	Engine engine.Options
	// Concurrency is the user's number of uploads at once per connection (0: the
	// engine's); see SetConcurrency.
	Concurrency int
	// CheckEvery is the user's check schedule (config.Settings.CheckEvery; 0: the
	// engine's); see SetCheckEvery.
	CheckEvery time.Duration
	// Bandwidth caps the uploads of all connections together, in bytes per second (0:
	// no cap); see SetBandwidth.
	Bandwidth int64
}

// StorePath is the state store inside a config folder.
func StorePath(dir string) string { return filepath.Join(dir, "state.db") }

// Service owns the store and the engine of one running app.
type Service struct {
	opts   Options
	Store  *store.Store
	Engine *engine.Engine
	// Reset is set when the state store was damaged and replaced by an empty one at Open
	// (store.OpenOrReset); the caller tells the user once. The engine rebuilds the state
	// from the folders and the Dropbox listings, sending nothing again.
	Reset *store.Reset

	// limiter is shared by every connection's client, so the bandwidth cap holds for all
	// of them together.
	limiter *dropbox.Limiter

	mu          sync.Mutex
	commitLocks map[string]*dropbox.CommitLock // by Dropbox account ID
	concurrency int
	checkEvery  time.Duration
}

// Open opens the state store (failing with store.ErrLocked if another instance has it) and
// creates the engine. A damaged store is set aside and replaced by an empty one; Reset
// then says so.
func Open(opts Options) (*Service, error) {
	if opts.Tokens == nil {
		return nil, errors.New("service: no token source")
	}
	st, reset, err := store.OpenOrReset(StorePath(opts.Dir))
	if err != nil {
		return nil, err
	}
	return &Service{opts: opts, Store: st, Reset: reset, Engine: engine.New(st, opts.Engine), limiter: dropbox.NewLimiter(opts.Bandwidth),
		commitLocks: map[string]*dropbox.CommitLock{}, concurrency: opts.Concurrency, checkEvery: opts.CheckEvery}, nil
}

// SetBandwidth changes the cap on uploads of all connections together, in bytes per
// second (0: no cap). It takes effect at once, also for uploads in progress.
func (s *Service) SetBandwidth(bytesPerSec int64) { s.limiter.SetLimit(bytesPerSec) }

// Limiter is the cap shared by every connection's uploads.
func (s *Service) Limiter() *dropbox.Limiter { return s.limiter }

// SetConcurrency changes the number of uploads at once per connection (0: the engine's)
// for connections built by Conn from now on: restart running ones to apply it.
func (s *Service) SetConcurrency(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.concurrency = n
}

// SetCheckEvery changes the check schedule (0: the engine's; below zero: never) for
// connections built by Conn from now on: restart running ones to apply it.
func (s *Service) SetCheckEvery(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkEvery = d
}

// Close closes the store; stop the connections first.
func (s *Service) Close() error { return s.Store.Close() }

// Layout is the layout the engine maps c's documents with: its structure, the language of
// its folder names (Dutch when unset) and its company (the name when unset, as in settings
// written before the company was always stored).
func Layout(c config.Connection) (layout.Layout, error) {
	st, err := layout.ParseStructure(c.Structure)
	if err != nil {
		return layout.Layout{}, fmt.Errorf("connection %s: %w", c.Name, err)
	}
	lang := layout.Language(c.Language)
	if lang == "" {
		lang = layout.Dutch
	}
	company := c.Company
	if company == "" {
		company = c.Name
	}
	return layout.Layout{Structure: st, Language: lang, Company: company, Accountant: c.Accountant}, nil
}

// Conn builds the engine's view of a configured connection.
func (s *Service) Conn(c config.Connection) (engine.Conn, error) {
	l, err := Layout(c)
	if err != nil {
		return engine.Conn{}, err
	}
	ts, err := s.opts.Tokens(c.ID)
	if err != nil {
		return engine.Conn{}, fmt.Errorf("connection %s: %w", c.Name, err)
	}
	s.mu.Lock()
	override, checkEvery := s.concurrency, s.checkEvery
	s.mu.Unlock()
	concurrency := s.opts.Engine.Concurrency
	if override > 0 {
		concurrency = override
	}
	return engine.Conn{
		ID: c.ID, Name: c.Name, Folder: c.Folder, Ignore: c.Ignore, Paused: c.Paused, Concurrency: override, CheckEvery: checkEvery,
		Layout: l,
		Remote: dropbox.New(ts, dropbox.Options{BaseURL: s.opts.APIURL, MaxConns: max(20, concurrency+4),
			CommitLock: s.commitLock(c.AccountID), Limiter: s.limiter, Locale: string(l.Language),
			// The status says "offline" at the first wait, not once a file's retries end.
			OnWait: func(k dropbox.Kind, until time.Time) { s.Engine.Waiting(c.ID, k, until) }}),
	}, nil
}

// commitLock is the lock shared by the connections to one Dropbox account: Dropbox takes
// one write lock per account, so their commits must not overlap.
func (s *Service) commitLock(accountID string) *dropbox.CommitLock {
	if accountID == "" {
		return nil // unknown account: the client's own lock
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.commitLocks[accountID] == nil {
		s.commitLocks[accountID] = new(dropbox.CommitLock)
	}
	return s.commitLocks[accountID]
}

// Result is how one connection's run ended.
type Result struct {
	Name string
	Err  error
}

// Run runs the connections (all of them, or the one named only) until ctx ends or, without
// Engine.Watch, until each queue is empty. A connection that cannot start is reported in its
// Result; the others run anyway.
func (s *Service) Run(ctx context.Context, conns []config.Connection, only string) ([]Result, error) {
	var (
		mu      sync.Mutex
		results []Result
		wg      sync.WaitGroup
	)
	report := func(name string, err error) {
		mu.Lock()
		results = append(results, Result{Name: name, Err: err})
		mu.Unlock()
	}
	started := 0
	for _, c := range conns {
		if only != "" && c.Name != only && c.ID != only {
			continue
		}
		started++
		ec, err := s.Conn(c)
		if err != nil {
			report(c.Name, err)
			continue
		}
		wg.Add(1)
		name := c.Name
		if err := s.Engine.Start(ctx, ec, func(err error) { report(name, err); wg.Done() }); err != nil {
			wg.Done()
			report(name, err)
		}
	}
	if only != "" && started == 0 {
		return nil, fmt.Errorf("no connection named %q", only)
	}
	wg.Wait()
	return results, nil
}
