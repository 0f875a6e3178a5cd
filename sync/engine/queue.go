package engine

import (
	"time"

	"github.com/onfact/onfact-dropbox/internal/store"
)

// urgentMax is the most live documents waiting for a job to be urgent: a document or a few
// saved now go at once, a burst of thousands dropped into the folder is still batched.
const urgentMax = 16

// entry is the runner's view of a queued file.
type entry struct {
	attempts  int // failures so far, stored so that the backoff survives a restart
	tries     int // failures in this run: a one-shot run gives up after maxOnceAttempts
	notBefore time.Time
	size      int64
	mtime     time.Time // as last found by a scan; zero for an entry loaded from the store
	live      bool      // saved while the app runs: it goes ahead of the backlog
}

// queue is the runner's view of the store's queue: which files wait, which are out with
// the stages, and when each is due. Only the runner's goroutine touches it.
type queue struct {
	entries map[string]*entry
	// live holds the waiting paths saved while the app runs (reported by the watcher),
	// ready the others (the initial copy, what a scan or a check found), each oldest first
	// and each possibly holding paths done meanwhile or in both. Live ones go first: a
	// document saved now never waits behind a backlog of 100,000.
	live     []string
	ready    []string
	inFlight map[string]bool
	again    map[string]bool // changed while in flight: queue again when it comes back
	bytes    int64           // sizes of the queued files, for progress
}

func newQueue() *queue {
	return &queue{entries: map[string]*entry{}, inFlight: map[string]bool{}, again: map[string]bool{}}
}

// load takes the store's queue at start. A long-running connection keeps each file's
// backoff; a one-shot run is an explicit "try now" and keeps only the attempt counts.
func (q *queue) load(items []store.QueueItem, keepBackoff bool) {
	for _, it := range items {
		e := &entry{attempts: it.Attempts}
		if keepBackoff {
			e.notBefore = it.NotBefore
		}
		q.entries[it.Path] = e
		q.ready = append(q.ready, it.Path)
	}
}

// empty reports an empty queue with nothing in flight.
func (q *queue) empty() bool { return len(q.entries) == 0 && len(q.inFlight) == 0 }

// add queues files found new or changed; live ones (saved while the app runs) go ahead of
// the others. A file already queued that changed since it was last found is due at once
// (whatever failed may be gone), and one out with the stages is queued again when it comes
// back, since what they send may be stale. One loaded from the store keeps its backoff at
// the first scan after a restart.
func (q *queue) add(files []localFile, live bool) {
	for _, f := range files {
		if live && !q.inFlight[f.path] {
			q.live = append(q.live, f.path)
		}
		if e, ok := q.entries[f.path]; ok {
			if !e.mtime.IsZero() && (e.size != f.size || !e.mtime.Equal(f.mtime)) {
				if q.inFlight[f.path] {
					q.again[f.path] = true
				}
				e.notBefore = time.Time{}
			}
			q.bytes += f.size - e.size
			e.size, e.mtime, e.live = f.size, f.mtime, e.live || live
			continue
		}
		q.entries[f.path] = &entry{size: f.size, mtime: f.mtime, live: live}
		q.bytes += f.size
		if !live {
			q.ready = append(q.ready, f.path)
		}
	}
}

// dispatch offers due files that fit (fits) to send, live ones first, oldest first, until
// send refuses one, which is then given back (unfit); it returns when the earliest waiting
// file becomes due (zero if none waits on a time).
func (q *queue) dispatch(now time.Time, fits func(path string, size int64) bool, unfit func(path string), send func(job) bool) (next time.Time) {
	var refused bool
	q.live, next, refused = q.offer(q.live, now, fits, unfit, send)
	if refused {
		return next
	}
	var later time.Time
	q.ready, later, _ = q.offer(q.ready, now, fits, unfit, send)
	return sooner(next, later)
}

// offer is dispatch over one lane: it returns what is left waiting in it.
func (q *queue) offer(lane []string, now time.Time, fits func(path string, size int64) bool, unfit func(path string), send func(job) bool) (left []string, next time.Time, refused bool) {
	var later []string
	i := 0
	for ; i < len(lane); i++ {
		p := lane[i]
		e, ok := q.entries[p]
		if !ok || q.inFlight[p] {
			continue // done meanwhile, or already out
		}
		if now.Before(e.notBefore) {
			later = append(later, p)
			if next.IsZero() || e.notBefore.Before(next) {
				next = e.notBefore
			}
			continue
		}
		if !fits(p, e.size) {
			later = append(later, p)
			continue
		}
		j := job{path: p, attempts: e.attempts, live: e.live, urgent: e.live && len(lane)-i <= urgentMax}
		if !send(j) {
			unfit(p)
			refused = true
			break
		}
		q.inFlight[p] = true
	}
	return append(later, lane[i:]...), next, refused
}

// back takes a file back from the stages: its entry, or nil if it is no longer queued.
func (q *queue) back(path string) *entry {
	delete(q.inFlight, path)
	return q.entries[path]
}

// takeBack puts files sent out but not yet taken by a worker back at the head of their
// lanes, in the order they went.
func (q *queue) takeBack(paths []string) {
	var live, ready []string
	for _, p := range paths {
		delete(q.inFlight, p)
		delete(q.again, p) // it goes as it is now, as if never sent
		switch e := q.entries[p]; {
		case e == nil:
		case e.live:
			live = append(live, p)
		default:
			ready = append(ready, p)
		}
	}
	q.live, q.ready = append(live, q.live...), append(ready, q.ready...)
}

// wait puts a file back among the waiting ones, in its lane (its notBefore says when it is
// due).
func (q *queue) wait(path string) {
	if e := q.entries[path]; e != nil && e.live {
		q.live = append(q.live, path)
		return
	}
	q.ready = append(q.ready, path)
}

// remove takes a file out of the queue.
func (q *queue) remove(path string) {
	if e := q.entries[path]; e != nil {
		q.bytes -= e.size
		delete(q.entries, path)
	}
}

// requeueChanged queues a file again that changed while it was out (see add).
func (q *queue) requeueChanged(path string) {
	if !q.again[path] {
		return
	}
	delete(q.again, path)
	if _, ok := q.entries[path]; !ok {
		q.entries[path] = &entry{live: true} // changed while the app runs
		q.live = append(q.live, path)
	}
}

// retryNow makes every waiting file due at once ("sync now").
func (q *queue) retryNow() {
	for _, e := range q.entries {
		e.notBefore = time.Time{}
	}
}
