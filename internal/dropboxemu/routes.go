package dropboxemu

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// route describes one API function as the spec does: its style, the scope it needs, and
// whether it writes (and so takes the namespace write lock). Every route needs a user token.
type route struct {
	style  string // "rpc", "upload" or "download"
	scope  string
	commit bool
	// transport marks Dropbox's data transport calls, the ones a Business team over its
	// monthly data transport limit is refused.
	transport bool
	noArg     bool // the route takes no argument (void)
	handle    func(*call) *reply
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
		"files/upload":                            {style: "upload", scope: scopeWrite, commit: true, transport: true, handle: (*call).upload},
		"files/upload_session/start":              {style: "upload", scope: scopeWrite, transport: true, handle: (*call).sessionStart},
		"files/upload_session/start_batch":        {style: "rpc", scope: scopeWrite, transport: true, handle: (*call).sessionStartBatch},
		"files/upload_session/append_v2":          {style: "upload", scope: scopeWrite, transport: true, handle: (*call).sessionAppend},
		"files/upload_session/append_batch":       {style: "upload", scope: scopeWrite, transport: true, handle: (*call).sessionAppendBatch},
		"files/upload_session/finish":             {style: "upload", scope: scopeWrite, commit: true, transport: true, handle: (*call).sessionFinish},
		"files/upload_session/finish_batch_v2":    {style: "rpc", scope: scopeWrite, commit: true, transport: true, handle: (*call).finishBatchV2},
		"files/upload_session/finish_batch":       {style: "rpc", scope: scopeWrite, commit: true, transport: true, handle: (*call).finishBatch},
		"files/upload_session/finish_batch/check": {style: "rpc", scope: scopeWrite, handle: (*call).finishBatchCheck},
		"files/get_metadata":                      {style: "rpc", scope: scopeMeta, handle: (*call).getMetadata},
		"files/list_folder":                       {style: "rpc", scope: scopeMeta, handle: (*call).listFolder},
		"files/list_folder/continue":              {style: "rpc", scope: scopeMeta, handle: (*call).listFolderContinue},
		"files/create_folder_v2":                  {style: "rpc", scope: scopeWrite, commit: true, handle: (*call).createFolder},
		"files/delete_v2":                         {style: "rpc", scope: scopeWrite, commit: true, handle: (*call).deleteV2},
		"files/move_v2":                           {style: "rpc", scope: scopeWrite, commit: true, handle: (*call).moveV2},
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
	// faults are the switches as they were when the request came in.
	faults Faults
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
	if a.refusal == RefusalUserSuspended {
		return authError(void("user_suspended"))
	}
	c.acct, c.token = a, t
	return nil
}

// dataTransportMessage is the user_message Dropbox sends with the data transport refusal.
const dataTransportMessage = "Your team has used all of its data transport API calls for the month. Your monthly limit will reset on the 1st day of every month. If you'd like to move to a plan with unlimited API calls, please contact sales."

// refuse answers the data transport calls of an account over its team's data transport
// limit as Dropbox documents it (developers/reference/data-transport-limit): 403 with
// AccessError invalid_account_type/feature and a user_message to show.
func (s *Server) refuse(c *call, rt route) *reply {
	s.mu.Lock()
	refusal := c.acct.refusal
	s.mu.Unlock()
	if refusal != RefusalDataTransportLimit || !rt.transport {
		return nil
	}
	e := nested("invalid_account_type", void("feature"))
	return jsonStatus(http.StatusForbidden, map[string]any{
		"error_summary": summarize(e) + "/...",
		"error":         e,
		"user_message":  map[string]any{"locale": "en", "text": dataTransportMessage},
	})
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
		inHeader := len(c.arg) > 0
		if !inHeader {
			c.arg = []byte(r.URL.Query().Get("arg"))
		}
		if len(c.arg) == 0 {
			return badRequest(c.route, `Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".`)
		}
		// Only the header is bound to ASCII: the URL parameter arrives percent-encoded.
		if inHeader && c.faults.StrictArgs {
			for _, b := range c.arg {
				if b >= utf8.RuneSelf {
					return badRequest(c.route, `HTTP header "Dropbox-API-Arg": the value must be ASCII; escape other characters as \uXXXX in the JSON`)
				}
			}
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
		b, err := readBody(body, r.ContentLength)
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

// readBody reads an upload body up to the limit and one byte more, to tell "exactly
// 150 MiB" from "too large". A body of announced length is read into one buffer of that
// size: io.ReadAll would grow a 16 MiB body through a dozen copies, and make the emulator
// the bottleneck of the benchmarks. Bodies may come chunked, with no length.
func readBody(body io.Reader, announced int64) ([]byte, error) {
	var buf bytes.Buffer
	if announced >= 0 && announced <= MaxUploadRequest {
		buf.Grow(int(announced) + bytes.MinRead) // room for the read that sees the end
	}
	_, err := buf.ReadFrom(io.LimitReader(body, MaxUploadRequest+1))
	return buf.Bytes(), err
}

func jsonContentType(ct string) bool {
	switch strings.ToLower(strings.ReplaceAll(ct, " ", "")) {
	case "application/json", "application/json;charset=utf-8", "text/plain;charset=dropbox-cors-hack":
		return true
	}
	return false
}
