package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
)

// roomRecheck is how long what Dropbox said of its free space holds: files that did not
// fit are tried again after it (and on "sync now").
const roomRecheck = 15 * time.Minute

// spaceReporter tells the space used and allocated in the Dropbox (allocated 0: unknown).
type spaceReporter interface {
	SpaceUsage(ctx context.Context) (used, allocated int64, err error)
}

// room is what the runner knows of the space left in the Dropbox once Dropbox said a file
// does not fit. Only what does not fit waits, with a reason that names the file and the
// space missing; smaller files go on. Only the runner's goroutine touches it.
type room struct {
	asking   <-chan spaceResult // the question under way, nil if none
	want     bool               // ask Dropbox as soon as possible
	known    bool
	free     int64            // bytes free, less what is reserved
	until    time.Time        // when what is known must be asked again
	reserved map[string]int64 // files out with the stages while known, by path
	waiting  map[string]int64 // files that do not fit, by path: their size
}

type spaceResult struct {
	free int64
	err  error
}

func newRoom() *room {
	return &room{reserved: map[string]int64{}, waiting: map[string]int64{}}
}

// askRoom starts asking Dropbox how much space is free.
func (r *runner) askRoom(ctx context.Context, g *errgroup.Group) {
	ch := make(chan spaceResult, 1)
	r.room.asking, r.room.want = ch, false
	r.spawn(g, "space check", func() error {
		used, allocated, err := r.c.Remote.SpaceUsage(ctx)
		ch <- spaceResult{free: max(allocated-used, 0), err: err}
		return nil
	})
}

// toldRoom takes Dropbox's answer; a failed question is asked again at the next look.
func (r *runner) toldRoom(res spaceResult) {
	r.room.asking = nil
	if res.err != nil {
		r.logf("ask Dropbox for its free space: %v", res.err)
		r.room.known, r.room.until = true, r.opts.Now().Add(time.Minute) // hold what waits meanwhile
		return
	}
	r.room.known, r.room.free, r.room.until = true, res.free, r.opts.Now().Add(roomRecheck)
	r.room.reserved = map[string]int64{}
	for p, size := range r.room.waiting {
		if size > r.room.free {
			r.problems.set(p, noRoomReason(size, r.room.free))
		}
	}
}

// fits reports whether a file may go now, and reserves its size while the free space is
// known.
func (rm *room) fits(path string, size int64) bool {
	if !rm.known {
		_, waits := rm.waiting[path]
		return !waits
	}
	if size > rm.free {
		return false
	}
	rm.free -= size
	rm.reserved[path] = size
	return true
}

// back gives a file's reservation back (sent files keep it: their bytes are in Dropbox).
func (rm *room) back(path string, sent bool) {
	if size, ok := rm.reserved[path]; ok && !sent {
		rm.free += size
	}
	delete(rm.reserved, path)
	if sent {
		delete(rm.waiting, path)
	}
}

// noFit notes a file Dropbox had no room for.
func (rm *room) noFit(path string, size int64) {
	rm.waiting[path] = size
	if rm.asking == nil {
		rm.want = true
	}
	if rm.known {
		rm.known = false // what we knew was wrong: ask again
	}
}

// forgetRoom drops what is known, so every file is tried again ("sync now", or the recheck).
func (r *runner) forgetRoom() {
	for p := range r.room.waiting {
		r.problems.set(p, "")
	}
	r.room.known, r.room.want = false, false
	r.room.waiting, r.room.reserved = map[string]int64{}, map[string]int64{}
}

// full says what does not fit when nothing else can be sent ("" otherwise): the state is
// then "Dropbox full", naming the file and the space missing.
func (r *runner) full() string {
	if !r.room.known || len(r.room.waiting) == 0 || len(r.q.inFlight) > 0 || len(r.room.waiting) < len(r.q.entries) {
		return ""
	}
	paths := make([]string, 0, len(r.room.waiting))
	for p := range r.room.waiting {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	first := paths[0]
	detail := first + " " + noRoomReason(r.room.waiting[first], r.room.free)
	if len(paths) > 1 {
		detail += fmt.Sprintf(" (and %d more documents)", len(paths)-1)
	}
	return detail
}

// noRoomReason says how much room a file lacks in Dropbox, in plain words.
func noRoomReason(size, free int64) string {
	return reasonText("room.short", "Need", megabytes(size), "Free", megabytes(free), "Missing", megabytes(size-free))
}

// megabytes is a size as people read it: "12.4 MB" (never "0.0 MB" for a few bytes).
func megabytes(n int64) string {
	if n > 0 && n < 100_000 {
		return "0.1 MB"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
