// Package dropboxemu is a Dropbox API v2 emulator: an http.Handler that real Dropbox clients
// (the Go SDK, golang.org/x/oauth2) cannot tell from Dropbox for the routes a one-way
// uploader uses. It serves the API host, the content host and the OAuth endpoints on one
// address, so pointing a client's base URL at it is the only change needed.
//
// It reproduces Dropbox's wire format (Dropbox-API-Arg / Dropbox-API-Result headers, .tag
// unions, error_summary, status codes) and its semantics for an app-folder app: case-
// insensitive, case-preserving paths (Unicode case folding; NFC and NFD spellings are one
// path, the first spelling is kept), revs, content hashes, write modes and conflicts,
// upload sessions, batch commits, quota, short-lived OAuth tokens with refresh tokens
// (parameters in the form body or, as Dropbox's JavaScript SDK sends them, the query).
// Faults (latency, bandwidth, rate limits in JSON or plain text, 5xx with Retry-After,
// errors, Dropbox's namespace write lock, contention inside batches, commits that take
// time, a front end's header limit, strict wire rules) are switched on with Faults, all
// of them at once with StrictFaults, and are deterministic for a given seed and request
// order. SetAccountRefusal puts an account in a state Dropbox refuses (a team over its
// data transport limit, a suspended user) until it is lifted; ResetCursors expires an
// account's list_folder cursors.
//
// Nothing here is Dropbox's code: it is written from the public API spec and from what the
// SDK sends and expects, because no maintained Go emulator of Dropbox exists.
package dropboxemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MaxUploadRequest is the largest body one upload request may carry (150 MiB).
const MaxUploadRequest = 150 << 20

// DefaultTokenLifetime is how long Dropbox's short-lived access tokens live.
const DefaultTokenLifetime = 4 * time.Hour

// DefaultQuota is the allocation of an account created without one (Dropbox Basic).
const DefaultQuota = 2 << 30

// Options configures a Server. The zero value is a usable in-memory emulator.
type Options struct {
	// DataDir persists accounts, tokens and files there; empty keeps everything in memory.
	DataDir string
	// TokenLifetime is the life of access tokens; zero means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// AutoApprove skips the consent page: /oauth2/authorize redirects with a code at once.
	AutoApprove bool
	// Now is the clock; nil means time.Now. Tests move it to expire tokens and sessions.
	Now func() time.Time
	// Faults are the realism switches; they can be changed later with SetFaults.
	Faults Faults
}

// Faults are the realism switches for benchmarks and fault tests. Every random decision is
// drawn from one generator seeded with Seed, so a run with the same requests in the same
// order sees the same faults.
type Faults struct {
	Seed int64 `json:"seed"`
	// Latency is added to every API request; a commit holds the account's write lock for it.
	Latency time.Duration `json:"latency"`
	// Bandwidth caps request and response bodies together, in bytes per second (0: none).
	Bandwidth int64 `json:"bandwidth"`
	// RateLimit is each account's request rate (requests per second, 0: none) with RateBurst
	// as its bucket; past it requests get 429 too_many_requests with Retry-After.
	RateLimit float64 `json:"rate_limit"`
	RateBurst int     `json:"rate_burst"`
	// WriteLock makes commits (upload, finish, finish_batch, create_folder, delete, move)
	// that overlap on one account fail with 429 too_many_write_operations, as Dropbox does.
	WriteLock bool `json:"write_lock"`
	// Error rates, each a probability per request: ServerError answers 500 or 503 before the
	// request runs; TooManyRequests answers 429; Drop closes the connection without an answer
	// (half of the time after the request took effect); Truncate sends part of the body.
	ServerError     float64 `json:"server_error"`
	TooManyRequests float64 `json:"too_many_requests"`
	Drop            float64 `json:"drop"`
	Truncate        float64 `json:"truncate"`

	// RetryAfter is the Retry-After, in whole seconds, of the 429s and 503s that
	// TooManyRequests, PlainTooManyRequests and ServiceUnavailable inject (0: 1 second).
	RetryAfter int `json:"retry_after"`
	// PlainTooManyRequests is a probability per request of a 429 as Dropbox's front end
	// also sends it: a plain-text body ("Too Many Requests", or empty half of the time)
	// and only a Retry-After header. Dropbox's data-ingress guide says to treat it as
	// too_many_requests; the SDK cannot decode it and returns a *json.SyntaxError.
	PlainTooManyRequests float64 `json:"plain_too_many_requests"`
	// ServiceUnavailable is a probability per request of a 503 with a plain-text body and
	// a Retry-After header, before the request takes effect.
	ServiceUnavailable float64 `json:"service_unavailable"`

	// BatchContention and BatchInternalError are probabilities per entry of a finish_batch
	// (finish_batch_v2, and the async finish_batch) that the entry fails with
	// too_many_write_operations or internal_error, even when commits are serial, as
	// Dropbox does under load. The entry writes nothing and its session stays closed and
	// committable by a later batch. internal_error is not a member of the spec's
	// UploadSessionFinishError, but Dropbox sends it (rclone#5491); the SDK keeps the tag.
	BatchContention    float64 `json:"batch_contention"`
	BatchInternalError float64 `json:"batch_internal_error"`
	// CommitEntryCost is how long a finish_batch takes per entry, holding the account's
	// write lock all along: with WriteLock on, other commits meanwhile get
	// too_many_write_operations, as long as a batch of that size blocks them on Dropbox.
	CommitEntryCost time.Duration `json:"commit_entry_cost"`

	// MaxArgHeader is the longest Dropbox-API-Arg header line accepted, in bytes, name,
	// ": " and value together (0: no limit). A longer one is answered as an nginx front end
	// answers a header line over its buffer, before the API sees it: 400 with nginx's
	// "Request Header Or Cookie Too Large" HTML page. RouteStats.MaxArgHeader records the
	// longest line seen, so a test can show a client stayed under the limit.
	MaxArgHeader int `json:"max_arg_header"`
	// StrictArgs enforces wire rules Dropbox applies and the emulator otherwise forgives:
	// an unknown field in a JSON argument is a 400; so is a Dropbox-API-Arg header with
	// raw non-ASCII bytes (Dropbox wants ASCII with \uXXXX escapes; the SDK sends raw
	// UTF-8); and upload_session/finish's content_hash must be of the bytes of that call,
	// where the emulator otherwise also takes the whole file's hash. start, append_v2 and
	// append_batch check the call's bytes either way.
	StrictArgs bool `json:"strict_args"`
}

// DefaultMaxArgHeader is MaxArgHeader in the strict profile: 8 KiB, the header line buffer
// of nginx and of most front-end proxies.
const DefaultMaxArgHeader = 8 << 10

// StrictFaults is the strict profile (dropbox-emulator --strict): the behaviours of real
// Dropbox that clients otherwise meet only in production, all switched on, at rates a
// correct client survives in a test run: the namespace write lock, plain-text 429s and
// 503s with Retry-After, contention and internal errors inside batches, commits that take
// time, the Dropbox-API-Arg limit of a front end, and the strict wire rules. Account
// refusals are not part of it: they are states of an account (SetAccountRefusal), not
// random events.
func StrictFaults(seed int64) Faults {
	return Faults{
		Seed:                 seed,
		WriteLock:            true,
		RetryAfter:           1,
		PlainTooManyRequests: 0.01,
		ServiceUnavailable:   0.01,
		BatchContention:      0.02,
		BatchInternalError:   0.005,
		CommitEntryCost:      2 * time.Millisecond,
		MaxArgHeader:         DefaultMaxArgHeader,
		StrictArgs:           true,
	}
}

func (f Faults) retryAfter() int { return max(1, f.RetryAfter) }

// RouteStats counts one route's traffic.
type RouteStats struct {
	Calls    int         `json:"calls"`
	BytesIn  int64       `json:"bytes_in"`
	BytesOut int64       `json:"bytes_out"`
	Status   map[int]int `json:"status"`
	// MaxArgHeader is the longest Dropbox-API-Arg header line (name, ": " and value) any
	// call of an upload or download route sent, refused ones included.
	MaxArgHeader int `json:"max_arg_header,omitempty"`
	// EntryFailures counts the failed entries of finish_batch_v2 and finish_batch results
	// by tag ("too_many_write_operations", "internal_error", "lookup_failed", "path" ...).
	EntryFailures map[string]int `json:"entry_failures,omitempty"`
}

// Server is the emulator. It is safe for concurrent use; create it with New.
type Server struct {
	opts Options

	// mu guards everything below and all account state except account.writeLock and
	// account.limiter. Request bodies are read and replies written outside it.
	mu             sync.Mutex
	accounts       map[string]*account
	apps           map[string]*App
	browserAccount string
	tokens         map[string]*accessToken
	refreshTokens  map[string]*refreshToken
	codes          map[string]*authCode
	jobs           map[string]*batchJob
	stats          map[string]*RouteStats
	faults         Faults
	rng            *rand.Rand
	bandwidth      *rate.Limiter
	idSeq          uint64

	store *persistence
}

// New creates a Server. With Options.DataDir set it loads what an earlier run stored there.
func New(opts Options) (*Server, error) {
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = DefaultTokenLifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:          opts,
		accounts:      map[string]*account{},
		apps:          map[string]*App{},
		tokens:        map[string]*accessToken{},
		refreshTokens: map[string]*refreshToken{},
		codes:         map[string]*authCode{},
		jobs:          map[string]*batchJob{},
		stats:         map[string]*RouteStats{},
	}
	s.setFaultsLocked(opts.Faults)
	st, err := openPersistence(opts.DataDir)
	if err != nil {
		return nil, err
	}
	s.store = st
	if err := st.replay(s); err != nil {
		st.close()
		return nil, err
	}
	return s, nil
}

// Close releases the data directory. The handler must no longer be serving.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.close()
}

func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Second) }

// SetFaults replaces the realism switches; requests already running keep the old ones.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaultsLocked(f)
}

func (s *Server) setFaultsLocked(f Faults) {
	s.faults = f
	s.rng = rand.New(rand.NewSource(f.Seed))
	s.bandwidth = nil
	if f.Bandwidth > 0 {
		// A burst of 64 KiB keeps the cap smooth at office-line speeds.
		s.bandwidth = rate.NewLimiter(rate.Limit(f.Bandwidth), 64<<10)
	}
	for _, a := range s.accounts {
		a.limiter.SetLimit(s.accountLimit())
		a.limiter.SetBurst(s.accountBurst())
	}
}

func (s *Server) accountLimit() rate.Limit {
	if s.faults.RateLimit <= 0 {
		return rate.Inf
	}
	return rate.Limit(s.faults.RateLimit)
}

func (s *Server) accountBurst() int {
	if s.faults.RateBurst > 0 {
		return s.faults.RateBurst
	}
	return max(1, int(s.faults.RateLimit))
}

// AddAccount creates an account (or returns the existing one with that e-mail) and returns
// its account_id. The first account is the one "logged in" on the consent page.
func (s *Server) AddAccount(info AccountInfo) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if info.Email == "" {
		return "", errors.New("dropboxemu: account needs an e-mail address")
	}
	id := AccountID(info.Email)
	if _, ok := s.accounts[id]; ok {
		return id, nil
	}
	info.ID = id
	if info.Quota == 0 {
		info.Quota = DefaultQuota
	}
	if info.GivenName == "" {
		info.GivenName, _, _ = strings.Cut(info.Email, "@")
	}
	s.idSeq++
	info.NamespaceID = fmt.Sprint(1000000000 + s.idSeq)
	if err := s.store.log(record{Op: "account", Account: &info}); err != nil {
		return "", err
	}
	s.addAccountLocked(info)
	return id, nil
}

func (s *Server) addAccountLocked(info AccountInfo) {
	s.accounts[info.ID] = newAccount(info, s.accountLimit(), s.accountBurst())
	if s.browserAccount == "" {
		s.browserAccount = info.ID
	}
}

// SetBrowserAccount chooses which account is "signed in to dropbox.com" in the browser that
// sees the consent page, so tests can reconnect with a different account.
func (s *Server) SetBrowserAccount(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[id]; !ok {
		return fmt.Errorf("dropboxemu: no account %s", id)
	}
	s.browserAccount = id
	return nil
}

// Account returns an account's details.
func (s *Server) Account(id string) (AccountInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return AccountInfo{}, false
	}
	return a.info, true
}

// SetQuota changes an account's allocation in bytes.
func (s *Server) SetQuota(id string, quota int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return fmt.Errorf("dropboxemu: no account %s", id)
	}
	a.info.Quota = quota
	return s.store.log(record{Op: "account", Account: &a.info})
}

// Refusal is a refusal of a whole account, as Dropbox answers an account in trouble.
type Refusal string

const (
	// RefusalNone lifts a refusal.
	RefusalNone Refusal = ""
	// RefusalDataTransportLimit is a Business team over its monthly data transport limit:
	// every data transport call (upload, upload_session/start, start_batch, append_v2,
	// append_batch, finish, finish_batch_v2, finish_batch) gets 403 with AccessError
	// invalid_account_type/feature and a user_message; reads and finish_batch/check go on.
	RefusalDataTransportLimit Refusal = "data_transport_limit"
	// RefusalUserSuspended is a suspended user: every API call gets 401 AuthError
	// user_suspended. OAuth token requests still succeed (guess: unconfirmed on Dropbox).
	RefusalUserSuspended Refusal = "user_suspended"
)

// SetAccountRefusal makes Dropbox refuse an account (by account ID, see AccountID) until
// it is lifted with RefusalNone. Refusals are not persisted.
func (s *Server) SetAccountRefusal(id string, r Refusal) error {
	switch r {
	case RefusalNone, RefusalDataTransportLimit, RefusalUserSuspended:
	default:
		return fmt.Errorf("dropboxemu: unknown refusal %q", r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return fmt.Errorf("dropboxemu: no account %s", id)
	}
	a.refusal = r
	return nil
}

// ResetCursors forgets an account's list_folder listings, so every cursor handed out so
// far gets 409 reset from list_folder/continue, as Dropbox answers a cursor it expired: a
// client must then list again from the start. Cursors are not persisted, so a restart
// resets them too.
func (s *Server) ResetCursors(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return fmt.Errorf("dropboxemu: no account %s", id)
	}
	clear(a.listings)
	return nil
}

// Entry is a file or folder as tests see it.
type Entry struct {
	PathDisplay string
	Folder      bool
	Size        int64
	ContentHash string
	Rev         string
	ID          string
	// ClientModified and ServerModified are whole seconds in UTC.
	ClientModified, ServerModified time.Time
}

// Entries lists everything in an account, sorted by path.
func (s *Server) Entries(id string) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil
	}
	var out []Entry
	for _, n := range a.under("", true) {
		out = append(out, n.entry())
	}
	return out
}

// Lookup returns the entry at path (case-insensitive), if there is one. Unlike Entries it
// does not walk the account, so a benchmark can poll for a file in a large one.
func (s *Server) Lookup(id, path string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return Entry{}, false
	}
	n := a.nodes[lowerPath(path)]
	if n == nil {
		return Entry{}, false
	}
	return n.entry(), true
}

func (n *node) entry() Entry {
	return Entry{
		PathDisplay: n.Display, Folder: n.Folder, Size: n.Size, ContentHash: n.Hash,
		Rev: n.Rev, ID: n.ID, ClientModified: n.ClientModified, ServerModified: n.ServerModified,
	}
}

// ReadFile returns a file's content by path (case-insensitive).
func (s *Server) ReadFile(id, path string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return nil, fmt.Errorf("dropboxemu: no account %s", id)
	}
	n := a.nodes[lowerPath(path)]
	if n == nil || n.Folder {
		return nil, fmt.Errorf("dropboxemu: %s: not a file", path)
	}
	return s.store.blob(n.Hash)
}

// Stats returns a copy of the per-route counters, keyed "files/upload", "oauth2/token" ...
func (s *Server) Stats() map[string]RouteStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]RouteStats, len(s.stats))
	for k, v := range s.stats {
		c := *v
		c.Status = maps.Clone(v.Status)
		c.EntryFailures = maps.Clone(v.EntryFailures)
		out[k] = c
	}
	return out
}

// Calls returns how often routes were called, summed over the names given.
func (s *Server) Calls(routes ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range routes {
		if st := s.stats[r]; st != nil {
			n += st.Calls
		}
	}
	return n
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[string]*RouteStats{}
}

// URLGenerator returns a function for dropbox.Config.URLGenerator that sends every host
// type (api, content, notify) to baseURL, e.g. an httptest server's URL.
func URLGenerator(baseURL string) func(hostType, namespace, route string) string {
	baseURL = strings.TrimSuffix(baseURL, "/")
	return func(_, namespace, route string) string {
		return baseURL + "/2/" + namespace + "/" + route
	}
}

// statsLocked returns a route's counters, creating them.
func (s *Server) statsLocked(route string) *RouteStats {
	st := s.stats[route]
	if st == nil {
		st = &RouteStats{Status: map[int]int{}}
		s.stats[route] = st
	}
	return st
}

// noteArgHeader records the length of a Dropbox-API-Arg header line.
func (s *Server) noteArgHeader(route string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statsLocked(route)
	st.MaxArgHeader = max(st.MaxArgHeader, n)
}

// countEntryFailures records the failed entries of a batch result.
func (s *Server) countEntryFailures(route string, results []any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statsLocked(route)
	for _, r := range results {
		m, ok := r.(map[string]any)
		if !ok || m[".tag"] != "failure" {
			continue
		}
		f, _ := m["failure"].(map[string]any)
		tag, _ := f[".tag"].(string)
		if st.EntryFailures == nil {
			st.EntryFailures = map[string]int{}
		}
		st.EntryFailures[tag]++
	}
}

func (s *Server) count(route string, status int, in, out int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.statsLocked(route)
	st.Calls++
	st.Status[status]++
	st.BytesIn += in
	st.BytesOut += out
}

// chance draws one fault decision.
func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < p
}

func (s *Server) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// sleep waits d or until the request is abandoned.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// throttledReader applies the bandwidth cap to a request body.
type throttledReader struct {
	ctx context.Context
	r   io.Reader
	lim *rate.Limiter
}

func (t throttledReader) Read(p []byte) (int, error) {
	if len(p) > t.lim.Burst() {
		p = p[:t.lim.Burst()]
	}
	n, err := t.r.Read(p)
	if n > 0 {
		if werr := t.lim.WaitN(t.ctx, n); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}

// writeThrottled writes b, respecting the bandwidth cap, until done or the client left.
func writeThrottled(ctx context.Context, w io.Writer, b []byte, lim *rate.Limiter) {
	for len(b) > 0 {
		n := len(b)
		if lim != nil {
			n = min(n, lim.Burst())
			if lim.WaitN(ctx, n) != nil {
				return
			}
		}
		if _, err := w.Write(b[:n]); err != nil {
			return
		}
		b = b[n:]
	}
}

// ServeHTTP serves the API (/2/...), OAuth (/oauth2/...) and the emulator's own admin
// endpoints (/_emulator/...).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/2/"):
		s.serveAPI(w, r)
	case r.URL.Path == "/oauth2/authorize":
		s.serveAuthorize(w, r)
	case r.URL.Path == "/oauth2/token":
		s.serveToken(w, r)
	case strings.HasPrefix(r.URL.Path, "/_emulator/"):
		s.serveAdmin(w, r)
	default:
		http.NotFound(w, r)
	}
}

// serveAdmin exposes counters and fault switches to benchmarks and scripts that run the
// standalone binary. It is not part of Dropbox's API.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_emulator/stats" && r.Method == http.MethodGet:
		writeJSON(w, s.Stats())
	case r.URL.Path == "/_emulator/stats" && r.Method == http.MethodDelete:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_emulator/faults" && r.Method == http.MethodGet:
		writeJSON(w, s.currentFaults())
	case r.URL.Path == "/_emulator/faults" && r.Method == http.MethodPut:
		var f Faults
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.SetFaults(f)
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_emulator/refusal" && r.Method == http.MethodPut:
		// ?account=<account_id>&refusal=data_transport_limit|user_suspended|"" (lift)
		q := r.URL.Query()
		if err := s.SetAccountRefusal(q.Get("account"), Refusal(q.Get("refusal"))); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_emulator/cursors" && r.Method == http.MethodDelete:
		// ?account=<account_id>: its list_folder cursors answer reset from now on.
		if err := s.ResetCursors(r.URL.Query().Get("account")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_emulator/entries" && r.Method == http.MethodGet:
		// ?account=<account_id>[&path=<path>]: every entry, or only the one at path.
		q := r.URL.Query()
		if !q.Has("path") {
			writeJSON(w, s.Entries(q.Get("account")))
			return
		}
		out := []Entry{}
		if e, ok := s.Lookup(q.Get("account"), q.Get("path")); ok {
			out = append(out, e)
		}
		writeJSON(w, out)
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// serveAPI runs one API call: faults, authentication, rate limit, argument, the route, and
// then the answer (possibly dropped or truncated).
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/2/")
	rt, ok := routes[name]
	if !ok {
		s.finish(w, r, name, 0, badRequest(name, "Unknown API function"), false)
		return
	}
	f := s.currentFaults()

	if r.Method != http.MethodPost {
		s.finish(w, r, name, 0, badRequest(name, "Expected POST, got %s", r.Method), false)
		return
	}
	if !(rt.commit && f.WriteLock) {
		sleep(r.Context(), f.Latency)
	}
	if rt.style != "rpc" {
		// The front end refuses an over-long header line before the API sees the request.
		if v, ok := r.Header["Dropbox-Api-Arg"]; ok && len(v) > 0 {
			line := len("Dropbox-API-Arg: ") + len(v[0])
			s.noteArgHeader(name, line)
			if f.MaxArgHeader > 0 && line > f.MaxArgHeader {
				s.finish(w, r, name, 0, headerTooLarge(), false)
				return
			}
		}
	}

	// Faults that strike before the request takes effect.
	switch {
	case s.chance(f.ServiceUnavailable):
		rep := plainText(http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable))
		rep.header.Set("Retry-After", strconv.Itoa(f.retryAfter()))
		s.finish(w, r, name, 0, rep, false)
		return
	case s.chance(f.PlainTooManyRequests):
		body := ""
		if !s.chance(0.5) {
			body = http.StatusText(http.StatusTooManyRequests)
		}
		rep := plainText(http.StatusTooManyRequests, body)
		rep.header.Set("Retry-After", strconv.Itoa(f.retryAfter()))
		s.finish(w, r, name, 0, rep, false)
		return
	case s.chance(f.ServerError):
		status := http.StatusInternalServerError
		if s.chance(0.5) {
			status = http.StatusServiceUnavailable
		}
		s.finish(w, r, name, 0, &reply{status: status, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
			body: []byte(http.StatusText(status))}, false)
		return
	case s.chance(f.TooManyRequests):
		s.finish(w, r, name, 0, rateLimited("too_many_requests", f.retryAfter()), false)
		return
	}
	dropAfter := false
	if s.chance(f.Drop) {
		if s.chance(0.5) {
			s.count(name, 0, 0, 0)
			panic(http.ErrAbortHandler) // the connection closes with no answer
		}
		dropAfter = true
	}

	c := &call{s: s, route: name, r: r, faults: f}
	if rep := s.authenticate(c, rt); rep != nil {
		s.finish(w, r, name, 0, rep, false)
		return
	}
	if rep := s.refuse(c, rt); rep != nil {
		s.finish(w, r, name, 0, rep, false)
		return
	}
	if !c.acct.limiter.Allow() {
		s.finish(w, r, name, 0, rateLimited("too_many_requests", s.retryAfter(c.acct)), false)
		return
	}
	if rep := c.readArg(rt); rep != nil {
		s.finish(w, r, name, int64(len(c.body)), rep, false)
		return
	}

	if rt.commit && f.WriteLock {
		if !c.acct.writeLock.TryLock() {
			s.finish(w, r, name, int64(len(c.body)), rateLimited("too_many_write_operations", 1), false)
			return
		}
		sleep(r.Context(), f.Latency)
		defer c.acct.writeLock.Unlock()
	}

	rep := rt.handle(c)
	in := int64(len(c.body))
	if rt.style == "rpc" {
		in = int64(len(c.arg))
	}
	s.finish(w, r, name, in, rep, dropAfter)
}

// retryAfter is how many whole seconds until the account's bucket has a token again.
func (s *Server) retryAfter(a *account) int {
	res := a.limiter.Reserve()
	d := res.Delay()
	res.Cancel()
	return int((d + time.Second - 1) / time.Second)
}

// finish writes a reply, applying the drop and truncate faults and the bandwidth cap, and
// counts it.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, route string, in int64, rep *reply, dropAfter bool) {
	if dropAfter {
		s.count(route, 0, in, 0)
		panic(http.ErrAbortHandler)
	}
	f := s.currentFaults()
	truncate := len(rep.body) > 1 && s.chance(f.Truncate)
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(rep.body)))
	body := rep.body
	if truncate {
		body = body[:len(body)/2]
	}
	// Counted before the answer leaves: a client that has its answer must find its call
	// in the stats. The bytes out are those the emulator means to send.
	s.count(route, rep.status, in, int64(len(body)))
	w.WriteHeader(rep.status)
	s.mu.Lock()
	lim := s.bandwidth
	s.mu.Unlock()
	writeThrottled(r.Context(), w, body, lim)
	if truncate {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // the client sees a body shorter than Content-Length
	}
}

// Sorted account IDs, for the binary's start-up banner.
func (s *Server) accountIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.accounts))
	for id := range s.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
