package watcher

import (
	"path"
	"slices"
	"time"
)

// snapshot is what two stat checks compare to decide a path has stopped changing.
type snapshot struct {
	exists bool
	dir    bool
	size   int64
	mtime  time.Time
}

func (s snapshot) equal(o snapshot) bool {
	return s.exists == o.exists && s.dir == o.dir && s.size == o.size && s.mtime.Equal(o.mtime)
}

// entry is one path that had events and has not settled yet.
type entry struct {
	first  time.Time // first event; MaxDelay counts from here
	last   time.Time // latest event; the settle delay counts from here
	due    time.Time // next check
	snap   snapshot  // valid when stated
	stated bool      // snap was taken after the latest event
}

// aggregator holds paths until they settle. It is decision logic only: the clock and the stat
// come from the caller, so it is table-tested without sleeping. Not safe for concurrent use;
// the Serve goroutine owns it.
//
// Invariant: while "." (the whole folder) is pending, it is the only pending path and nothing
// is ready; while "." is ready, it is the only ready path and nothing is pending.
type aggregator struct {
	settle   time.Duration // quiet time after the latest event before the first stat
	poll     time.Duration // time between the two stat checks
	maxDelay time.Duration // a path that keeps changing is released after this long anyway
	limit    int           // more pending or ready paths than this collapse into "."
	// quick, when complete is set, is the quiet time after which a file whose content is
	// complete (complete reports it: a PDF with its end marker) is stated, twice quickPoll
	// apart, instead of waiting the whole settle delay: a saved invoice is sent at once.
	quick, quickPoll time.Duration
	complete         func(rel string) bool

	pending  map[string]*entry
	ready    map[string]time.Time // settled, not yet delivered; value is the first event
	earliest time.Time            // no pending path is due before this; zero when none pending
	version  int                  // bumped whenever ready changes
}

func newAggregator(settle, poll, maxDelay time.Duration, limit int) *aggregator {
	return &aggregator{
		settle:   settle,
		poll:     poll,
		maxDelay: maxDelay,
		limit:    limit,
		pending:  make(map[string]*entry),
		ready:    make(map[string]time.Time),
	}
}

// touch records an event for the relative path p ("." for the whole folder) at now.
func (a *aggregator) touch(p string, now time.Time) {
	if len(a.ready) > 0 {
		a.unready(p, now)
	}
	if p == "." {
		a.full(now)
		return
	}
	if e := a.pending["."]; e != nil {
		a.bump(e, now)
		return
	}
	e := a.pending[p]
	if e == nil {
		if len(a.pending) >= a.limit {
			a.full(now)
			return
		}
		e = &entry{first: now}
		a.pending[p] = e
	}
	a.bump(e, now)
}

func (a *aggregator) bump(e *entry, now time.Time) {
	e.stated, e.last = false, now
	d := a.settle
	if a.complete != nil {
		d = a.quick // an early look: a complete document need not wait the settle delay
	}
	a.schedule(e, now.Add(d))
	if a.earliest.IsZero() || e.due.Before(a.earliest) {
		a.earliest = e.due
	}
}

// schedule sets the next check of e to t, or to when MaxDelay runs out if that is sooner.
func (a *aggregator) schedule(e *entry, t time.Time) {
	if limit := e.first.Add(a.maxDelay); limit.Before(t) {
		t = limit
	}
	e.due = t
}

// unready takes p and its ancestors back from the ready set: a path that changes again must
// settle again, and so must a directory whose subtree changes, or the scanner would read a
// document mid-write when it rescans that directory.
func (a *aggregator) unready(p string, now time.Time) {
	for q := p; ; q = path.Dir(q) {
		if first, ok := a.ready[q]; ok {
			delete(a.ready, q)
			a.version++
			e := &entry{first: first}
			a.pending[q] = e
			a.bump(e, now)
		}
		if q == "." {
			return
		}
	}
}

// full replaces everything pending and ready by one pending rescan of the whole folder, which
// settles once the folder is quiet. It keeps the oldest first event so MaxDelay still holds.
func (a *aggregator) full(now time.Time) {
	first := now
	for _, e := range a.pending {
		if e.first.Before(first) {
			first = e.first
		}
	}
	for _, t := range a.ready {
		if t.Before(first) {
			first = t
		}
	}
	clear(a.pending)
	if len(a.ready) > 0 {
		clear(a.ready)
		a.version++
	}
	e := &entry{first: first}
	a.pending["."] = e
	a.earliest = time.Time{}
	a.bump(e, now)
}

// next returns when check should run next; ok is false when nothing is pending. The time may
// be early, never late.
func (a *aggregator) next() (t time.Time, ok bool) {
	return a.earliest, !a.earliest.IsZero()
}

// check moves the paths that have settled by now to the ready set. stat is called only for
// paths that have been quiet for the settle delay. A path settles when two stats in a row
// agree and, for a directory, nothing below it is still pending; or when it has been pending
// for maxDelay, whatever its state.
func (a *aggregator) check(now time.Time, stat func(rel string) snapshot) {
	var stable []string
	dirs := false
	for p, e := range a.pending {
		if now.Before(e.due) {
			continue
		}
		if now.Sub(e.first) >= a.maxDelay {
			a.settle1(p, e.first, now)
			continue
		}
		s := stat(p)
		if e.stated && s.equal(e.snap) {
			stable = append(stable, p)
			dirs = dirs || s.dir
			continue
		}
		poll := a.poll
		if early := a.complete != nil && now.Sub(e.last) < a.settle; early {
			if !e.stated && (!s.exists || s.dir || !a.complete(p)) {
				a.schedule(e, e.last.Add(a.settle)) // not known complete: the whole delay
				continue
			}
			poll = a.quickPoll
		}
		e.snap, e.stated = s, true
		a.schedule(e, now.Add(poll))
	}

	// A stable directory waits for its subtree; blocked holds every ancestor of a path that
	// is still changing.
	var blocked map[string]bool
	if dirs {
		blocked = make(map[string]bool)
		for p, e := range a.pending {
			if !now.Before(e.due) { // stable this round, so it blocks nothing
				continue
			}
			for q := path.Dir(p); !blocked[q]; q = path.Dir(q) {
				blocked[q] = true
				if q == "." {
					break
				}
			}
		}
	}
	for _, p := range stable {
		e := a.pending[p]
		if e == nil { // folded into "." by a collapse
			continue
		}
		if blocked[p] {
			a.schedule(e, now.Add(a.poll))
			continue
		}
		a.settle1(p, e.first, now)
	}

	a.earliest = time.Time{}
	for _, e := range a.pending {
		if a.earliest.IsZero() || e.due.Before(a.earliest) {
			a.earliest = e.due
		}
	}
}

// settle1 makes the pending path p ready. Past the limit, everything collapses into one
// pending rescan of the whole folder instead, so a consumer that falls far behind costs
// memory for one path, not for every path that changed.
func (a *aggregator) settle1(p string, first, now time.Time) {
	if p != "." && len(a.ready) >= a.limit {
		a.full(now)
		return
	}
	delete(a.pending, p)
	a.version++
	if p == "." {
		clear(a.ready)
	}
	a.ready[p] = first
}

// batch returns the ready paths, sorted; nil when none are ready.
func (a *aggregator) batch() []string {
	if len(a.ready) == 0 {
		return nil
	}
	out := make([]string, 0, len(a.ready))
	for p := range a.ready {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// delivered empties the ready set after its batch was handed over.
func (a *aggregator) delivered() {
	clear(a.ready)
	a.version++
}

// drop forgets everything pending, for when the folder itself went away.
func (a *aggregator) drop() {
	clear(a.pending)
	a.earliest = time.Time{}
}
