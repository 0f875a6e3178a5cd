package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// CallbackPath is the path of the loopback redirect URI.
const CallbackPath = "/oauth/callback"

// loopbackPorts are tried in order; Dropbox accepts only redirect URIs registered with the
// app, port and path included, so the list is short and fixed.
var loopbackPorts = []int{53682, 53683, 53684}

// LoopbackPorts returns the ports the browser flow tries, in order.
func LoopbackPorts() []int { return append([]int(nil), loopbackPorts...) }

// RedirectURI is the loopback redirect URI for a port: http://127.0.0.1:<port>/oauth/callback.
func RedirectURI(port int) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + CallbackPath
}

// RedirectURIs returns the redirect URIs to register with the Dropbox app (and to pass to
// the emulator's --redirect-uri), one per port of LoopbackPorts.
func RedirectURIs() []string {
	out := make([]string, len(loopbackPorts))
	for i, p := range loopbackPorts {
		out[i] = RedirectURI(p)
	}
	return out
}

// DefaultTimeout is how long the browser flow waits for the user to sign in and allow.
const DefaultTimeout = 10 * time.Minute

// Options tune one connect attempt. The zero value is the browser flow on LoopbackPorts,
// with English pages and DefaultTimeout, for a new connection.
type Options struct {
	// Language of the page the browser shows at the end (nl, fr, en; default en). It is
	// also passed to Dropbox as the consent page's locale.
	Language string
	// ExpectedAccountID is set on a reconnect: the Dropbox account of the connection. Any
	// other account is refused with ErrDifferentAccount, and its token is revoked, never
	// returned.
	ExpectedAccountID string
	// Timeout ends the browser flow when no answer came (default DefaultTimeout).
	Timeout time.Duration
	// Ports overrides LoopbackPorts, for tests and for an app registered with other ports.
	Ports []int
	// OpenBrowser opens the authorize URL; Connect calls it on its own goroutine while it
	// waits for the redirect, and waits for it to return before returning. It must not wait
	// for the user. An error ends the flow. Nil means the package's OpenBrowser.
	OpenBrowser func(ctx context.Context, url string) error
}

func (o Options) ports() []int {
	if len(o.Ports) > 0 {
		return o.Ports
	}
	return loopbackPorts
}

// Account is a Dropbox account as get_current_account describes it.
type Account struct {
	ID    string // account_id, "dbid:..."; a reconnect must bring back the same one
	Name  string // display name
	Email string
}

// Label names the account for people: "Name (e-mail)", or whichever of the two is known.
func (a Account) Label() string {
	switch {
	case a.Name != "" && a.Email != "":
		return a.Name + " (" + a.Email + ")"
	case a.Email != "":
		return a.Email
	}
	return a.Name
}

// Result is a finished connect: the account and its token. The token is a secret: store it
// with a TokenStore and drop it; never log it (Result's String leaves it out).
type Result struct {
	Account Account
	Token   *oauth2.Token
}

// String describes the result without its token.
func (r Result) String() string {
	return fmt.Sprintf("Dropbox account %s (%s, %s)", r.Account.ID, r.Account.Name, r.Account.Email)
}

// GoString keeps %#v from printing the token too.
func (r Result) GoString() string { return "auth.Result{" + r.String() + "}" }

// Errors of the connect flows. Each is wrapped with what was being done; test with errors.Is.
var (
	ErrAccessDenied     = errors.New("access to Dropbox was not allowed in the browser, so nothing was connected")
	ErrStateMismatch    = errors.New("the answer that reached onFact Dropbox Sync does not belong to this connection attempt; start connecting again")
	ErrTimeout          = errors.New("no answer came from Dropbox in the browser in time; start connecting again")
	ErrCodeRejected     = errors.New("Dropbox did not accept the sign-in code (it expired, was already used or was mistyped); start connecting again")
	ErrNoFreePort       = errors.New("no local port is free to receive the answer from Dropbox")
	ErrDifferentAccount = errors.New("this is a different Dropbox account than the one this connection backs up to; " +
		"to avoid mixing backups it was not connected. Sign in to Dropbox with the original account, or add a new connection")
	ErrFlowDone = errors.New("this connect attempt has already finished")
)

// PortsInUseError is returned by Listen when no port of the list could be bound. The GUI
// and the CLI offer the no-redirect flow (paste the code) instead.
type PortsInUseError struct {
	Ports []int
	Err   error // the last bind error
}

// Error names the ports and offers the paste flow.
func (e *PortsInUseError) Error() string {
	ps := make([]string, len(e.Ports))
	for i, p := range e.Ports {
		ps[i] = strconv.Itoa(p)
	}
	return fmt.Sprintf("no local port is free to receive the answer from Dropbox (ports %s on 127.0.0.1 are in use); "+
		"close the program using them, or paste the code Dropbox shows instead", strings.Join(ps, ", "))
}

// Is makes errors.Is(err, ErrNoFreePort) true.
func (e *PortsInUseError) Is(target error) bool { return target == ErrNoFreePort }

// Unwrap returns the last bind error.
func (e *PortsInUseError) Unwrap() error { return e.Err }

// DifferentAccountError is ErrDifferentAccount with the account that signed in.
type DifferentAccountError struct {
	Want string  // the connection's account ID
	Got  Account // who signed in instead
}

// Error names the account that signed in and says why it was refused.
func (e *DifferentAccountError) Error() string {
	return fmt.Sprintf("signed in to Dropbox as %s (%s): %v", e.Got.Name, e.Got.Email, ErrDifferentAccount)
}

// Is makes errors.Is(err, ErrDifferentAccount) true.
func (e *DifferentAccountError) Is(target error) bool { return target == ErrDifferentAccount }

// callback is the one answer the listener accepted, handed to Wait.
type callback struct {
	query url.Values
	reply chan pageKind // the page the browser gets; buffered
}

// LoopbackFlow is a browser connect in progress: a listener on 127.0.0.1 waits for
// Dropbox's redirect. Make one with Config.Listen, send the user to URL, then call Wait
// once; Close releases the listener if Wait is never called. Wait and Close may be
// called from different goroutines.
type LoopbackFlow struct {
	cfg      Config
	opts     Options
	conf     *oauth2.Config
	verifier string
	state    string
	authURL  string
	port     int

	srv     *http.Server
	served  chan struct{} // closed when Serve returned
	done    chan struct{} // closed by Close
	hits    chan callback // capacity 1: only one request is ever accepted
	claimed atomic.Bool
	waited  atomic.Bool
	closing sync.Once
}

// Listen starts a browser connect: it binds the first free port of Options.Ports
// (LoopbackPorts) on 127.0.0.1 only and prepares the authorize URL (PKCE S256, a random
// state, token_access_type=offline, the app's scopes). When no port is free it returns a
// *PortsInUseError (errors.Is ErrNoFreePort): use NoRedirect then.
func (c Config) Listen(opts Options) (*LoopbackFlow, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var ln net.Listener
	var port int
	var lastErr error
	for _, p := range opts.ports() {
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			ln, port = l, p
			break
		}
		lastErr = err
	}
	if ln == nil {
		return nil, &PortsInUseError{Ports: append([]int(nil), opts.ports()...), Err: lastErr}
	}
	f := &LoopbackFlow{
		cfg: c, opts: opts, conf: c.oauth2(RedirectURI(port)),
		verifier: oauth2.GenerateVerifier(), state: rand.Text(), port: port,
		served: make(chan struct{}), done: make(chan struct{}), hits: make(chan callback, 1),
	}
	f.authURL = f.conf.AuthCodeURL(f.state, authParams(f.verifier, opts.Language)...)
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serveCallback), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(f.served)
		_ = f.srv.Serve(ln) // ErrServerClosed after Close
	}()
	return f, nil
}

func authParams(verifier, language string) []oauth2.AuthCodeOption {
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("token_access_type", "offline"),
	}
	if language != "" {
		opts = append(opts, oauth2.SetAuthURLParam("locale", pageLanguage(language)))
	}
	return opts
}

// URL is the authorize URL to open in the browser.
func (f *LoopbackFlow) URL() string { return f.authURL }

// RedirectURI is the redirect URI of the bound port.
func (f *LoopbackFlow) RedirectURI() string { return RedirectURI(f.port) }

// Port is the loopback port that was bound.
func (f *LoopbackFlow) Port() int { return f.port }

// Wait waits for the one redirect, checks its state, exchanges the code (PKCE), fetches
// the account and checks it against Options.ExpectedAccountID, answers the browser with
// a page in Options.Language, and closes the listener before it returns, whatever the
// outcome: success, an error from Dropbox or the exchange, ctx's end, or the timeout
// (ErrTimeout). It may be called once; a second call returns ErrFlowDone.
func (f *LoopbackFlow) Wait(ctx context.Context) (Result, error) {
	if !f.waited.CompareAndSwap(false, true) {
		return Result{}, ErrFlowDone
	}
	defer f.Close()
	select {
	case <-f.done:
		return Result{}, ErrFlowDone
	default:
	}
	timeout := f.opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case hit := <-f.hits:
		res, err := f.finish(ctx, hit.query)
		hit.reply <- pageFor(err)
		return res, err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("connect to Dropbox: %w", context.Cause(ctx))
	case <-timer.C:
		return Result{}, fmt.Errorf("connect to Dropbox: waited %v: %w", timeout, ErrTimeout)
	case <-f.done:
		return Result{}, fmt.Errorf("connect to Dropbox: %w", ErrFlowDone)
	}
}

// Close stops the listener and waits until the port is released. It is safe to call more
// than once and concurrently with Wait (which then returns ErrFlowDone).
func (f *LoopbackFlow) Close() error {
	f.closing.Do(func() {
		close(f.done)
		// Let a handler finish writing its page, but not for long.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			f.srv.Close()
		}
		<-f.served
	})
	return nil
}

// finish turns the callback's query into a Result.
func (f *LoopbackFlow) finish(ctx context.Context, q url.Values) (Result, error) {
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.state)) != 1 {
		return Result{}, fmt.Errorf("connect to Dropbox: %w", ErrStateMismatch)
	}
	if e := q.Get("error"); e != "" {
		desc := Redact(q.Get("error_description"))
		if e == "access_denied" {
			return Result{}, fmt.Errorf("connect to Dropbox: %w", ErrAccessDenied)
		}
		return Result{}, fmt.Errorf("connect to Dropbox: Dropbox refused with %q: %s", Redact(e), desc)
	}
	code := q.Get("code")
	if code == "" {
		return Result{}, errors.New("connect to Dropbox: the answer from the browser has no code; start connecting again")
	}
	return f.cfg.exchange(ctx, f.conf, code, f.verifier, f.opts.ExpectedAccountID)
}

// serveCallback is the loopback listener: it accepts exactly one request on CallbackPath
// and answers it with the outcome of Wait; later requests get a polite page and are ignored.
func (f *LoopbackFlow) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CallbackPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Only the browser on this computer, following Dropbox's redirect, talks to us; a
	// request for another host name is a DNS rebinding attempt.
	if host, port, err := net.SplitHostPort(r.Host); err != nil || port != strconv.Itoa(f.port) ||
		(host != "127.0.0.1" && host != "localhost") {
		http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
		return
	}
	lang := f.opts.Language
	if f.claimed.Swap(true) {
		writePage(w, lang, pageAlreadyDone)
		return
	}
	hit := callback{query: r.URL.Query(), reply: make(chan pageKind, 1)}
	f.hits <- hit // never blocks: one claim, capacity one
	select {
	case p := <-hit.reply:
		writePage(w, lang, p)
	case <-f.done:
		// Wait sends the reply before it closes; prefer it if both are ready.
		select {
		case p := <-hit.reply:
			writePage(w, lang, p)
		default:
			writePage(w, lang, pageFailed)
		}
	case <-r.Context().Done():
	}
}

// Connect runs the whole browser flow: Listen, Options.OpenBrowser (default OpenBrowser)
// with the authorize URL, Wait. Use Listen, URL and Wait directly to show the URL too
// (so the user can copy it when no browser opens).
func (c Config) Connect(ctx context.Context, opts Options) (Result, error) {
	open := opts.OpenBrowser
	if open == nil {
		open = OpenBrowser
	}
	f, err := c.Listen(opts)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := open(ctx, f.URL()); err != nil {
			cancel(fmt.Errorf("open the browser: %w", err))
		}
	})
	res, err := f.Wait(ctx)
	// An opener that is still reading the listener's page gets a moment to finish.
	opened := make(chan struct{})
	go func() { wg.Wait(); close(opened) }()
	select {
	case <-opened:
	case <-time.After(5 * time.Second):
		cancel(nil)
		<-opened
	}
	return res, err
}

// PasteFlow is the no-redirect connect: Dropbox shows the code and the user pastes it.
// It needs no listener, so it works when every port is taken or on a computer without a
// browser (open URL elsewhere). Make one with Config.NoRedirect. ExchangeCode may be
// called again after a failure (e.g. a mistyped code); it is not safe for concurrent use.
type PasteFlow struct {
	cfg      Config
	opts     Options
	conf     *oauth2.Config
	verifier string
	authURL  string
}

// NoRedirect prepares the no-redirect flow: an authorize URL without redirect_uri.
func (c Config) NoRedirect(opts Options) (*PasteFlow, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	f := &PasteFlow{cfg: c, opts: opts, conf: c.oauth2(""), verifier: oauth2.GenerateVerifier()}
	// Dropbox returns no state in this flow: the code travels through the user's hands.
	f.authURL = f.conf.AuthCodeURL("", authParams(f.verifier, opts.Language)...)
	return f, nil
}

// URL is the authorize URL the user opens; Dropbox then shows a code to paste.
func (f *PasteFlow) URL() string { return f.authURL }

// ExchangeCode trades the pasted code for a token (PKCE), fetches the account and checks
// it against Options.ExpectedAccountID, as LoopbackFlow.Wait does.
func (f *PasteFlow) ExchangeCode(ctx context.Context, code string) (Result, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return Result{}, errors.New("connect to Dropbox: no code was given; paste the code Dropbox shows after you allow access")
	}
	return f.cfg.exchange(ctx, f.conf, code, f.verifier, f.opts.ExpectedAccountID)
}

// exchange trades a code for a token, then checks the account behind it. A token that is
// not handed out (wrong account, no account info) is revoked, so none is left valid.
func (c Config) exchange(ctx context.Context, conf *oauth2.Config, code, verifier, expected string) (Result, error) {
	hctx := context.WithValue(ctx, oauth2.HTTPClient, c.httpClient())
	tok, err := conf.Exchange(hctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return Result{}, fmt.Errorf("exchange the code at Dropbox: %w (Dropbox: %w)", ErrCodeRejected, redactErr(err, code, verifier))
		}
		return Result{}, fmt.Errorf("exchange the code at Dropbox: %w", redactErr(err, code, verifier))
	}
	secrets := []string{tok.AccessToken, tok.RefreshToken}
	if tok.RefreshToken == "" {
		c.revokeQuietly(ctx, tok)
		return Result{}, errors.New("exchange the code at Dropbox: Dropbox gave no refresh token, so the connection could not last; start connecting again")
	}
	acc, err := c.account(ctx, tok)
	if err != nil {
		c.revokeQuietly(ctx, tok)
		return Result{}, fmt.Errorf("get the Dropbox account: %w", redactErr(err, secrets...))
	}
	if expected != "" && acc.ID != expected {
		c.revokeQuietly(ctx, tok)
		return Result{}, fmt.Errorf("reconnect to Dropbox: %w", &DifferentAccountError{Want: expected, Got: acc})
	}
	return Result{Account: acc, Token: tok}, nil
}
