package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
)

// Connector is the use case "connect a Dropbox": adding a connection (validate, connect,
// add) and reconnecting one. The wizard, the CLI and the demo all go through it, so the
// rules (a unique name, the company default, the folder checks, the same account on a
// reconnect, no token left behind) live here and nowhere else.
//
// The three steps of adding: Validate the choice while the person types; connect with
// Listen (or NoRedirect), Open and the flow's Wait, or Connect for all of that at once;
// then Add with the result. Its methods are safe for concurrent use.
type Connector struct {
	auth   func() (auth.Config, error)
	tokens auth.TokenStore
	keep   keeper
	// approve, if set, approves a connect itself when no browser opens (demo mode: the
	// emulated Dropbox approves by itself, so fetching the address is the whole approval).
	approve func(ctx context.Context, url string) error
}

// keeper is where the connections are kept: the running App, or the settings file for the
// headless commands.
type keeper interface {
	// connections lists the connections kept now.
	connections() ([]config.Connection, error)
	// insert keeps (and the App starts) the connection build makes from the connections
	// kept at that moment, unless build refuses; nothing else may change them between
	// the two.
	insert(build func(kept []config.Connection) (config.Connection, error)) error
	// restart runs the connection id again with its new token (nothing for the file).
	restart(id string)
}

// Connector is the use case of adding and reconnecting connections of this app; a
// connection it adds or reconnects is started (restarted) at once.
func (a *App) Connector() *Connector {
	return &Connector{auth: a.Auth, tokens: a.opts.Tokens, keep: appKeeper{a}, approve: a.opts.SelfApprove}
}

// NewFileConnector is the use case over the settings folder dir, for the headless commands
// while the app may or may not run: connections are read from and added to its
// config.json. authConfig gives the app key and Dropbox address when connecting starts.
func NewFileConnector(dir string, authConfig func() (auth.Config, error), tokens auth.TokenStore) *Connector {
	return &Connector{auth: authConfig, tokens: tokens, keep: fileKeeper{path: config.Path(dir)}}
}

// Ready reports whether connecting is possible at all: auth.ErrNoAppKey without an app key.
func (c *Connector) Ready() error {
	_, err := c.auth()
	return err
}

// Validate checks a choice for a new connection against the connections kept; see the
// package function Validate.
func (c *Connector) Validate(ch Choice) (config.Connection, error) {
	kept, err := c.keep.connections()
	if err != nil {
		return config.Connection{}, err
	}
	return Validate(kept, "", ch)
}

// CheckName checks the name of a new connection; see the package function CheckName.
func (c *Connector) CheckName(name string) (string, error) {
	kept, err := c.keep.connections()
	if err != nil {
		return "", err
	}
	return CheckName(kept, "", name)
}

// Find returns the connection kept with this ID, or else with this name (any case).
func (c *Connector) Find(idOrName string) (config.Connection, error) {
	kept, err := c.keep.connections()
	if err != nil {
		return config.Connection{}, err
	}
	for _, k := range kept {
		if k.ID == idOrName {
			return k, nil
		}
	}
	if _, err := CheckName(kept, "", idOrName); errors.Is(err, ErrNameTaken) {
		var taken *NameTakenError
		errors.As(err, &taken)
		for _, k := range kept {
			if k.Name == taken.Name {
				return k, nil
			}
		}
	}
	return config.Connection{}, fmt.Errorf("find connection %q: %w", idOrName, ErrNoConnection)
}

// prepare returns the config to connect with and completes opts: for a reconnect
// (reconnect is the connection's ID) the account Dropbox must bring back, which the auth
// package checks (any other account's token is revoked, never returned). The keychain is
// checked first, so nobody signs in to Dropbox for a token that cannot be kept.
func (c *Connector) prepare(reconnect string, opts *auth.Options) (auth.Config, error) {
	cfg, err := c.auth()
	if err != nil {
		return auth.Config{}, err
	}
	if k, ok := c.tokens.(interface{ Check() error }); ok {
		if err := k.Check(); err != nil {
			return auth.Config{}, err
		}
	}
	if reconnect != "" {
		conn, err := c.Find(reconnect)
		if err != nil {
			return auth.Config{}, err
		}
		opts.ExpectedAccountID = conn.AccountID
	}
	return cfg, nil
}

// Listen starts connecting in the browser, for a new connection (reconnect "") or to
// reconnect the connection with ID reconnect: a listener on loopback waits for Dropbox's
// answer. Show f.URL(), Open it, then call f.Wait; Close f when done.
func (c *Connector) Listen(reconnect string, opts auth.Options) (*auth.LoopbackFlow, error) {
	cfg, err := c.prepare(reconnect, &opts)
	if err != nil {
		return nil, err
	}
	return cfg.Listen(opts)
}

// NoRedirect starts connecting by pasting the code Dropbox shows (no loopback port), as
// Listen does for the browser.
func (c *Connector) NoRedirect(reconnect string, opts auth.Options) (*auth.PasteFlow, error) {
	cfg, err := c.prepare(reconnect, &opts)
	if err != nil {
		return nil, err
	}
	return cfg.NoRedirect(opts)
}

// Open opens the authorize address url with open (the desktop's browser). When that fails
// and this app approves by itself (demo mode), it approves instead, so the flow completes
// on a computer without a browser; otherwise the error is returned and the person can
// copy the address. It blocks while the approval runs; call it on its own goroutine.
func (c *Connector) Open(ctx context.Context, url string, open func(ctx context.Context, url string) error) error {
	err := open(ctx, url)
	if err == nil || c.approve == nil {
		return err
	}
	if aerr := c.approve(ctx, url); aerr != nil {
		return fmt.Errorf("approve the demo connection without a browser: %w (the browser: %w)", aerr, err)
	}
	return nil
}

// Connect runs the whole browser flow: Listen, Open with open on its own goroutine, and
// Wait; an Open that fails (and is not approved by the app itself) ends the flow.
func (c *Connector) Connect(ctx context.Context, reconnect string, opts auth.Options, open func(ctx context.Context, url string) error) (auth.Result, error) {
	f, err := c.Listen(reconnect, opts)
	if err != nil {
		return auth.Result{}, err
	}
	defer f.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		if err := c.Open(ctx, f.URL(), open); err != nil {
			cancel(fmt.Errorf("open the browser: %w", err))
		}
	}()
	res, err := f.Wait(ctx)
	cancel(nil)
	<-opened
	if err != nil && context.Cause(ctx) != nil && !errors.Is(context.Cause(ctx), context.Canceled) {
		err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
	}
	return res, err
}

// Add keeps a new connection for the choice ch with the account and token of res: the
// token goes to the keychain under a new ID, then the connection is validated again
// against the connections kept at that moment (the person spent minutes in the browser, and
// the app or another command may have added one meanwhile) and kept, and the App starts
// it. When anything after saving the token fails, the token is deleted from the keychain
// and revoked at Dropbox, so no access is left behind that no connection uses; a token
// that could not be saved is revoked too.
func (c *Connector) Add(ctx context.Context, ch Choice, res auth.Result) (config.Connection, error) {
	conn := config.Connection{ID: config.NewID(), AccountID: res.Account.ID, AccountName: res.Account.Name,
		AccountEmail: res.Account.Email, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := c.tokens.Save(conn.ID, res.Token); err != nil {
		c.discard(ctx, res)
		return config.Connection{}, err
	}
	var kept config.Connection
	err := c.keep.insert(func(others []config.Connection) (config.Connection, error) {
		v, err := Validate(others, "", ch)
		if err != nil {
			return config.Connection{}, err
		}
		v.ID, v.AccountID, v.AccountName, v.AccountEmail, v.CreatedAt =
			conn.ID, conn.AccountID, conn.AccountName, conn.AccountEmail, conn.CreatedAt
		kept = v
		return v, nil
	})
	if err != nil {
		err = fmt.Errorf("add the connection %q: %w: %w", strings.TrimSpace(ch.Name), ErrNotKept, err)
		if derr := c.tokens.Delete(conn.ID); derr != nil {
			err = errors.Join(err, fmt.Errorf("roll back: %w", derr))
		}
		c.discard(ctx, res)
		return config.Connection{}, err
	}
	return kept, nil
}

// AddNew is the whole of adding: Validate, Connect in the browser with open, Add.
func (c *Connector) AddNew(ctx context.Context, ch Choice, opts auth.Options, open func(ctx context.Context, url string) error) (config.Connection, error) {
	if _, err := c.Validate(ch); err != nil {
		return config.Connection{}, err
	}
	res, err := c.Connect(ctx, "", opts, open)
	if err != nil {
		return config.Connection{}, err
	}
	return c.Add(ctx, ch, res)
}

// Reconnect keeps the new token of res for the connection with ID id, which must be
// connected to the same Dropbox account (started with Listen or NoRedirect for id, which
// has the auth package refuse any other), and restarts it. Its state and queue are kept:
// whatever waited is sent with the new token.
func (c *Connector) Reconnect(ctx context.Context, id string, res auth.Result) (config.Connection, error) {
	conn, err := c.Find(id)
	if err != nil {
		c.discard(ctx, res)
		return config.Connection{}, err
	}
	if conn.AccountID != "" && res.Account.ID != conn.AccountID {
		// Only a result of a flow not started for this connection gets here.
		c.discard(ctx, res)
		return config.Connection{}, fmt.Errorf("reconnect %q: %w", conn.Name, &auth.DifferentAccountError{Want: conn.AccountID, Got: res.Account})
	}
	if err := c.tokens.Save(conn.ID, res.Token); err != nil {
		c.discard(ctx, res)
		return config.Connection{}, fmt.Errorf("reconnect %q: %w", conn.Name, err)
	}
	c.keep.restart(conn.ID)
	return conn, nil
}

// ErrNotKept is wrapped by Add's error when Dropbox connected but the connection could not
// be kept (the settings could not be written, or it was refused when checked again); its
// token is gone again.
var ErrNotKept = errors.New("the connection was not kept")

// Discard revokes the token of a connect result that will not be kept (the person stopped
// waiting after Dropbox had answered).
func (c *Connector) Discard(res auth.Result) { c.discard(context.Background(), res) }

// discard revokes a token that will not be kept; failing is harmless (it is forgotten
// either way), so it is bounded and outlives a cancelled ctx.
func (c *Connector) discard(ctx context.Context, res auth.Result) {
	cfg, err := c.auth()
	if err != nil || res.Token == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	m := &auth.MemoryStore{}
	if m.Save("discard", res.Token) == nil {
		_ = cfg.Revoke(ctx, "discard", m)
	}
}

// appKeeper keeps connections in the running App.
type appKeeper struct{ a *App }

func (k appKeeper) connections() ([]config.Connection, error) { return k.a.Connections(), nil }

func (k appKeeper) insert(build func([]config.Connection) (config.Connection, error)) error {
	a := k.a
	a.changeMu.Lock() // Edit too checks names under it
	defer a.changeMu.Unlock()
	c, err := build(a.Connections())
	if err != nil {
		return err
	}
	if err := a.update(func(conf *config.Config) { conf.Connections = append(conf.Connections, c) }); err != nil {
		return err
	}
	a.start(c)
	return nil
}

func (k appKeeper) restart(id string) { k.a.Restart(id) }

// fileKeeper keeps connections in a config.json that the app, when it runs, reads at start.
type fileKeeper struct{ path string }

func (k fileKeeper) connections() ([]config.Connection, error) {
	c, err := config.Load(k.path)
	return c.Connections, err
}

func (k fileKeeper) insert(build func([]config.Connection) (config.Connection, error)) error {
	// Read again: the GUI may have changed the settings while the person was in the browser.
	conf, err := config.Load(k.path)
	if err != nil {
		return err
	}
	c, err := build(conf.Connections)
	if err != nil {
		return err
	}
	conf.Connections = append(conf.Connections, c)
	return config.Save(k.path, conf)
}

func (fileKeeper) restart(string) {}
