package engine

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// batchCommitter commits closed upload sessions, many files in one request.
type batchCommitter interface {
	Commit(ctx context.Context, commits []dropbox.Commit) ([]dropbox.Result, error)
}

// committer is the one goroutine per connection that writes outcomes: it commits uploaded
// sessions to Dropbox in batches (one finish_batch_v2 of up to batchSize files, when no
// other file is on its way or after idle without new files), records every outcome in the
// store in one transaction per flush, then tells the runner. Being the only writer of
// outcomes keeps "confirmed by Dropbox" and "recorded" one step apart, never interleaved.
type committer struct {
	remote    batchCommitter
	st        *store.Conn
	batchSize int
	idle      time.Duration
	now       func() time.Time
	logf      func(format string, args ...any)
	// upstream counts jobs out with workers and packers: when a file arrives and it drops
	// to zero, nothing else is on its way and waiting would only delay a lone document.
	upstream *atomic.Int64
	commits  <-chan commit
	decided  <-chan outcome
	out      chan<- []outcome
}

// maxRecommits is how often a batch entry Dropbox did not commit under load is committed
// again from its session before the file is sent anew (its session may have expired).
const maxRecommits = 10

func (c committer) serve(ctx context.Context) error {
	var batch, held []commit
	var decided []outcome
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	again := time.NewTimer(time.Hour)
	again.Stop()
	for {
		due := true
		select {
		case <-ctx.Done():
			// An uncommitted batch stays in the queue; its sessions expire at Dropbox.
			return nil
		case cm := <-c.commits:
			batch = append(batch, cm)
			// A document just saved does not wait for the batch to fill behind a backlog.
			due = c.arrived(len(batch), len(decided)) || cm.urgent
		case o := <-c.decided:
			decided = append(decided, o)
			due = c.arrived(len(batch), len(decided))
		case <-idle.C:
		case <-again.C:
			var later []commit
			now := c.now()
			for _, cm := range held {
				if now.Before(cm.recommitAt) {
					later = append(later, cm)
				} else {
					batch = append(batch, cm)
				}
			}
			held = later
		}
		if !due {
			idle.Reset(c.idle)
			continue
		}
		outcomes, recommit, err := c.flush(ctx, batch, decided)
		if err != nil {
			return err
		}
		batch, decided = nil, nil // the outcomes now belong to the runner
		held = append(held, recommit...)
		if next, ok := earliest(held); ok {
			again.Reset(max(time.Until(next), time.Millisecond))
		}
		if len(outcomes) > 0 && !send(ctx, c.out, outcomes) {
			return nil
		}
	}
}

// earliest is when the first held commit is due again.
func earliest(held []commit) (time.Time, bool) {
	if len(held) == 0 {
		return time.Time{}, false
	}
	t := held[0].recommitAt
	for _, cm := range held[1:] {
		if cm.recommitAt.Before(t) {
			t = cm.recommitAt
		}
	}
	return t, true
}

// arrived counts a file in and reports whether to flush now: the batch is full, or
// nothing else is on its way.
func (c committer) arrived(commits, decided int) bool {
	last := c.upstream.Add(-1) == 0
	return last || commits >= c.batchSize || decided >= c.batchSize
}

// flush commits the batch and records everything. The error is only for the store: a
// failing commit is an outcome of its files, not of the committer. recommit holds the
// entries to commit again later from their sessions.
func (c committer) flush(ctx context.Context, batch []commit, decided []outcome) (_ []outcome, recommit []commit, _ error) {
	for len(batch) > 0 {
		n := min(len(batch), c.batchSize)
		committed, again, ok := c.commit(ctx, batch[:n])
		if !ok {
			return nil, nil, nil // stopping: the batch stays queued
		}
		decided, recommit = append(decided, committed...), append(recommit, again...)
		batch = batch[n:]
	}
	var updates []store.Update
	for _, o := range decided {
		if o.update != nil {
			updates = append(updates, *o.update)
		}
	}
	if err := c.st.Apply(updates...); err != nil {
		return nil, nil, fmt.Errorf("record outcomes: %w", err)
	}
	return decided, recommit, nil
}

// commit sends one finish_batch_v2 and turns each entry into its file's outcome, or into a
// commit to make again from the same session: an entry Dropbox did not commit under load
// (its namespace lock is shared with the user's other apps, so our serial commits cannot
// prevent it) keeps its content at Dropbox, and sending the file again would only cost
// its bytes twice.
func (c committer) commit(ctx context.Context, batch []commit) ([]outcome, []commit, bool) {
	commits := make([]dropbox.Commit, len(batch))
	for i, cm := range batch {
		commits[i] = cm.c
	}
	entries, err := c.remote.Commit(ctx, commits)
	if ctx.Err() != nil {
		return nil, nil, false
	}
	now := c.now()
	var out []outcome
	var again []commit
	for i, cm := range batch {
		res := dropbox.Result{Err: err}
		if err == nil {
			res = entries[i]
		}
		if res.Err == nil && res.File.Hash != cm.rec.Hash {
			res.Err = &dropbox.Error{Kind: dropbox.KindRetryFile, Code: "content_hash_mismatch",
				Err: fmt.Errorf("dropbox stored %s, expected %s", res.File.Hash, cm.rec.Hash)}
		}
		switch {
		case dropbox.KindOf(res.Err) == dropbox.KindRecommit && cm.recommits < maxRecommits:
			cm.recommitAt = now.Add(dropbox.Decide(res.Err, cm.recommits).Wait)
			cm.recommits++
			again = append(again, cm)
		case res.Err != nil:
			out = append(out, failed(now, cm.job, cm.rec, res.Err))
		default:
			rec := cm.rec
			rec.RemotePath, rec.Rev, rec.SyncedAt = res.File.PathDisplay, res.File.Rev, now
			out = append(out, sent(cm.path, rec, cm.incomplete))
			if layout.FoldKey(rec.RemotePath) != cm.key {
				c.logf("Dropbox placed %s at %s", cm.path, rec.RemotePath)
			}
		}
	}
	return out, again, true
}
