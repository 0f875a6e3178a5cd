package watcher

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/onfact/onfact-dropbox/internal/openshared"
)

// Options tune a Watcher. The zero value gives the defaults.
type Options struct {
	// SettleDelay is how long a path must go without events before it is checked for
	// stability. Default 1 s. A writer that pauses longer than this between chunks may have
	// its file reported mid-write; the engine re-checks the file before recording it.
	SettleDelay time.Duration

	// StatInterval is the time between the two stat checks that must agree on size and
	// modification time before a quiet path is reported. Default SettleDelay/4.
	StatInterval time.Duration

	// MaxDelay caps how long a path that keeps changing (a log appended to forever) is held
	// back: it is reported this long after its first event, settled or not. Default 1 min.
	MaxDelay time.Duration

	// RecheckInterval is how often the watcher stats the export folder (an unmount sends no
	// event), re-adds the folder after it was gone, and retries watches a system limit
	// refused. Default 30 s.
	RecheckInterval time.Duration

	// MaxPending caps the paths tracked one by one; past it they collapse into one request
	// to rescan the whole folder ({"."}), which bounds memory during huge copies. Default
	// 50,000.
	MaxPending int

	// Ignore lists extra patterns, in path.Match syntax, matched against base names on top
	// of the built-in rules of Ignored. A matching directory is not watched at all.
	Ignore []string

	// Complete, if set, reports whether the file at rel (slash-separated, relative to the
	// folder) is complete by its content, e.g. a PDF that ends with its %%EOF marker. Such
	// a file is reported once it has been quiet for QuickSettle and two stats
	// QuickSettle/2 apart agree, instead of after SettleDelay: a saved document goes out at
	// once, one still being written waits as before. It is called on the watcher's
	// goroutine.
	Complete func(rel string) bool
	// QuickSettle is the quiet time for complete files. Default 100 ms.
	QuickSettle time.Duration
}

func (o Options) withDefaults() Options {
	if o.SettleDelay <= 0 {
		o.SettleDelay = time.Second
	}
	if o.StatInterval <= 0 {
		o.StatInterval = o.SettleDelay / 4
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Minute
	}
	if o.RecheckInterval <= 0 {
		o.RecheckInterval = 30 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 50_000
	}
	if o.QuickSettle <= 0 {
		o.QuickSettle = min(100*time.Millisecond, o.SettleDelay)
	}
	return o
}

// Status is a snapshot of a Watcher's health, for the GUI.
type Status struct {
	// Watching is the number of directories under a live watch.
	Watching int

	// Err is nil while the whole folder is watched live. Otherwise it is an *Error for the
	// condition that still holds: ErrRootGone, ErrWatchLimit, or ErrWatch when no watcher
	// could be opened. Changes are then found by rescans, later.
	Err error

	// Last is the most recent *Error of any kind, including passing ones such as an
	// ErrOverflow that a full rescan already covers; nil if there was none. LastAt is when.
	Last   error
	LastAt time.Time
}

// Watcher watches one export folder and its subdirectories and sends settled batches of
// changed paths.
//
// Run Serve in its own goroutine, wait for Ready, then do the startup scan: a change made
// after Ready is reported, so nothing falls between the scan and the watch. Batches, Ready,
// Status and StatusChanged may be called from any goroutine.
type Watcher struct {
	root string // absolute, cleaned
	opts Options

	batches chan []string
	ready   chan struct{}
	changed chan struct{}
	served  atomic.Bool

	mu     sync.Mutex
	status Status

	// addWatch adds one directory watch; tests replace it to inject a watch-limit error. It
	// is called on the Serve goroutine only, and must be set before Serve starts.
	addWatch func(fw *fsnotify.Watcher, dir string) error

	// do runs functions on the Serve goroutine, so tests can call the internal handlers
	// without racing it. Nothing sends on it outside tests.
	do chan func(*loop)
}

// New returns a Watcher for the export folder root. The folder need not exist yet: Serve
// reports ErrRootGone and waits for it. New fails on an empty root or a malformed pattern.
func New(root string, opts Options) (*Watcher, error) {
	if root == "" {
		return nil, errors.New("new watcher: empty export folder path")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("new watcher for %s: %w", root, err)
	}
	if err := checkPatterns(opts.Ignore); err != nil {
		return nil, fmt.Errorf("new watcher for %s: %w", root, err)
	}
	opts = opts.withDefaults()
	opts.Ignore = slices.Clone(opts.Ignore)
	return &Watcher{
		root:     abs,
		opts:     opts,
		batches:  make(chan []string),
		ready:    make(chan struct{}),
		changed:  make(chan struct{}, 1),
		addWatch: func(fw *fsnotify.Watcher, dir string) error { return fw.Add(dir) },
		do:       make(chan func(*loop)),
	}, nil
}

// Root returns the export folder as an absolute path.
func (w *Watcher) Root() string { return w.root }

// Batches returns the channel of settled batches. Each batch is a non-empty, sorted,
// deduplicated slice of slash-separated paths relative to the root; {"."} means "rescan
// everything". The receiver owns the slice. Paths that settle while the receiver is busy are
// merged into the next batch, and a path that changes again before it is received is held
// back until it settles again, so a slow receiver never gets a file mid-write (MaxDelay
// aside). The channel is closed when Serve returns.
func (w *Watcher) Batches() <-chan []string { return w.batches }

// Ready returns a channel that is closed once Serve has set up the initial watches, or found
// it could not (see Status).
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// StatusChanged returns a channel that receives a value after Status.Err or Status.Last
// changes. Several changes may be merged into one signal; read Status to see the latest.
func (w *Watcher) StatusChanged() <-chan struct{} { return w.changed }

// Status returns the current health of the watcher.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// newAggregator is the settling logic with the watcher's options.
func (w *Watcher) newAggregator() *aggregator {
	a := newAggregator(w.opts.SettleDelay, w.opts.StatInterval, w.opts.MaxDelay, w.opts.MaxPending)
	if w.opts.Complete != nil {
		a.complete, a.quick, a.quickPoll = w.opts.Complete, w.opts.QuickSettle, w.opts.QuickSettle/2
	}
	return a
}

// Serve watches the folder until ctx is done, then closes the Batches channel and returns
// nil. Trouble never ends it: it shows in Status and the watcher degrades to asking for full
// rescans. Serve may be called only once; a second call returns an error at once.
func (w *Watcher) Serve(ctx context.Context) error {
	if !w.served.CompareAndSwap(false, true) {
		return fmt.Errorf("watch %s: Serve called twice", w.root)
	}
	defer close(w.batches)

	l := &loop{
		w:         w,
		agg:       w.newAggregator(),
		dirs:      make(map[string]fileID),
		byID:      make(map[fileID]string),
		unwatched: make(map[string]struct{}),
		timer:     time.NewTimer(time.Hour),
		minGap:    w.opts.StatInterval / 2,
	}
	l.timer.Stop()
	defer l.closeFS()

	l.start()
	l.publish()
	close(w.ready)

	recheck := time.NewTicker(w.opts.RecheckInterval)
	defer recheck.Stop()
	for {
		var out chan<- []string
		if len(l.agg.ready) > 0 {
			if l.batch == nil || l.batchVersion != l.agg.version {
				l.batch, l.batchVersion = l.agg.batch(), l.agg.version
			}
			out = w.batches
		}
		var events <-chan fsnotify.Event
		var errs <-chan error
		if l.fw != nil {
			events, errs = l.fw.Events, l.fw.Errors
		}

		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				l.lost()
				break
			}
			l.handleEvent(ev)
		case err, ok := <-errs:
			if !ok {
				l.lost()
				break
			}
			l.handleError(err)
		case now := <-l.timer.C:
			l.armed = false
			l.lastCheck = now
			l.agg.check(now, l.stat)
		case <-recheck.C:
			l.recheck()
		case out <- l.batch:
			l.agg.delivered()
			l.batch = nil
		case f := <-w.do:
			f(l)
		}
		l.arm()
		l.publish()
	}
}

// loop is the state of one Serve call, owned by its goroutine.
type loop struct {
	w   *Watcher
	fw  *fsnotify.Watcher // nil while no watcher could be opened
	agg *aggregator

	dirs      map[string]fileID   // relative directories under watch, with the identity watched
	byID      map[fileID]string   // dirs reversed, for the directories whose identity is known
	unwatched map[string]struct{} // directories a watch limit refused, to retry
	rootInfo  fs.FileInfo         // the folder as it was when watched, to notice a swap
	gone      bool                // the folder is missing; watches are dropped

	timer     *time.Timer
	armed     bool
	armedAt   time.Time
	lastCheck time.Time
	minGap    time.Duration // checks run at most this often, however many paths are due

	batch        []string // the ready batch offered on the channel
	batchVersion int
	watching     int // last published len(dirs)
}

// abs turns a slash-separated relative path into an OS path under the root.
func (l *loop) abs(rel string) string {
	return filepath.Join(l.w.root, filepath.FromSlash(rel))
}

// rel turns an event name into a slash-separated path relative to the root; ok is false for
// names outside it.
func (l *loop) rel(name string) (string, bool) {
	r, err := filepath.Rel(l.w.root, name)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// lstat stats a path without following symlinks, except for the root, which may be one.
func (l *loop) lstat(rel string) (fs.FileInfo, error) {
	if rel == "." {
		return os.Stat(l.w.root)
	}
	return os.Lstat(l.abs(rel))
}

// stat is the aggregator's view of a path.
func (l *loop) stat(rel string) snapshot {
	fi, err := l.lstat(rel)
	if err != nil {
		return snapshot{}
	}
	return snapshot{exists: true, dir: fi.IsDir(), size: fi.Size(), mtime: fi.ModTime()}
}

// start opens the fsnotify watcher and watches the tree without reporting what is already
// there: the startup scan covers that.
func (l *loop) start() {
	fi, ok := l.openRoot()
	if !ok {
		return
	}
	l.rootInfo = fi
	if err := l.addTree(".", false); err != nil {
		l.limitHit(err)
	}
}

// openRoot opens the fsnotify watcher and looks at the root; false if either failed (said
// through setErr or goneNow).
func (l *loop) openRoot() (os.FileInfo, bool) {
	if !l.openFS() {
		return nil, false
	}
	fi, err := os.Stat(l.w.root)
	if err != nil || !fi.IsDir() {
		l.goneNow(err)
		return nil, false
	}
	return fi, true
}

func (l *loop) openFS() bool {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		kind := ErrWatch
		if isWatchLimit(err) {
			kind = ErrWatchLimit
		}
		l.setErr(&Error{Kind: kind, Path: l.w.root, Err: err})
		return false
	}
	l.fw = fw
	return true
}

func (l *loop) closeFS() {
	if l.fw != nil {
		l.fw.Close()
		l.fw = nil
	}
	clear(l.dirs)
	clear(l.byID)
	clear(l.unwatched)
}

// handleEvent turns one fsnotify event into a touched path, keeping the set of watched
// directories in step with the tree.
func (l *loop) handleEvent(ev fsnotify.Event) {
	rel, ok := l.rel(ev.Name)
	if !ok || l.gone {
		return
	}
	if rel == "." {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			l.checkRoot()
		}
		return
	}
	if ignoredPath(rel, l.w.opts.Ignore) {
		return
	}
	if _, from := l.dirs[path.Dir(rel)]; watchesOutliveMoves && !from {
		return // from a watch that outlived its directory's move away
	}
	_, watched := l.dirs[rel]
	if ev.Op == fsnotify.Write && watched {
		// kqueue and Windows send Write on a directory whose entries changed; the entry's
		// own event says which.
		return
	}
	now := time.Now()
	_, refused := l.unwatched[rel]
	if (watched || refused) && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) {
		// The old name's watches would keep reporting under the old name, or from outside
		// the folder after a move out; drop them. A move within the folder comes back as a
		// Create of the new name, watched afresh below. Only a directory we track can have
		// tracked directories below it.
		l.removeTree(rel)
	}
	if ev.Has(fsnotify.Create) && !watched {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			// A new or moved-in directory: watch it and report what it already holds, which
			// was created before its watch and sent no events of its own.
			if err := l.addTree(rel, true); err != nil {
				l.limitHit(err)
			}
		}
	}
	l.agg.touch(rel, now)
}

// handleError turns an error from fsnotify into a full rescan, and re-walks the tree, since
// lost events may include a new directory's Create.
func (l *loop) handleError(err error) {
	kind := ErrWatch
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		kind = ErrOverflow
	}
	l.note(&Error{Kind: kind, Path: l.w.root, Err: err})
	l.agg.touch(".", time.Now())
	if l.fw != nil && !l.gone {
		if err := l.resync(); err != nil {
			l.limitHit(err)
		}
	}
}

// lost handles fsnotify closing its channels, which it does only when it broke: start over
// with a new watcher at the next recheck.
func (l *loop) lost() {
	l.closeFS()
	l.setErr(&Error{Kind: ErrWatch, Path: l.w.root, Err: errors.New("the file system watcher stopped")})
}

// addTree watches rel and every directory below it, not following symlinks and skipping
// ignored names. With report, every entry found is touched, since it may have appeared
// before its directory's watch. The watch is added before the directory is read, so an entry
// is either read or sends an event. It returns the error of a watch limit, after recording
// the directories it could not watch; other failures skip the directory.
func (l *loop) addTree(rel string, report bool) error {
	return l.walk(rel, report, nil)
}

// resync walks the whole tree after events were lost, descending into watched directories
// too: it watches directories whose Create went missing and forgets those whose Remove did.
func (l *loop) resync() error {
	seen := make(map[string]struct{}, len(l.dirs))
	err := l.walk(".", false, seen)
	if err != nil {
		return err // incomplete: keep what we have
	}
	for d := range l.dirs {
		if _, ok := seen[d]; !ok {
			l.unwatch(d)
		}
	}
	return nil
}

// walk is addTree; with seen not nil it also reads directories already watched, re-watches
// those replaced by another directory of the same name, and records every directory it
// visits in seen.
func (l *loop) walk(rel string, report bool, seen map[string]struct{}) error {
	now := time.Now()
	stack := []string{rel}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		had, watched := l.dirs[d]
		if watched && seen == nil {
			continue
		}
		fi, err := l.lstat(d)
		var id fileID // unknown on an error other than these, which adding the watch meets too
		switch {
		case errors.Is(err, fs.ErrNotExist), err == nil && !fi.IsDir():
			// Gone again before we got to it, or replaced by a file: its Remove, Rename or
			// Create event is on the way.
			continue
		case err == nil:
			id = idOf(l.abs(d), fi)
		}
		if watched && had != id && had != (fileID{}) && id != (fileID{}) {
			// Deleted and made anew while events were lost: the watch is on the old one.
			l.unwatch(d)
			watched = false
		}
		if !watched {
			if err := l.watch(d, id); err != nil {
				switch {
				case errors.Is(err, fs.ErrNotExist):
					// Gone again before we got to it; its Remove or Rename event is on the way.
				case isWatchLimit(err):
					l.unwatched[d] = struct{}{}
					for _, s := range stack {
						l.unwatched[s] = struct{}{}
					}
					return &Error{Kind: ErrWatchLimit, Path: l.abs(d), Err: err}
				default:
					// Permission denied: the scanner meets it too.
					l.note(&Error{Kind: ErrWatch, Path: l.abs(d), Err: err})
				}
				continue
			}
		}
		if seen != nil {
			seen[d] = struct{}{}
		}
		entries, _ := readDir(l.abs(d)) // on error, whatever was read
		for _, e := range entries {
			if !report && !e.IsDir() {
				continue // at a start, 100,000 files that only need their folders watched
			}
			if Ignored(e.Name(), l.w.opts.Ignore) {
				continue
			}
			child := path.Join(d, e.Name())
			if report {
				l.agg.touch(child, now)
			}
			if e.IsDir() { // false for a symlink: never followed, so no loops
				stack = append(stack, child)
			}
		}
	}
	return nil
}

// readDir is os.ReadDir without its sorting, which the walk does not need, and without
// keeping others from renaming or deleting the folder meanwhile (openshared).
func readDir(dir string) ([]fs.DirEntry, error) { return openshared.ReadDir(dir) }

// limitHit degrades to full rescans after a watch limit refused a directory.
func (l *loop) limitHit(err error) {
	l.setErr(err)
	l.note(err)
	l.agg.touch(".", time.Now())
}

// watch adds the watch of the directory d, whose identity is id.
func (l *loop) watch(d string, id fileID) error {
	if old, ok := l.byID[id]; ok && old != d {
		// d is a directory still watched under an old name: it was moved here and the old
		// name's Rename event is still on its way, as when the walk of a new directory finds
		// a directory just moved into it. inotify keeps one watch per directory, so adding d
		// now would hand back the old name's watch, whose events fsnotify names by the old
		// path; and removing the old name when its Rename arrives (fsnotify does so itself on
		// IN_MOVE_SELF) would leave d silently unwatched. So drop the old name first, with
		// everything below it, which moved along and is watched under its new names as the
		// walk goes on. Nothing is missed in between: a reporting walk reads every directory
		// after watching it, and the other walks come with a rescan of what they watch.
		if fi, err := l.lstat(old); err != nil || idOf(l.abs(old), fi) != id {
			l.removeTree(old)
		} // else the same directory is at both names (a bind mount): leave it be.
	}
	if watchesOutliveMoves {
		// A directory moved here, or below one that was, may still hold the watch of its
		// old name, which Add would hand back still naming events by that name. Removing
		// by the new name reaches it; when there is none the error says so.
		_ = l.fw.Remove(l.abs(d))
	}
	if err := l.w.addWatch(l.fw, l.abs(d)); err != nil {
		return err
	}
	l.dirs[d] = id
	if id != (fileID{}) {
		l.byID[id] = d
	}
	return nil
}

// unwatch drops the watch of the directory d.
func (l *loop) unwatch(d string) {
	// An error means the kernel dropped it already (deleted or moved away).
	_ = l.fw.Remove(l.abs(d))
	if id := l.dirs[d]; l.byID[id] == d {
		delete(l.byID, id)
	}
	delete(l.dirs, d)
}

// removeTree drops the watches of rel and everything below it.
func (l *loop) removeTree(rel string) {
	prefix := rel + "/"
	for d := range l.dirs {
		if d == rel || strings.HasPrefix(d, prefix) {
			l.unwatch(d)
		}
	}
	for d := range l.unwatched {
		if d == rel || strings.HasPrefix(d, prefix) {
			delete(l.unwatched, d)
		}
	}
}

// dropWatches removes every watch, for a folder that went away or was swapped.
func (l *loop) dropWatches() {
	if l.fw != nil {
		for d := range l.dirs {
			_ = l.fw.Remove(l.abs(d))
		}
	}
	clear(l.dirs)
	clear(l.byID)
	clear(l.unwatched)
}

// checkRoot notices the folder going, coming back, or being swapped for another directory
// at the same path (a remount), which inotify does not report.
func (l *loop) checkRoot() {
	fi, err := os.Stat(l.w.root)
	present := err == nil && fi.IsDir()
	switch {
	case !present && !l.gone:
		l.goneNow(err)
	case present && (l.gone || !os.SameFile(fi, l.rootInfo)):
		l.rewatch(fi)
	}
}

func (l *loop) goneNow(err error) {
	if err == nil {
		err = errors.New("not a directory")
	}
	l.dropWatches()
	l.agg.drop()
	l.gone = true
	l.rootInfo = nil
	e := &Error{Kind: ErrRootGone, Path: l.w.root, Err: err}
	l.setErr(e)
	l.note(e)
}

// rewatch watches the folder afresh and asks for a full rescan, since anything may have
// changed while it was unwatched.
func (l *loop) rewatch(fi fs.FileInfo) {
	l.dropWatches()
	l.gone = false
	l.rootInfo = fi
	if err := l.addTree(".", false); err != nil {
		l.limitHit(err)
	} else {
		l.setErr(nil)
	}
	l.agg.touch(".", time.Now())
}

// recheck is the periodic repair: reopen a broken watcher, notice the folder going or coming
// back, and retry the directories a watch limit refused.
func (l *loop) recheck() {
	if l.fw == nil {
		if fi, ok := l.openRoot(); ok {
			l.rewatch(fi)
		}
		return
	}
	l.checkRoot()
	if l.gone {
		return
	}
	dirs := make([]string, 0, len(l.unwatched))
	for d := range l.unwatched {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs) // parents first: a parent's walk takes its children along
	clear(l.unwatched)
	now := time.Now()
	for i, d := range dirs {
		if fi, err := os.Lstat(l.abs(d)); err != nil || !fi.IsDir() {
			continue
		}
		if _, ok := l.dirs[d]; ok {
			continue
		}
		if err := l.addTree(d, false); err != nil {
			// Still full; the rescan was asked for when the limit was first hit.
			for _, rest := range dirs[i+1:] {
				l.unwatched[rest] = struct{}{}
			}
			return
		}
		l.agg.touch(d, now) // changes there went unseen: rescan it
	}
	if st := l.w.Status(); errors.Is(st.Err, ErrWatchLimit) {
		l.setErr(nil)
	}
}

// arm sets the timer for the next check, or stops it when nothing is pending. Checks are
// spaced at least minGap apart, so a burst of paths with staggered due times costs a few
// checks, not one per path.
func (l *loop) arm() {
	next, ok := l.agg.next()
	if !ok {
		if l.armed {
			l.timer.Stop()
			l.armed = false
		}
		return
	}
	if earliest := l.lastCheck.Add(l.minGap); next.Before(earliest) {
		next = earliest
	}
	if l.armed && !next.Before(l.armedAt) {
		return // fires earlier than needed; that check re-arms
	}
	l.timer.Reset(time.Until(next))
	l.armed, l.armedAt = true, next
}

// setErr sets the ongoing condition in Status. Watching is updated along with it, so a reader
// woken by the signal sees a consistent status.
func (l *loop) setErr(err error) {
	l.w.mu.Lock()
	same := l.w.status.Err == err
	l.w.status.Err = err
	l.w.status.Watching, l.watching = len(l.dirs), len(l.dirs)
	l.w.mu.Unlock()
	if !same {
		l.signal()
	}
}

// note records a problem as Status.Last.
func (l *loop) note(err error) {
	l.w.mu.Lock()
	l.w.status.Last, l.w.status.LastAt = err, time.Now()
	l.w.status.Watching, l.watching = len(l.dirs), len(l.dirs)
	l.w.mu.Unlock()
	l.signal()
}

// publish updates Status.Watching after each step; a changed count alone is not worth a
// signal.
func (l *loop) publish() {
	if n := len(l.dirs); n != l.watching {
		l.watching = n
		l.w.mu.Lock()
		l.w.status.Watching = n
		l.w.mu.Unlock()
	}
}

func (l *loop) signal() {
	select {
	case l.w.changed <- struct{}{}:
	default:
	}
}
