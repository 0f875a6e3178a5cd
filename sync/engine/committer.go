package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// committer is the one goroutine per connection that writes outcomes: it commits uploaded
// sessions to Dropbox in batches (one finish_batch_v2 of up to BatchSize files, when no
// other file is on its way or after BatchIdle without new files) and records every outcome in the store in one transaction
// per flush, then tells the runner. Being the only writer of outcomes keeps "confirmed by
// Dropbox" and "recorded" one step apart, never interleaved.
type committer struct {
	r   *runner
	in  <-chan prepared
	out chan<- []result
}

func (c committer) serve(ctx context.Context) error {
	opts := c.r.e.opts
	var batch, immediate []prepared
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	flush := func() error {
		if len(batch) == 0 && len(immediate) == 0 {
			return nil
		}
		results, err := c.flush(ctx, batch, immediate)
		batch, immediate = batch[:0], immediate[:0]
		if err != nil {
			return err
		}
		select {
		case c.out <- results:
		case <-ctx.Done():
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			// An uncommitted batch stays in the queue; its sessions expire at Dropbox.
			return nil
		case p, ok := <-c.in:
			if !ok {
				return flush()
			}
			if p.commit != nil {
				batch = append(batch, p)
			} else {
				immediate = append(immediate, p)
			}
			// Commit at once when the batch is full, or when nothing else is on its way:
			// waiting BatchIdle then would only delay a lone document.
			last := c.r.upstream.Add(-1) == 0
			if len(batch) >= opts.BatchSize || len(immediate) >= opts.BatchSize || last {
				if err := flush(); err != nil {
					return err
				}
				continue
			}
			idle.Reset(opts.BatchIdle)
		case <-idle.C:
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// flush commits the batch and records everything. The error is only for the store: a
// failing commit is an outcome of its files, not of the committer.
func (c committer) flush(ctx context.Context, batch, immediate []prepared) ([]result, error) {
	now := c.r.e.opts.Now()
	var updates []store.Update
	var results []result
	for _, p := range immediate {
		if p.update != nil {
			updates = append(updates, *p.update)
		}
		results = append(results, p.res)
	}
	if len(batch) > 0 {
		commits := make([]dropbox.Commit, len(batch))
		for i, p := range batch {
			commits[i] = *p.commit
		}
		entries, err := c.r.c.Remote.Commit(ctx, commits)
		if ctx.Err() != nil {
			return nil, nil // stopping: the batch stays queued
		}
		for i, p := range batch {
			var res dropbox.Result
			if err != nil {
				res.Err = err
			} else {
				res = entries[i]
			}
			if res.Err == nil && res.File.Hash != p.rec.Hash {
				res.Err = &dropbox.Error{Kind: dropbox.KindRetryFile, Code: "content_hash_mismatch",
					Err: fmt.Errorf("dropbox stored %s, expected %s", res.File.Hash, p.rec.Hash)}
			}
			if res.Err != nil {
				u, r := outcomeFor(now, p.path, p.attempts, p.rec, res.Err)
				if u != nil {
					updates = append(updates, *u)
				}
				results = append(results, r)
				continue
			}
			rec := p.rec
			rec.RemotePath, rec.Rev, rec.SyncedAt = res.File.PathDisplay, res.File.Rev, now
			updates = append(updates, store.Update{Path: p.path, Record: &rec, Dequeue: true,
				Activity: store.Activity{Time: now, Kind: ActUploaded, Path: p.path, RemotePath: rec.RemotePath}})
			results = append(results, result{path: p.path, outcome: outDone, bytes: rec.Size, uploaded: true})
			if layout.FoldKey(rec.RemotePath) != p.key {
				c.r.e.opts.Logf("%s: Dropbox placed %s at %s", c.r.c.Name, p.path, rec.RemotePath)
			}
		}
	}
	if err := c.r.st.Apply(updates...); err != nil {
		return nil, fmt.Errorf("record outcomes: %w", err)
	}
	return results, nil
}
