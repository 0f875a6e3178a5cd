package dropbox

import (
	"context"
	"sync"
	"time"
)

// How the session pool opens sessions ahead (see sessionPool).
const (
	// sessionsFresh is how long an unused session is kept: Dropbox keeps an upload
	// session for 7 days, and nobody else knows of ours, but a pool left from a burst
	// last week is not worth a failed append.
	sessionsFresh = time.Hour
	// sessionsQuick: sessions opened again within this long were used up quickly, and
	// the next start_batch opens twice as many.
	sessionsQuick = 10 * time.Second
)

// sessionPool keeps upload sessions opened ahead. start_batch opens up to MaxBatch
// sessions in one request, so packs of files that follow one another share one instead
// of each paying a start_batch of its own: at small files that is about a third of the
// requests of a copy, which is what a rate limit counts. It opens four times what is asked
// (a burst of three documents opens a dozen), and twice as many as the last time when
// those were used up quickly (an initial copy soon opens MaxBatch at a time). One
// start_batch at a time (opening): the uploads that find the pool empty together wait for
// it instead of each opening their own.
type sessionPool struct {
	opening  sync.Mutex
	mu       sync.Mutex
	ids      []pooled
	opened   time.Time // of the last start_batch
	lastOpen int       // how many it opened
}

type pooled struct {
	id string
	at time.Time
}

// take returns n fresh sessions from the pool, or nil if it holds fewer.
func (p *sessionPool) take(n int, now time.Time) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.ids) > 0 && now.Sub(p.ids[0].at) > sessionsFresh {
		p.ids = p.ids[1:]
	}
	if len(p.ids) < n {
		return nil
	}
	ids := make([]string, n)
	for i, s := range p.ids[:n] {
		ids[i] = s.id
	}
	p.ids = p.ids[n:]
	return ids
}

// toOpen is how many sessions a start_batch should open when n are wanted (n at most
// MaxBatch), and notes that it does.
func (p *sessionPool) toOpen(n int, now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	open := 4 * n
	if now.Sub(p.opened) < sessionsQuick {
		open = max(open, 2*p.lastOpen)
	}
	open = max(n, min(open, MaxBatch))
	p.opened, p.lastOpen = now, open
	return open
}

// put keeps sessions just opened for later packs.
func (p *sessionPool) put(ids []string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		p.ids = append(p.ids, pooled{id, now})
	}
}

// sessions returns n fresh upload sessions (n at most MaxBatch), from the pool or from a
// start_batch whose surplus goes to the pool.
func (c *Client) sessions(ctx context.Context, n int) ([]string, error) {
	if ids := c.pool.take(n, time.Now()); ids != nil {
		return ids, nil
	}
	c.pool.opening.Lock()
	defer c.pool.opening.Unlock()
	if ids := c.pool.take(n, time.Now()); ids != nil {
		return ids, nil // opened while this one waited
	}
	fresh, err := c.startSessions(ctx, c.pool.toOpen(n, time.Now()))
	if err != nil {
		return nil, err
	}
	c.pool.put(fresh[n:], time.Now())
	return fresh[:n], nil
}
