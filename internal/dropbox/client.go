// Package dropbox is the app's only door to Dropbox: it wraps the Dropbox SDK, paces every
// call (Retry-After, backoff), serializes commits per account, and translates the SDK's
// errors into the few kinds the engine acts on (see Kind); Decide is the one retry policy
// built on them. Nothing else imports the SDK's API packages.
//
// Under the SDK, the client's own HTTP transport does what the SDK cannot: it notes each
// answer's status, Retry-After and error body, which the SDK hides (a plain-text 429, a
// 503's Retry-After, a 403's user_message), so that any Retry-After holds every call of
// the client's account; it notes the access token each request carried, so an expired one
// is refreshed once however many calls met it; and it escapes non-ASCII characters in the
// Dropbox-API-Arg header, which Dropbox requires and the SDK does not do.
package dropbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	sdk "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/users"
	"golang.org/x/oauth2"
)

// MaxBatch is the most files one commit may carry (finish_batch_v2's limit).
const MaxBatch = 1000

// Options configure a Client.
type Options struct {
	// BaseURL sends every API host to one address (the emulator); empty means Dropbox.
	BaseURL string
	// ParallelChunks is how many chunks of large files are in memory and on their way at
	// once, for all of this client's large uploads together (default 3). The SDK's
	// uploader reads each 8 MiB chunk whole (and allocates about twice that on the way), so
	// this, not the number of files, bounds the memory large files take: at 50 ms per
	// request three chunks send a 1 GiB file as fast as four, in about 30 MiB less.
	ParallelChunks int
	// MaxConns bounds connections kept open to Dropbox (default 20: the engine's 16
	// uploads at once, and room for a commit, a listing and a saved document's upload,
	// which must not wait behind them for a connection).
	MaxConns int
	// OnWait is told when calls are held back (rate limit, backoff), for the status line.
	OnWait func(kind Kind, until time.Time)
	// CommitLock, when set, is shared by every client of one Dropbox account (two
	// connections to the same account), so their commits never overlap either.
	CommitLock *CommitLock
	// Retries is how many transient failures in a row one call absorbs (default 10, about
	// four minutes of backoff). Interactive calls, where a person waits, take fewer.
	Retries int
	// Limiter, when set, caps the bytes per second of file contents sent; share one
	// between clients to cap them together.
	Limiter *Limiter
	// Locale is the user's language as an IETF tag ("nl-BE", "fr"), sent as
	// Dropbox-API-User-Locale so Dropbox writes Error.UserMessage in it; empty: Dropbox's
	// default (the account's locale or English).
	Locale string
}

// Client talks to one Dropbox account. It is safe for concurrent use; commits are
// serialized, everything else runs in parallel.
type Client struct {
	files files.ContextClient
	users users.ContextClient
	auth  auth.ContextClient
	pacer *pacer
	opts  Options

	// commitLock serializes commits, single documents first (see CommitLock).
	commitLock *CommitLock
	// chunks holds a token for each chunk of a large file read and not yet sent
	// (Options.ParallelChunks of them).
	chunks chan struct{}
	// pool holds upload sessions opened ahead for UploadContents.
	pool sessionPool
}

// New returns a client that authenticates with ts. ts must be safe for concurrent use
// (oauth2.ReuseTokenSource is). If ts also has Expire(accessToken string), as the auth
// package's refreshing source does, an access token Dropbox calls expired is refreshed
// and the call retried: Expire gets the token the failed request carried, so a source that
// ignores a token it already replaced refreshes once for many calls that failed together.
// An error of ts (a keychain that cannot be read) fails the call with KindTokenSource.
func New(ts oauth2.TokenSource, opts Options) *Client {
	if opts.ParallelChunks <= 0 {
		opts.ParallelChunks = 3
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 20
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute, // a commit of 1000 files can take a while
		IdleConnTimeout:       90 * time.Second,
		// The default of 2 idle connections per host would reopen a connection for most
		// parallel uploads.
		MaxIdleConnsPerHost: opts.MaxConns,
		MaxConnsPerHost:     opts.MaxConns,
		ForceAttemptHTTP2:   true,
	}
	var base http.RoundTripper = transport
	if opts.Limiter != nil {
		base = limitTransport{base: transport, lim: opts.Limiter}
	}
	base = wireTransport{base: base} // under oauth2's, so it sees the token each request carries
	cfg := sdk.Config{Client: &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}}
	if opts.Locale != "" {
		// Dropbox localizes user_message by this header. HeaderGenerator is the SDK's one
		// way to add a header to every request.
		locale := map[string]string{"Dropbox-API-User-Locale": opts.Locale}
		cfg.HeaderGenerator = func(_, _, _ string) map[string]string { return locale }
	}
	if opts.BaseURL != "" {
		base := strings.TrimSuffix(opts.BaseURL, "/")
		cfg.URLGenerator = func(_, namespace, route string) string { return base + "/2/" + namespace + "/" + route }
	}
	p := newPacer()
	p.onWait = opts.OnWait
	if opts.Retries > 0 {
		p.maxTransient = opts.Retries
	}
	if ex, ok := ts.(interface{ Expire(accessToken string) }); ok {
		p.onExpired = func(failed string) {
			if failed == "" { // not seen by the transport: expire what the source hands out
				t, err := ts.Token()
				if err != nil {
					return
				}
				failed = t.AccessToken
			}
			ex.Expire(failed)
		}
	}
	lock := opts.CommitLock
	if lock == nil {
		lock = new(CommitLock)
	}
	return &Client{files: files.NewContext(cfg), users: users.NewContext(cfg), auth: auth.NewContext(cfg), pacer: p, opts: opts,
		commitLock: lock, chunks: make(chan struct{}, opts.ParallelChunks)}
}

// Account identifies the Dropbox account behind the token.
type Account struct {
	ID    string
	Name  string
	Email string
}

// Account fetches the account the client is connected to.
func (c *Client) Account(ctx context.Context) (Account, error) {
	var a *users.FullAccount
	err := c.pacer.call(ctx, func(ctx context.Context) (err error) {
		a, err = c.users.GetCurrentAccountContext(ctx)
		return err
	})
	if err != nil {
		return Account{}, err
	}
	acc := Account{ID: a.AccountId, Email: a.Email}
	if a.Name != nil {
		acc.Name = a.Name.DisplayName
	}
	return acc, nil
}

// SpaceUsage returns the bytes used and allocated (0 allocated: unknown, e.g. team space).
func (c *Client) SpaceUsage(ctx context.Context) (used, allocated int64, err error) {
	var u *users.SpaceUsage
	err = c.pacer.call(ctx, func(ctx context.Context) (err error) {
		u, err = c.users.GetSpaceUsageContext(ctx)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	if u.Allocation != nil && u.Allocation.Individual != nil {
		allocated = int64(u.Allocation.Individual.Allocated)
	}
	return int64(u.Used), allocated, nil
}

// Revoke disables the token (and its refresh token) at Dropbox.
func (c *Client) Revoke(ctx context.Context) error {
	return c.pacer.call(ctx, func(ctx context.Context) error { return c.auth.TokenRevokeContext(ctx) })
}

// File is a file as Dropbox stores it.
type File struct {
	PathDisplay string
	PathLower   string
	Rev         string
	Hash        string
	Size        int64
}

func fileOf(m *files.FileMetadata) *File {
	return &File{PathDisplay: m.PathDisplay, PathLower: m.PathLower, Rev: m.Rev, Hash: m.ContentHash, Size: int64(m.Size)}
}

// ListFiles lists every file under root ("" for the whole app folder), following cursors. A
// root that does not exist yet has no files.
func (c *Client) ListFiles(ctx context.Context, root string) ([]File, error) {
	var out []File
	_, err := c.List(ctx, root, "", func(page []Entry) error {
		for _, e := range page {
			if !e.Deleted && !e.Folder {
				out = append(out, e.File)
			}
		}
		return nil
	})
	return out, err
}

// Entry is one entry of a listing: a file (File set), a folder (Folder), or, in the changes
// since a cursor, a path that was deleted (Deleted; a deleted folder takes everything below
// it).
type Entry struct {
	File
	Folder  bool
	Deleted bool
}

// ErrCursorReset is List's answer to a cursor Dropbox no longer accepts (list_folder/continue
// "reset"): list again from scratch.
var ErrCursorReset = errors.New("dropbox: the listing cursor has expired")

// List pages through root recursively ("" is the whole app folder): everything it holds
// when cursor is "", else what changed since cursor. page gets each page in Dropbox's
// order (a deletion before the entries that replace it) and may stop the listing with an
// error. It returns the cursor for the changes after this listing. A root that does not
// exist yet is an empty listing without a cursor.
func (c *Client) List(ctx context.Context, root, cursor string, page func([]Entry) error) (next string, err error) {
	var res *files.ListFolderResult
	if cursor == "" {
		arg := files.NewListFolderArg(root)
		arg.Recursive = true
		arg.Limit = 2000
		err = c.pacer.call(ctx, func(ctx context.Context) (err error) {
			res, err = c.files.ListFolderContext(ctx, arg)
			return err
		})
		if lf := (files.ListFolderAPIError{}); errors.As(err, &lf) && lf.EndpointError != nil && lf.EndpointError.Path != nil && lf.EndpointError.Path.Tag == files.LookupErrorNotFound {
			return "", nil // no cursor: the next listing starts from scratch again
		}
	} else {
		res, err = c.listContinue(ctx, cursor)
	}
	for err == nil {
		entries := make([]Entry, 0, len(res.Entries))
		for _, m := range res.Entries {
			switch m := m.(type) {
			case *files.FileMetadata:
				entries = append(entries, Entry{File: *fileOf(m)})
			case *files.FolderMetadata:
				entries = append(entries, Entry{File: File{PathDisplay: m.PathDisplay, PathLower: m.PathLower}, Folder: true})
			case *files.DeletedMetadata:
				entries = append(entries, Entry{File: File{PathDisplay: m.PathDisplay, PathLower: m.PathLower}, Deleted: true})
			}
		}
		if err = page(entries); err != nil || !res.HasMore {
			return res.Cursor, err
		}
		res, err = c.listContinue(ctx, res.Cursor)
	}
	return "", err
}

// listContinue is one list_folder/continue call; a cursor Dropbox reset is ErrCursorReset.
func (c *Client) listContinue(ctx context.Context, cursor string) (res *files.ListFolderResult, err error) {
	err = c.pacer.call(ctx, func(ctx context.Context) (err error) {
		res, err = c.files.ListFolderContinueContext(ctx, files.NewListFolderContinueArg(cursor))
		return err
	})
	if lc := (files.ListFolderContinueAPIError{}); errors.As(err, &lc) && lc.EndpointError != nil && lc.EndpointError.Tag == files.ListFolderContinueErrorReset {
		return nil, fmt.Errorf("%w: %v", ErrCursorReset, err)
	}
	return res, err
}

// UploadContent sends a small file's content in a closed upload session, ready to be
// committed with Commit. Content uploads do not take Dropbox's write lock, so many can run
// at once. The SDK attaches the content hash, so corruption in transit is refused.
func (c *Client) UploadContent(ctx context.Context, data []byte) (sessionID string, err error) {
	arg := files.NewUploadSessionStartArg()
	arg.Close = true
	err = c.pacer.call(ctx, func(ctx context.Context) error {
		res, err := c.files.UploadSessionStartContext(ctx, arg, bytes.NewReader(data))
		if err == nil {
			sessionID = res.SessionId
		}
		return err
	})
	return sessionID, err
}

// Upload sends a small file's content and commits it in one request (files/upload, with
// the content hash of exactly these bytes, which Dropbox checks): for a lone document a
// third of the requests of UploadContent + Commit, so a saved invoice is in Dropbox sooner.
// Like every commit it takes the account's commit lock. Batches of many files should go
// through UploadContents and Commit, which commit up to MaxBatch files per request.
func (c *Client) Upload(ctx context.Context, data []byte, cm Commit) (*File, error) {
	hash, err := ContentHash(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", cm.Path, err)
	}
	arg := &files.UploadArg{CommitInfo: *commitInfo(cm.Path, cm.ClientModified), ContentHash: hash}
	c.commitLock.lock(true)
	defer c.commitLock.unlock()
	var res *files.FileMetadata
	err = c.pacer.call(ctx, func(ctx context.Context) (err error) {
		res, err = c.files.UploadContext(ctx, arg, bytes.NewReader(data))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", cm.Path, err)
	}
	return fileOf(res), nil
}

// maxContentsBody is the most file data one append_batch request of UploadContents carries.
// Dropbox allows 150 MiB; staying well below bounds the copy each request keeps for its
// retries and what a failed attempt has to resend.
const maxContentsBody = 64 << 20

// maxArgHeader is the longest Dropbox-API-Arg header line we take Dropbox's front end to
// accept, name, ": " and the escaped value together: 8 KiB is nginx's default buffer for
// one header line (Dropbox's answers carry "Server: nginx"). Whether Dropbox allows more is
// not documented; raise this once a larger header is seen to pass.
const maxArgHeader = 8 << 10

// argHeaderMargin is kept free below maxArgHeader: nginx counts the line's CRLF in its
// buffer, and a proxy on the way may count a little differently. It costs two or three
// files per append_batch request.
const argHeaderMargin = 256

// maxArgLine is the longest Dropbox-API-Arg line a request may carry.
const maxArgLine = maxArgHeader - argHeaderMargin

// UploadResult is the outcome of one file of UploadContents: a closed session to give to
// Commit, or a translated Err.
type UploadResult struct {
	SessionID string
	Err       error
}

// UploadContents uploads many small files' contents in as few requests as possible and
// returns one UploadResult per input, in order, each a closed session ready for Commit.
// Small files dominate our workload, and one upload_session/start per file bounds
// throughput by request count at any real latency. Here start_batch opens the sessions (up
// to MaxBatch per request, ahead for the calls that follow: see sessionPool) and each
// append_batch carries many files at once, closing their sessions: a batch of hundreds of
// files costs a few requests. Each request carries the content hash of its body, so
// corruption in transit is refused and resent, and goes through the pacer; its body is the
// files' data (at most maxContentsBody), which the caller must leave untouched until the
// call returns, so a retry resends it whole. Requests are sent one after another; like
// every upload they do not take the commit lock, so callers may run several
// UploadContents at once. Every input must be at most 64 MiB; larger files go through
// UploadLarge.
//
// The error is for the call as a whole (ctx ended, a request failed past the pacer's
// retries); no results come with it and the sessions already opened are left to expire.
// Otherwise files fail one by one in UploadResult.Err: KindRetryFile means upload that file
// again.
func (c *Client) UploadContents(ctx context.Context, datas [][]byte) ([]UploadResult, error) {
	for i, d := range datas {
		if len(d) > maxContentsBody {
			return nil, &Error{Kind: KindOther, Code: "too_large_for_batch",
				Err: fmt.Errorf("upload contents: file %d has %d bytes, more than %d", i, len(d), maxContentsBody)}
		}
	}
	out := make([]UploadResult, len(datas))
	for lo := 0; lo < len(datas); lo += MaxBatch {
		hi := min(lo+MaxBatch, len(datas))
		ids, err := c.sessions(ctx, hi-lo)
		if err != nil {
			return nil, err
		}
		for _, r := range planAppends(ids, datas[lo:hi]) {
			if err := c.appendContents(ctx, ids[r.lo:r.hi], datas[lo+r.lo:lo+r.hi], out[lo+r.lo:lo+r.hi]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// startSessions opens n (at most MaxBatch) sequential upload sessions in one request.
func (c *Client) startSessions(ctx context.Context, n int) ([]string, error) {
	var ids []string
	err := c.pacer.call(ctx, func(ctx context.Context) error {
		res, err := c.files.UploadSessionStartBatchContext(ctx, files.NewUploadSessionStartBatchArg(uint64(n)))
		if err != nil {
			return err
		}
		if len(res.SessionIds) != n {
			return &Error{Kind: KindTransient, Code: "short_batch", Err: fmt.Errorf("start_batch of %d gave %d sessions", n, len(res.SessionIds))}
		}
		ids = res.SessionIds
		return nil
	})
	return ids, err
}

// span is one append_batch request: entries [lo, hi) of a start_batch group.
type span struct{ lo, hi int }

// planAppends packs files, in order, into as few append_batch requests as fit the body and
// header limits; a request always takes at least one file. The argument is measured as the
// transport sends it: the whole header line, escaped.
func planAppends(ids []string, datas [][]byte) []span {
	// Dropbox-API-Arg: {"entries":[...],"content_hash":"<64 hex>"}
	const argBase = len("Dropbox-API-Arg: ") + len(`{"entries":[],"content_hash":""}`) + 64
	var out []span
	cur, body, arg := span{}, 0, argBase
	for i, d := range datas {
		e, _ := json.Marshal(appendEntry(ids[i], d))
		n := len(asciiJSON(string(e))) + 1 // and a comma
		if cur.hi > cur.lo && (body+len(d) > maxContentsBody || arg+n > maxArgLine) {
			out = append(out, cur)
			cur, body, arg = span{lo: i, hi: i}, 0, argBase
		}
		cur.hi = i + 1
		body += len(d)
		arg += n
	}
	if cur.hi > cur.lo {
		out = append(out, cur)
	}
	return out
}

func appendEntry(id string, data []byte) *files.UploadSessionAppendBatchArgEntry {
	e := files.NewUploadSessionAppendBatchArgEntry(files.NewUploadSessionCursor(id, 0), uint64(len(data)))
	e.Close = true
	return e
}

// appendContents sends datas into the fresh sessions ids, closing them, in one append_batch,
// and fills out with one result per file.
func (c *Client) appendContents(ctx context.Context, ids []string, datas [][]byte, out []UploadResult) error {
	// The body is the files' data read in order, never joined into one copy: that would
	// double the memory of every request in flight, and copy every byte once more.
	h := newHasher()
	for _, d := range datas {
		h.Write(d)
	}
	hash := h.hex()
	body := multiBody(datas)
	entries := make([]*files.UploadSessionAppendBatchArgEntry, len(ids))
	for i, id := range ids {
		entries[i] = appendEntry(id, datas[i])
	}
	arg := files.NewUploadSessionAppendBatchArg(entries)
	arg.ContentHash = hash // set here, the SDK does not hash the body again on every attempt
	var res *files.UploadSessionAppendBatchResult
	attempts := 0
	err := c.pacer.call(ctx, func(ctx context.Context) error {
		attempts++
		r, err := c.files.UploadSessionAppendBatchContext(withBody(ctx, body), arg, body.reader())
		if err != nil {
			return err
		}
		if len(r.Entries) != len(entries) {
			return &Error{Kind: KindTransient, Code: "short_batch", Err: errors.New("batch result does not match the request")}
		}
		res = r
		return nil
	})
	if err != nil {
		return err
	}
	lens := make([]int, len(datas))
	for i, d := range datas {
		lens[i] = len(d)
	}
	copy(out, appendResults(ids, lens, res.Entries, attempts > 1))
	return nil
}

// appendResults reads append_batch's entries. retried says an earlier attempt of the same
// request may have taken effect with its answer lost (a dropped connection, a cut-off body):
// the sessions are fresh from start_batch and known to no one else, so a session found
// closed, or holding exactly its file's bytes, was then filled and closed by that attempt,
// which sent the same bytes under the same content hash. A wrong guess costs little: Commit
// checks the size and the caller the content hash.
func appendResults(ids []string, lens []int, entries []*files.UploadSessionAppendBatchResultEntry, retried bool) []UploadResult {
	out := make([]UploadResult, len(ids))
	for i, e := range entries {
		f := e.Failure
		switch {
		case e.Tag == files.UploadSessionAppendBatchResultEntrySuccess:
			out[i].SessionID = ids[i]
		case f == nil:
			out[i].Err = &Error{Kind: KindRetryFile, Code: e.Tag, Err: errors.New("unknown append_batch entry result")}
		case retried && (f.Tag == files.UploadSessionAppendBatchEntryErrorClosed ||
			f.Tag == files.UploadSessionAppendBatchEntryErrorIncorrectOffset && f.IncorrectOffset != nil && f.IncorrectOffset.CorrectOffset == uint64(lens[i])):
			out[i].SessionID = ids[i]
		default:
			k := KindRetryFile // the session is unusable: upload the file again in a new one
			switch f.Tag {
			case files.UploadSessionAppendBatchEntryErrorTooLarge:
				k = KindFile
			case files.UploadSessionAppendBatchEntryErrorConcurrentSessionInvalidOffset, files.UploadSessionAppendBatchEntryErrorConcurrentSessionInvalidDataSize:
				k = KindOther // we only open sequential sessions: a bug on our side
			}
			out[i].Err = &Error{Kind: k, Code: f.Tag, Err: errors.New(f.Tag)}
		}
	}
	return out
}

// Commit is one uploaded session to place at a path.
type Commit struct {
	SessionID      string
	Size           int64
	Path           string
	ClientModified time.Time
}

func commitInfo(path string, modified time.Time) *files.CommitInfo {
	ci := files.NewCommitInfo(path)
	// One-way backup: the local file wins. Identical content is a no-op at Dropbox (rev
	// kept), which is what makes re-sending after a crash harmless; autorename would make
	// duplicates instead.
	ci.Mode = &files.WriteMode{Tagged: sdk.Tagged{Tag: files.WriteModeOverwrite}}
	ci.Autorename = false
	ci.Mute = true // a background backup should not ping the user's devices
	if !modified.IsZero() {
		t := sdk.DBXTime(modified.UTC().Truncate(time.Second))
		ci.ClientModified = &t
	}
	return ci
}

// recommitAfter is how long an entry refused under load (KindRecommit) is left before it is
// committed again: Dropbox's own Retry-After for write contention is about a second.
const recommitAfter = time.Second

// Result is the outcome of one entry of a batch commit: File, or a translated Err.
type Result struct {
	File *File
	Err  error
}

// Commit commits up to MaxBatch sessions in one finish_batch_v2, returning one Result per
// entry in order. The error is for the call as a whole; entries fail one by one in Result.
// An entry that failed with KindRecommit was refused under load before it wrote anything:
// put the same Commit (same session) into a later batch after its RetryAfter; its content
// must not be uploaded again.
func (c *Client) Commit(ctx context.Context, commits []Commit) ([]Result, error) {
	if len(commits) == 0 {
		return nil, nil
	}
	if len(commits) > MaxBatch {
		return nil, errors.New("dropbox: commit batch too large")
	}
	c.commitLock.lock(false)
	defer c.commitLock.unlock()
	out := make([]Result, len(commits))
	live := make([]int, len(commits)) // the entries still to send, as indexes into commits
	for i := range live {
		live[i] = i
	}
	for len(live) > 0 {
		entries := make([]*files.UploadSessionFinishArg, len(live))
		for j, i := range live {
			cm := commits[i]
			entries[j] = files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(cm.SessionID, uint64(cm.Size)), commitInfo(cm.Path, cm.ClientModified))
		}
		var res *files.UploadSessionFinishBatchResult
		err := c.pacer.call(ctx, func(ctx context.Context) (err error) {
			res, err = c.files.UploadSessionFinishBatchV2Context(ctx, files.NewUploadSessionFinishBatchArg(entries))
			return err
		})
		if j, ok := refusedEntry(err); ok && j < len(live) {
			// Dropbox refused the whole request for one entry's path (a 400 naming
			// entries.N): that file is refused, the others go again without it.
			i := live[j]
			out[i].Err = &Error{Kind: KindFile, Code: "bad_request/path", Err: fmt.Errorf("commit %s: %w", commits[i].Path, err)}
			live = append(live[:j], live[j+1:]...)
			continue
		}
		if KindOf(err) == KindFile {
			// A refusal of one file that names no entry cannot be pinned on any file of
			// the batch: it is not a verdict on all of them.
			var fe *Error
			errors.As(err, &fe)
			err = &Error{Kind: KindOther, Code: "batch/" + fe.Code, Err: err}
		}
		if err != nil {
			return nil, fmt.Errorf("commit batch of %d: %w", len(live), err)
		}
		if len(res.Entries) != len(live) {
			return nil, &Error{Kind: KindTransient, Code: "short_batch", Err: errors.New("batch result does not match the request")}
		}
		for j, e := range res.Entries {
			i := live[j]
			switch {
			case e.Tag == "success" && e.Success != nil:
				out[i].File = fileOf(e.Success)
			case e.Failure != nil:
				k, code := batchEntryKind(e.Failure)
				err := &Error{Kind: k, Code: code, Err: fmt.Errorf("commit %s: %s", commits[i].Path, code)}
				if k == KindRecommit {
					err.RetryAfter = recommitAfter
				}
				out[i].Err = err
			default:
				out[i].Err = &Error{Kind: KindRetryFile, Code: e.Tag, Err: errors.New("unknown batch entry result")}
			}
		}
		live = nil
	}
	return out, nil
}
