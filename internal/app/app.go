// Package app is the running program behind the tray: the settings, the state store, the
// engine and the connections it runs. The GUI shows what App publishes and calls its
// methods; it holds no sync logic itself. App imports no GUI package.
package app

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// Options configure an App.
type Options struct {
	// Dir is the settings folder (config.Dir() by default).
	Dir string
	// Auth is the Dropbox app key and address for connecting and refreshing.
	Auth auth.Config
	// Tokens is where tokens live (the OS keychain by default).
	Tokens auth.TokenStore
	// Engine tunes the engine; Watch is always on.
	Engine engine.Options
	// Logf receives diagnostic lines (default: the standard logger).
	Logf func(format string, args ...any)
	// SuggestedFolder is an export folder the wizard fills in (the demo's), or "".
	SuggestedFolder string
}

// App runs every configured connection. Its methods are safe for concurrent use.
type App struct {
	opts Options
	svc  *service.Service

	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	conf config.Config
}

// Open loads the settings, opens the state store and starts every connection.
func Open(opts Options) (*App, error) {
	if opts.Dir == "" {
		d, err := config.Dir()
		if err != nil {
			return nil, err
		}
		opts.Dir = d
	}
	if opts.Tokens == nil {
		opts.Tokens = auth.Keychain{}
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	conf, err := config.Load(config.Path(opts.Dir))
	if err != nil {
		return nil, err
	}
	eo := opts.Engine
	eo.Watch = true
	eo.Logf = opts.Logf
	if eo.Concurrency == 0 {
		eo.Concurrency = conf.Settings.Concurrency
	}
	svc, err := service.Open(service.Options{
		Dir:    opts.Dir,
		APIURL: opts.Auth.Dropbox.APIURL,
		Tokens: func(id string) (oauth2.TokenSource, error) { return opts.Auth.TokenSource(id, opts.Tokens) },
		Engine: eo,
	})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("onFact Dropbox Sync is already running: %w", err)
	}
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{opts: opts, svc: svc, ctx: ctx, cancel: cancel, conf: conf}
	for _, c := range conf.Connections {
		a.start(c)
	}
	return a, nil
}

// start runs one connection in the background; a connection that cannot start (no token
// in the keychain, a broken structure) shows as an error in its status.
func (a *App) start(c config.Connection) {
	ec, err := a.svc.Conn(c)
	if err == nil {
		err = a.svc.Engine.Start(a.ctx, ec, func(err error) {
			if err != nil {
				a.opts.Logf("%s: stopped: %v", c.Name, err)
			}
		})
	}
	if err != nil {
		a.opts.Logf("%s: %v", c.Name, err)
		a.svc.Engine.Report(engine.Status{ID: c.ID, Name: c.Name, State: engine.StateError, Detail: err.Error()})
	}
}

// Close stops every connection gracefully (whatever was not committed stays queued) and
// closes the store.
func (a *App) Close() error {
	a.cancel()
	a.svc.Engine.Wait()
	return a.svc.Close()
}

// Auth is the Dropbox app key and address for connecting; without an app key it says so
// plainly (auth.ErrNoAppKey) instead of failing later.
func (a *App) Auth() (auth.Config, error) {
	if a.opts.Auth.AppKey == "" {
		return auth.Config{}, auth.ErrNoAppKey
	}
	return a.opts.Auth, nil
}

// SuggestedFolder is the export folder the wizard offers first ("" for none).
func (a *App) SuggestedFolder() string { return a.opts.SuggestedFolder }

// Tokens is where connections' tokens are kept.
func (a *App) Tokens() auth.TokenStore { return a.opts.Tokens }

// Subscribe returns status snapshots of every connection; see engine.Engine.Subscribe.
func (a *App) Subscribe() (<-chan []engine.Status, func()) { return a.svc.Engine.Subscribe() }

// Status is the current snapshot.
func (a *App) Status() []engine.Status { return a.svc.Engine.Status() }

// Connections returns the configured connections.
func (a *App) Connections() []config.Connection {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]config.Connection(nil), a.conf.Connections...)
}

// Settings returns the app-wide settings.
func (a *App) Settings() config.Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conf.Settings
}

// Activity returns the newest entries of a connection's feed.
func (a *App) Activity(id string, n int) ([]store.Activity, error) {
	return a.svc.Engine.Activity(id, n)
}

// SyncNow rescans and retries now: one connection, or every one with id "".
func (a *App) SyncNow(id string) { a.each(id, engine.CmdSyncNow) }

// SetPaused pauses or resumes one connection, or every one with id "", and remembers it
// across restarts.
func (a *App) SetPaused(id string, paused bool) error {
	cmd := engine.CmdResume
	if paused {
		cmd = engine.CmdPause
	}
	a.each(id, cmd)
	return a.update(func(c *config.Config) {
		for i := range c.Connections {
			if id == "" || c.Connections[i].ID == id {
				c.Connections[i].Paused = paused
			}
		}
	})
}

// Paused reports whether every connection is paused (false without connections).
func (a *App) Paused() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.conf.Connections {
		if !c.Paused {
			return false
		}
	}
	return len(a.conf.Connections) > 0
}

func (a *App) each(id string, cmd engine.Command) {
	for _, c := range a.Connections() {
		if id == "" || c.ID == id {
			_ = a.svc.Engine.Send(c.ID, cmd) // a connection that is not running has nothing to do
		}
	}
}

// update changes the settings and writes them atomically.
func (a *App) update(change func(*config.Config)) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := a.conf
	next.Connections = append([]config.Connection(nil), a.conf.Connections...)
	change(&next)
	if err := config.Save(config.Path(a.opts.Dir), next); err != nil {
		return err
	}
	a.conf = next
	return nil
}

// Add saves a new connection whose token is already in the token store, and starts it.
func (a *App) Add(c config.Connection) error {
	if err := a.update(func(conf *config.Config) { conf.Connections = append(conf.Connections, c) }); err != nil {
		return err
	}
	a.start(c)
	return nil
}

// Restart stops a connection and starts it again with its current settings and token, as
// after a reconnect.
func (a *App) Restart(id string) {
	a.svc.Engine.Stop(id)
	for _, c := range a.Connections() {
		if c.ID == id {
			a.start(c)
		}
	}
}

// Remove stops a connection, revokes its access at Dropbox, deletes its token and forgets
// its state. The documents stay in Dropbox.
func (a *App) Remove(ctx context.Context, id string) error {
	if err := a.opts.Auth.Revoke(ctx, id, a.opts.Tokens); err != nil {
		return err
	}
	if err := a.svc.Engine.Forget(id); err != nil {
		return err
	}
	return a.update(func(c *config.Config) { c.Remove(id) })
}
