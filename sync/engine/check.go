package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// The check of Dropbox (CmdCheck, and every Options.CheckEvery): does Dropbox still hold
// every document as it was sent? People touch a Dropbox: a folder deleted "because it was
// in the way", a PDF edited there, a shared folder moved. A document missing at its place
// or different there is sent again (one way: the export folder is the truth); a file in
// Dropbox that this connection did not send is counted and left alone, never deleted.
//
// The listing is mirrored into the store page by page (store.MirrorPage), so memory stays
// flat however many documents there are, and the next check asks Dropbox only for what
// changed since its cursor: a weekly check of an untouched Dropbox is a request or two. A
// full listing is made again every Options.FullCheckEvery, or when Dropbox reset the cursor.
//
// The check runs beside the loop like the first listing: commands, watcher batches and
// uploads go on meanwhile, and a document saved during the check never waits for it.

// Check is what the last check of Dropbox found.
type Check = store.CheckReport

// checkRetry is how long after a check that could not finish the next one is tried.
const checkRetry = time.Hour

// lister is what a check needs from Dropbox.
type lister interface {
	List(ctx context.Context, root, cursor string, page func([]dropbox.Entry) error) (string, error)
}

// checkResult is what a check brings back to the runner.
type checkResult struct {
	report store.CheckReport
	queued map[string]int64 // documents queued to be sent again, with their sizes
	err    error
}

// checker runs one check of a connection.
type checker struct {
	st        *store.Conn
	remote    lister
	now       func() time.Time
	fullEvery time.Duration
}

// startCheck runs a check beside the loop; its result arrives on r.checking.
func (r *runner) startCheck(ctx context.Context, g *errgroup.Group, full bool) error {
	// Changes made here and not sent yet are queued first, so they count as pending (a
	// one-shot run scanned the folder just before).
	if r.opts.Watch {
		if err := r.rescan(ctx, nil, false); err != nil {
			return err
		}
	}
	ch := make(chan checkResult, 1)
	r.checking = ch
	k := checker{st: r.st, remote: r.c.Remote, now: r.opts.Now, fullEvery: r.opts.FullCheckEvery}
	r.spawn(g, "Dropbox check", func() error {
		ch <- k.run(ctx, full)
		return nil
	})
	return nil
}

// checked takes a check's result: what it queued is sent again, and its report is shown.
func (r *runner) checked(res checkResult) error {
	r.checking = nil
	now := r.opts.Now()
	if res.err != nil {
		r.logf("check Dropbox: %v", res.err)
		r.status.CheckError = checkErrorText(res.err)
		if !r.opts.Watch {
			return fmt.Errorf("check Dropbox: %w", res.err)
		}
		// Tried again later, not at once: what failed may well fail again.
		r.checkAsked, r.checkAt = false, now.Add(checkRetry)
		return nil
	}
	r.checkAsked, r.checkFull = false, false
	r.status.Check, r.status.CheckError = &res.report, ""
	r.checkAt = res.report.At.Add(r.opts.CheckEvery)
	files := make([]localFile, 0, len(res.queued))
	for p, size := range res.queued {
		files = append(files, localFile{path: p, size: size})
	}
	r.q.add(files, false)
	r.logf("check Dropbox: %d documents, %d present, %d sent again, %d pending, %d problems, %d extra in Dropbox (%d requests)",
		res.report.Documents, res.report.Present, res.report.Repaired, res.report.Pending, res.report.Problems, res.report.Extra, res.report.Requests)
	return nil
}

// checkErrorText says in plain English why a check could not finish.
func checkErrorText(err error) string {
	switch {
	case dropbox.Decide(err, 0).Offline:
		return "Dropbox could not be reached"
	case dropbox.UserMessage(err) != "":
		return dropbox.UserMessage(err)
	}
	return err.Error()
}

// dueCheck starts a check when one is due: one asked for (as soon as Dropbox can be
// listed), or a scheduled one once nothing else waits to be sent. Otherwise it returns
// when the next scheduled check is due (zero: none to wait for).
func (r *runner) dueCheck(ctx context.Context, g *errgroup.Group) (time.Time, error) {
	if r.checking != nil || r.needList || !r.status.InitialCopyDone || r.paused || r.stop != nil || r.offline {
		return time.Time{}, nil
	}
	now := r.opts.Now()
	scheduled := r.opts.Watch && r.opts.CheckEvery > 0
	switch {
	case r.checkAsked, scheduled && !now.Before(r.checkAt) && r.q.empty():
		return time.Time{}, r.startCheck(ctx, g, r.checkFull)
	case scheduled && now.Before(r.checkAt):
		return r.checkAt, nil
	}
	return time.Time{}, nil
}

// checkWaits reports whether a one-shot run must wait for the check it was asked for:
// until it has run, unless Dropbox cannot be listed now.
func (r *runner) checkWaits() bool {
	return r.checkAsked && !r.opts.Watch && r.stop == nil && !r.offline && !r.paused
}

// run lists Dropbox (in full, or the changes since the last check), then judges every
// document the store has a record of against the mirror.
func (k checker) run(ctx context.Context, forceFull bool) checkResult {
	start := k.now()
	cs, err := k.st.CheckState()
	if err != nil {
		return checkResult{err: err}
	}
	rep := store.CheckReport{Full: forceFull || cs.Cursor == "" || start.Sub(cs.FullAt) >= k.fullEvery}
	cursor, err := k.list(ctx, rep.Full, cs.Cursor, &rep.Requests)
	if errors.Is(err, dropbox.ErrCursorReset) {
		rep.Full = true
		cursor, err = k.list(ctx, true, "", &rep.Requests)
	}
	if err != nil {
		return checkResult{err: err}
	}
	queued, err := k.judge(start, &rep)
	if err != nil {
		return checkResult{err: err}
	}
	rep.At = k.now()
	cs.Cursor, cs.Last, cs.Since = cursor, &rep, rep.At
	if rep.Full {
		cs.FullAt = rep.At
	}
	if err := k.st.SetCheckState(cs); err != nil {
		return checkResult{err: err}
	}
	return checkResult{report: rep, queued: queued}
}

// list mirrors the listing into the store page by page and returns the cursor for the
// next check. A full listing starts from an empty mirror.
func (k checker) list(ctx context.Context, full bool, cursor string, requests *int) (string, error) {
	if full {
		if err := k.st.StartFullCheck(); err != nil {
			return "", err
		}
		cursor = ""
	}
	return k.remote.List(ctx, "", cursor, func(page []dropbox.Entry) error {
		*requests++
		changes := make([]store.MirrorChange, 0, len(page))
		for _, e := range page {
			if e.Folder {
				continue // only files are documents; a deleted folder takes its files
			}
			c := store.MirrorChange{Key: layout.FoldKey(e.PathDisplay), Deleted: e.Deleted}
			if !e.Deleted {
				c.File = store.MirrorFile{Path: e.PathDisplay, Hash: e.Hash}
			}
			changes = append(changes, c)
		}
		return k.st.MirrorPage(changes)
	})
}

// judge compares every record with the mirror and records the verdicts: a document sent
// before the check started that is missing or different in Dropbox is queued to be sent
// again. It returns what it queued.
func (k checker) judge(start time.Time, rep *store.CheckReport) (map[string]int64, error) {
	verdicts := map[string]string{}
	sizes := map[string]int64{}
	matched, queuedRecords := 0, 0
	err := k.st.Judge(func(rec store.FileRecord) string { return layout.FoldKey(rec.RemotePath) }, func(j store.Judged) error {
		rep.Documents++
		if j.Remote != nil {
			matched++
		}
		if j.Queued {
			queuedRecords++
		}
		rec := j.Record
		switch {
		case rec.Failure != "":
			rep.Problems++
		case j.Queued || rec.RemotePath == "":
			rep.Pending++
		case !rec.SyncedAt.Before(start):
			rep.Present++ // sent while the check listed Dropbox: newer than the listing
		case j.Remote == nil:
			verdicts[j.Path], sizes[j.Path] = store.CheckMissing, rec.Size
		case j.Remote.Hash != rec.Hash:
			verdicts[j.Path], sizes[j.Path] = store.CheckDifferent, rec.Size
		default:
			rep.Present++
			if rec.Repaired != "" || rec.Missing != "" {
				verdicts[j.Path] = "" // in place again: its note of a repair ends
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	queue, err := k.st.QueueLen()
	if err != nil {
		return nil, err
	}
	rep.Pending += max(0, queue-queuedRecords) // new documents without a record yet
	mirrored, err := k.st.MirrorLen()
	if err != nil {
		return nil, err
	}
	rep.Extra = max(0, mirrored-matched)
	marked, err := k.st.Mark(k.now(), start, verdicts)
	if err != nil {
		return nil, err
	}
	queued := make(map[string]int64, len(marked))
	for _, p := range marked {
		queued[p] = sizes[p]
	}
	rep.Repaired = len(queued)
	for p, why := range verdicts {
		if _, ok := queued[p]; !ok && why != "" {
			rep.Present++ // sent while the check ran: newer than what it judged
		}
	}
	return queued, nil
}
