package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/watcher"
)

// maxOnceAttempts is how often a one-shot run retries a file before leaving it queued for
// the next run.
const maxOnceAttempts = 5

// runner runs one connection. Its goroutine (serve) owns every field below the marked
// line; the stages get what they need when the pipeline starts and only share the fields
// above it, which are safe for concurrent use.
type runner struct {
	c      Conn
	opts   Options
	st     *store.Conn
	hub    *hub
	cancel context.CancelFunc
	done   chan struct{} // closed once the runner is unregistered
	ctl    *control
	// unreachable is signalled (Engine.Waiting) when the client waits because Dropbox
	// cannot be reached.
	unreachable chan struct{}
	owners      *owners
	index       *remoteIndex
	prog        progress
	// upstream counts files handed to workers that have not reached the committer yet.
	upstream atomic.Int64

	// Owned by serve's goroutine.
	facts
	q            *queue
	problems     *problems
	room         *room
	status       Status
	watcher      *watcher.Watcher // nil without Watch
	runStart     time.Time
	needList     bool              // the initial copy waits for a listing of Dropbox
	listing      <-chan listResult // the listing under way, nil if none
	listAt       time.Time         // when a failed listing is tried again
	listAttempts int
	holdUntil    time.Time
	indexed      bool   // owners and problems hold every record (see learn)
	watchWarning string // why live watching is degraded, from the watcher
	polling      bool   // changes are not reported here: the folder is scanned every PollInterval
	synced       uint64 // "sync now" requests carried out
	gaveUp       int
	checking     <-chan checkResult // the check under way, nil if none
	checkAt      time.Time          // when the next scheduled check is due
	checks       uint64             // "check now" requests taken
	checkAsked   bool               // a check was asked for and has not succeeded yet
	checkFull    bool               // the asked check lists Dropbox in full
}

func newRunner(e *Engine, c Conn, cancel context.CancelFunc) *runner {
	opts := e.opts
	if c.CheckEvery != 0 {
		opts.CheckEvery = c.CheckEvery
	}
	return &runner{
		c: c, opts: opts, st: e.store.Conn(c.ID), hub: e.hub, cancel: cancel,
		done: make(chan struct{}), ctl: newControl(c.Paused), unreachable: make(chan struct{}, 1),
		owners: &owners{byKey: map[string]string{}}, index: &remoteIndex{},
		facts: facts{paused: c.Paused}, q: newQueue(), problems: newProblems(), room: newRoom(), status: Status{ID: c.ID, Name: c.Name},
	}
}

func (r *runner) logf(format string, args ...any) {
	r.opts.Logf(r.c.Name+": "+format, args...)
}

// serve runs the connection until ctx ends: it loads what the store holds, starts
// watching, reconciles with the folder, starts the pipeline and runs the loop. Without
// Watch it returns once the queue is empty.
func (r *runner) serve(ctx context.Context) (err error) {
	g, ctx := errgroup.WithContext(ctx)
	defer func() {
		r.cancel()
		if werr := g.Wait(); err == nil {
			err = werr // a stage that crashed
		}
	}()
	r.setPhase(StateStarting)
	if err := r.load(); err != nil {
		return err
	}
	if r.opts.Watch {
		// Watch first, then scan: a change made after the watches are in place is
		// reported, so nothing falls between the startup scan and live watching.
		if err := r.watch(ctx, g); err != nil || ctx.Err() != nil {
			return err
		}
	}
	// Reconcile with the folder: whatever changed while the app was closed is queued.
	r.setPhase(StateScanning)
	if err := r.rescan(ctx, nil, false); err != nil {
		return err
	}
	r.needList = !r.status.InitialCopyDone
	r.setPhase(StateIdle)
	return r.loop(ctx, g, r.startPipeline(ctx, g))
}

// load reads the connection's bookkeeping and its queue. Which local file holds which
// Dropbox path is learnt from the records as the startup scan reads them (learn).
func (r *runner) load() error {
	meta, err := r.st.Meta()
	if err != nil {
		return err
	}
	r.status.InitialCopyDone, r.status.LastSync = meta.InitialCopyDone, meta.LastSync
	cs, err := r.st.CheckState()
	if err != nil {
		return err
	}
	r.status.Check = cs.Last
	if !cs.Since.IsZero() {
		r.checkAt = cs.Since.Add(r.opts.CheckEvery)
	}
	r.checkAsked, r.checkFull = r.opts.CheckAtStart, r.opts.CheckFull
	items, err := r.st.Queue()
	if err != nil {
		return err
	}
	r.q.load(items, r.opts.Watch)
	return nil
}

// learn learns from one record at start which Dropbox path its file holds, and whether it
// is a problem.
func (r *runner) learn(p string, rec store.FileRecord) {
	if rec.RemotePath != "" && rec.Failure == "" {
		r.owners.byKey[layout.FoldKey(rec.RemotePath)] = p
	}
	r.problems.note(store.Update{Path: p, Record: &rec})
}

// watch starts the watcher and waits until its watches are in place.
func (r *runner) watch(ctx context.Context, g *errgroup.Group) error {
	// A document complete by its content (a PDF with its %%EOF) need not wait the whole
	// settle time: a saved invoice goes out at once.
	isComplete := func(rel string) bool {
		ok, err := completeOnDisk(osPath(filepath.Join(r.c.Folder, filepath.FromSlash(rel))), rel)
		return err == nil && ok
	}
	w, err := watcher.New(r.c.Folder, watcher.Options{Ignore: r.c.Ignore, SettleDelay: r.opts.Settle, Complete: isComplete})
	if err != nil {
		return err
	}
	r.spawn(g, "watcher", func() error {
		w.Serve(ctx) // problems are reported through Status, never returned
		return nil
	})
	select {
	case <-w.Ready():
		r.watcher = w
	case <-ctx.Done():
	}
	return nil
}

// spawn runs fn in g under guard.
func (r *runner) spawn(g *errgroup.Group, what string, fn func() error) {
	g.Go(func() error { return r.guard(what, fn) })
}

// liveWorkers is how many workers take only live jobs.
const liveWorkers = 4

// pipeline is the runner's end of the stages: jobs go in, recorded outcomes come out.
type pipeline struct {
	// jobs and live are the runner's to send on, and to take back from on a pause (recall).
	jobs    chan job
	live    chan job // jobs saved while the app runs, which the workers take first
	results <-chan []outcome
}

// startPipeline starts the workers, the packers and the committer, each with only what it
// needs, connected by channels of typed values: job → upload → commit → outcome.
func (r *runner) startPipeline(ctx context.Context, g *errgroup.Group) pipeline {
	concurrency := r.opts.Concurrency
	if r.c.Concurrency > 0 {
		concurrency = r.c.Concurrency
	}
	// Up to two batches of files may be out at once: results come back only after their
	// commit, and the workers must keep uploading the next batch while the committer
	// commits one (with one batch, every upload waited for each commit to come back).
	// Files waiting here hold nothing but their path.
	jobs := make(chan job, 2*r.opts.BatchSize)
	// Few: a live job waits only for a free worker, never behind a batch of backlog jobs.
	live := make(chan job, concurrency)
	uploads := make(chan upload, concurrency)
	// A batch's worth: while the committer waits for a finish_batch_v2 (seconds, for 1,000
	// entries at Dropbox), the packers hand on what they uploaded and go on uploading,
	// instead of all waiting for it to take the next. Commits and outcomes hold no data.
	commits := make(chan commit, r.opts.BatchSize)
	decided := make(chan outcome, r.opts.BatchSize)
	results := make(chan []outcome, 1)

	w := &worker{folder: r.c.Folder, fsys: folderFS(r.c.Folder), layout: r.c.Layout, settle: r.opts.Settle,
		incompleteWait: r.opts.IncompleteWait, largeFile: r.opts.LargeFile, now: r.opts.Now, records: r.st, owners: r.owners, index: r.index,
		remote: r.c.Remote, progress: r.prog.set, upstream: &r.upstream}
	for range concurrency {
		r.spawn(g, "upload worker", func() error { return w.serve(ctx, live, jobs, uploads, decided) })
	}
	// Behind a backlog every worker can be waiting for the packers, which wait for the
	// committer, which waits for Dropbox's commit lock: a document saved now has workers
	// of its own (a nil channel is never ready).
	for range liveWorkers {
		r.spawn(g, "live upload worker", func() error { return w.serve(ctx, live, nil, uploads, decided) })
	}
	p := packer{remote: r.c.Remote, now: r.opts.Now, gathering: new(sync.Mutex), in: uploads, commits: commits, decided: decided}
	for range concurrency {
		r.spawn(g, "packer", func() error { return p.serve(ctx) })
	}
	c := committer{remote: r.c.Remote, st: r.st, batchSize: r.opts.BatchSize, idle: r.opts.BatchIdle,
		now: r.opts.Now, logf: r.logf, upstream: &r.upstream, commits: commits, decided: decided, out: results}
	r.spawn(g, "committer", func() error { return c.serve(ctx) })
	return pipeline{jobs: jobs, live: live, results: results}
}

// rescan walks subs (nil: the whole folder) and, in one store transaction, queues what
// changed, notes what cannot be read, and forgets the records of files that are gone
// (Dropbox keeps its copies: deletions are not propagated). With retry, every file that is
// not in Dropbox is tried again ("sync now").
func (r *runner) rescan(ctx context.Context, subs []string, retry bool) error {
	_, err := r.scan(ctx, subs, retry)
	return err
}

// scan is rescan, returning what it found changed. Each subtree is walked while its
// records are read from the store beside it (readRecords), and the two, both in path
// order, are merged as they come: neither all the files nor all the records are held.
func (r *runner) scan(ctx context.Context, subs []string, retry bool) ([]localFile, error) {
	var changed []localFile
	var gone []string
	var bad []unreadable
	for _, sub := range subsOrAll(subs) {
		next, stop := r.readRecords(sub)
		m := newMerge(next, sub == "", retry)
		err := walk(ctx, r.c.Folder, sub, r.c.Ignore, m.take)
		var d found
		if err == nil {
			d = m.finish()
		}
		if recErr := stop(); err == nil {
			err = recErr
		}
		switch {
		case errors.Is(err, errFolderMissing):
			r.folderErr = err
			r.logf("%v", err)
			return nil, nil
		case err != nil && ctx.Err() != nil:
			return nil, nil
		case err != nil:
			return nil, err
		}
		for _, u := range d.bad {
			r.logf("cannot read %s: %v", u.path, u.err)
		}
		if sub == "" && d.files == 0 && len(d.bad) == 0 && d.sent {
			r.folderErr = errFolderEmpty
			r.logf("%v", errFolderEmpty)
			return nil, nil
		}
		changed, gone, bad = append(changed, d.changed...), append(gone, d.gone...), append(bad, d.bad...)
	}
	r.folderErr = nil
	notes, err := r.unreadable(bad)
	if err != nil {
		return nil, err
	}
	return changed, r.record(changed, gone, notes, subs != nil)
}

// subsOrAll is subs, or the whole folder ("") for nil.
func subsOrAll(subs []string) []string {
	if subs == nil {
		return []string{""}
	}
	return subs
}

// recordsUnder hands keep the records of sub ("" for all: the file sub itself, or what lies
// in the folder sub) in path order. The startup scan also learns from them which file holds
// which Dropbox path (learn): one pass over 100,000 records, not two. It runs beside the
// runner's goroutine (readRecords), which waits for it before it touches what learn wrote.
func (r *runner) recordsUnder(sub string, keep func(known) error) error {
	each := func(p string, rec store.FileRecord) error { return keep(knownOf(p, rec)) }
	switch {
	case sub == "" && !r.indexed:
		if len(r.owners.byKey) == 0 {
			// Sized at once: grown by doubling, the map of 100,000 Dropbox paths was a
			// fifth of a restart's garbage.
			n, err := r.st.FilesLen()
			if err != nil {
				return err
			}
			r.owners.byKey = make(map[string]string, n)
		}
		err := r.st.Files("", func(p string, rec store.FileRecord) error {
			r.learn(p, rec)
			return each(p, rec)
		})
		r.indexed = err == nil
		return err
	case sub == "":
		return r.st.Files("", each)
	}
	if rec, ok, err := r.st.File(sub); err != nil {
		return err
	} else if ok {
		if err := each(sub, rec); err != nil {
			return err
		}
	}
	return r.st.Files(sub+"/", each)
}

// unreadable turns what a scan could not read into the records that say so, leaving out
// those already recorded as they are.
func (r *runner) unreadable(bad []unreadable) ([]store.Update, error) {
	var ups []store.Update
	for _, u := range bad {
		rec := store.FileRecord{Failure: readReason(u.err), Local: true, Dir: u.dir}
		old, ok, err := r.st.File(u.path)
		if err != nil {
			return nil, err
		}
		if ok && old.Failure == rec.Failure {
			continue
		}
		ups = append(ups, store.Update{Path: u.path, Record: &rec, Dequeue: true,
			Activity: store.Activity{Time: r.opts.Now(), Kind: ActFailed, Path: u.path, Message: rec.Failure}})
	}
	return ups, nil
}

// record stores a scan's findings in one transaction, then in the runner's view.
func (r *runner) record(changed []localFile, gone []string, notes []store.Update, live bool) error {
	if len(changed) == 0 && len(gone) == 0 && len(notes) == 0 {
		return nil
	}
	now := r.opts.Now()
	ups := make([]store.Update, 0, len(changed)+len(gone)+len(notes))
	for _, p := range gone {
		ups = append(ups, store.Update{Path: p, Forget: true})
	}
	for _, f := range changed {
		ups = append(ups, store.Update{Path: f.path, Enqueue: now})
	}
	ups = append(ups, notes...)
	if err := r.st.Apply(ups...); err != nil {
		return fmt.Errorf("queue %d files: %w", len(changed), err)
	}
	for _, u := range ups {
		r.problems.note(u)
	}
	for _, u := range notes {
		r.q.remove(u.Path)
	}
	if len(changed) > 0 && r.q.empty() {
		r.runStart = now
		r.status.Done, r.status.BytesDone = 0, 0
	}
	r.q.add(changed, live)
	return nil
}

// watchProblem reflects the watcher's state: a vanished export folder is the folder
// missing; a degraded watcher (the OS's watch limit, overflows) is a warning that says what
// to do, while the periodic rescan keeps changes flowing.
func (r *runner) watchProblem() {
	st := r.watcher.Status()
	r.watchWarning = ""
	switch {
	case st.Err == nil:
		if errors.Is(r.folderErr, watcher.ErrRootGone) {
			r.folderErr = nil
		}
	case errors.Is(st.Err, watcher.ErrRootGone):
		r.folderErr = st.Err
	default:
		r.watchWarning = explain(st.Err)
		r.logf("watching: %v", st.Err)
	}
}

// missedAfter is how old a change found by a periodic rescan must be for the watcher to
// have missed it, rather than still holding it back to settle.
func (r *runner) missedAfter() time.Duration { return 3*r.opts.Settle + 5*time.Second }

// noteMissed switches to polling once a periodic rescan finds changes the watcher did not
// report: the folder is on a network drive, or a system that sends no events for it.
func (r *runner) noteMissed(changed []localFile) {
	if r.watcher == nil || r.polling || !missed(changed, r.opts.Now(), r.missedAfter()) {
		return
	}
	r.polling = true
	r.logf("changes were not reported by the system; checking the folder every %v", r.opts.PollInterval)
}

// missed reports a change older than after: one the watcher should have reported by now.
func missed(changed []localFile, now time.Time, after time.Duration) bool {
	for _, f := range changed {
		if now.Sub(f.mtime) > after {
			return true
		}
	}
	return false
}

// explain gives the watcher's plain-language explanation of a problem when it has one.
func explain(err error) string {
	var we *watcher.Error
	if errors.As(err, &we) {
		return we.Explain()
	}
	return err.Error()
}

// rescanDelay is the periodic rescan interval with up to 10% jitter, so that connections
// started together do not scan together forever; a folder whose changes are not reported
// is polled, a missing folder is retried sooner, and a degraded watcher leans on the
// rescan more.
func (r *runner) rescanDelay() time.Duration {
	switch {
	case r.polling:
		return r.opts.PollInterval
	case r.folderErr != nil:
		return 30 * time.Second
	case r.watchWarning != "":
		return time.Minute
	}
	d := r.opts.RescanInterval
	return d - time.Duration(rand.Int64N(int64(d/10)+1))
}

// setPhase moves the runner through its life: starting, scanning, running (StateIdle).
func (r *runner) setPhase(p State) {
	r.phase = p
	r.publish()
}

// stopped publishes the runner's end, and why if it failed.
func (r *runner) stopped(err error) {
	r.phase, r.fatal = StateStopped, err
	r.publish()
}

// publish sends the current status to subscribers.
func (r *runner) publish() {
	s := &r.status
	f := r.facts
	f.listing, f.queued, f.inFlight, f.full = r.needList, len(r.q.entries), len(r.q.inFlight), r.full()
	s.State, s.Detail = f.state()
	s.Queued = len(r.q.entries)
	s.Total = s.Done + s.Queued
	s.BytesTotal = s.BytesDone + r.q.bytes
	s.Failed, s.Problems = r.problems.count(), r.problems.list()
	s.Checking = r.checking != nil
	s.Warning = r.watchWarning
	if r.polling {
		s.Warning = fmt.Sprintf("changes in this folder are not reported by the system (a network drive?), "+
			"so it is checked every %v", r.opts.PollInterval)
	}
	s.ETA = 0
	if !r.runStart.IsZero() {
		s.ETA = eta(r.opts.Now().Sub(r.runStart), s.BytesDone+r.prog.sum(), s.BytesTotal)
	}
	r.hub.publish(*s)
}

// isStop reports whether Dropbox holds the connection for the reason target.
func (r *runner) isStop(target error) bool { return errors.Is(r.stop, target) }
