package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/watcher"
)

// ErrNeedsReconnect ends a one-shot run whose Dropbox access was revoked.
var ErrNeedsReconnect = errors.New("Dropbox access was revoked or has expired: connect this Dropbox again")

// ErrDropboxFull ends a one-shot run that stopped on a full Dropbox.
var ErrDropboxFull = errors.New("the Dropbox is full: free up space or upgrade, then sync again")

// maxOnceAttempts is how often a one-shot run retries a file before leaving it queued for
// the next run.
const maxOnceAttempts = 5

// fullRetry is how long a connection waits after Dropbox said it is full.
const fullRetry = 15 * time.Minute

// job is a queued file handed to a worker, with what the runner knows of it.
type job struct {
	path     string
	attempts int
}

// entry is the runner's view of a queued file.
type entry struct {
	attempts  int
	notBefore time.Time
	size      int64
}

// runner runs one connection. serve's goroutine owns every field below the marked line;
// workers and the committer only touch the shared ones above it.
type runner struct {
	e       *Engine
	c       Conn
	st      *store.Conn
	fsys    fs.FS
	cancel  context.CancelFunc
	stopped chan struct{}
	cmds    chan Command
	owners  *owners
	// remoteIndex is what Dropbox had at the start of the initial copy, by FoldKey. It is
	// written before the workers start and only read after.
	remoteIndex map[string]dropbox.File

	watcher *watcher.Watcher // nil without Watch

	// upstream counts files handed to workers that have not reached the committer yet:
	// when it is zero the committer has everything there is and need not wait for more.
	upstream atomic.Int64

	progMu sync.Mutex
	prog   map[string]int64 // bytes confirmed of large files in flight

	// Owned by serve's goroutine.
	queue       map[string]*entry
	ready       []string
	inFlight    map[string]bool
	again       map[string]bool // changed while in flight: queue again when it comes back
	status      Status
	runStart    time.Time
	bytesQueued int64
	phase       State // StateStarting, StateScanning, StateIdle (running) or StateStopped
	fatal       error // why serve returned, if it failed
	problem     error // a failure that is neither offline nor a stop (e.g. listing refused)
	paused      bool
	blocked     State // StateNeedsReconnect or StateDropboxFull while stopped by Dropbox
	holdUntil   time.Time
	offline     bool
	folderErr   error
	gaveUp      int
}

func newRunner(e *Engine, c Conn, cancel context.CancelFunc) *runner {
	return &runner{
		e: e, c: c, st: e.store.Conn(c.ID), fsys: os.DirFS(c.Folder), cancel: cancel,
		stopped: make(chan struct{}), cmds: make(chan Command, 1),
		owners: &owners{byKey: map[string]string{}}, prog: map[string]int64{},
		queue: map[string]*entry{}, inFlight: map[string]bool{}, again: map[string]bool{},
		status: Status{ID: c.ID, Name: c.Name}, paused: c.Paused,
	}
}

func (r *runner) logf(format string, args ...any) {
	r.e.opts.Logf(r.c.Name+": "+format, args...)
}

// serve runs the connection until ctx ends; without Watch it returns once the queue is
// empty.
func (r *runner) serve(ctx context.Context) (err error) {
	defer func() {
		r.phase, r.fatal = StateStopped, err
		r.publish()
	}()
	r.setPhase(StateStarting)

	meta, err := r.st.Meta()
	if err != nil {
		return err
	}
	r.status.InitialCopyDone, r.status.LastSync = meta.InitialCopyDone, meta.LastSync
	items, err := r.st.Queue()
	if err != nil {
		return err
	}
	for _, it := range items {
		r.queue[it.Path] = &entry{attempts: it.Attempts}
		r.ready = append(r.ready, it.Path)
	}
	err = r.st.Files("", func(p string, rec store.FileRecord) error {
		if rec.RemotePath != "" && rec.Failure == "" {
			r.owners.byKey[layout.FoldKey(rec.RemotePath)] = p
		}
		return nil
	})
	if err != nil {
		return err
	}

	// Watch first, then scan: a change made after the watches are in place is reported,
	// so nothing falls between the startup scan and live watching.
	var batches <-chan []string
	var watchStatus <-chan struct{}
	if r.e.opts.Watch {
		w, err := watcher.New(r.c.Folder, watcher.Options{Ignore: r.c.Ignore, SettleDelay: r.e.opts.Settle})
		if err != nil {
			return err
		}
		wctx, wcancel := context.WithCancel(ctx)
		wdone := make(chan struct{})
		go func() {
			defer close(wdone)
			w.Serve(wctx) // problems are reported through Status, never returned
		}()
		defer func() { wcancel(); <-wdone }()
		select {
		case <-w.Ready():
		case <-ctx.Done():
			return nil
		}
		batches, watchStatus = w.Batches(), w.StatusChanged()
		r.watcher = w
	}

	// Reconcile with the folder: whatever changed while the app was closed is queued.
	r.setPhase(StateScanning)
	if err := r.rescan(ctx, ""); err != nil {
		return err
	}
	if !meta.InitialCopyDone {
		if err := r.listRemote(ctx); err != nil {
			return err
		}
	}
	r.setPhase(StateIdle)

	g, gctx := errgroup.WithContext(ctx)
	// Up to a batch of files may be out at once: results come back only after their
	// commit, and the workers must keep uploading while the committer gathers a batch.
	// Files waiting here hold nothing but their path.
	jobs := make(chan job, r.e.opts.BatchSize)
	concurrency := r.e.opts.Concurrency
	if r.c.Concurrency > 0 {
		concurrency = r.c.Concurrency
	}
	prep := make(chan prepared, concurrency)
	packIn := make(chan prepared, concurrency)
	results := make(chan []result, 1)
	for range concurrency {
		g.Go(func() error {
			w := worker{r: r}
			for {
				select {
				case <-gctx.Done():
					return nil
				case j := <-jobs:
					p := w.prepare(gctx, j.path, j.attempts)
					dst := prep
					if p.needsUpload() {
						dst = packIn
					}
					select {
					case dst <- p:
					case <-gctx.Done():
						return nil
					}
				}
			}
		})
	}
	for range packers(concurrency) {
		g.Go(func() error { return packer{r: r, in: packIn, out: prep}.serve(gctx) })
	}
	g.Go(func() error { return committer{r: r, in: prep, out: results}.serve(gctx) })
	defer func() {
		r.cancel()
		if werr := g.Wait(); err == nil {
			err = werr
		}
	}()

	rescan := time.NewTimer(r.rescanDelay())
	defer rescan.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for {
		next := r.dispatch(jobs)
		if err := r.drainedCheck(); err != nil || (!r.e.opts.Watch && r.idle()) {
			return err
		}
		r.publish()
		if !next.IsZero() {
			wake.Reset(max(time.Until(next), time.Millisecond))
		}
		select {
		case <-gctx.Done():
			return nil
		case rs := <-results:
			r.handle(rs)
		case <-wake.C:
		case paths := <-batches:
			if err := r.rescanPaths(gctx, paths); err != nil {
				return err
			}
		case <-watchStatus:
			r.watchProblem()
			rescan.Reset(r.rescanDelay())
		case <-rescan.C:
			if err := r.rescan(gctx, ""); err != nil {
				return err
			}
			rescan.Reset(r.rescanDelay())
		case cmd := <-r.cmds:
			if err := r.command(gctx, cmd); err != nil {
				return err
			}
		}
	}
}

// rescanDelay is the periodic rescan interval with up to 10% jitter, so that connections
// started together do not scan together forever; a missing folder is retried sooner, and
// a degraded watcher leans on the rescan more.
func (r *runner) rescanDelay() time.Duration {
	if r.folderErr != nil {
		return 30 * time.Second
	}
	if r.status.Warning != "" {
		return time.Minute
	}
	d := r.e.opts.RescanInterval
	return d - time.Duration(rand.Int64N(int64(d/10)+1))
}

// listRemote asks Dropbox once what is already there, so an initial copy does not send
// again what a previous install sent.
func (r *runner) listRemote(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		files, err := r.c.Remote.ListFiles(ctx, "")
		if err == nil {
			r.remoteIndex = make(map[string]dropbox.File, len(files))
			for _, f := range files {
				r.remoteIndex[layout.FoldKey(f.PathDisplay)] = f
			}
			r.offline, r.problem = false, nil
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		switch dropbox.KindOf(err) {
		case dropbox.KindReconnect:
			r.blocked = StateNeedsReconnect
			r.publish()
			if !r.e.opts.Watch {
				return ErrNeedsReconnect
			}
			<-ctx.Done() // the app restarts the connection after a reconnect
			return nil
		case dropbox.KindTransient, dropbox.KindRateLimited:
			r.offline = true
		default:
			r.problem = fmt.Errorf("list what Dropbox already has: %w", err)
		}
		r.publish()
		r.logf("list Dropbox: %v", err)
		if !r.e.opts.Watch && attempt >= maxOnceAttempts {
			return fmt.Errorf("list Dropbox: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retryBackoff(attempt)):
		}
	}
}

// rescan walks sub ("" for everything) and queues what changed; records of files that are
// gone are dropped (Dropbox keeps its copies: deletions are not propagated).
func (r *runner) rescan(ctx context.Context, sub string) error {
	files, err := walk(ctx, r.c.Folder, sub, r.c.Ignore, func(rel string, err error) {
		r.logf("skip %s: %v", rel, err)
	})
	if errors.Is(err, errFolderMissing) {
		r.folderErr = err
		r.logf("%v", err)
		return nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	r.folderErr = nil
	records := map[string]store.FileRecord{}
	prefix := ""
	if sub != "" && sub != "." {
		prefix = sub
	}
	if err := r.st.Files(prefix, func(p string, rec store.FileRecord) error {
		records[p] = rec
		return nil
	}); err != nil {
		return err
	}
	changed, gone := diff(files, records, sub)
	if len(gone) > 0 {
		ups := make([]store.Update, len(gone))
		for i, p := range gone {
			ups[i] = store.Update{Path: p, Forget: true}
		}
		if err := r.st.Apply(ups...); err != nil {
			return err
		}
	}
	return r.enqueue(changed)
}

// rescanPaths rescans what the watcher reported: "." is everything, other paths are files
// or folders whose state the scan decides (changed, new, gone).
func (r *runner) rescanPaths(ctx context.Context, paths []string) error {
	r.logf("changes reported: %v", paths)
	for _, p := range paths {
		if p == "." {
			return r.rescan(ctx, "")
		}
	}
	for _, p := range paths {
		if err := r.rescan(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// watchProblem reflects the watcher's state: a vanished export folder is the folder
// missing; a degraded watcher (the OS's watch limit, overflows) is a warning that says what
// to do, while the periodic rescan keeps changes flowing.
func (r *runner) watchProblem() {
	st := r.watcher.Status()
	r.status.Warning = ""
	switch {
	case st.Err == nil:
		if errors.Is(r.folderErr, watcher.ErrRootGone) {
			r.folderErr = nil
		}
	case errors.Is(st.Err, watcher.ErrRootGone):
		r.folderErr = st.Err
	default:
		r.status.Warning = explain(st.Err)
		r.logf("watching: %v", st.Err)
	}
}

// explain gives the watcher's plain-language explanation of a problem when it has one.
func explain(err error) string {
	var we *watcher.Error
	if errors.As(err, &we) {
		return we.Explain()
	}
	return err.Error()
}

// enqueue records changed files in the store's queue, then in the runner's view of it.
func (r *runner) enqueue(files []localFile) error {
	if len(files) == 0 {
		return nil
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.path
	}
	if err := r.st.Enqueue(r.e.opts.Now(), paths...); err != nil {
		return fmt.Errorf("queue %d files: %w", len(files), err)
	}
	if len(r.queue) == 0 && len(r.inFlight) == 0 {
		r.startRun()
	}
	for _, f := range files {
		if e, ok := r.queue[f.path]; ok {
			if r.inFlight[f.path] {
				r.again[f.path] = true
			}
			e.notBefore = time.Time{}
			r.bytesQueued += f.size - e.size
			e.size = f.size
			continue
		}
		r.queue[f.path] = &entry{size: f.size}
		r.bytesQueued += f.size
		r.ready = append(r.ready, f.path)
	}
	return nil
}

func (r *runner) startRun() {
	r.runStart = r.e.opts.Now()
	r.status.Done, r.status.BytesDone = 0, 0
}

// dispatch hands due files to the workers while they are free, and returns when the
// earliest waiting file becomes due (zero if none waits).
func (r *runner) dispatch(jobs chan<- job) (next time.Time) {
	if r.paused || r.blocked == StateNeedsReconnect {
		return time.Time{}
	}
	now := r.e.opts.Now()
	if now.Before(r.holdUntil) {
		return r.holdUntil
	}
	var later []string
	i := 0
	for ; i < len(r.ready); i++ {
		p := r.ready[i]
		e, ok := r.queue[p]
		if !ok || r.inFlight[p] {
			continue // done meanwhile, or already out
		}
		if now.Before(e.notBefore) {
			later = append(later, p)
			if next.IsZero() || e.notBefore.Before(next) {
				next = e.notBefore
			}
			continue
		}
		sent := false
		select {
		case jobs <- job{path: p, attempts: e.attempts}:
			sent = true
			r.upstream.Add(1)
		default:
		}
		if !sent {
			break
		}
		r.inFlight[p] = true
	}
	r.ready = append(later, r.ready[i:]...)
	return next
}

// handle applies the outcomes the committer recorded.
func (r *runner) handle(rs []result) {
	now := r.e.opts.Now()
	for _, res := range rs {
		delete(r.inFlight, res.path)
		r.progMu.Lock()
		delete(r.prog, res.path)
		r.progMu.Unlock()
		e := r.queue[res.path]
		if e == nil {
			continue
		}
		switch res.outcome {
		case outDone:
			delete(r.queue, res.path)
			r.bytesQueued -= e.size
			r.status.Done++
			r.status.BytesDone += res.bytes
			if res.failed {
				r.status.Failed++
			}
			if res.uploaded {
				r.offline = false
			}
		case outRetry:
			e.attempts++
			e.notBefore = res.retryAt
			if k := dropbox.KindOf(res.err); k == dropbox.KindTransient || k == dropbox.KindRateLimited {
				r.offline = true
			}
			if errors.Is(res.err, errFolderMissing) {
				r.folderErr = res.err
			}
			r.logf("%s: %v (attempt %d)", res.path, res.err, e.attempts)
			if !r.e.opts.Watch && e.attempts >= maxOnceAttempts {
				delete(r.queue, res.path) // stays in the store for the next run
				r.bytesQueued -= e.size
				r.gaveUp++
				continue
			}
			r.ready = append(r.ready, res.path)
		case outChanged:
			e.notBefore = res.retryAt
			r.ready = append(r.ready, res.path)
		case outStop:
			r.ready = append(r.ready, res.path)
			if errors.Is(res.err, dropbox.ErrReconnect) {
				r.blocked = StateNeedsReconnect
			} else {
				r.blocked = StateDropboxFull
				r.holdUntil = now.Add(fullRetry)
			}
			r.logf("%s: %v", res.path, res.err)
		}
		if r.again[res.path] {
			delete(r.again, res.path)
			if _, ok := r.queue[res.path]; !ok {
				r.queue[res.path] = &entry{}
				r.ready = append(r.ready, res.path)
			}
		}
	}
}

// idle reports an empty queue with nothing in flight.
func (r *runner) idle() bool { return len(r.queue) == 0 && len(r.inFlight) == 0 }

// drainedCheck notes the end of a run (the first one completes the initial copy) and, for
// one-shot runs, turns a stop by Dropbox into the run's error.
func (r *runner) drainedCheck() error {
	if !r.e.opts.Watch && len(r.inFlight) == 0 {
		switch {
		case r.blocked == StateNeedsReconnect:
			return ErrNeedsReconnect
		case r.blocked == StateDropboxFull:
			return ErrDropboxFull
		}
	}
	if !r.idle() || r.folderErr != nil {
		return nil
	}
	if r.blocked == StateDropboxFull {
		r.blocked = 0
	}
	now := r.e.opts.Now()
	if r.status.LastSync.IsZero() || r.status.Done > 0 || !r.status.InitialCopyDone {
		first := !r.status.InitialCopyDone
		r.status.InitialCopyDone, r.status.LastSync = true, now
		if err := r.st.SetMeta(store.Meta{InitialCopyDone: true, LastSync: now}); err != nil {
			return err
		}
		if first {
			r.remoteIndex = nil // workers are idle; the index is not needed again
		}
		r.status.Done, r.status.BytesDone = 0, 0
	}
	if !r.e.opts.Watch && r.gaveUp > 0 {
		return fmt.Errorf("%d files could not be sent and stay queued for the next run", r.gaveUp)
	}
	return nil
}

// command carries out a user's order.
func (r *runner) command(ctx context.Context, cmd Command) error {
	switch cmd {
	case CmdPause:
		r.paused = true
	case CmdResume:
		r.paused = false
	case CmdSyncNow, CmdRescan:
		r.holdUntil = time.Time{}
		if r.blocked == StateDropboxFull {
			r.blocked = 0
		}
		for _, e := range r.queue {
			e.notBefore = time.Time{}
		}
		return r.rescan(ctx, "")
	}
	return nil
}

// progress is called by workers as a large file's bytes are confirmed.
func (r *runner) progress(path string, n int64) {
	r.progMu.Lock()
	r.prog[path] = n
	r.progMu.Unlock()
}

// setPhase moves the runner through its life: starting, scanning, running (StateIdle),
// stopped.
func (r *runner) setPhase(p State) {
	r.phase = p
	r.publish()
}

// state derives what the user sees from the runner's facts, most pressing first; detail
// says why in plain English.
func (r *runner) state() (State, string) {
	switch {
	case r.phase == StateStopped && r.fatal != nil:
		return StateError, r.fatal.Error()
	case r.phase == StateStopped || r.phase == StateStarting:
		return r.phase, ""
	case r.paused:
		return StatePaused, ""
	case r.blocked == StateNeedsReconnect:
		return StateNeedsReconnect, ErrNeedsReconnect.Error()
	case r.blocked == StateDropboxFull:
		return StateDropboxFull, ErrDropboxFull.Error()
	case r.folderErr != nil:
		return StateFolderMissing, r.folderErr.Error()
	case r.problem != nil:
		return StateError, r.problem.Error()
	case r.phase == StateScanning:
		return StateScanning, ""
	case r.offline && len(r.queue) > 0:
		return StateOffline, "Dropbox cannot be reached; retrying by itself"
	case len(r.queue) > 0 || len(r.inFlight) > 0:
		return StateUploading, ""
	}
	return StateIdle, ""
}

// publish sends the current status to subscribers.
func (r *runner) publish() {
	s := &r.status
	s.State, s.Detail = r.state()
	s.Queued = len(r.queue)
	s.Total = s.Done + len(r.queue)
	r.progMu.Lock()
	var inflight int64
	for _, n := range r.prog {
		inflight += n
	}
	r.progMu.Unlock()
	s.BytesTotal = s.BytesDone + r.bytesQueued
	s.ETA = 0
	if done := s.BytesDone + inflight; done > 0 && !r.runStart.IsZero() && s.BytesTotal > done {
		elapsed := r.e.opts.Now().Sub(r.runStart)
		s.ETA = time.Duration(float64(elapsed) * float64(s.BytesTotal-done) / float64(done)).Round(time.Second)
	}
	r.e.hub.publish(*s)
}
