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
	"sync/atomic"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/openshared"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// commit is a file whose content is (or, inside an upload, is about to be) at Dropbox in
// a closed upload session: what the committer needs to commit and record it.
type commit struct {
	job
	c          dropbox.Commit   // SessionID is set once the content is at Dropbox
	rec        store.FileRecord // recorded once Dropbox confirmed the commit
	key        string           // FoldKey of the Dropbox path, for the owners index
	incomplete bool             // sent as it is after waiting for it to complete
	// recommits counts the times Dropbox did not commit it under load; recommitAt is when
	// the committer tries again from the same session.
	recommits  int
	recommitAt time.Time
}

// upload is a small file read and hashed by a worker, whose content a packer sends.
type upload struct {
	commit
	data []byte
}

// uploader sends what a worker sends itself: a large file through an upload session of
// its own, a lone small one in one request; both commit at once.
type uploader interface {
	UploadLarge(ctx context.Context, local dropbox.LargeFile, path string, progress func(int64)) (*dropbox.File, error)
	Upload(ctx context.Context, data []byte, c dropbox.Commit) (*dropbox.File, error)
}

// worker reads, hashes and places queued files: each job ends as an upload for a packer,
// or as an outcome decided on the spot (unchanged, already in Dropbox, gone, being
// written, a large file sent by itself, a failure).
type worker struct {
	folder         string
	fsys           fs.FS
	layout         layout.Layout
	settle         time.Duration
	incompleteWait time.Duration
	largeFile      int64
	now            func() time.Time
	records        *store.Conn // read only: the committer writes
	owners         *owners
	index          *remoteIndex
	remote         uploader
	progress       func(path string, n int64)
	// upstream counts the files out with workers and packers, this one included: at one,
	// nothing else is on its way and a small file goes in one request.
	upstream *atomic.Int64
}

// serve turns jobs into uploads or outcomes until ctx ends, live ones first.
func (w *worker) serve(ctx context.Context, live, jobs <-chan job, uploads chan<- upload, decided chan<- outcome) error {
	for {
		j, ok := take(ctx, live, jobs)
		if !ok {
			return nil
		}
		up, o := w.prepare(ctx, j)
		if ctx.Err() != nil {
			return nil // stopping: the file stays queued as it was
		}
		if up != nil {
			ok = send(ctx, uploads, *up)
		} else {
			ok = send(ctx, decided, o)
		}
		if !ok {
			return nil
		}
	}
}

// take takes a job, one from live if there is one, unless ctx ends first.
func take(ctx context.Context, live, jobs <-chan job) (job, bool) {
	select {
	case j := <-live:
		return j, true
	default:
	}
	select {
	case <-ctx.Done():
		return job{}, false
	case j := <-live:
		return j, true
	case j := <-jobs:
		return j, true
	}
}

// send hands v on unless ctx ends first.
func send[T any](ctx context.Context, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

// prepare handles one queued file up to the point where only its upload is left: it
// returns that upload, or the file's outcome.
func (w *worker) prepare(ctx context.Context, j job) (*upload, outcome) {
	full := osPath(filepath.Join(w.folder, filepath.FromSlash(j.path)))
	info, o, ok := w.stat(j, full)
	if !ok {
		return nil, o
	}
	doc, err := layout.Classify(w.fsys, j.path)
	if err != nil {
		return nil, failed(w.now(), j, store.FileRecord{}, &readError{j.path, err})
	}
	remote, key := w.owners.place(w.layout, layout.File{Path: j.path, Doc: doc}, w.exists)

	large := info.Size() >= w.largeFile
	data, hash, err := read(full, large)
	if err != nil {
		return nil, failed(w.now(), j, store.FileRecord{}, &readError{j.path, err})
	}
	if changed(full, info) {
		return nil, notSettled(j.path, w.now().Add(w.settle))
	}
	whole, err := complete(full, j.path, data, info.Size())
	if err != nil {
		return nil, failed(w.now(), j, store.FileRecord{}, &readError{j.path, err})
	}
	switch {
	case whole && w.young(info):
		// Changed just now but complete by its content (the watcher let it through early):
		// it goes at once, as long as it held still while it was read.
	case w.young(info):
		return nil, notSettled(j.path, info.ModTime().Add(w.settle))
	case !whole && w.now().Sub(info.ModTime()) < w.incompleteWait:
		return nil, notSettled(j.path, w.now().Add(w.settle)) // its writer may not be done
	}
	rec := store.FileRecord{Size: info.Size(), ModTime: info.ModTime().UnixNano(), Hash: hash, RemotePath: remote}
	old, hasOld, err := w.records.File(j.path)
	if err != nil {
		return nil, failed(w.now(), j, store.FileRecord{}, err)
	}
	if hasOld && old.Missing != "" && old.RemotePath != "" && old.Hash == rec.Hash {
		// A check did not find it in Dropbox as it was sent: it goes again where it was.
		remote, key = old.RemotePath, w.owners.keep(j.path, key, layout.FoldKey(old.RemotePath))
		rec.RemotePath, rec.Repaired = remote, old.Missing
	} else if o, ok := w.known(j.path, key, rec, old, hasOld); ok {
		return nil, o
	}
	if large {
		return nil, w.sendLarge(ctx, j, full, info, rec, !whole)
	}
	c := commit{job: j, rec: rec, key: key, incomplete: !whole,
		c: dropbox.Commit{Size: rec.Size, Path: remote, ClientModified: info.ModTime()}}
	if w.upstream.Load() == 1 || j.urgent {
		// Alone, or just saved behind a backlog: past the packers and the committer's
		// batch, it waits only for Dropbox's commit lock.
		return nil, w.sendAlone(ctx, c, data)
	}
	// Small files go to a packer, which uploads many in one request, then to the committer.
	return &upload{commit: c, data: data}, outcome{}
}

// sendAlone sends a small file in one request instead of the three a batch takes: a
// document saved while all is quiet, or while a backlog is being sent.
func (w *worker) sendAlone(ctx context.Context, c commit, data []byte) outcome {
	f, err := w.remote.Upload(ctx, data, c.c)
	if err != nil {
		return failed(w.now(), c.job, c.rec, err)
	}
	rec := c.rec
	rec.RemotePath, rec.Rev, rec.SyncedAt = f.PathDisplay, f.Rev, w.now()
	return sent(c.path, rec, c.incomplete)
}

// stat looks at the file before it is read: a file that is gone or not a regular file is
// forgotten, and a missing export folder is a failure.
func (w *worker) stat(j job, full string) (fs.FileInfo, outcome, bool) {
	info, err := os.Lstat(full)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, rootErr := os.Stat(w.folder); rootErr != nil {
			return nil, failed(w.now(), j, store.FileRecord{}, fmt.Errorf("%w: %v", errFolderMissing, rootErr)), false
		}
		// Deleted or renamed since it was queued; Dropbox keeps its copy.
		return nil, done(store.Update{Path: j.path, Forget: true, Dequeue: true}), false
	case err != nil:
		return nil, failed(w.now(), j, store.FileRecord{}, &readError{j.path, err}), false
	case !info.Mode().IsRegular():
		return nil, done(store.Update{Path: j.path, Forget: true, Dequeue: true}), false
	}
	return info, outcome{}, true
}

// young reports a file changed less than the settle time ago (a clock set wrong by more
// than a minute does not count).
func (w *worker) young(info fs.FileInfo) bool {
	age := w.now().Sub(info.ModTime())
	return age < w.settle && age > -time.Minute
}

// exists reports whether a local file is still on disk (a file that is gone gives up its
// Dropbox path to another).
func (w *worker) exists(local string) bool {
	_, err := os.Lstat(osPath(filepath.Join(w.folder, filepath.FromSlash(local))))
	return err == nil
}

// known decides a file whose content Dropbox already has, so nothing is sent. old is its
// record, if it has one.
func (w *worker) known(path, key string, rec, old store.FileRecord, hasOld bool) (outcome, bool) {
	// Unchanged content already sent: record the new size/mtime. The file stays where it
	// was sent even if the connection's structure has changed since (only new and changed
	// documents follow a new structure), so it keeps its old path.
	if hasOld && old.Failure == "" && old.RemotePath != "" && old.Hash == rec.Hash {
		if oldKey := layout.FoldKey(old.RemotePath); oldKey != key {
			w.owners.keep(path, key, oldKey)
		}
		old.Size, old.ModTime = rec.Size, rec.ModTime
		return done(store.Update{Path: path, Record: &old, Dequeue: true}), true
	}
	// Initial copy: Dropbox already has this exact file (a reinstall, a re-added connection).
	if f, ok := w.index.get(key); ok && f.Hash == rec.Hash {
		now := w.now()
		rec.RemotePath, rec.Rev, rec.SyncedAt = f.PathDisplay, f.Rev, now
		return done(store.Update{Path: path, Record: &rec, Dequeue: true,
			Activity: store.Activity{Time: now, Kind: ActExisting, Path: path, RemotePath: f.PathDisplay}}), true
	}
	return outcome{}, false
}

// sendLarge streams a large file through its own upload session and commits it. The
// client commits only the version that was stat'ed and hashed here (info, rec.Hash): a file
// that changed while it was sent is not committed at all, and waits until it settles.
func (w *worker) sendLarge(ctx context.Context, j job, full string, info fs.FileInfo, rec store.FileRecord, incomplete bool) outcome {
	local := dropbox.LargeFile{LocalPath: full, Size: info.Size(), ModTime: info.ModTime(), Hash: rec.Hash}
	f, err := w.remote.UploadLarge(ctx, local, rec.RemotePath, func(n int64) { w.progress(j.path, n) })
	if errors.Is(err, dropbox.ErrLocalChanged) {
		return notSettled(j.path, w.now().Add(w.settle))
	}
	if err != nil {
		return failed(w.now(), j, rec, err)
	}
	if f.Hash != rec.Hash || changed(full, info) {
		// The client checked both before its commit; this is what changed after it, or
		// a Dropbox that answered with other content: read and send it again once it
		// holds still.
		return notSettled(j.path, w.now().Add(w.settle))
	}
	rec.RemotePath, rec.Rev, rec.SyncedAt = f.PathDisplay, f.Rev, w.now()
	return sent(j.path, rec, incomplete)
}

// complete reports whether the content of a document looks whole (layout.Complete): from
// data for a small file, from disk for a large one (data nil).
func complete(full, path string, data []byte, size int64) (bool, error) {
	if data != nil || size == 0 {
		return layout.Complete(path, bytes.NewReader(data), size)
	}
	return completeOnDisk(full, path)
}

// completeOnDisk is layout.Complete of the file at full, as it is now.
func completeOnDisk(full, path string) (bool, error) {
	f, err := openshared.Open(full)
	if err != nil {
		return false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, err
	}
	return layout.Complete(path, f, info.Size())
}

// read returns a small file's content and hash, or only the hash of a large one (streamed,
// never held in memory).
func read(full string, large bool) (data []byte, hash string, err error) {
	if large {
		f, err := openshared.Open(full)
		if err != nil {
			return nil, "", err
		}
		defer f.Close()
		hash, err = dropbox.ContentHash(f)
		return nil, hash, err
	}
	data, err = openshared.ReadFile(full)
	if err != nil {
		return nil, "", err
	}
	hash, _ = dropbox.ContentHash(bytes.NewReader(data)) // reading memory cannot fail
	return data, hash, nil
}

// changed reports whether a file no longer looks as info says.
func changed(full string, info fs.FileInfo) bool {
	now, err := os.Lstat(full)
	return err != nil || now.Size() != info.Size() || !now.ModTime().Equal(info.ModTime())
}

// owners remembers which local file holds each Dropbox path (by FoldKey), so two local
// files that Dropbox would see as one path both get kept. It is shared by the workers of
// one connection.
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
// kept, where it already is in Dropbox. It returns kept.
func (o *owners) keep(local, placed, kept string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byKey[placed] == local {
		delete(o.byKey, placed)
	}
	o.byKey[kept] = local
	return kept
}

// remoteIndex is what Dropbox held at the start of the initial copy, by FoldKey: the
// runner sets it when the listing arrives and clears it once the copy is done, while
// workers read it.
type remoteIndex struct {
	mu    sync.RWMutex
	files map[string]dropbox.File
}

func (x *remoteIndex) set(files []dropbox.File) {
	m := make(map[string]dropbox.File, len(files))
	for _, f := range files {
		m[layout.FoldKey(f.PathDisplay)] = f
	}
	x.mu.Lock()
	x.files = m
	x.mu.Unlock()
}

func (x *remoteIndex) get(key string) (dropbox.File, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	f, ok := x.files[key]
	return f, ok
}

func (x *remoteIndex) clear() {
	x.mu.Lock()
	x.files = nil
	x.mu.Unlock()
}
