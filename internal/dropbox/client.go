// Package dropbox is the app's only door to Dropbox: it wraps the Dropbox SDK, paces every
// call (Retry-After, backoff), serializes commits per account, and translates the SDK's
// errors into the few kinds the engine acts on (see Kind). Nothing else imports the SDK's
// API packages.
package dropbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	sdk "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/contenthash"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/filetransfer"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/users"
	"golang.org/x/oauth2"
)

// MaxBatch is the most files one commit may carry (finish_batch_v2's limit).
const MaxBatch = 1000

// Options configure a Client.
type Options struct {
	// BaseURL sends every API host to one address (the emulator); empty means Dropbox.
	BaseURL string
	// ParallelChunks is how many chunks of one large file are sent at once (default 4).
	ParallelChunks int
	// MaxConns bounds connections kept open to Dropbox (default 16).
	MaxConns int
	// OnWait is told when calls are held back (rate limit, backoff), for the status line.
	OnWait func(kind Kind, until time.Time)
	// CommitLock, when set, is shared by every client of one Dropbox account (two
	// connections to the same account), so their commits never overlap either.
	CommitLock *sync.Mutex
	// Retries is how many transient failures in a row one call absorbs (default 10, about
	// four minutes of backoff). Interactive calls, where a person waits, take fewer.
	Retries int
	// Limiter, when set, caps the bytes per second of file contents sent; share one
	// between clients to cap them together.
	Limiter *Limiter
}

// Client talks to one Dropbox account. It is safe for concurrent use; commits are
// serialized, everything else runs in parallel.
type Client struct {
	files files.ContextClient
	users users.ContextClient
	auth  auth.ContextClient
	pacer *pacer
	opts  Options

	// commitMu serializes commits: Dropbox takes a write lock per namespace, and
	// overlapping commits fail with too_many_write_operations.
	commitMu *sync.Mutex
}

// New returns a client that authenticates with ts. ts must be safe for concurrent use
// (oauth2.ReuseTokenSource is). If ts also has Expire(accessToken string), as the auth
// package's refreshing source does, an access token Dropbox calls expired is refreshed
// and the call retried.
func New(ts oauth2.TokenSource, opts Options) *Client {
	if opts.ParallelChunks <= 0 {
		opts.ParallelChunks = 4
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 16
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
	cfg := sdk.Config{Client: &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}}
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
		p.onExpired = func() {
			if t, err := ts.Token(); err == nil {
				ex.Expire(t.AccessToken)
			}
		}
	}
	lock := opts.CommitLock
	if lock == nil {
		lock = new(sync.Mutex)
	}
	return &Client{files: files.NewContext(cfg), users: users.NewContext(cfg), auth: auth.NewContext(cfg), pacer: p, opts: opts, commitMu: lock}
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
	arg := files.NewListFolderArg(root)
	arg.Recursive = true
	arg.Limit = 2000
	var res *files.ListFolderResult
	err := c.pacer.call(ctx, func(ctx context.Context) (err error) {
		res, err = c.files.ListFolderContext(ctx, arg)
		return err
	})
	var lf files.ListFolderAPIError
	if errors.As(err, &lf) && lf.EndpointError != nil && lf.EndpointError.Path != nil && lf.EndpointError.Path.Tag == files.LookupErrorNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []File
	for {
		for _, e := range res.Entries {
			if f, ok := e.(*files.FileMetadata); ok {
				out = append(out, *fileOf(f))
			}
		}
		if !res.HasMore {
			return out, nil
		}
		cursor := res.Cursor
		err = c.pacer.call(ctx, func(ctx context.Context) (err error) {
			res, err = c.files.ListFolderContinueContext(ctx, files.NewListFolderContinueArg(cursor))
			return err
		})
		if err != nil {
			return nil, err
		}
	}
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

// maxContentsBody is the most file data one append_batch request of UploadContents carries.
// Dropbox allows 150 MiB; staying well below bounds the copy each request keeps for its
// retries and what a failed attempt has to resend.
const maxContentsBody = 64 << 20

// maxContentsArg bounds the argument of one append_batch request. It travels in the
// Dropbox-API-Arg header, about 100 bytes per file, and 8 KiB is nginx's default limit for
// one header line (Dropbox's answers carry "Server: nginx"). Whether Dropbox allows more is
// not documented; raise this once a larger header is seen to pass.
const maxContentsArg = 8 << 10

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
// to MaxBatch per request) and each append_batch carries many files at once, closing their
// sessions: a batch of hundreds of files costs a few requests. Each request carries the
// content hash of its body, so corruption in transit is refused and resent, and goes
// through the pacer; its body is a copy of its files' data (at most maxContentsBody) so a
// retry resends it whole. Requests are sent one after another; like every upload they do not
// take the commit lock, so callers may run several UploadContents at once. Every input must
// be at most 64 MiB; larger files go through UploadLarge.
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
		ids, err := c.startSessions(ctx, hi-lo)
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
// argument limits; a request always takes at least one file.
func planAppends(ids []string, datas [][]byte) []span {
	// {"entries":[...],"content_hash":"<64 hex>"}
	const argBase = len(`{"entries":[],"content_hash":""}`) + 64
	var out []span
	cur, body, arg := span{}, 0, argBase
	for i, d := range datas {
		e, _ := json.Marshal(appendEntry(ids[i], d))
		n := len(e) + 1 // and a comma
		if cur.hi > cur.lo && (body+len(d) > maxContentsBody || arg+n > maxContentsArg) {
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
	body := bytes.Join(datas, nil)
	hash, err := ContentHash(bytes.NewReader(body))
	if err != nil {
		return err
	}
	entries := make([]*files.UploadSessionAppendBatchArgEntry, len(ids))
	for i, id := range ids {
		entries[i] = appendEntry(id, datas[i])
	}
	arg := files.NewUploadSessionAppendBatchArg(entries)
	arg.ContentHash = hash // set here, the SDK does not hash the body again on every attempt
	var res *files.UploadSessionAppendBatchResult
	attempts := 0
	err = c.pacer.call(ctx, func(ctx context.Context) error {
		attempts++
		r, err := c.files.UploadSessionAppendBatchContext(ctx, arg, bytes.NewReader(body))
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

// Result is the outcome of one entry of a batch commit: File, or a translated Err.
type Result struct {
	File *File
	Err  error
}

// Commit commits up to MaxBatch sessions in one finish_batch_v2, returning one Result per
// entry in order. The error is for the call as a whole; entries fail one by one in Result.
func (c *Client) Commit(ctx context.Context, commits []Commit) ([]Result, error) {
	if len(commits) == 0 {
		return nil, nil
	}
	if len(commits) > MaxBatch {
		return nil, errors.New("dropbox: commit batch too large")
	}
	entries := make([]*files.UploadSessionFinishArg, len(commits))
	for i, cm := range commits {
		entries[i] = files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(cm.SessionID, uint64(cm.Size)), commitInfo(cm.Path, cm.ClientModified))
	}
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	var res *files.UploadSessionFinishBatchResult
	err := c.pacer.call(ctx, func(ctx context.Context) (err error) {
		res, err = c.files.UploadSessionFinishBatchV2Context(ctx, files.NewUploadSessionFinishBatchArg(entries))
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(res.Entries) != len(commits) {
		return nil, &Error{Kind: KindTransient, Code: "short_batch", Err: errors.New("batch result does not match the request")}
	}
	out := make([]Result, len(commits))
	for i, e := range res.Entries {
		switch {
		case e.Tag == "success" && e.Success != nil:
			out[i].File = fileOf(e.Success)
		case e.Failure != nil:
			k, code := finishErrorKind(e.Failure)
			out[i].Err = &Error{Kind: k, Code: code, Err: errors.New(code)}
		default:
			out[i].Err = &Error{Kind: KindRetryFile, Code: e.Tag, Err: errors.New("unknown batch entry result")}
		}
	}
	return out, nil
}

// UploadLarge streams a file of any size through an upload session with the SDK's
// uploader (chunked, parallel, resumable offsets), committing it at path. Memory stays
// bounded by the chunk size times ParallelChunks whatever the file's size. progress, if
// set, gets the bytes Dropbox confirmed so far; it is called from the uploader's goroutines.
func (c *Client) UploadLarge(ctx context.Context, localPath, path string, modified time.Time, progress func(int64)) (*File, error) {
	src, err := filetransfer.FileUpload(localPath)
	if err != nil {
		return nil, err
	}
	opts := filetransfer.UploadOptions{ParallelUploads: c.opts.ParallelChunks}
	if progress != nil {
		opts.Progress = func(p filetransfer.UploadProgress) { progress(p.BytesCommitted) }
	}
	res, err := filetransfer.NewUploader(uploadClient{c}).Upload(ctx, src, commitInfo(path, modified), opts)
	if err != nil {
		return nil, translate(err)
	}
	return fileOf(res.Metadata), nil
}

// uploadClient is what the SDK's uploader calls: each request goes through the pacer, and
// the finishing commit takes the account's commit lock like batch commits do.
type uploadClient struct{ c *Client }

var _ filetransfer.UploadClient = uploadClient{}

// rewindable retries a request only when its body can be sent again from the start.
func (u uploadClient) paced(ctx context.Context, content io.Reader, fn func(ctx context.Context) error) error {
	if content == nil {
		return u.c.pacer.call(ctx, fn)
	}
	seeker, ok := content.(io.Seeker)
	if !ok {
		return translate(fn(ctx))
	}
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return translate(fn(ctx))
	}
	first := true
	return u.c.pacer.call(ctx, func(ctx context.Context) error {
		if !first {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return err
			}
		}
		first = false
		return fn(ctx)
	})
}

func (u uploadClient) UploadSessionStartContext(ctx context.Context, arg *files.UploadSessionStartArg, content io.Reader) (res *files.UploadSessionStartResult, err error) {
	err = u.paced(ctx, content, func(ctx context.Context) (err error) {
		res, err = u.c.files.UploadSessionStartContext(ctx, arg, content)
		return err
	})
	return res, err
}

func (u uploadClient) UploadSessionAppendV2Context(ctx context.Context, arg *files.UploadSessionAppendArg, content io.Reader) error {
	return u.paced(ctx, content, func(ctx context.Context) error {
		return u.c.files.UploadSessionAppendV2Context(ctx, arg, content)
	})
}

func (u uploadClient) UploadSessionFinishContext(ctx context.Context, arg *files.UploadSessionFinishArg, content io.Reader) (res *files.FileMetadata, err error) {
	u.c.commitMu.Lock()
	defer u.c.commitMu.Unlock()
	err = u.paced(ctx, content, func(ctx context.Context) (err error) {
		res, err = u.c.files.UploadSessionFinishContext(ctx, arg, content)
		return err
	})
	return res, err
}

// ContentHash computes Dropbox's content_hash of r (SHA-256 of each 4 MiB block, then of
// their concatenation), streaming.
func ContentHash(r io.Reader) (string, error) { return contenthash.Compute(r) }
