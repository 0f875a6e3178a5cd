package dropboxemu

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// App is a registered Dropbox app (an app key). Public clients such as a desktop app have
// no secret and must use PKCE.
type App struct {
	Key    string
	Secret string
	Name   string
	// RedirectURIs are the exact redirect URIs allowed, port and path included; Dropbox has
	// no loopback wildcard.
	RedirectURIs []string
	// Scopes the app may be granted; empty means AllScopes.
	Scopes []string
}

// RegisterApp adds or replaces an app.
func (s *Server) RegisterApp(app App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(app.Scopes) == 0 {
		app.Scopes = AllScopes
	}
	if app.Name == "" {
		app.Name = app.Key
	}
	s.apps[app.Key] = &app
}

type accessToken struct {
	Token   string    `json:"token"`
	Account string    `json:"account"`
	App     string    `json:"app"`
	Expiry  time.Time `json:"expiry"`
	Scopes  []string  `json:"scopes"`
	// Family is the refresh token this access token came from (or itself for online
	// tokens); revoking any member revokes them all.
	Family  string `json:"family"`
	Revoked bool   `json:"revoked,omitempty"`
}

type refreshToken struct {
	Token   string   `json:"token"`
	Account string   `json:"account"`
	App     string   `json:"app"`
	Scopes  []string `json:"scopes"`
	Revoked bool     `json:"revoked,omitempty"`
}

type authCode struct {
	app, account, redirectURI string
	challenge, method         string
	scopes                    []string
	offline                   bool
	expiry                    time.Time
}

// codeLifetime is how long an authorization code may wait to be exchanged.
const codeLifetime = 10 * time.Minute

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// IssueToken mints tokens for an account without the browser flow, for tests that are not
// about OAuth. With offline it also returns a refresh token.
func (s *Server) IssueToken(accountID, appKey string, offline bool) (access, refresh string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, rt, err := s.mintLocked(accountID, appKey, AllScopes, offline)
	if err != nil {
		return "", "", err
	}
	if rt != nil {
		refresh = rt.Token
	}
	return at.Token, refresh, nil
}

// mintLocked creates and records an access token (and a refresh token when offline).
func (s *Server) mintLocked(accountID, app string, scopes []string, offline bool) (*accessToken, *refreshToken, error) {
	var rt *refreshToken
	family := ""
	if offline {
		rt = &refreshToken{Token: randomToken("", 48), Account: accountID, App: app, Scopes: scopes}
		if err := s.store.log(record{Op: "refresh", Refresh: rt}); err != nil {
			return nil, nil, err
		}
		s.refreshTokens[rt.Token] = rt
		family = rt.Token
	}
	at, err := s.accessLocked(accountID, app, scopes, family)
	return at, rt, err
}

func (s *Server) accessLocked(accountID, app string, scopes []string, family string) (*accessToken, error) {
	at := &accessToken{Token: randomToken("sl.", 96), Account: accountID, App: app, Scopes: scopes,
		Expiry: s.now().Add(s.opts.TokenLifetime), Family: family}
	if at.Family == "" {
		at.Family = at.Token
	}
	if err := s.store.log(record{Op: "access", Access: at}); err != nil {
		return nil, err
	}
	s.tokens[at.Token] = at
	return at, nil
}

func (s *Server) revokeFamilyLocked(family string) error {
	if err := s.store.log(record{Op: "revoke", Path: family}); err != nil {
		return err
	}
	s.applyRevokeLocked(family)
	return nil
}

func (s *Server) applyRevokeLocked(family string) {
	if rt := s.refreshTokens[family]; rt != nil {
		rt.Revoked = true
	}
	for _, t := range s.tokens {
		if t.Family == family {
			t.Revoked = true
		}
	}
}

// RevokeAccess is what a user does under "Connected apps" on dropbox.com: every token of the
// account for that app stops working, refresh tokens included.
func (s *Server) RevokeAccess(accountID, appKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	families := map[string]bool{}
	for _, t := range s.tokens {
		if t.Account == accountID && (appKey == "" || t.App == appKey) {
			families[t.Family] = true
		}
	}
	for _, rt := range s.refreshTokens {
		if rt.Account == accountID && (appKey == "" || rt.App == appKey) {
			families[rt.Token] = true
		}
	}
	for f := range families {
		if err := s.revokeFamilyLocked(f); err != nil {
			return err
		}
	}
	return nil
}

var consentPage = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>API Request Authorization - Dropbox (emulator)</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
{{if .Error}}<h1>Error</h1><p id="error">{{.Error}}</p>
{{else if .Code}}<h1>Access code</h1><p>Enter this code into {{.AppName}} to finish the process.</p><p><code id="code">{{.Code}}</code></p>
{{else if .Denied}}<h1>Access denied</h1><p>You chose not to give {{.AppName}} access to your Dropbox.</p>
{{else}}<h1>{{.AppName}} would like access to the files and folders in its app folder</h1>
<p>Signed in as <b>{{.Email}}</b>.</p>
<form method="post" action="/oauth2/authorize">
{{range $k, $v := .Query}}{{range $v}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
</form>{{end}}
</body></html>`))

type consentData struct {
	Error, Code, AppName, Email string
	Denied                      bool
	Query                       url.Values
}

func renderConsent(w http.ResponseWriter, status int, d consentData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = consentPage.Execute(w, d)
}

// serveAuthorize is the browser side: GET shows the consent page (or, with AutoApprove,
// answers at once); POST is the page's Allow/Deny form.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	w = cw
	defer func() { s.count("oauth2/authorize", cw.status, max(r.ContentLength, 0), cw.n) }()
	if err := r.ParseForm(); err != nil {
		renderConsent(w, http.StatusBadRequest, consentData{Error: "Invalid request."})
		return
	}
	q := r.Form
	decision := q.Get("decision")
	q.Del("decision")

	s.mu.Lock()
	app := s.apps[q.Get("client_id")]
	email := ""
	if a := s.accounts[s.browserAccount]; a != nil {
		email = a.info.Email
	}
	autoApprove := s.opts.AutoApprove
	s.mu.Unlock()

	redirect := q.Get("redirect_uri")
	switch {
	case app == nil:
		renderConsent(w, http.StatusBadRequest, consentData{Error: `Invalid client_id: "` + q.Get("client_id") + `"`})
		return
	case redirect != "" && !slices.Contains(app.RedirectURIs, redirect):
		renderConsent(w, http.StatusBadRequest, consentData{Error: "Invalid redirect_uri. It must exactly match one of the redirect URIs you've pre-configured for your app (including the path)."})
		return
	case q.Get("response_type") != "code":
		renderConsent(w, http.StatusBadRequest, consentData{Error: `Invalid response_type: "` + q.Get("response_type") + `". Only "code" is supported.`})
		return
	case app.Secret == "" && q.Get("code_challenge") == "":
		renderConsent(w, http.StatusBadRequest, consentData{Error: "This app has no secret: the PKCE code_challenge is required."})
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256" && q.Get("code_challenge_method") != "plain":
		renderConsent(w, http.StatusBadRequest, consentData{Error: `Invalid code_challenge_method: "` + q.Get("code_challenge_method") + `"`})
		return
	case email == "":
		renderConsent(w, http.StatusBadRequest, consentData{Error: "No Dropbox account is signed in to this emulator."})
		return
	}
	scopes := app.Scopes
	if sc := q.Get("scope"); sc != "" {
		scopes = strings.Fields(sc)
		for _, x := range scopes {
			if !slices.Contains(app.Scopes, x) {
				renderConsent(w, http.StatusBadRequest, consentData{Error: `Invalid scope: "` + x + `"`})
				return
			}
		}
	}

	if r.Method == http.MethodGet && !autoApprove {
		renderConsent(w, http.StatusOK, consentData{AppName: app.Name, Email: email, Query: q})
		return
	}
	if r.Method == http.MethodPost && decision != "allow" {
		if redirect == "" {
			renderConsent(w, http.StatusOK, consentData{AppName: app.Name, Denied: true})
			return
		}
		v := url.Values{"error": {"access_denied"},
			"error_description": {"The user chose not to give your app access to their Dropbox account."}}
		// As with a code, state comes back only if the app sent one (RFC 6749 4.1.2.1).
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		redirectTo(w, r, redirect, v)
		return
	}

	s.mu.Lock()
	code := randomToken("", 32)
	s.codes[code] = &authCode{
		app: app.Key, account: s.browserAccount, redirectURI: redirect,
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"),
		scopes: scopes, offline: q.Get("token_access_type") == "offline", expiry: s.now().Add(codeLifetime),
	}
	s.mu.Unlock()
	if redirect == "" {
		renderConsent(w, http.StatusOK, consentData{AppName: app.Name, Code: code})
		return
	}
	v := url.Values{"code": {code}}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	redirectTo(w, r, redirect, v)
}

func redirectTo(w http.ResponseWriter, r *http.Request, base string, v url.Values) {
	u, _ := url.Parse(base) // registered URIs were validated when compared
	q := u.Query()
	for k, vals := range v {
		q[k] = vals
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// oauthError answers in the JSON shape x/oauth2 and the SDK parse.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// countingWriter records the status and body size of an answer for the route counters.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// serveToken is POST /oauth2/token: the authorization_code and refresh_token grants, with
// parameters in the form body or the query string.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	w = cw
	// A chunked body has ContentLength -1; the counters want bytes, not a sentinel.
	defer func() { s.count("oauth2/token", cw.status, max(r.ContentLength, 0), cw.n) }()
	fail := func(st int, code, desc string) {
		oauthError(w, st, code, desc)
	}
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "invalid_request", "expected POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "could not parse the form body")
		return
	}
	// Dropbox reads the parameters from the query string as well as from the form body:
	// its JavaScript SDK sends them in the query of an empty POST. The body wins a tie.
	f := r.Form
	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = f.Get("client_id"), f.Get("client_secret")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	app := s.apps[clientID]
	if app == nil {
		fail(http.StatusBadRequest, "invalid_client", "Invalid client_id or client_secret")
		return
	}
	if app.Secret != "" && secret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(app.Secret)) != 1 {
		fail(http.StatusBadRequest, "invalid_client", "Invalid client_id or client_secret")
		return
	}

	switch f.Get("grant_type") {
	case "authorization_code":
		code := s.codes[f.Get("code")]
		delete(s.codes, f.Get("code")) // single use, even when the exchange fails
		switch {
		case code == nil || code.app != app.Key || s.now().After(code.expiry):
			fail(http.StatusBadRequest, "invalid_grant", "code doesn't exist or has expired")
			return
		case code.redirectURI != f.Get("redirect_uri"):
			fail(http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch")
			return
		case code.challenge != "" && !verifierMatches(code, f.Get("code_verifier")):
			fail(http.StatusBadRequest, "invalid_grant", "invalid code verifier")
			return
		case code.challenge == "" && (app.Secret == "" || secret == ""):
			fail(http.StatusBadRequest, "invalid_client", "No client_secret or code_verifier given")
			return
		}
		at, rt, err := s.mintLocked(code.account, app.Key, code.scopes, code.offline)
		if err != nil {
			fail(http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		resp := map[string]any{
			"access_token": at.Token, "token_type": "bearer", "expires_in": int(s.opts.TokenLifetime.Seconds()),
			"scope": strings.Join(code.scopes, " "), "uid": s.accounts[code.account].info.NamespaceID, "account_id": code.account,
		}
		if rt != nil {
			resp["refresh_token"] = rt.Token
		}
		writeJSON(w, resp)
	case "refresh_token":
		rt := s.refreshTokens[f.Get("refresh_token")]
		if rt == nil || rt.Revoked || rt.App != app.Key {
			fail(http.StatusBadRequest, "invalid_grant", "refresh token is invalid or revoked")
			return
		}
		at, err := s.accessLocked(rt.Account, app.Key, rt.Scopes, rt.Token)
		if err != nil {
			fail(http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		writeJSON(w, map[string]any{
			"access_token": at.Token, "token_type": "bearer", "expires_in": int(s.opts.TokenLifetime.Seconds()),
			"scope": strings.Join(rt.Scopes, " "), "uid": s.accounts[rt.Account].info.NamespaceID, "account_id": rt.Account,
		})
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", `grant_type must be "authorization_code" or "refresh_token"`)
	}
}

// verifierMatches checks a PKCE verifier against the code's challenge (RFC 7636).
func verifierMatches(c *authCode, verifier string) bool {
	if verifier == "" {
		return false
	}
	want := verifier
	if c.method != "plain" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) == 1
}
