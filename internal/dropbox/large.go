package dropbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/contenthash"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/filetransfer"

	"github.com/onfact/onfact-dropbox/internal/openshared"
)

// ErrLocalChanged is returned by UploadLarge when the local file changed while it was
// sent (rewritten in place, replaced, grown, truncated, or its content no longer the one
// the caller hashed): nothing was committed. Send it again once it holds still.
var ErrLocalChanged = errors.New("the local file changed while it was sent")

// LargeFile is a local file for UploadLarge as the caller saw it when it read it: the
// upload commits exactly that version or nothing.
type LargeFile struct {
	LocalPath string
	// Size and ModTime are the file's as the caller found them (os.Lstat); ModTime is also
	// its client_modified in Dropbox.
	Size    int64
	ModTime time.Time
	// Hash is the content hash the caller computed of the file (ContentHash); empty: the
	// content is checked against Size and ModTime only.
	Hash string
}

// UploadLarge streams a large file through an upload session with the SDK's uploader
// (chunked, parallel, resumable offsets), committing it at path. Memory stays bounded by
// the chunk size times ParallelChunks whatever the file's size and however many large
// files are sent at once. progress, if set, gets the
// bytes Dropbox confirmed so far; it is called from the uploader's goroutines.
//
// Only the version of the file the caller saw is committed. Every chunk carries the content
// hash of its bytes, which Dropbox checks, and the hash of the whole session is kept from
// those same bytes; right before the finish, the file must still be the one that was
// opened, with local's Size and ModTime, and the session's hash must equal local.Hash.
// Otherwise the session is left uncommitted (Dropbox drops it after a week) and the error
// wraps ErrLocalChanged. Whatever the commit returns is checked against that hash too.
//
// A path too long for finish's Dropbox-API-Arg header (over a thousand non-ASCII
// characters) is refused at once, before any content is sent: KindFile "path_too_long".
func (c *Client) UploadLarge(ctx context.Context, local LargeFile, path string, progress func(int64)) (*File, error) {
	ci := commitInfo(path, local.ModTime)
	// finish carries the path in its Dropbox-API-Arg header. A path too long for the
	// header would be refused by the front end after the whole file was sent: refuse it
	// now. Measured with the largest cursor and a content hash, as the SDK will send it.
	probe := files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(strings.Repeat("x", 64), math.MaxUint64), ci)
	probe.ContentHash = strings.Repeat("0", 64)
	if n := argHeaderLine(probe); n > maxArgLine {
		return nil, &Error{Kind: KindFile, Code: "path_too_long",
			Err: fmt.Errorf("upload %s: its Dropbox-API-Arg header would be %d bytes, more than %d", path, n, maxArgLine)}
	}
	src, err := openLocal(local, c.chunks)
	if err != nil {
		return nil, fmt.Errorf("upload %s to %s: %w", local.LocalPath, path, err)
	}
	defer src.close()
	opts := filetransfer.UploadOptions{ParallelUploads: c.opts.ParallelChunks}
	if progress != nil {
		opts.Progress = func(p filetransfer.UploadProgress) { progress(p.BytesCommitted) }
	}
	sess := &largeSession{c: c, src: src}
	res, err := filetransfer.NewUploader(sess).Upload(ctx, src, ci, opts)
	if errors.Is(err, ErrLocalChanged) {
		return nil, fmt.Errorf("upload %s to %s: %w", local.LocalPath, path, err)
	}
	if err != nil {
		err = translate(err, nil)
		var e *Error
		if errors.As(err, &e) && e.Code == "header_too_large" {
			// The front end's limit is lower than ours: the path, the only long part of
			// the header, is what it refused, and it will refuse it again.
			err = &Error{Kind: KindFile, Code: "path_too_long", Err: fmt.Errorf("upload %s: %w", path, err)}
		}
		return nil, err
	}
	if sent := sess.committed(); res.Metadata.ContentHash != sent {
		// Dropbox checked every chunk, so this means it stored something else than the
		// session held: send the file again.
		return nil, &Error{Kind: KindRetryFile, Code: "content_hash_mismatch",
			Err: fmt.Errorf("upload %s: Dropbox committed content hash %s, the session held %s", path, res.Metadata.ContentHash, sent)}
	}
	return fileOf(res.Metadata), nil
}

// localSource is the SDK uploader's source for one file: a RangedUploadSource over one open
// descriptor, so every chunk is read from the same file even when another is renamed over
// its path (the SDK's FileSource reopens the path for each chunk), and a read that finds
// the file shorter than it was is ErrLocalChanged rather than a bare short read.
type localSource struct {
	want LargeFile
	f    *os.File
	// chunks is the client's budget of chunks in memory (Options.ParallelChunks): a range
	// takes a token when it is opened (the uploader then reads it whole) and gives it back
	// once it is sent (sent), or when the upload ends.
	chunks chan struct{}
	mu     sync.Mutex
	held   map[int64]bool // ranges holding a token, by offset
}

var _ filetransfer.RangedUploadSource = (*localSource)(nil)

// openLocal opens the file the caller saw, or says how it changed since. A file gone
// since (renamed away, deleted) is changed too: the caller looks at it again.
func openLocal(want LargeFile, chunks chan struct{}) (*localSource, error) {
	f, err := openshared.Open(want.LocalPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %v", ErrLocalChanged, err)
	}
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &localSource{want: want, f: f, chunks: chunks, held: map[int64]bool{}}
	if err := s.same(info); err != nil { // changed before anything is sent
		f.Close()
		return nil, err
	}
	return s, nil
}

// close closes the file and gives back the tokens of ranges that were never sent.
func (s *localSource) close() {
	s.f.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for off := range s.held {
		delete(s.held, off)
		<-s.chunks
	}
}

// sent gives back the token of the range at offset, once its bytes are at Dropbox (or
// their request failed).
func (s *localSource) sent(offset int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[offset] {
		delete(s.held, offset)
		<-s.chunks
	}
}

// same reports, as an ErrLocalChanged, how info differs from the file the caller saw.
func (s *localSource) same(info os.FileInfo) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%w: no longer a regular file", ErrLocalChanged)
	}
	if info.Size() != s.want.Size || !info.ModTime().Equal(s.want.ModTime) {
		return fmt.Errorf("%w: %d bytes modified %s, was %d bytes modified %s", ErrLocalChanged,
			info.Size(), info.ModTime().Format(time.RFC3339Nano), s.want.Size, s.want.ModTime.Format(time.RFC3339Nano))
	}
	return nil
}

// unchanged checks that the file read is still the one the caller saw, and still at its
// path: neither written to (size, mtime) nor replaced (a rename or copy over the path).
func (s *localSource) unchanged() error {
	now, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLocalChanged, err)
	}
	if err := s.same(now); err != nil {
		return err
	}
	at, err := os.Lstat(s.want.LocalPath)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLocalChanged, err)
	}
	if !os.SameFile(now, at) {
		return fmt.Errorf("%w: another file was put in its place", ErrLocalChanged)
	}
	return nil
}

// Size is the size the caller saw: the uploader sends that many bytes, no more.
func (s *localSource) Size() int64 { return s.want.Size }

func (s *localSource) Open(ctx context.Context) (io.ReadCloser, error) {
	return s.OpenRange(ctx, 0, s.want.Size)
}

func (s *localSource) OpenRange(ctx context.Context, offset, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if offset < 0 || length < 0 || offset+length > s.want.Size {
		return nil, fmt.Errorf("range [%d,%d) of a %d-byte file", offset, offset+length, s.want.Size)
	}
	s.mu.Lock()
	again := s.held[offset] // opened again to be sent again: it has its token
	s.mu.Unlock()
	if !again {
		select {
		case s.chunks <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		s.mu.Lock()
		s.held[offset] = true
		s.mu.Unlock()
	}
	return io.NopCloser(&rangeReader{r: io.NewSectionReader(s.f, offset, length), left: length}), nil
}

// rangeReader reads one range of the file; ending before the range does means the file
// was truncated while it was read.
type rangeReader struct {
	r    io.Reader
	left int64
}

func (r *rangeReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.left -= int64(n)
	if err == io.EOF && r.left > 0 {
		return n, fmt.Errorf("%w: it ended %d bytes early", ErrLocalChanged, r.left)
	}
	return n, err
}

// largeSession is the SDK uploader's client for one UploadLarge: every request goes through
// the pacer, and the finishing commit takes the account's commit lock like batch commits
// do. It is also where the uploader's one hook before the commit is: the uploader gives
// each chunk's bytes to an append (or, in a sequential session, the last one to the finish)
// and then asks for the finish, so the session's content hash is kept from exactly the bytes
// sent, and the finish is not sent unless the file is still the one read.
type largeSession struct {
	c   *Client
	src *localSource

	mu    sync.Mutex
	parts map[int64]part // by offset in the session
	sent  string         // content hash of the committed session, once finished
}

var _ filetransfer.UploadClient = (*largeSession)(nil)

// part is one request's data in the session: its length and the SHA-256 of each of its
// content-hash blocks.
type part struct {
	length int64
	blocks [][sha256.Size]byte
}

// digest hashes one request's body by content-hash blocks and rewinds it. content is the
// uploader's bytes.Reader; anything not seekable cannot be hashed before it is sent.
func digest(content io.Reader) (part, error) {
	rs, ok := content.(io.ReadSeeker)
	if !ok {
		return part{}, errors.New("upload body cannot be rewound to hash it")
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return part{}, err
	}
	var p part
	h := sha256.New()
	for {
		h.Reset()
		n, err := io.CopyN(h, rs, contenthash.BlockSize)
		if n > 0 {
			p.length += n
			p.blocks = append(p.blocks, [sha256.Size]byte(h.Sum(nil)))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return part{}, err
		}
	}
	_, err = rs.Seek(start, io.SeekStart)
	return p, err
}

// hex is the content hash of the part alone, as Dropbox checks it on its request.
func (p part) hex() string { return blocksHash(sha256.New(), p.blocks) }

func blocksHash(h hash.Hash, blocks [][sha256.Size]byte) string {
	for _, b := range blocks {
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// note records a part sent at offset (again, if the uploader resends it: the same bytes).
func (s *largeSession) note(offset int64, p part) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parts == nil {
		s.parts = map[int64]part{}
	}
	if p.length > 0 {
		s.parts[offset] = p
	}
}

// sessionHash is the content hash of the session's first size bytes, composed from its
// parts' block digests. That is only the file's content hash when every part but the last
// starts and ends on a block boundary, which Dropbox requires of concurrent sessions and
// the uploader's chunks are; anything else, or a gap, is refused rather than guessed.
func (s *largeSession) sessionHash(size int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	offs := make([]int64, 0, len(s.parts))
	for o := range s.parts {
		offs = append(offs, o)
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	var blocks [][sha256.Size]byte
	var at int64
	for i, o := range offs {
		p := s.parts[o]
		if o != at || o%contenthash.BlockSize != 0 || (i < len(offs)-1 && p.length%contenthash.BlockSize != 0) {
			return "", fmt.Errorf("upload session parts are not whole blocks from 0: %d bytes at %d after %d", p.length, o, at)
		}
		blocks = append(blocks, p.blocks...)
		at += p.length
	}
	if at != size {
		return "", fmt.Errorf("upload session holds %d bytes, the file %d", at, size)
	}
	return blocksHash(sha256.New(), blocks), nil
}

// committed is the content hash of the session as it was committed ("" before).
func (s *largeSession) committed() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// paced runs fn through the pacer, retrying only when content can be sent again from where
// it started.
func (s *largeSession) paced(ctx context.Context, content io.Reader, fn func(ctx context.Context) error) error {
	if content == nil {
		return s.c.pacer.call(ctx, fn)
	}
	seeker, ok := content.(io.Seeker)
	if !ok {
		_, err := attempt(ctx, fn)
		return err
	}
	start, err := seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		_, err := attempt(ctx, fn)
		return err
	}
	first := true
	return s.c.pacer.call(ctx, func(ctx context.Context) error {
		if !first {
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return err
			}
		}
		first = false
		return fn(ctx)
	})
}

func (s *largeSession) UploadSessionStartContext(ctx context.Context, arg *files.UploadSessionStartArg, content io.Reader) (res *files.UploadSessionStartResult, err error) {
	p, err := digest(content)
	if err != nil {
		return nil, fmt.Errorf("upload session start: %w", err)
	}
	a := *arg
	a.ContentHash = p.hex() // Dropbox checks it; set here, the SDK does not hash the body again
	err = s.paced(ctx, content, func(ctx context.Context) (err error) {
		res, err = s.c.files.UploadSessionStartContext(ctx, &a, content)
		return err
	})
	if err == nil {
		s.note(0, p)
	}
	return res, err
}

func (s *largeSession) UploadSessionAppendV2Context(ctx context.Context, arg *files.UploadSessionAppendArg, content io.Reader) error {
	p, err := digest(content)
	if err != nil {
		return fmt.Errorf("upload session append: %w", err)
	}
	a := *arg
	a.ContentHash = p.hex()
	// Noted before it is sent: an append whose answer was lost may still have landed, and
	// the uploader then takes Dropbox's word (incorrect_offset) that it did.
	s.note(int64(arg.Cursor.Offset), p)
	defer s.src.sent(int64(arg.Cursor.Offset))
	return s.paced(ctx, content, func(ctx context.Context) error {
		return s.c.files.UploadSessionAppendV2Context(ctx, &a, content)
	})
}

// UploadSessionFinishContext commits the session, after checking that what it holds is the
// file the caller saw and that the file is still that file.
func (s *largeSession) UploadSessionFinishContext(ctx context.Context, arg *files.UploadSessionFinishArg, content io.Reader) (res *files.FileMetadata, err error) {
	p, err := digest(content)
	if err != nil {
		return nil, fmt.Errorf("upload session finish: %w", err)
	}
	// Dropbox checks finish's content_hash against this call's bytes only (none in a
	// concurrent session), not the session's: the whole file is checked here instead.
	a := *arg
	a.ContentHash = p.hex()
	s.note(int64(arg.Cursor.Offset), p)
	whole, err := s.sessionHash(s.src.want.Size)
	if err != nil {
		return nil, fmt.Errorf("upload session finish: %w", err)
	}
	s.c.commitLock.lock(true)
	defer s.c.commitLock.unlock()
	// Checked once the lock is held, the last moment before the commit: waiting for it
	// can take as long as a batch commit.
	if err := s.src.unchanged(); err != nil {
		return nil, err
	}
	if s.src.want.Hash != "" && whole != s.src.want.Hash {
		return nil, fmt.Errorf("%w: the content sent has hash %s, the file had %s", ErrLocalChanged, whole, s.src.want.Hash)
	}
	err = s.paced(ctx, content, func(ctx context.Context) (err error) {
		res, err = s.c.files.UploadSessionFinishContext(ctx, &a, content)
		return err
	})
	if err == nil {
		s.mu.Lock()
		s.sent = whole
		s.mu.Unlock()
	}
	return res, err
}
