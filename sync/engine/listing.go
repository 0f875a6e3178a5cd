package engine

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
)

// listResult is what the listing of Dropbox brought back.
type listResult struct {
	files []dropbox.File
	err   error
}

// list asks Dropbox, beside the loop, what it already holds, so an initial copy does not
// send again what a previous install sent. Until the result arrives no file is sent, but
// commands, watcher batches and status are answered as usual.
func (r *runner) list(ctx context.Context, g *errgroup.Group) {
	ch := make(chan listResult, 1)
	r.listing = ch
	r.spawn(g, "Dropbox listing", func() error {
		files, err := r.c.Remote.ListFiles(ctx, "")
		ch <- listResult{files, err}
		return nil
	})
}

// listed takes the listing's result: the index the workers consult during the initial
// copy, or a failure to retry when the retry policy says. A one-shot run gives up on a
// revoked token at once and on other failures after maxOnceAttempts.
func (r *runner) listed(ctx context.Context, res listResult) error {
	r.listing = nil
	if res.err == nil {
		r.index.set(res.files)
		r.needList, r.offline, r.problem, r.listAttempts = false, false, nil, 0
		r.lift()
		return nil
	}
	if ctx.Err() != nil {
		return nil
	}
	r.logf("list Dropbox: %v", res.err)
	v := dropbox.Decide(res.err, r.listAttempts)
	r.listAttempts++
	r.listAt = r.opts.Now().Add(v.Wait)
	switch {
	case v.Stop != nil:
		r.hold(v.Stop, res.err, r.listAt) // after a reconnect the app restarts the connection
	case v.Offline:
		r.offline = true
	default:
		r.problem = fmt.Errorf("list what Dropbox already has: %w", res.err)
	}
	switch {
	case r.opts.Watch:
		return nil
	case v.Stop != nil:
		return v.Stop
	case r.listAttempts >= maxOnceAttempts:
		return fmt.Errorf("list Dropbox: %w", res.err)
	}
	return nil
}
