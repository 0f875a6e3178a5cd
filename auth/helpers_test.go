package auth

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
)

const testAppKey = "onfact-test"

// testClock is the clock the emulator and the token source share, so a test expires
// tokens on both sides without sleeping. The emulator reads it from handler goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is an emulator behind a real HTTP server, with the test app registered for the
// redirect URIs of three free loopback ports and one account signed in to its "browser".
type testEnv struct {
	srv     *dropboxemu.Server
	ts      *httptest.Server
	clock   *testClock
	account string
	ports   []int
	cfg     Config
}

func newTestEnv(t *testing.T, opts dropboxemu.Options) *testEnv {
	t.Helper()
	// The clock starts at the real time: x/oauth2 stamps a new token's Expiry with
	// time.Now, and the emulator's and our expiry checks must agree until a test moves it.
	clock := &testClock{t: time.Now().Truncate(time.Second)}
	opts.Now = clock.Now
	srv, ts := emutest.Serve(t, opts)
	// Tests must not depend on LoopbackPorts being free on a shared machine, so each env
	// registers three ports that were free a moment ago.
	ports := freePorts(t, 3)
	var redirects []string
	for _, p := range ports {
		redirects = append(redirects, RedirectURI(p))
	}
	srv.RegisterApp(dropboxemu.App{Key: testAppKey, Name: "onFact Dropbox Sync", RedirectURIs: redirects})
	id, err := srv.AddAccount(dropboxemu.AccountInfo{Email: "an@example.be", GivenName: "An", Surname: "Peeters"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := DropboxAt(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{srv: srv, ts: ts, clock: clock, account: id, ports: ports,
		cfg: Config{AppKey: testAppKey, Dropbox: d}}
}

// options are the flow options of the env: its ports, Dutch pages, a timeout that ends a
// stuck test quickly.
func (e *testEnv) options() Options {
	return Options{Ports: e.ports, Language: "nl", Timeout: 30 * time.Second}
}

// currentAccount calls get_current_account through the app's Dropbox client (the real
// SDK underneath) with ts.
func (e *testEnv) currentAccount(t *testing.T, ts oauth2.TokenSource) (dropbox.Account, error) {
	t.Helper()
	return e.cfg.client(ts).Account(context.Background())
}

// tokenTag is the error code of a failed call, e.g. "invalid_access_token".
func tokenTag(err error) string {
	var de *dropbox.Error
	if errors.As(err, &de) {
		return de.Code
	}
	return ""
}

// tokenCalls is how often the emulator's token endpoint was called.
func (e *testEnv) tokenCalls() int { return e.srv.Calls("oauth2/token") }

// freePorts returns n distinct loopback ports that were free when it looked.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// occupy binds a port for the test's lifetime, as another program would.
func occupy(t *testing.T, port int) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("occupy port %d: %v", port, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// assertPortsFree checks that nothing listens on the ports any more: the flow closed its
// listener before returning.
func assertPortsFree(t *testing.T, ports ...int) {
	t.Helper()
	for _, p := range ports {
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Errorf("port %d is still bound after the flow ended: %v", p, err)
			continue
		}
		l.Close()
	}
}

// tokenLike finds anything shaped like an emulator access or refresh token.
var tokenLike = regexp.MustCompile(`sl\.[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]{60,}`)

func assertNoToken(t *testing.T, what, s string, tokens ...string) {
	t.Helper()
	if m := tokenLike.FindString(s); m != "" {
		t.Errorf("%s contains something token-like %q:\n%s", what, m, s)
	}
	for _, tok := range tokens {
		if tok != "" && strings.Contains(s, tok) {
			t.Errorf("%s contains a token:\n%s", what, s)
		}
	}
}

// fakeBrowser is the user in front of a browser: it opens the authorize URL, presses a
// button on the emulator's consent page (unless the emulator auto-approves) and follows
// the redirect to the loopback listener, recording the page it gets there.
type fakeBrowser struct {
	decision string // "allow" or "deny"
	// tamper edits the callback URL before the browser follows it.
	tamper func(u *url.URL)
	// beforeCallback runs between Dropbox's redirect and the request to the listener.
	beforeCallback func()

	mu     sync.Mutex
	status int
	page   string
	err    error
	done   chan struct{}
}

func newBrowser(decision string) *fakeBrowser {
	return &fakeBrowser{decision: decision, done: make(chan struct{})}
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	codeElement = regexp.MustCompile(`<code id="code">([^<]*)</code>`)
)

// open is an Options.OpenBrowser.
func (b *fakeBrowser) open(ctx context.Context, rawURL string) error {
	defer close(b.done)
	status, page, err := b.visit(ctx, rawURL)
	b.mu.Lock()
	b.status, b.page, b.err = status, page, err
	b.mu.Unlock()
	return err
}

// result waits for the browser to finish and returns the listener's answer.
func (b *fakeBrowser) result(t *testing.T) (int, string) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the browser never finished")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		t.Fatalf("browser: %v", b.err)
	}
	return b.status, b.page
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (b *fakeBrowser) visit(ctx context.Context, authURL string) (int, string, error) {
	c := noRedirects()
	resp, body, err := get(ctx, c, authURL)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode == http.StatusOK {
		resp, body, err = submitConsent(ctx, c, resp.Request.URL, body, b.decision)
		if err != nil {
			return 0, "", err
		}
	}
	if resp.StatusCode != http.StatusFound {
		return 0, "", fmt.Errorf("authorize: want a redirect to the app, got %d:\n%s", resp.StatusCode, body)
	}
	cb, err := resp.Location()
	if err != nil {
		return 0, "", err
	}
	if b.tamper != nil {
		b.tamper(cb)
	}
	if b.beforeCallback != nil {
		b.beforeCallback()
	}
	resp, body, err = get(ctx, c, cb.String())
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, body, nil
}

func get(ctx context.Context, c *http.Client, rawURL string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", err
	}
	return do(c, req)
}

func do(c *http.Client, req *http.Request) (*http.Response, string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// submitConsent presses a button of the consent page's form, with its hidden fields.
func submitConsent(ctx context.Context, c *http.Client, base *url.URL, page, decision string) (*http.Response, string, error) {
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		return nil, "", fmt.Errorf("no consent form on the page:\n%s", page)
	}
	action, err := base.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, "", err
	}
	form := url.Values{}
	for _, in := range hiddenInput.FindAllStringSubmatch(page, -1) {
		form.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	form.Set("decision", decision)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(c, req)
}

// pastedCode runs the no-redirect flow's browser half: consent, Allow, read the code.
func pastedCode(t *testing.T, authURL string) string {
	t.Helper()
	ctx := context.Background()
	c := noRedirects()
	resp, body, err := get(ctx, c, authURL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusOK && formAction.MatchString(body) {
		if resp, body, err = submitConsent(ctx, c, resp.Request.URL, body, "allow"); err != nil {
			t.Fatal(err)
		}
	}
	m := codeElement.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("want the page with the code, got %d:\n%s", resp.StatusCode, body)
	}
	return html.UnescapeString(m[1])
}

// countingStore counts writes to a MemoryStore and can be made to fail them.
type countingStore struct {
	MemoryStore
	mu      sync.Mutex
	saves   int
	saveErr error
}

func (s *countingStore) Save(id string, t *oauth2.Token) error {
	s.mu.Lock()
	s.saves++
	err := s.saveErr
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.MemoryStore.Save(id, t)
}

func (s *countingStore) Saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

func (s *countingStore) failSaves(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveErr = err
}

// mustLoad returns the stored token or fails.
func mustLoad(t *testing.T, s TokenStore, id string) *oauth2.Token {
	t.Helper()
	tok, err := s.Load(id)
	if err != nil {
		t.Fatalf("load %s: %v", id, err)
	}
	return tok
}

func isRetrieveError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}
