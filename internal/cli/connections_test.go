package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	dbxauth "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/users"
	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
	"github.com/onfact/onfact-dropbox/internal/keychaintest"
)

const cliAppKey = "onfact-cli-test"

// cliEnv is an auto-approving emulator registered for the real redirect URIs and a fresh
// settings folder; tokens go to the real keychain (the test session's gnome-keyring, see
// scripts/desktop-session.sh), under a keychain service of the test's own.
type cliEnv struct {
	srv     *dropboxemu.Server
	ts      *httptest.Server
	home    string
	account string
	export  string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	return newCLIEnvWith(t, dropboxemu.Options{})
}

// newCLIEnvWith is newCLIEnv with emulator options (AutoApprove is always on).
func newCLIEnvWith(t *testing.T, opts dropboxemu.Options) *cliEnv {
	t.Helper()
	opts.AutoApprove = true
	srv, ts := emutest.Serve(t, opts)
	srv.RegisterApp(dropboxemu.App{Key: cliAppKey, Name: "onFact Dropbox Sync", RedirectURIs: auth.RedirectURIs()})
	id, err := srv.AddAccount(dropboxemu.AccountInfo{Email: "an@example.be", GivenName: "An", Surname: "Peeters"})
	if err != nil {
		t.Fatal(err)
	}
	useTestKeychain(t)
	home := t.TempDir()
	t.Setenv("ONFACT_DROPBOX_HOME", home)
	t.Setenv(auth.EnvAPIURL, ts.URL)
	t.Setenv(auth.EnvAppKey, cliAppKey)
	export := filepath.Join(t.TempDir(), "export")
	if err := os.Mkdir(export, 0o755); err != nil {
		t.Fatal(err)
	}
	return &cliEnv{srv: srv, ts: ts, home: home, account: id, export: export}
}

func (e *cliEnv) config(t *testing.T) config.Config {
	t.Helper()
	c, err := config.Load(config.Path(e.home))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// urlWatcher is a stdout that hands each printed http(s) line to a "browser" on its own
// goroutine, as a user would copy it.
type urlWatcher struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	seen    int
	browser func(url string)
	wg      sync.WaitGroup
}

func (w *urlWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	lines := strings.Split(w.buf.String(), "\n")
	for _, l := range lines[w.seen : len(lines)-1] {
		if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			w.wg.Go(func() { w.browser(l) })
		}
	}
	w.seen = len(lines) - 1
	return len(p), nil
}

func (w *urlWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// followBrowser follows the authorize URL through the auto-approving emulator to the
// listener, and records the listener's page.
type followBrowser struct {
	mu   sync.Mutex
	page string
	err  error
}

func (b *followBrowser) open(rawURL string) {
	resp, err := http.Get(rawURL)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.page, b.err = string(body), err
}

var codeElement = regexp.MustCompile(`<code id="code">([^<]*)</code>`)

// runConnections runs the command with a browser on its printed URLs.
func runConnections(t *testing.T, stdin io.Reader, browser func(string), args ...string) (code int, stdout, stderr string) {
	t.Helper()
	out := &urlWatcher{browser: browser}
	if browser == nil {
		out.browser = func(string) {}
	}
	var errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = Connections(ctx, args, out, &errOut, stdin)
	out.wg.Wait()
	return code, out.String(), errOut.String()
}

// add connects "Acme onFact" through the loopback flow.
func (e *cliEnv) add(t *testing.T, extra ...string) (stdout, stderr string) {
	t.Helper()
	b := &followBrowser{}
	args := append([]string{"add", "--name", "Acme onFact", "--folder", e.export, "--structure", "type-year", "--no-browser"}, extra...)
	code, stdout, stderr := runConnections(t, nil, b.open, args...)
	if code != ExitOK {
		t.Fatalf("add: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	wantPage := "Je Dropbox is gekoppeld"
	if strings.Contains(strings.Join(extra, " "), "--lang fr") {
		wantPage = "Votre Dropbox est connecté"
	}
	if b.err != nil || !strings.Contains(b.page, wantPage) {
		t.Fatalf("the browser got %v:\n%s", b.err, b.page)
	}
	return stdout, stderr
}

func (e *cliEnv) apiToken(t *testing.T, tok *oauth2.Token) users.Client {
	return users.New(dropbox.Config{Token: tok.AccessToken, URLGenerator: dropboxemu.URLGenerator(e.ts.URL)})
}

func storedToken(t *testing.T, id string) *oauth2.Token {
	t.Helper()
	tok, err := keychain.Load(id)
	if err != nil {
		t.Fatalf("keychain entry of %s: %v", id, err)
	}
	return tok
}

// assertNoSecretsIn fails when any file under dir contains one of the secrets.
func assertNoSecretsIn(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if s != "" && bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains a token", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files under %s: the check checked nothing", dir)
	}
}

func assertPortsFree(t *testing.T) {
	t.Helper()
	for _, p := range auth.LoopbackPorts() {
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Errorf("port %d is still bound: %v", p, err)
			continue
		}
		l.Close()
	}
}

func TestConnectionsAdd(t *testing.T) {
	e := newCLIEnv(t)
	stdout, stderr := e.add(t, "--company", "Acme BV", "--lang", "fr", "--accountant")
	assertPortsFree(t)

	c := e.config(t)
	if len(c.Connections) != 1 {
		t.Fatalf("%d connections, want 1", len(c.Connections))
	}
	conn := c.Connections[0]
	want := config.Connection{
		ID: conn.ID, Name: "Acme onFact", Folder: e.export, Structure: "type-year", Company: "Acme BV",
		Language: "fr", Accountant: true, AccountID: e.account, AccountName: "An Peeters",
		AccountEmail: "an@example.be", CreatedAt: conn.CreatedAt,
	}
	if fmt.Sprint(conn) != fmt.Sprint(want) || conn.ID == "" || conn.CreatedAt.IsZero() {
		t.Errorf("connection\n got %+v\nwant %+v", conn, want)
	}
	if !strings.Contains(stdout, `Connected "Acme onFact" to the Dropbox of An Peeters (an@example.be).`) {
		t.Errorf("stdout:\n%s", stdout)
	}
	if !strings.Contains(stderr, "allow access") {
		t.Errorf("stderr has no instructions:\n%s", stderr)
	}

	// The token is in the keychain under the connection's ID, and it works.
	tok := storedToken(t, conn.ID)
	if tok.RefreshToken == "" {
		t.Error("no refresh token stored")
	}
	if acc, err := e.apiToken(t, tok).GetCurrentAccount(); err != nil || acc.AccountId != e.account {
		t.Errorf("the stored token: %v", err)
	}
	// And nowhere else.
	assertNoSecretsIn(t, e.home, tok.AccessToken, tok.RefreshToken)
	for _, s := range []string{stdout, stderr} {
		if strings.Contains(s, tok.AccessToken) || strings.Contains(s, tok.RefreshToken) {
			t.Error("a token was printed")
		}
	}
}

// Without --no-browser the command opens the URL in a browser itself.
func TestConnectionsAddOpensBrowser(t *testing.T) {
	e := newCLIEnv(t)
	b := &followBrowser{}
	var opened []string
	var wg sync.WaitGroup
	old := openBrowser
	t.Cleanup(func() { openBrowser = old })
	openBrowser = func(ctx context.Context, u string) error {
		opened = append(opened, u)
		wg.Go(func() { b.open(u) }) // a browser opens and returns at once
		return nil
	}
	code, stdout, stderr := runConnections(t, nil, nil, "add", "--name", "Acme", "--folder", e.export)
	wg.Wait()
	if b.err != nil || !strings.Contains(b.page, "Je Dropbox is gekoppeld") {
		t.Errorf("the browser got %v:\n%s", b.err, b.page)
	}
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if len(opened) != 1 || !strings.Contains(stdout, opened[0]) {
		t.Errorf("opened %v; stdout:\n%s", opened, stdout)
	}
	if c := e.config(t); len(c.Connections) != 1 || c.Connections[0].Structure != "year-type" || c.Connections[0].Company != "Acme" {
		t.Errorf("connections %+v", c.Connections)
	}
	assertPortsFree(t)
}

func TestConnectionsAddCodeStdin(t *testing.T) {
	e := newCLIEnv(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	var browserErr error
	paste := func(authURL string) {
		// The user opens the URL elsewhere, allows, and pastes the code shown.
		resp, err := http.Get(authURL)
		if err != nil {
			browserErr = err
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := codeElement.FindStringSubmatch(string(body))
		if m == nil {
			browserErr = fmt.Errorf("no code on the page:\n%s", body)
			pw.CloseWithError(browserErr)
			return
		}
		fmt.Fprintf(pw, "  %s\n", html.UnescapeString(m[1]))
	}
	code, stdout, stderr := runConnections(t, pr, paste,
		"add", "--name", "Acme", "--folder", e.export, "--code-stdin", "--no-browser")
	if code != ExitOK || browserErr != nil {
		t.Fatalf("exit %d, browser %v\n%s\n%s", code, browserErr, stdout, stderr)
	}
	if strings.Contains(stdout, "redirect_uri") {
		t.Errorf("the no-redirect URL has a redirect_uri:\n%s", stdout)
	}
	if !strings.Contains(stderr, "paste the code") {
		t.Errorf("stderr does not ask for the code:\n%s", stderr)
	}
	c := e.config(t)
	if len(c.Connections) != 1 || c.Connections[0].AccountEmail != "an@example.be" {
		t.Fatalf("connections %+v", c.Connections)
	}
	tok := storedToken(t, c.Connections[0].ID)
	assertNoSecretsIn(t, e.home, tok.AccessToken, tok.RefreshToken)
}

func TestConnectionsAddErrors(t *testing.T) {
	e := newCLIEnv(t)
	file := filepath.Join(e.export, "a.pdf")
	os.WriteFile(file, []byte("%PDF"), 0o644)
	// An existing connection, to collide with.
	c := config.Default()
	c.Connections = []config.Connection{{ID: "1", Name: "Taken", Folder: e.export, Structure: "year"}}
	if err := config.Save(config.Path(e.home), c); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		env   map[string]string
		want  int
		msg   string
	}{
		{"no name", []string{"--folder", e.export}, "", nil, ExitUsage, "--name is required"},
		{"no folder", []string{"--name", "X"}, "", nil, ExitUsage, "--folder is required"},
		{"missing folder", []string{"--name", "X", "--folder", filepath.Join(e.export, "nope")}, "", nil, ExitUsage, "does not exist"},
		{"file as folder", []string{"--name", "X", "--folder", file}, "", nil, ExitUsage, "is a file, not a folder"},
		{"bad structure", []string{"--name", "X", "--folder", e.export, "--structure", "{yeer}"}, "", nil, ExitUsage, "unknown placeholder"},
		{"bad language", []string{"--name", "X", "--folder", e.export, "--lang", "de"}, "", nil, ExitUsage, "use nl, fr or en"},
		{"taken name", []string{"--name", "taken", "--folder", e.export}, "", nil, ExitUsage, `"Taken" already exists`},
		{"stray argument", []string{"--name", "X", "--folder", e.export, "extra"}, "", nil, ExitUsage, "unexpected argument"},
		{"unknown flag", []string{"--nme", "X"}, "", nil, ExitUsage, "flag provided but not defined"},
		{"no app key", []string{"--name", "X", "--folder", e.export, "--no-browser"}, "", map[string]string{auth.EnvAppKey: ""}, ExitError, "has no Dropbox app key"},
		{"bad api url", []string{"--name", "X", "--folder", e.export, "--no-browser"}, "", map[string]string{auth.EnvAPIURL: "nope"}, ExitError, auth.EnvAPIURL},
		{"wrong code", []string{"--name", "X", "--folder", e.export, "--code-stdin", "--no-browser"}, "not-a-code\n", nil, ExitError, "did not accept the sign-in code"},
		{"no code", []string{"--name", "X", "--folder", e.export, "--code-stdin", "--no-browser"}, "", nil, ExitError, "read the code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := runConnections(t, strings.NewReader(tt.stdin), nil, append([]string{"add"}, tt.args...)...)
			if code != tt.want || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tt.want, tt.msg, stdout, stderr)
			}
			if c := e.config(t); len(c.Connections) != 1 {
				t.Errorf("a failed add changed the connections: %+v", c.Connections)
			}
		})
	}
	assertPortsFree(t)
}

// With every redirect port taken, add explains and points to --code-stdin.
func TestConnectionsAddPortsTaken(t *testing.T) {
	e := newCLIEnv(t)
	for _, p := range auth.LoopbackPorts() {
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d is in use by something else: %v", p, err)
		}
		defer l.Close()
	}
	code, _, stderr := runConnections(t, nil, nil, "add", "--name", "X", "--folder", e.export, "--no-browser")
	if code != ExitError || !strings.Contains(stderr, "--code-stdin") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
}

func TestConnectionsList(t *testing.T) {
	e := newCLIEnv(t)
	code, stdout, stderr := runConnections(t, nil, nil, "list")
	if code != ExitOK || stdout != "" || !strings.Contains(stderr, "No connections yet") {
		t.Errorf("empty list: %d %q %q", code, stdout, stderr)
	}
	c := config.Default()
	c.Connections = []config.Connection{
		{ID: "1", Name: "Acme onFact", Folder: "/srv/onfact/acme", Structure: "year-type", AccountEmail: "an@example.be"},
		{ID: "2", Name: "Odd\tname", Folder: `C:\onFact\Beta`, Structure: "/{company}/{year}/{month}/{file}"},
	}
	if err := config.Save(config.Path(e.home), c); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runConnections(t, nil, nil, "list")
	want := "Acme onFact\tan@example.be\t/srv/onfact/acme\tyear-type\n" +
		"Odd name\t-\tC:\\onFact\\Beta\t/{company}/{year}/{month}/{file}\n"
	if code != ExitOK || stdout != want {
		t.Errorf("list: exit %d\n got %q\nwant %q", code, stdout, want)
	}
}

func TestConnectionsRemove(t *testing.T) {
	e := newCLIEnv(t)
	e.add(t)
	conn := e.config(t).Connections[0]
	tok := storedToken(t, conn.ID)

	code, stdout, stderr := runConnections(t, nil, nil, "remove", "nobody")
	if code != ExitError || !strings.Contains(stderr, `no connection named "nobody"`) {
		t.Errorf("unknown name: %d %s", code, stderr)
	}

	// Dropbox unreachable: the connection and its token stay.
	dead := httptest.NewServer(nil)
	dead.Close()
	t.Setenv(auth.EnvAPIURL, dead.URL)
	code, _, stderr = runConnections(t, nil, nil, "remove", "Acme onFact")
	if code != ExitError || !strings.Contains(stderr, "was kept") || len(e.config(t).Connections) != 1 {
		t.Errorf("offline remove: %d %s", code, stderr)
	}
	storedToken(t, conn.ID)
	if strings.Contains(stderr, tok.AccessToken) {
		t.Error("the error shows the token")
	}

	t.Setenv(auth.EnvAPIURL, e.ts.URL)
	code, stdout, stderr = runConnections(t, nil, nil, "remove", "acme onfact")
	if code != ExitOK || !strings.Contains(stdout, `Removed "Acme onFact"`) {
		t.Fatalf("remove: %d\n%s\n%s", code, stdout, stderr)
	}
	if c := e.config(t); len(c.Connections) != 0 {
		t.Errorf("still configured: %+v", c.Connections)
	}
	if _, err := keychain.Load(conn.ID); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("keychain after remove: %v", err)
	}
	_, err := e.apiToken(t, tok).GetCurrentAccount()
	var ae dbxauth.AuthAPIError
	if !errors.As(err, &ae) || ae.AuthError == nil || ae.AuthError.Tag != dbxauth.AuthErrorInvalidAccessToken {
		t.Errorf("the removed connection's token still works: %v", err)
	}
}

func TestConnectionsUsage(t *testing.T) {
	newCLIEnv(t)
	tests := []struct {
		args []string
		want int
	}{
		{nil, ExitUsage},
		{[]string{"help"}, ExitOK},
		{[]string{"frobnicate"}, ExitUsage},
		{[]string{"add", "-h"}, ExitOK},
		{[]string{"remove"}, ExitUsage},
		{[]string{"remove", "a", "b"}, ExitUsage},
		{[]string{"list", "extra"}, ExitUsage},
	}
	for _, tt := range tests {
		if code, _, _ := runConnections(t, nil, nil, tt.args...); code != tt.want {
			t.Errorf("connections %v: exit %d, want %d", tt.args, code, tt.want)
		}
	}
}

// useTestKeychain points the commands at the real keychain under a service of this test's
// own, emptied when it ends.
func useTestKeychain(t *testing.T) {
	t.Helper()
	old := keychain
	keychain = auth.Keychain{Service: "onfact-test-" + config.NewID()}
	t.Cleanup(func() {
		for _, id := range keychaintest.Entries(t, keychain.Service) {
			keychain.Delete(id)
		}
		keychain = old
	})
}
