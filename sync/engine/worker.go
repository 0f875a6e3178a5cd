package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// Activity kinds written to the store's feed.
const (
	ActUploaded = "uploaded"
	ActExisting = "already-in-dropbox" // found in Dropbox with the same content: recorded, not sent
	ActFailed   = "failed"             // refused for good until the file changes
)

// outcome is what became of one queued file, as the runner needs to know it.
type outcome int

const (
	outDone    outcome = iota // recorded (uploaded, unchanged, already there, refused, gone)
	outRetry                  // a transient failure: try again after a backoff
	outChanged                // the file is being written: try again once it settles
	outStop                   // the connection must stop (reconnect) or wait (Dropbox full)
)

// result goes back to the runner for every job.
type result struct {
	path     string
	outcome  outcome
	err      error
	bytes    int64 // bytes sent (0 when nothing was uploaded)
	uploaded bool
	failed   bool // refused for good
	retryAt  time.Time
}

// prepared is a worker's output: a small file whose data still has to be uploaded (commit
// set without a SessionID, data set) for a packer; a session to commit (commit set) with
// the record to write once it is committed, for the committer; or an outcome decided
// without a commit.
type prepared struct {
	path     string
	commit   *dropbox.Commit
	data     []byte
	attempts int
	rec      store.FileRecord
	key      string // FoldKey of the Dropbox path, for the owners index
	update   *store.Update
	res      result
}

// needsUpload reports a small file whose content a packer must send.
func (p prepared) needsUpload() bool { return p.commit != nil && p.commit.SessionID == "" }

// owners remembers which local file holds each Dropbox path (by FoldKey), so two local
// files that Dropbox would see as one path both get kept. It is shared by the workers and
// the committer of one connection.
type owners struct {
	mu    sync.Mutex
	byKey map[string]string
}

// place decides a file's Dropbox path. exists tells whether a holder is still on disk: a
// file that is gone gives up its path.
func (o *owners) place(l layout.Layout, f layout.File, exists func(local string) bool) (remote, key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	remote, _ = l.Resolve(f, func(k string) bool {
		holder, ok := o.byKey[k]
		return ok && holder != f.Path && exists(holder)
	})
	key = layout.FoldKey(remote)
	o.byKey[key] = f.Path
	return remote, key
}

// keep gives back the path place chose for local (placed) and records that local holds
// kept, where it already is in Dropbox.
func (o *owners) keep(local, placed, kept string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byKey[placed] == local {
		delete(o.byKey, placed)
	}
	o.byKey[kept] = local
}

// worker reads, hashes and uploads queued files.
type worker struct {
	r *runner
}

// prepare handles one queued file up to the point where only a commit is left.
func (w worker) prepare(ctx context.Context, path string, attempts int) prepared {
	r := w.r
	now := r.e.opts.Now()
	full := filepath.Join(r.c.Folder, filepath.FromSlash(path))
	gone := prepared{path: path, update: &store.Update{Path: path, Forget: true, Dequeue: true}, res: result{path: path, outcome: outDone}}

	info, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, rootErr := os.Stat(r.c.Folder); rootErr != nil {
			return w.retry(path, attempts, fmt.Errorf("%w: %v", errFolderMissing, rootErr))
		}
		return gone // deleted or renamed since it was queued; Dropbox keeps its copy
	case err != nil:
		return w.retry(path, attempts, err)
	case !info.Mode().IsRegular():
		return gone
	}
	if age := now.Sub(info.ModTime()); age < r.e.opts.Settle && age > -time.Minute {
		return prepared{path: path, res: result{path: path, outcome: outChanged, retryAt: info.ModTime().Add(r.e.opts.Settle)}}
	}

	doc, err := layout.Classify(r.fsys, path)
	if err != nil {
		return w.retry(path, attempts, fmt.Errorf("read %s: %w", path, err))
	}
	remote, key := r.owners.place(r.c.Layout, layout.File{Path: path, Doc: doc}, func(local string) bool {
		_, err := os.Lstat(filepath.Join(r.c.Folder, filepath.FromSlash(local)))
		return err == nil
	})

	large := info.Size() >= r.e.opts.LargeFile
	var data []byte
	var hash string
	if large {
		hash, err = hashFile(full)
	} else {
		data, err = os.ReadFile(full)
		if err == nil {
			hash = hashBytes(data)
		}
	}
	if err != nil {
		return w.retry(path, attempts, fmt.Errorf("read %s: %w", path, err))
	}
	if changed(full, info) {
		return prepared{path: path, res: result{path: path, outcome: outChanged, retryAt: now.Add(r.e.opts.Settle)}}
	}
	rec := store.FileRecord{Size: info.Size(), ModTime: info.ModTime().UnixNano(), Hash: hash, RemotePath: remote}

	// Unchanged content already in Dropbox: record the new size/mtime, send nothing. The
	// file stays where it was sent even if the connection's structure has changed since
	// (only new and changed documents follow a new structure), so it keeps its old path.
	if old, ok, err := r.st.File(path); err == nil && ok && old.Failure == "" && old.RemotePath != "" && old.Hash == hash {
		if oldKey := layout.FoldKey(old.RemotePath); oldKey != key {
			r.owners.keep(path, key, oldKey)
		}
		old.Size, old.ModTime = rec.Size, rec.ModTime
		return prepared{path: path, update: &store.Update{Path: path, Record: &old, Dequeue: true}, res: result{path: path, outcome: outDone}}
	}
	// Initial copy: Dropbox already has this exact file (a reinstall, a re-added connection).
	if f, ok := r.remoteIndex[key]; ok && f.Hash == hash {
		rec.RemotePath, rec.Rev, rec.SyncedAt = f.PathDisplay, f.Rev, now
		return prepared{path: path, update: &store.Update{Path: path, Record: &rec, Dequeue: true,
			Activity: store.Activity{Time: now, Kind: ActExisting, Path: path, RemotePath: f.PathDisplay}}, res: result{path: path, outcome: outDone}}
	}

	if large {
		f, err := r.c.Remote.UploadLarge(ctx, full, remote, info.ModTime(), func(n int64) { r.progress(path, n) })
		if err != nil {
			return w.failed(path, attempts, rec, err)
		}
		if f.Hash != hash || changed(full, info) {
			// The file changed while it was read: what Dropbox has is not what we hashed.
			return prepared{path: path, res: result{path: path, outcome: outChanged, retryAt: now.Add(r.e.opts.Settle)}}
		}
		rec.RemotePath, rec.Rev, rec.SyncedAt = f.PathDisplay, f.Rev, r.e.opts.Now()
		return prepared{path: path, key: key, update: &store.Update{Path: path, Record: &rec, Dequeue: true,
			Activity: store.Activity{Time: rec.SyncedAt, Kind: ActUploaded, Path: path, RemotePath: f.PathDisplay}},
			res: result{path: path, outcome: outDone, bytes: rec.Size, uploaded: true}}
	}

	// Small files go to a packer, which uploads many in one request, then to the committer.
	return prepared{path: path, key: key, rec: rec, data: data, attempts: attempts,
		commit: &dropbox.Commit{Size: rec.Size, Path: remote, ClientModified: info.ModTime()}}
}

// retry keeps a file queued after a failure that may pass.
func (w worker) retry(path string, attempts int, err error) prepared {
	return prepared{path: path, res: result{path: path, outcome: outRetry, err: err,
		retryAt: w.r.e.opts.Now().Add(retryBackoff(attempts + 1))}}
}

// failed turns an upload error into the file's outcome (see outcomeFor).
func (w worker) failed(path string, attempts int, rec store.FileRecord, err error) prepared {
	u, res := outcomeFor(w.r.e.opts.Now(), path, attempts, rec, err)
	return prepared{path: path, update: u, res: res}
}

// outcomeFor decides what an upload or commit error means for one file: refused for good
// (recorded with the reason, retried when the file changes), redone, or stopping the
// connection.
func outcomeFor(now time.Time, path string, attempts int, rec store.FileRecord, err error) (*store.Update, result) {
	res := result{path: path, err: err}
	switch dropbox.KindOf(err) {
	case dropbox.KindFile:
		rec.Failure = reasonFor(err)
		res.outcome, res.failed = outDone, true
		return &store.Update{Path: path, Record: &rec, Dequeue: true,
			Activity: store.Activity{Time: now, Kind: ActFailed, Path: path, RemotePath: rec.RemotePath, Message: rec.Failure}}, res
	case dropbox.KindReconnect, dropbox.KindNoSpace:
		res.outcome = outStop
	case dropbox.KindRetryFile, dropbox.KindWriteContention:
		// Redo at once the first time (a lost session, a commit that overlapped), then back
		// off, so a file that keeps failing this way cannot spin.
		res.outcome, res.retryAt = outRetry, now
		if attempts > 0 {
			res.retryAt = now.Add(retryBackoff(attempts))
		}
	default:
		res.outcome, res.retryAt = outRetry, now.Add(retryBackoff(attempts+1))
	}
	return nil, res
}

// reasonFor is the plain-English reason a file was refused, for the activity feed.
func reasonFor(err error) string {
	var e *dropbox.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	switch e.Code {
	case "path/disallowed_name":
		return "Dropbox does not accept this file name"
	case "path/malformed_path":
		return "the Dropbox path for this file is not valid"
	case "path/conflict/folder":
		return "a folder with the same name is in the way in Dropbox"
	case "path/conflict/file_ancestor", "path/conflict/file":
		return "a file in Dropbox is in the way of this path"
	case "payload_too_large", "too_large":
		return "the file is too large for Dropbox"
	case "path/no_write_permission":
		return "no permission to write this folder in Dropbox"
	}
	return "Dropbox refused the file (" + e.Code + ")"
}

// retryBackoff is the wait before the n-th retry of a file: 2 s doubling to 10 min.
func retryBackoff(n int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < n && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// changed reports whether a file no longer looks as info says.
func changed(full string, info fs.FileInfo) bool {
	now, err := os.Lstat(full)
	return err != nil || now.Size() != info.Size() || !now.ModTime().Equal(info.ModTime())
}

func hashBytes(data []byte) string {
	h, _ := dropbox.ContentHash(bytes.NewReader(data)) // reading memory cannot fail
	return h
}

// hashFile streams a file through Dropbox's content hash.
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return dropbox.ContentHash(f)
}
