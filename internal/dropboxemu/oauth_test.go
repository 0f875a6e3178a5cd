package dropboxemu

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/oauth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/users"
	"golang.org/x/oauth2"
)

// testRedirect is the loopback callback registered for testAppKey by newEnv. Nothing listens
// there: the tests stop at the 302 and read its Location, as a desktop app's listener would.
const testRedirect = "http://127.0.0.1:53682/callback"

// noFollowClient is a user agent that does not follow redirects, so a test sees the 302 the
// emulator sends to the app's callback instead of trying to connect to it.
func noFollowClient(rt http.RoundTripper) *http.Client {
	return &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// authPage is one answer of /oauth2/authorize as the browser sees it.
type authPage struct {
	status   int
	header   http.Header
	body     string
	location *url.URL // the redirect target of a 302
	base     *url.URL // where the page was fetched from, to resolve the form's action
}

func fetchAuthPage(t testing.TB, c *http.Client, req *http.Request) authPage {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := authPage{status: resp.StatusCode, header: resp.Header, body: string(b), base: req.URL}
	if loc := resp.Header.Get("Location"); loc != "" {
		if p.location, err = url.Parse(loc); err != nil {
			t.Fatalf("Location %q: %v", loc, err)
		}
	}
	return p
}

func getAuthPage(t testing.TB, c *http.Client, rawURL string) authPage {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fetchAuthPage(t, c, req)
}

var (
	consentHiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	consentFormAction  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	consentCodeElement = regexp.MustCompile(`<code id="code">([^<]*)</code>`)
)

// submitConsent submits the consent page's form the way a browser would: its hidden inputs plus
// the button pressed, to the form's action resolved against the page's URL.
func submitConsent(t testing.TB, c *http.Client, p authPage, decision string) authPage {
	t.Helper()
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page: %d %q\n%s", p.status, p.header.Get("Content-Type"), p.body)
	}
	if !strings.Contains(p.body, `id="allow"`) || !strings.Contains(p.body, `id="deny"`) {
		t.Fatalf("consent page has no Allow/Deny buttons:\n%s", p.body)
	}
	m := consentFormAction.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("consent page has no form:\n%s", p.body)
	}
	action, err := p.base.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for _, in := range consentHiddenInput.FindAllStringSubmatch(p.body, -1) {
		form.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	form.Set("decision", decision)
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return fetchAuthPage(t, c, req)
}

// callbackQuery checks that p redirects to the registered callback and returns its query.
func callbackQuery(t testing.TB, p authPage) url.Values {
	t.Helper()
	if p.status != http.StatusFound || p.location == nil {
		t.Fatalf("want 302 to the callback, got %d\n%s", p.status, p.body)
	}
	target := *p.location
	target.RawQuery = ""
	if target.String() != testRedirect {
		t.Fatalf("redirected to %s, want %s", p.location, testRedirect)
	}
	return p.location.Query()
}

// pkceConfig is how a desktop app configures x/oauth2 for Dropbox: a public client (no
// secret) that sends client_id in the form, as Dropbox requires.
func (e *env) pkceConfig(redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: testAppKey,
		Endpoint: oauth2.Endpoint{
			AuthURL:   e.ts.URL + "/oauth2/authorize",
			TokenURL:  e.ts.URL + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
	}
}

// consentCode runs the browser half of the flow (consent page, Allow) and returns the code.
func (e *env) consentCode(t testing.TB, conf *oauth2.Config, verifier, state string) string {
	t.Helper()
	c := noFollowClient(nil)
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("token_access_type", "offline"))
	q := callbackQuery(t, submitConsent(t, c, getAuthPage(t, c, authURL), "allow"))
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback query %v, want state %q and a code", q, state)
	}
	return q.Get("code")
}

// oauthFailure is an OAuth error answer as it arrives on the wire.
type oauthFailure struct {
	status      int
	contentType string
	code        string
	description string
}

// postToken sends a raw token request and decodes an error answer, checking Dropbox's shape:
// a JSON object with "error" and "error_description", typed exactly application/json.
func (e *env) postToken(t testing.TB, form url.Values) oauthFailure {
	t.Helper()
	resp, err := http.PostForm(e.ts.URL+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	f := oauthFailure{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	if resp.StatusCode == http.StatusOK {
		return f
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("OAuth error body is not JSON: %v\n%s", err, b)
	}
	f.code, _ = body["error"].(string)
	f.description, _ = body["error_description"].(string)
	if f.code == "" || f.description == "" {
		t.Errorf("OAuth error body lacks error or error_description: %s", b)
	}
	if f.contentType != "application/json" {
		t.Errorf("OAuth error Content-Type %q, want application/json", f.contentType)
	}
	return f
}

func oauthAuthTag(t testing.TB, err error) string {
	t.Helper()
	var ae auth.AuthAPIError
	if !errors.As(err, &ae) || ae.AuthError == nil {
		t.Fatalf("want auth.AuthAPIError, got %T %v", err, err)
	}
	return ae.AuthError.Tag
}

func oauthRetrieveCode(t testing.TB, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want *oauth2.RetrieveError, got %T %v", err, err)
	}
	// x/oauth2 would also parse a form-encoded body; Dropbox sends JSON, and so must we.
	if ct := re.Response.Header.Get("Content-Type"); ct != "application/json" || !json.Valid(re.Body) ||
		re.ErrorDescription == "" || re.Response.StatusCode != http.StatusBadRequest {
		t.Errorf("OAuth error %d %q %s: want 400 application/json with error_description", re.Response.StatusCode, ct, re.Body)
	}
	return re.ErrorCode
}

// TestOAuthPKCEEndToEnd is the whole life of a desktop app's credentials with x/oauth2:
// authorize with PKCE, exchange, use, expire, refresh, revoke.
func TestOAuthPKCEEndToEnd(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	conf := e.pkceConfig(testRedirect)
	verifier := oauth2.GenerateVerifier()
	code := e.consentCode(t, conf, verifier, "st4te-with/odd=chars&")

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		t.Fatalf("token %+v: want access and refresh token of type bearer", tok)
	}
	// x/oauth2 turns expires_in into Expiry with the real clock; Dropbox says 4 hours.
	if d := time.Until(tok.Expiry); d < DefaultTokenLifetime-time.Minute || d > DefaultTokenLifetime {
		t.Errorf("expiry in %v, want about %v", d, DefaultTokenLifetime)
	}
	if tok.Extra("account_id") != e.account || tok.Extra("uid") == "" || tok.Extra("scope") == "" {
		t.Errorf("extras account_id=%v uid=%v scope=%v", tok.Extra("account_id"), tok.Extra("uid"), tok.Extra("scope"))
	}

	static := func(access string) users.Client {
		return users.New(dropbox.Config{Token: access, URLGenerator: URLGenerator(e.ts.URL)})
	}
	acc, err := static(tok.AccessToken).GetCurrentAccount()
	if err != nil || acc.AccountId != e.account {
		t.Fatalf("get_current_account with the new token: %v %+v", err, acc)
	}

	// The emulator's clock runs past the lifetime; the SDK does not refresh after a 401, so
	// the caller sees the typed expiry error.
	e.clock.Advance(DefaultTokenLifetime + time.Second)
	_, err = static(tok.AccessToken).GetCurrentAccount()
	if tag := oauthAuthTag(t, err); tag != auth.AuthErrorExpiredAccessToken {
		t.Fatalf("after the lifetime: %s, want expired_access_token", tag)
	}

	// A refreshing token source whose token looks expired to x/oauth2 uses the refresh_token
	// grant before the call.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	source := conf.TokenSource(ctx, &expired)
	cfg := dropbox.Config{TokenSource: source, URLGenerator: URLGenerator(e.ts.URL)}
	before := e.srv.Calls("oauth2/token")
	if acc, err := users.New(cfg).GetCurrentAccount(); err != nil || acc.AccountId != e.account {
		t.Fatalf("get_current_account through the refreshing source: %v", err)
	}
	if n := e.srv.Calls("oauth2/token") - before; n != 1 {
		t.Errorf("%d token requests, want one refresh", n)
	}
	fresh, err := source.Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Errorf("refresh gave access %q refresh %q; want a new access token and the old refresh token kept",
			fresh.AccessToken, fresh.RefreshToken)
	}

	if err := auth.New(cfg).TokenRevoke(); err != nil {
		t.Fatalf("token/revoke: %v", err)
	}
	_, err = static(fresh.AccessToken).GetCurrentAccount()
	if tag := oauthAuthTag(t, err); tag != auth.AuthErrorInvalidAccessToken {
		t.Errorf("revoked access token: %s, want invalid_access_token", tag)
	}
	again := *tok
	again.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, &again).Token()
	if code := oauthRetrieveCode(t, err); code != "invalid_grant" {
		t.Errorf("refresh after revoke: %q, want invalid_grant", code)
	}
}

// hostRewriteTransport sends every request to one server, whatever host the client aimed at,
// and remembers the hosts, so the SDK's hard-wired Dropbox URLs reach the emulator.
type hostRewriteTransport struct {
	target *url.URL

	mu    sync.Mutex
	hosts []string
}

func (rt *hostRewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.hosts = append(rt.hosts, r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	rt.mu.Unlock()
	out := r.Clone(r.Context()) // a RoundTripper must not modify the caller's request
	out.URL.Scheme, out.URL.Host, out.Host = rt.target.Scheme, rt.target.Host, ""
	return http.DefaultTransport.RoundTrip(out)
}

func (rt *hostRewriteTransport) seen() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.hosts...)
}

func newHostRewrite(t testing.TB, e *env) *hostRewriteTransport {
	target, err := url.Parse(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &hostRewriteTransport{target: target}
}

// TestOAuthSDKFlows drives the SDK's own oauth package, which builds Dropbox's real URLs
// (www.dropbox.com for authorize, api.dropboxapi.com for token), against the emulator.
func TestOAuthSDKFlows(t *testing.T) {
	ctx := context.Background()

	t.Run("PKCEFlow", func(t *testing.T) {
		e := newEnv(t, Options{})
		rt := newHostRewrite(t, e)
		client := noFollowClient(rt)
		flow, err := oauth.NewPKCEFlow(testAppKey, oauth.WithRedirectURL(testRedirect), oauth.WithHTTPClient(client))
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(flow.AuthCodeURL())
		if err != nil {
			t.Fatal(err)
		}
		if q := u.Query(); q.Get("code_challenge_method") != "S256" || q.Get("token_access_type") != "offline" || q.Get("state") != flow.State() {
			t.Fatalf("SDK authorize URL %s lacks PKCE, offline or state", u)
		}
		q := callbackQuery(t, submitConsent(t, client, getAuthPage(t, client, u.String()), "allow"))
		if q.Get("state") != flow.State() {
			t.Errorf("state %q, want %q", q.Get("state"), flow.State())
		}
		tok, err := flow.Exchange(ctx, q.Get("code"))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if tok.RefreshToken == "" {
			t.Error("PKCEFlow asks for offline access but got no refresh token")
		}
		want := []string{"https://www.dropbox.com/oauth2/authorize", "https://www.dropbox.com/oauth2/authorize", "https://api.dropboxapi.com/oauth2/token"}
		if got := rt.seen(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("the SDK called %v, want %v", got, want)
		}

		refreshed, err := oauth.Refresh(ctx, testAppKey, tok, oauth.WithHTTPClient(client))
		if err != nil {
			t.Fatalf("oauth.Refresh: %v", err)
		}
		if refreshed.AccessToken == tok.AccessToken {
			t.Error("refresh returned the same access token")
		}
		cfg := dropbox.Config{TokenSource: oauth.TokenSource(ctx, testAppKey, refreshed, oauth.WithHTTPClient(client)),
			URLGenerator: URLGenerator(e.ts.URL)}
		if acc, err := users.New(cfg).GetCurrentAccount(); err != nil || acc.AccountId != e.account {
			t.Fatalf("get_current_account: %v", err)
		}
	})

	t.Run("WebPKCEFlow allow and deny", func(t *testing.T) {
		e := newEnv(t, Options{})
		client := noFollowClient(newHostRewrite(t, e))
		flow, err := oauth.NewWebPKCEFlow(testAppKey, testRedirect, oauth.WithHTTPClient(client))
		if err != nil {
			t.Fatal(err)
		}
		authURL, csrf, err := flow.Start("/after/login")
		if err != nil {
			t.Fatal(err)
		}
		q := callbackQuery(t, submitConsent(t, client, getAuthPage(t, client, authURL), "allow"))
		res, err := flow.Finish(ctx, q, csrf)
		if err != nil {
			t.Fatalf("finish: %v", err)
		}
		if res.AccountID != e.account || res.URLState != "/after/login" || res.UserID == "" || len(res.Scopes) == 0 {
			t.Errorf("flow result %+v", res)
		}

		authURL, csrf, err = flow.Start("")
		if err != nil {
			t.Fatal(err)
		}
		q = callbackQuery(t, submitConsent(t, client, getAuthPage(t, client, authURL), "deny"))
		var na *oauth.NotApprovedError
		if _, err := flow.Finish(ctx, q, csrf); !errors.As(err, &na) || na.Description == "" {
			t.Errorf("deny: %T %v, want *oauth.NotApprovedError with a description", err, err)
		}
	})

	t.Run("NoRedirect flow", func(t *testing.T) {
		e := newEnv(t, Options{})
		client := noFollowClient(newHostRewrite(t, e))
		flow, err := oauth.NewOAuth2FlowNoRedirect(testAppKey, oauth.WithPKCE(), oauth.WithHTTPClient(client),
			oauth.WithTokenAccessType(oauth.TokenAccessTypeOffline))
		if err != nil {
			t.Fatal(err)
		}
		p := submitConsent(t, client, getAuthPage(t, client, flow.Start()), "allow")
		m := consentCodeElement.FindStringSubmatch(p.body)
		if p.status != http.StatusOK || m == nil {
			t.Fatalf("want a page showing the code, got %d\n%s", p.status, p.body)
		}
		res, err := flow.Finish(ctx, html.UnescapeString(m[1]))
		if err != nil {
			t.Fatalf("finish: %v", err)
		}
		if res.AccountID != e.account || res.Token.RefreshToken == "" {
			t.Errorf("flow result %+v", res)
		}
	})
}

func TestOAuthAutoApprove(t *testing.T) {
	e := newEnv(t, Options{AutoApprove: true})
	conf := e.pkceConfig(testRedirect)
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("auto", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("token_access_type", "offline"))
	// No consent page: the first GET already answers with the callback redirect.
	q := callbackQuery(t, getAuthPage(t, noFollowClient(nil), authURL))
	if q.Get("state") != "auto" || q.Get("code") == "" {
		t.Fatalf("callback %v", q)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v %+v", err, tok)
	}
}

// TestOAuthNoRedirect is the paste-the-code flow: the authorize request has no
// redirect_uri, so the exchange must not have one either.
func TestOAuthNoRedirect(t *testing.T) {
	e := newEnv(t, Options{})
	conf := e.pkceConfig("")
	c := noFollowClient(nil)
	codeFor := func(verifier string) string {
		t.Helper()
		authURL := conf.AuthCodeURL("", oauth2.S256ChallengeOption(verifier))
		if strings.Contains(authURL, "redirect_uri") {
			t.Fatalf("authorize URL %s has a redirect_uri", authURL)
		}
		p := submitConsent(t, c, getAuthPage(t, c, authURL), "allow")
		m := consentCodeElement.FindStringSubmatch(p.body)
		if p.status != http.StatusOK || m == nil {
			t.Fatalf("want a page showing the code, got %d\n%s", p.status, p.body)
		}
		return html.UnescapeString(m[1])
	}

	t.Run("exchange without redirect_uri", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		tok, err := conf.Exchange(context.Background(), codeFor(v), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		// Without token_access_type=offline Dropbox gives a short-lived token only.
		if tok.AccessToken == "" || tok.RefreshToken != "" {
			t.Errorf("token %+v: want an access token and no refresh token", tok)
		}
	})
	t.Run("exchange with a redirect_uri fails", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		f := e.postToken(t, url.Values{"grant_type": {"authorization_code"}, "code": {codeFor(v)}, "code_verifier": {v},
			"client_id": {testAppKey}, "redirect_uri": {testRedirect}})
		if f.status != http.StatusBadRequest || f.code != "invalid_grant" {
			t.Errorf("%+v, want 400 invalid_grant", f)
		}
	})
	t.Run("deny shows a page", func(t *testing.T) {
		p := submitConsent(t, c, getAuthPage(t, c, conf.AuthCodeURL("", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), "deny")
		if p.status != http.StatusOK || p.location != nil || consentCodeElement.MatchString(p.body) {
			t.Errorf("deny without redirect: %d %v\n%s", p.status, p.location, p.body)
		}
	})
}

// TestOAuthAuthorizeErrors covers the browser side: bad requests get an error page and no
// redirect (never send the user to an unverified URI); a denial goes back to the app.
func TestOAuthAuthorizeErrors(t *testing.T) {
	e := newEnv(t, Options{})
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	good := func() url.Values {
		return url.Values{"client_id": {testAppKey}, "response_type": {"code"}, "redirect_uri": {testRedirect},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s1"}}
	}
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		want   string // a phrase of the error page
	}{
		{"unknown client_id", func(q url.Values) { q.Set("client_id", "nope") }, "client_id"},
		{"missing client_id", func(q url.Values) { q.Del("client_id") }, "client_id"},
		{"redirect_uri on another port", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:53683/callback") }, "redirect_uri"},
		{"redirect_uri with another path", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:53682/") }, "redirect_uri"},
		{"redirect_uri with a trailing slash", func(q url.Values) { q.Set("redirect_uri", testRedirect+"/") }, "redirect_uri"},
		{"localhost for 127.0.0.1", func(q url.Values) { q.Set("redirect_uri", "http://localhost:53682/callback") }, "redirect_uri"},
		{"missing code_challenge for a public app", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "code_challenge"},
		{"unknown code_challenge_method", func(q url.Values) { q.Set("code_challenge_method", "S512") }, "code_challenge_method"},
		{"implicit grant", func(q url.Values) { q.Set("response_type", "token") }, "response_type"},
		{"scope the app lacks", func(q url.Values) { q.Set("scope", "team_data.member") }, "scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := good()
			tc.change(q)
			p := getAuthPage(t, noFollowClient(nil), e.ts.URL+"/oauth2/authorize?"+q.Encode())
			if p.status != http.StatusBadRequest || p.location != nil {
				t.Fatalf("%d Location %v, want 400 without redirect\n%s", p.status, p.location, p.body)
			}
			if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, `id="error"`) ||
				!strings.Contains(p.body, tc.want) {
				t.Errorf("error page %q lacks %q:\n%s", p.header.Get("Content-Type"), tc.want, p.body)
			}
		})
	}

	t.Run("deny redirects with access_denied and state", func(t *testing.T) {
		c := noFollowClient(nil)
		q := callbackQuery(t, submitConsent(t, c, getAuthPage(t, c, e.ts.URL+"/oauth2/authorize?"+good().Encode()), "deny"))
		if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "s1" || q.Has("code") {
			t.Errorf("callback %v", q)
		}
	})
	t.Run("deny without state sends no state", func(t *testing.T) {
		q := good()
		q.Del("state")
		c := noFollowClient(nil)
		got := callbackQuery(t, submitConsent(t, c, getAuthPage(t, c, e.ts.URL+"/oauth2/authorize?"+q.Encode()), "deny"))
		if got.Get("error") != "access_denied" || got.Has("state") {
			t.Errorf("callback %v: want access_denied and no state parameter", got)
		}
	})
	t.Run("the consent page escapes what it echoes", func(t *testing.T) {
		q := good()
		q.Set("state", `"><script>alert(1)</script>`)
		c := noFollowClient(nil)
		p := getAuthPage(t, c, e.ts.URL+"/oauth2/authorize?"+q.Encode())
		if strings.Contains(p.body, "<script>") {
			t.Fatalf("state echoed unescaped:\n%s", p.body)
		}
		if got := callbackQuery(t, submitConsent(t, c, p, "allow")).Get("state"); got != q.Get("state") {
			t.Errorf("state %q came back as %q", q.Get("state"), got)
		}
	})
}

// TestOAuthTokenErrors covers /oauth2/token's refusals; each is 400 JSON with error and
// error_description, as x/oauth2 and the SDK parse it.
func TestOAuthTokenErrors(t *testing.T) {
	e := newEnv(t, Options{})
	e.srv.RegisterApp(App{Key: "other-app", RedirectURIs: []string{testRedirect}})
	conf := e.pkceConfig(testRedirect)
	ctx := context.Background()

	t.Run("wrong code_verifier", func(t *testing.T) {
		code := e.consentCode(t, conf, oauth2.GenerateVerifier(), "s")
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
			t.Errorf("%q, want invalid_grant", got)
		}
	})
	t.Run("missing code_verifier", func(t *testing.T) {
		code := e.consentCode(t, conf, oauth2.GenerateVerifier(), "s")
		_, err := conf.Exchange(ctx, code)
		if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
			t.Errorf("%q, want invalid_grant", got)
		}
	})
	t.Run("code used twice", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := e.consentCode(t, conf, v, "s")
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
			t.Fatalf("first exchange: %v", err)
		}
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
			t.Errorf("second exchange: %q, want invalid_grant", got)
		}
	})
	t.Run("redirect_uri mismatch", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := e.consentCode(t, conf, v, "s")
		other := *conf
		other.RedirectURL = "http://127.0.0.1:53682/other"
		_, err := other.Exchange(ctx, code, oauth2.VerifierOption(v))
		if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
			t.Errorf("%q, want invalid_grant", got)
		}
	})
	t.Run("redirect_uri missing at token", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := e.consentCode(t, conf, v, "s")
		other := *conf
		other.RedirectURL = ""
		_, err := other.Exchange(ctx, code, oauth2.VerifierOption(v))
		if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
			t.Errorf("%q, want invalid_grant", got)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := e.consentCode(t, conf, v, "s")
		e.clock.Advance(codeLifetime + time.Second)
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
		if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
			t.Errorf("%q, want invalid_grant", got)
		}
	})
	t.Run("code of another app", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		code := e.consentCode(t, conf, v, "s")
		other := *conf
		other.ClientID = "other-app"
		_, err := other.Exchange(ctx, code, oauth2.VerifierOption(v))
		if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
			t.Errorf("%q, want invalid_grant", got)
		}
	})

	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"unknown grant_type", url.Values{"grant_type": {"password"}, "client_id": {testAppKey}, "username": {"u"}},
			http.StatusBadRequest, "unsupported_grant_type"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "client_id": {testAppKey}, "code": {"made-up"},
			"code_verifier": {"v"}, "redirect_uri": {testRedirect}}, http.StatusBadRequest, "invalid_grant"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {testAppKey}, "refresh_token": {"made-up"}},
			http.StatusBadRequest, "invalid_grant"},
		{"unknown client_id", url.Values{"grant_type": {"refresh_token"}, "client_id": {"nope"}, "refresh_token": {"x"}},
			http.StatusBadRequest, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := e.postToken(t, tc.form)
			if f.status != tc.status || f.code != tc.code {
				t.Errorf("%+v, want %d %s", f, tc.status, tc.code)
			}
		})
	}
	t.Run("refresh token of another app", func(t *testing.T) {
		_, refresh, err := e.srv.IssueToken(e.account, testAppKey, true)
		if err != nil {
			t.Fatal(err)
		}
		f := e.postToken(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {"other-app"}, "refresh_token": {refresh}})
		if f.status != http.StatusBadRequest || f.code != "invalid_grant" {
			t.Errorf("%+v, want 400 invalid_grant", f)
		}
	})
}

// TestOAuthRevokeAccessFromWebsite is the user removing the app under "Connected apps": the
// app's refresh token dies with its access tokens; other apps are untouched.
func TestOAuthRevokeAccessFromWebsite(t *testing.T) {
	e := newEnv(t, Options{})
	e.srv.RegisterApp(App{Key: "other-app"})
	otherAccess, _, err := e.srv.IssueToken(e.account, "other-app", true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conf := e.pkceConfig(testRedirect)
	v := oauth2.GenerateVerifier()
	tok, err := conf.Exchange(ctx, e.consentCode(t, conf, v, "s"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}

	if err := e.srv.RevokeAccess(e.account, testAppKey); err != nil {
		t.Fatal(err)
	}
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, &expired).Token()
	if got := oauthRetrieveCode(t, err); got != "invalid_grant" {
		t.Errorf("refresh after RevokeAccess: %q, want invalid_grant", got)
	}
	_, err = users.New(dropbox.Config{Token: tok.AccessToken, URLGenerator: URLGenerator(e.ts.URL)}).GetCurrentAccount()
	if tag := oauthAuthTag(t, err); tag != auth.AuthErrorInvalidAccessToken {
		t.Errorf("access token after RevokeAccess: %s", tag)
	}
	if _, err := users.New(dropbox.Config{Token: otherAccess, URLGenerator: URLGenerator(e.ts.URL)}).GetCurrentAccount(); err != nil {
		t.Errorf("another app's token stopped working: %v", err)
	}
}

// TestOAuthTokensPersist checks that a restart on the same data directory keeps refresh
// tokens usable and revocations in force, as a desktop app that was signed in expects.
func TestOAuthTokensPersist(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Options{DataDir: dir})
	ctx := context.Background()
	conf := e.pkceConfig(testRedirect)
	login := func() *oauth2.Token {
		v := oauth2.GenerateVerifier()
		tok, err := conf.Exchange(ctx, e.consentCode(t, conf, v, "s"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	kept, revoked := login(), login()
	if err := auth.New(dropbox.Config{Token: revoked.AccessToken, URLGenerator: URLGenerator(e.ts.URL)}).TokenRevoke(); err != nil {
		t.Fatal(err)
	}

	e.ts.Close()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{DataDir: dir, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// Apps are configuration, registered at every start (the binary does it from flags).
	srv.RegisterApp(App{Key: testAppKey, RedirectURIs: []string{testRedirect}})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	conf.Endpoint.TokenURL = ts.URL + "/oauth2/token"
	api := func(access string) error {
		_, err := users.New(dropbox.Config{Token: access, URLGenerator: URLGenerator(ts.URL)}).GetCurrentAccount()
		return err
	}

	if err := api(kept.AccessToken); err != nil {
		t.Errorf("access token after restart: %v", err)
	}
	if tag := oauthAuthTag(t, api(revoked.AccessToken)); tag != auth.AuthErrorInvalidAccessToken {
		t.Errorf("revoked access token after restart: %s", tag)
	}
	for _, tc := range []struct {
		name string
		tok  *oauth2.Token
		want string
	}{{"kept", kept, ""}, {"revoked", revoked, "invalid_grant"}} {
		t.Run(tc.name, func(t *testing.T) {
			expired := *tc.tok
			expired.Expiry = time.Now().Add(-time.Minute)
			fresh, err := conf.TokenSource(ctx, &expired).Token()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refresh after restart: %v", err)
				}
				if err := api(fresh.AccessToken); err != nil {
					t.Errorf("refreshed token: %v", err)
				}
				return
			}
			if got := oauthRetrieveCode(t, err); got != tc.want {
				t.Errorf("refresh: %q, want %q", got, tc.want)
			}
		})
	}
}

// TestOAuthStats checks the OAuth endpoints are counted with the status they answered, so a
// test of a client can assert e.g. that it refreshed once and never retried a 400.
func TestOAuthStats(t *testing.T) {
	e := newEnv(t, Options{})
	getAuthPage(t, noFollowClient(nil), e.ts.URL+"/oauth2/authorize?client_id=nope&response_type=code")
	conf := e.pkceConfig(testRedirect)
	v := oauth2.GenerateVerifier()
	code := e.consentCode(t, conf, v, "s")
	e.postToken(t, url.Values{"grant_type": {"password"}, "client_id": {testAppKey}})
	if _, err := conf.Exchange(context.Background(), code, oauth2.VerifierOption(v)); err != nil {
		t.Fatal(err)
	}

	st := e.srv.Stats()
	for _, tc := range []struct {
		route  string
		status int
		want   int
	}{
		{"oauth2/authorize", http.StatusBadRequest, 1},
		{"oauth2/authorize", http.StatusOK, 1},    // the consent page
		{"oauth2/authorize", http.StatusFound, 1}, // Allow
		{"oauth2/token", http.StatusBadRequest, 1},
		{"oauth2/token", http.StatusOK, 1},
	} {
		if got := st[tc.route].Status[tc.status]; got != tc.want {
			t.Errorf("%s %d: %d calls, want %d (all: %v)", tc.route, tc.status, got, tc.want, st[tc.route].Status)
		}
	}
	if st["oauth2/token"].BytesOut == 0 || st["oauth2/token"].BytesIn == 0 {
		t.Errorf("token bytes in %d out %d", st["oauth2/token"].BytesIn, st["oauth2/token"].BytesOut)
	}
}

// TestOAuthTokenParamsInQuery sends the token requests the way Dropbox's JavaScript SDK
// does: every parameter in the query string of a POST with an empty body.
func TestOAuthTokenParamsInQuery(t *testing.T) {
	e := newEnv(t, Options{})
	const redirect = "http://127.0.0.1:53682/callback"
	conf := e.pkceConfig(redirect)
	verifier := oauth2.GenerateVerifier()
	code := e.consentCode(t, conf, verifier, "st")
	_, refresh, err := e.srv.IssueToken(e.account, testAppKey, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query url.Values
	}{
		{"authorization_code", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"code_verifier": {verifier}, "client_id": {testAppKey}, "redirect_uri": {redirect}}},
		{"refresh_token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {testAppKey}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(e.ts.URL+"/oauth2/token?"+tt.query.Encode(), "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var tok struct {
				AccessToken string `json:"access_token"`
				AccountID   string `json:"account_id"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
				t.Fatalf("%d %+v %v", resp.StatusCode, tok, err)
			}
			if _, err := users.New(e.config(tok.AccessToken)).GetCurrentAccount(); err != nil {
				t.Fatalf("the token from a query-string request does not work: %v", err)
			}
		})
	}
}
