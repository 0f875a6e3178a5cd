package dropboxemu

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
)

// route describes one API function as the spec does: its style, the scope it needs, and
// whether it writes (and so takes the namespace write lock). Every route needs a user token.
type route struct {
	style  string // "rpc", "upload" or "download"
	scope  string
	commit bool
	noArg  bool // the route takes no argument (void)
	handle func(*call) *reply
}

const (
	scopeWrite   = "files.content.write"
	scopeRead    = "files.content.read"
	scopeMeta    = "files.metadata.read"
	scopeAccount = "account_info.read"
)

// AllScopes are the scopes an app-folder app for onFact Dropbox Sync asks for.
var AllScopes = []string{scopeAccount, scopeRead, scopeWrite, scopeMeta}

// routes is the API surface, keyed by "<namespace>/<route>" as in the URL.
var routes map[string]route

func init() {
	routes = map[string]route{
		"files/upload":                            {style: "upload", scope: scopeWrite, commit: true, handle: (*call).upload},
		"files/upload_session/start":              {style: "upload", scope: scopeWrite, handle: (*call).sessionStart},
		"files/upload_session/start_batch":        {style: "rpc", scope: scopeWrite, handle: (*call).sessionStartBatch},
		"files/upload_session/append_v2":          {style: "upload", scope: scopeWrite, handle: (*call).sessionAppend},
		"files/upload_session/append_batch":       {style: "upload", scope: scopeWrite, handle: (*call).sessionAppendBatch},
		"files/upload_session/finish":             {style: "upload", scope: scopeWrite, commit: true, handle: (*call).sessionFinish},
		"files/upload_session/finish_batch_v2":    {style: "rpc", scope: scopeWrite, commit: true, handle: (*call).finishBatchV2},
		"files/upload_session/finish_batch":       {style: "rpc", scope: scopeWrite, commit: true, handle: (*call).finishBatch},
		"files/upload_session/finish_batch/check": {style: "rpc", scope: scopeWrite, handle: (*call).finishBatchCheck},
		"files/get_metadata":                      {style: "rpc", scope: scopeMeta, handle: (*call).getMetadata},
		"files/list_folder":                       {style: "rpc", scope: scopeMeta, handle: (*call).listFolder},
		"files/list_folder/continue":              {style: "rpc", scope: scopeMeta, handle: (*call).listFolderContinue},
		"files/create_folder_v2":                  {style: "rpc", scope: scopeWrite, commit: true, handle: (*call).createFolder},
		"files/delete_v2":                         {style: "rpc", scope: scopeWrite, commit: true, handle: (*call).deleteV2},
		"files/download":                          {style: "download", scope: scopeRead, handle: (*call).download},
		"users/get_current_account":               {style: "rpc", scope: scopeAccount, noArg: true, handle: (*call).currentAccount},
		"users/get_space_usage":                   {style: "rpc", scope: scopeAccount, noArg: true, handle: (*call).spaceUsage},
		"auth/token/revoke":                       {style: "rpc", noArg: true, handle: (*call).revoke},
	}
}

// call is one API request in progress.
type call struct {
	s     *Server
	route string
	r     *http.Request
	acct  *account
	token *accessToken
	arg   []byte // the JSON argument, from the body (rpc) or Dropbox-API-Arg
	body  []byte // upload content
	// tooLarge is set when an upload body exceeded MaxUploadRequest; body is then empty.
	tooLarge bool
}

// authenticate resolves the bearer token to an account, answering as Dropbox does when it
// is missing (400), unknown or revoked (401 invalid_access_token), expired (401
// expired_access_token) or lacks the route's scope (401 missing_scope).
func (s *Server) authenticate(c *call, rt route) *reply {
	h := c.r.Header.Get("Authorization")
	if h == "" {
		return badRequest(c.route, `Must provide HTTP header "Authorization" or URL parameter "authorization".`)
	}
	scheme, tok, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return badRequest(c.route, `Invalid authorization value in HTTP header "Authorization": %q.  Expecting "Bearer <oauth2-access-token>".`, redact(h))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[tok]
	if t == nil || t.Revoked {
		return authError(void("invalid_access_token"))
	}
	if !s.now().Before(t.Expiry) {
		return authError(void("expired_access_token"))
	}
	if rt.scope != "" && !slices.Contains(t.Scopes, rt.scope) {
		return authError(flat("missing_scope", map[string]any{"required_scope": rt.scope}))
	}
	a := s.accounts[t.Account]
	if a == nil {
		return authError(void("invalid_access_token"))
	}
	c.acct, c.token = a, t
	return nil
}

// redact keeps a header value recognisable without echoing a credential.
func redact(v string) string {
	if len(v) > 12 {
		return v[:12] + "..."
	}
	return v
}

// maxRPCArg bounds an RPC body: arguments are small JSON documents.
const maxRPCArg = 8 << 20

// readArg reads the argument (and, for uploads, the content) in the route's style.
func (c *call) readArg(rt route) *reply {
	r := c.r
	switch rt.style {
	case "rpc":
		b, err := io.ReadAll(io.LimitReader(r.Body, maxRPCArg))
		if err != nil {
			return badRequest(c.route, "could not read request body")
		}
		if len(bytes.TrimSpace(b)) > 0 {
			ct := r.Header.Get("Content-Type")
			if !jsonContentType(ct) {
				return badRequest(c.route, `Bad HTTP "Content-Type" header: %q.  Expecting one of "application/json", "application/json; charset=utf-8", "text/plain; charset=dropbox-cors-hack".`, ct)
			}
		}
		c.arg = b
	case "upload", "download":
		c.arg = []byte(r.Header.Get("Dropbox-API-Arg"))
		if len(c.arg) == 0 {
			c.arg = []byte(r.URL.Query().Get("arg"))
		}
		if len(c.arg) == 0 {
			return badRequest(c.route, `Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".`)
		}
		if rt.style == "download" {
			return nil
		}
		if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/octet-stream" && ct != "text/plain; charset=dropbox-cors-hack" {
			return badRequest(c.route, `Bad HTTP "Content-Type" header: %q.  Expecting one of "application/octet-stream", "text/plain; charset=dropbox-cors-hack".`, ct)
		}
		var body io.Reader = r.Body
		c.s.mu.Lock()
		lim := c.s.bandwidth
		c.s.mu.Unlock()
		if lim != nil {
			body = throttledReader{ctx: r.Context(), r: body, lim: lim}
		}
		// Bodies may come chunked with no Content-Length: read up to the limit and one byte
		// more to tell "exactly 150 MiB" from "too large".
		b, err := io.ReadAll(io.LimitReader(body, MaxUploadRequest+1))
		if err != nil {
			return badRequest(c.route, "could not read request body")
		}
		if len(b) > MaxUploadRequest {
			c.tooLarge = true
			b = nil
		}
		c.body = b
	}
	if rt.noArg {
		if t := string(bytes.TrimSpace(c.arg)); t != "" && t != "null" {
			return badRequest(c.route, "request body: expected null, got value")
		}
	}
	return nil
}

func jsonContentType(ct string) bool {
	switch strings.ToLower(strings.ReplaceAll(ct, " ", "")) {
	case "application/json", "application/json;charset=utf-8", "text/plain;charset=dropbox-cors-hack":
		return true
	}
	return false
}
