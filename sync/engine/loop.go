package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// loop is the runner's life once started: it hands due files to the pipeline, and answers
// whatever comes first: outcomes, the listing, watcher batches, the periodic rescan and
// commands. Nothing in it waits on the network, so a command is answered at once.
func (r *runner) loop(ctx context.Context, g *errgroup.Group, p pipeline) error {
	var batches <-chan []string
	var watchStatus <-chan struct{}
	if r.watcher != nil {
		batches, watchStatus = r.watcher.Batches(), r.watcher.StatusChanged()
	}
	rescan := time.NewTimer(r.rescanDelay())
	defer rescan.Stop()
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for {
		next := r.due(ctx, g, p)
		if over, err := r.settled(); over || err != nil {
			return err
		}
		checkAt, err := r.dueCheck(ctx, g)
		if err != nil {
			return err
		}
		next = sooner(next, checkAt)
		r.publish()
		if !next.IsZero() {
			wake.Reset(max(time.Until(next), time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil
		case outs := <-p.results:
			r.handle(outs)
		case res := <-r.listing:
			err = r.listed(ctx, res)
		case res := <-r.checking:
			err = r.checked(res)
		case <-wake.C:
		case paths := <-batches:
			r.logf("changes reported: %v", paths)
			err = r.rescan(ctx, roots(paths), false)
		case <-watchStatus:
			r.watchProblem()
			rescan.Reset(r.rescanDelay())
		case <-rescan.C:
			var changed []localFile
			changed, err = r.scan(ctx, nil, false)
			r.noteMissed(changed)
			rescan.Reset(r.rescanDelay())
		case <-r.ctl.wake:
			err = r.command(ctx)
			if r.paused {
				r.recall(p)
			}
		case <-r.unreachable:
			r.offline = true // until something gets through again
		case res := <-r.room.asking:
			r.toldRoom(res)
		}
		if err != nil {
			return err
		}
	}
}

// sooner is the earlier of two times, zero meaning none.
func sooner(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// due starts what is due (the listing, files for the workers) and returns when the next
// waiting thing becomes due (zero if nothing waits on a time).
func (r *runner) due(ctx context.Context, g *errgroup.Group, p pipeline) time.Time {
	now := r.opts.Now()
	if r.needList {
		switch {
		case r.listing != nil || r.isStop(dropbox.ErrReconnect):
			return time.Time{}
		case now.Before(r.listAt):
			return r.listAt
		}
		r.list(ctx, g)
		return time.Time{}
	}
	if r.paused || r.isStop(dropbox.ErrReconnect) {
		return time.Time{}
	}
	if now.Before(r.holdUntil) {
		return r.holdUntil
	}
	if r.room.want && r.room.asking == nil {
		r.askRoom(ctx, g)
	}
	if r.room.known && !now.Before(r.room.until) {
		r.forgetRoom() // try what did not fit again
	}
	next := r.q.dispatch(now, r.room.fits, func(p string) { r.room.back(p, false) }, func(j job) bool {
		// Counted before the send: the worker may look at the count before this goroutine
		// runs again.
		r.upstream.Add(1)
		jobs := p.jobs
		if j.live {
			jobs = p.live
		}
		select {
		case jobs <- j:
			return true
		default:
			r.upstream.Add(-1)
			return false
		}
	})
	if r.room.known && len(r.room.waiting) > 0 {
		next = sooner(next, r.room.until)
	}
	return next
}

// handle applies the outcomes the committer recorded.
func (r *runner) handle(outs []outcome) {
	for _, o := range outs {
		r.prog.forget(o.path)
		r.room.back(o.path, o.uploaded)
		if o.update != nil {
			r.problems.note(*o.update)
		}
		if e := r.q.back(o.path); e != nil {
			r.apply(o, e)
		}
		r.q.requeueChanged(o.path)
	}
}

// apply moves one file on in the queue as its outcome says.
func (r *runner) apply(o outcome, e *entry) {
	switch o.kind {
	case outDone:
		r.q.remove(o.path)
		r.status.Done++
		r.status.BytesDone += o.bytes
		if o.uploaded {
			r.offline = false
			r.lift() // Dropbox takes files again
		}
	case outRetry:
		e.attempts++
		e.tries++
		e.notBefore = o.retryAt
		r.offline = r.offline || o.offline
		if errors.Is(o.err, errFolderMissing) {
			r.folderErr = o.err
		}
		r.logf("%s: %v (attempt %d)", o.path, o.err, e.attempts)
		if !r.opts.Watch && e.tries >= maxOnceAttempts {
			r.q.remove(o.path) // stays in the store for the next run
			r.gaveUp++
			return
		}
		r.q.wait(o.path)
	case outChanged:
		e.notBefore = o.retryAt
		r.q.wait(o.path)
	case outStop:
		r.q.wait(o.path)
		r.logf("%s: %v", o.path, o.err)
		if errors.Is(o.stop, dropbox.ErrNoSpace) {
			// Only this file waits; what is smaller may still fit.
			r.room.noFit(o.path, e.size)
			r.problems.set(o.path, reasonText("room.full"))
			return
		}
		r.hold(o.stop, o.err, o.retryAt)
	}
}

// hold stops sending because Dropbox said why (a Verdict's Stop, for err) until retryAt;
// a revoked connection waits for the user instead.
func (r *runner) hold(stop, err error, retryAt time.Time) {
	r.stop, r.stopDetail = stop, dropbox.UserMessage(err)
	if !errors.Is(stop, dropbox.ErrReconnect) {
		r.holdUntil = retryAt
	}
}

// lift ends a hold Dropbox has lifted (or the user asks to try again); a revoked
// connection stays stopped until it is connected again.
func (r *runner) lift() {
	if r.stop != nil && !r.isStop(dropbox.ErrReconnect) {
		r.stop, r.stopDetail, r.holdUntil = nil, "", time.Time{}
	}
}

// settled notes the end of a run (the first one completes the initial copy) and reports
// whether a one-shot run is over, with its error: a one-shot run succeeds only when every
// document is in Dropbox.
func (r *runner) settled() (over bool, err error) {
	if !r.opts.Watch && len(r.q.inFlight) == 0 && r.stop != nil {
		return true, r.stop
	}
	if full := r.full(); !r.opts.Watch && full != "" {
		return true, fmt.Errorf("%w: %s", dropbox.ErrNoSpace, full)
	}
	if !r.q.empty() || r.needList || r.checking != nil || r.checkWaits() {
		return false, nil
	}
	if r.folderErr == nil {
		r.lift() // nothing is left waiting for Dropbox
		if err := r.finishRun(); err != nil {
			return true, err
		}
	}
	switch {
	case r.opts.Watch:
		return false, nil
	case r.folderErr != nil:
		return true, r.folderErr
	case r.gaveUp > 0:
		return true, fmt.Errorf("%d files could not be sent and stay queued for the next run", r.gaveUp)
	case r.checkAsked && r.paused:
		return true, errors.New("the connection is paused: resume it, then check again")
	case r.checkAsked:
		return true, errors.New("Dropbox cannot be reached now: check the internet connection, then check again")
	}
	return true, r.problems.err()
}

// finishRun records that everything queued was handled: the first time, the initial copy
// is complete.
func (r *runner) finishRun() error {
	if !r.status.LastSync.IsZero() && r.status.Done == 0 && r.status.InitialCopyDone {
		return nil
	}
	now := r.opts.Now()
	first := !r.status.InitialCopyDone
	r.status.InitialCopyDone, r.status.LastSync = true, now
	if err := r.st.SetMeta(store.Meta{InitialCopyDone: true, LastSync: now}); err != nil {
		return err
	}
	if first {
		r.index.clear() // not needed again
		// What was just sent was confirmed file by file: the first check is due one
		// CheckEvery from now.
		if err := r.st.SetCheckState(store.CheckState{Since: now}); err != nil {
			return err
		}
		r.checkAt = now.Add(r.opts.CheckEvery)
	}
	r.status.Done, r.status.BytesDone = 0, 0
	return nil
}

// recall takes back the jobs no worker has taken yet: a pause lets finish only what is
// already being read or sent, not the two batches' worth of files that may be waiting.
func (r *runner) recall(p pipeline) {
	var back []string
	for {
		var j job
		select {
		case j = <-p.live:
		case j = <-p.jobs:
		default:
			r.q.takeBack(back)
			return
		}
		r.upstream.Add(-1) // it never reaches the committer
		r.room.back(j.path, false)
		back = append(back, j.path)
	}
}

// command brings the runner to what the user last asked: paused or not, and a "sync now"
// (lift the holds, retry everything waiting or refused, rescan) for each request not yet
// carried out.
func (r *runner) command(ctx context.Context) error {
	paused, syncs, checks := r.ctl.desired()
	r.paused = paused
	if checks != r.checks {
		r.checks, r.checkAsked = checks, true
	}
	if syncs == r.synced {
		return nil
	}
	r.synced = syncs
	r.holdUntil, r.listAt = time.Time{}, time.Time{}
	r.lift()
	r.forgetRoom()
	r.q.retryNow()
	return r.rescan(ctx, nil, true)
}
