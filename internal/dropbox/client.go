// Package dropbox is the app's only door to Dropbox: it wraps the Dropbox SDK, paces every
// call (Retry-After, backoff), serializes commits per account, and translates the SDK's
// errors into the few kinds the engine acts on (see Kind). Nothing else imports the SDK's
// API packages.
package dropbox

import (
	"bytes"
	"context"
	"errors"
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
	commitMu sync.Mutex
}

// New returns a client that authenticates with ts. ts must be safe for concurrent use
// (oauth2.ReuseTokenSource is).
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
	cfg := sdk.Config{Client: &http.Client{Transport: &oauth2.Transport{Source: ts, Base: transport}}}
	if opts.BaseURL != "" {
		base := strings.TrimSuffix(opts.BaseURL, "/")
		cfg.URLGenerator = func(_, namespace, route string) string { return base + "/2/" + namespace + "/" + route }
	}
	p := newPacer()
	p.onWait = opts.OnWait
	return &Client{files: files.NewContext(cfg), users: users.NewContext(cfg), auth: auth.NewContext(cfg), pacer: p, opts: opts}
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
