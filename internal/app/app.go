// Package app is the running program behind the tray: the settings, the state store, the
// engine and the connections it runs. The GUI shows what App publishes and calls its
// methods; it holds no sync logic itself. App imports no GUI package.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sync"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/autostart"
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
	// Autostart registers the app to start at login (autostart.Entry{} by default, the
	// OS's own place; tests give one with a temp Dir).
	Autostart Autostart
	// SelfApprove, if set, approves a connect at the authorize address itself when no
	// browser opens (demo mode: demo.Browse, since the emulated Dropbox approves by
	// itself). See Connector.Open.
	SelfApprove func(ctx context.Context, url string) error
}

// Autostart is the OS's start-at-login registration; autostart.Entry provides it.
type Autostart interface {
	Enable(exe string) error
	Disable() error
	Enabled() (bool, error)
}

var _ Autostart = autostart.Entry{}

// App runs every configured connection. Its methods are safe for concurrent use.
type App struct {
	opts Options
	svc  *service.Service

	ctx    context.Context
	cancel context.CancelFunc

	// published ends when the status file's publisher has removed it.
	published sync.WaitGroup

	// changeMu serializes SetSettings and Edit, which compare, apply and save.
	changeMu sync.Mutex

	mu   sync.Mutex
	conf config.Config

	// counts caches the documents in Dropbox per connection (InDropbox).
	counts counts
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
	if opts.Autostart == nil {
		opts.Autostart = autostart.Entry{}
	}
	conf, err := config.Load(config.Path(opts.Dir))
	if err != nil {
		return nil, err
	}
	eo := opts.Engine
	eo.Watch = true
	eo.Logf = opts.Logf
	svc, err := service.Open(service.Options{
		Dir:         opts.Dir,
		APIURL:      opts.Auth.Dropbox.APIURL,
		Tokens:      func(id string) (oauth2.TokenSource, error) { return opts.Auth.TokenSource(id, opts.Tokens) },
		Engine:      eo,
		Concurrency: conf.Settings.Concurrency,
		CheckEvery:  conf.Settings.CheckEvery(),
		Bandwidth:   conf.Settings.BandwidthLimit,
	})
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("onFact Dropbox Sync is already running: %w", err)
	}
	if err != nil {
		return nil, err
	}
	if svc.Reset != nil {
		opts.Logf("the state store was damaged (%v): set aside as %s, starting from an empty one", svc.Reset.Cause, svc.Reset.Broken)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{opts: opts, svc: svc, ctx: ctx, cancel: cancel, conf: conf}
	// "onfact-dropbox status" cannot open the store the app holds: it reads this file.
	a.published.Go(func() { svc.PublishStatus(ctx, a.Connections, opts.Logf) })
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
	a.published.Wait()
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

// StoreReset is set when the state store was found damaged at Open and replaced by an
// empty one (see store.OpenOrReset): the GUI tells the user once, at this start. Nothing
// is sent twice: the engine matches what is already in Dropbox by content hash.
func (a *App) StoreReset() *store.Reset { return a.svc.Reset }

// SuggestedFolder is the export folder the wizard offers first ("" for none).
func (a *App) SuggestedFolder() string { return a.opts.SuggestedFolder }

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

// Activity returns the newest entries of a connection's feed. It reads the store: call it
// off the UI goroutine.
func (a *App) Activity(id string, n int) ([]store.Activity, error) {
	return a.svc.Engine.Activity(id, n)
}

// SyncNow rescans and retries now: one connection, or every one with id "".
func (a *App) SyncNow(id string) { a.each(id, engine.CmdSyncNow) }

// CheckNow checks that Dropbox holds every document: one connection, or every one with id
// "". What is missing or different there is sent again; Status.Check shows the result.
func (a *App) CheckNow(id string) { a.each(id, engine.CmdCheck) }

// WriteCheckReport writes the last check of every connection as CSV (see
// service.WriteCheckReport), for the accountant's file.
func (a *App) WriteCheckReport(w io.Writer) error {
	return a.svc.WriteCheckReport(w, a.Connections())
}

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

// SetSettings changes the app-wide settings and saves them atomically. A change of start at
// login is registered with the OS first: if that fails, nothing is saved and the error says
// so. A new bandwidth limit applies at once to every upload; a new number of uploads at
// once restarts every connection (whatever was in flight stays queued). Language and
// notifications are the GUI's to apply.
func (a *App) SetSettings(s config.Settings) error {
	a.changeMu.Lock()
	defer a.changeMu.Unlock()
	old := a.Settings()
	if s.StartAtLogin != old.StartAtLogin {
		if err := a.setAutostart(s.StartAtLogin); err != nil {
			return err
		}
	}
	if err := a.update(func(c *config.Config) { c.Settings = s }); err != nil {
		if s.StartAtLogin != old.StartAtLogin {
			_ = a.setAutostart(old.StartAtLogin) // best effort: keep the OS in line with the file
		}
		return err
	}
	if s.BandwidthLimit != old.BandwidthLimit {
		a.svc.SetBandwidth(s.BandwidthLimit)
	}
	if s.Concurrency != old.Concurrency || s.CheckDays != old.CheckDays {
		a.svc.SetConcurrency(s.Concurrency)
		a.svc.SetCheckEvery(s.CheckEvery())
		for _, c := range a.Connections() {
			a.Restart(c.ID)
		}
	}
	return nil
}

// setAutostart registers or unregisters this executable to start at login.
func (a *App) setAutostart(on bool) error {
	if !on {
		if err := a.opts.Autostart.Disable(); err != nil {
			return fmt.Errorf("could not stop starting at login: %w", err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err == nil {
		err = a.opts.Autostart.Enable(exe)
	}
	if err != nil {
		return fmt.Errorf("could not set up starting at login: %w", err)
	}
	return nil
}

// ErrNoConnection is returned by Edit for an ID no connection has.
var ErrNoConnection = errors.New("this connection no longer exists")

// Edit replaces the connection with c's ID by c, saves it and restarts it. Only the name,
// the export folder, the structure, the company and the accountant choice may change;
// another Dropbox account is refused, and the language, the pause and the ignore patterns
// are kept as they are (SetPaused changes the pause). The choices are checked as for a new
// connection (Validate): a problem is one of the errors of choice.go.
//
// Files already in Dropbox stay where they are: the engine keeps each file's Dropbox path
// in its record, and only new or changed documents are placed by the new structure.
func (a *App) Edit(c config.Connection) error {
	a.changeMu.Lock()
	defer a.changeMu.Unlock()
	kept := a.Connections()
	var old config.Connection
	found := false
	for _, o := range kept {
		if o.ID == c.ID {
			old, found = o, true
		}
	}
	if !found {
		return ErrNoConnection
	}
	if c.AccountID != old.AccountID || c.AccountEmail != old.AccountEmail || c.AccountName != old.AccountName {
		return errors.New("a connection's Dropbox account cannot be changed: remove it and add the other Dropbox")
	}
	ch := ChoiceOf(c)
	ch.Language = old.Language
	v, err := Validate(kept, c.ID, ch)
	if err != nil {
		return fmt.Errorf("edit the connection %q: %w", old.Name, err)
	}
	c.Name, c.Company, c.Folder, c.Structure = v.Name, v.Company, v.Folder, v.Structure
	c.Language, c.Paused, c.Ignore, c.CreatedAt = old.Language, old.Paused, old.Ignore, old.CreatedAt
	err = a.update(func(conf *config.Config) {
		for i := range conf.Connections {
			if conf.Connections[i].ID == c.ID {
				c.Paused = conf.Connections[i].Paused // as it is now, not as it was read
				conf.Connections[i] = c
			}
		}
	})
	if err != nil {
		return err
	}
	a.Restart(c.ID)
	return nil
}
