package engine

import (
	"errors"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
)

// State is what a connection is doing, as the tray shows it.
type State int

// The states. The GUI turns each into plain words in the user's language.
const (
	StateStarting State = iota
	StateScanning
	StateUploading
	StateIdle // everything sent
	StatePaused
	StateOffline        // Dropbox unreachable; retrying by itself
	StateNeedsReconnect // access revoked or expired: the user must connect again
	StateDropboxFull    // insufficient space; retrying later
	StateFolderMissing  // the export folder is gone or unreadable
	StateRefused        // Dropbox refuses the whole account for now (Detail: Dropbox's words)
	StateError          // anything else; Detail says what
	StateStopped
)

var stateNames = [...]string{"starting", "scanning", "uploading", "idle", "paused", "offline",
	"needs reconnect", "dropbox full", "folder missing", "refused", "error", "stopped"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Attention reports whether the state needs the user.
func (s State) Attention() bool {
	return s == StateNeedsReconnect || s == StateDropboxFull || s == StateFolderMissing ||
		s == StateRefused || s == StateError
}

// Status is a snapshot of one connection.
type Status struct {
	ID    string
	Name  string
	State State
	// Detail explains errors in plain English (logs, CLI); the GUI localizes by State.
	Detail string
	// Warning is a problem that does not stop syncing, e.g. live watching degraded by the
	// system's watch limit (changes are then found by the periodic rescan), with what to do.
	Warning string
	// Queued is the number of files waiting to be sent.
	Queued int
	// Done and Total count the files of the current run ("12 of 340"); a run starts when
	// the queue fills from empty and ends when it is empty again.
	Done, Total int
	// BytesDone and BytesTotal are the bytes of the current run, for progress and ETA.
	BytesDone, BytesTotal int64
	// ETA is the estimated time left of the current run (0: unknown).
	ETA             time.Duration
	LastSync        time.Time
	InitialCopyDone bool
	// Failed is the number of documents (and folders) that are not in Dropbox because
	// Dropbox refused them or they cannot be read here; Problems names the first of them
	// with the reason. Both are kept across restarts: "all documents are in Dropbox" is
	// true only when Failed is zero and the state is StateIdle.
	Failed   int
	Problems []Problem
	// Check is what the last check of Dropbox found (nil: never checked); Checking is set
	// while one runs, and CheckError says in plain English why the last one could not
	// finish (it is tried again later).
	Check      *Check
	Checking   bool
	CheckError string
}

// facts are what the runner knows that decides the state the user sees.
type facts struct {
	phase  State // StateStarting, StateScanning, StateIdle (running) or StateStopped
	fatal  error // why the runner stopped, if it failed
	paused bool
	// stop is why Dropbox holds the connection (a Verdict's Stop: dropbox.ErrReconnect,
	// ErrNoSpace, ErrAccountRefused, ErrTokenSource); stopDetail is Dropbox's own message.
	stop       error
	stopDetail string
	folderErr  error
	problem    error  // a failure that is neither offline nor a stop (e.g. the listing refused)
	listing    bool   // the first listing of Dropbox is not complete yet
	full       string // what does not fit in Dropbox, when nothing else can be sent
	offline    bool
	// queued counts the queued files (those in flight included), inFlight those out with
	// the stages.
	queued, inFlight int
}

// state derives what the user sees from the facts, most pressing first; detail says why in
// plain English.
func (f facts) state() (State, string) {
	switch {
	case f.phase == StateStopped && f.fatal != nil:
		return StateError, fatalText(f.fatal)
	case f.phase == StateStopped || f.phase == StateStarting:
		return f.phase, ""
	case f.paused:
		return StatePaused, ""
	case errors.Is(f.stop, dropbox.ErrReconnect):
		return StateNeedsReconnect, f.stop.Error()
	case errors.Is(f.stop, dropbox.ErrNoSpace):
		return StateDropboxFull, f.stop.Error()
	case errors.Is(f.stop, dropbox.ErrAccountRefused):
		if f.stopDetail != "" {
			return StateRefused, f.stopDetail
		}
		return StateRefused, f.stop.Error() + "; it is tried again every hour and on sync now"
	case f.stop != nil:
		return StateError, f.stop.Error() // the keychain, say: never shown as offline
	case f.full != "":
		return StateDropboxFull, f.full
	case f.folderErr != nil:
		return StateFolderMissing, f.folderErr.Error()
	case f.problem != nil:
		return StateError, f.problem.Error()
	case f.offline && (f.queued > 0 || f.listing):
		return StateOffline, "Dropbox cannot be reached; retrying by itself"
	case f.phase == StateScanning || f.listing:
		return StateScanning, ""
	case f.queued > 0 || f.inFlight > 0:
		return StateUploading, ""
	}
	return StateIdle, ""
}

// fatalText says why a connection stopped in words for the office; the error itself, with
// its technical detail, is in the log.
func fatalText(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "the disk of this computer is full, so the app could not save its progress. " +
			"Free up space and start the app again: nothing is lost"
	case errors.Is(err, syscall.EROFS):
		return "the app could not save its progress: its settings folder is on a read-only disk"
	}
	return err.Error()
}

// eta estimates the time left of a run from its pace so far (0: unknown).
func eta(elapsed time.Duration, done, total int64) time.Duration {
	if done <= 0 || total <= done || elapsed <= 0 {
		return 0
	}
	return time.Duration(float64(elapsed) * float64(total-done) / float64(done)).Round(time.Second)
}

// progress holds the bytes confirmed so far of large files in flight, written by workers
// and read when the runner publishes.
type progress struct {
	mu    sync.Mutex
	bytes map[string]int64
}

func (p *progress) set(path string, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes == nil {
		p.bytes = map[string]int64{}
	}
	p.bytes[path] = n
}

func (p *progress) forget(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.bytes, path)
}

func (p *progress) sum() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, b := range p.bytes {
		n += b
	}
	return n
}

// hub fans status snapshots out to subscribers. A slow subscriber only ever misses
// intermediate snapshots, never the latest one, and never blocks the engine.
type hub struct {
	mu     sync.Mutex
	latest map[string]Status
	subs   map[chan []Status]struct{}
}

func newHub() *hub {
	return &hub{latest: map[string]Status{}, subs: map[chan []Status]struct{}{}}
}

func (h *hub) snapshotLocked() []Status {
	out := make([]Status, 0, len(h.latest))
	for _, s := range h.latest {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || (out[i].Name == out[j].Name && out[i].ID < out[j].ID)
	})
	return out
}

func (h *hub) publish(s Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest[s.ID] = s
	h.fanOutLocked()
}

func (h *hub) remove(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.latest, id)
	h.fanOutLocked()
}

func (h *hub) fanOutLocked() {
	snap := h.snapshotLocked()
	for ch := range h.subs {
		select { // replace an unread snapshot with the newer one
		case <-ch:
		default:
		}
		ch <- snap
	}
}

func (h *hub) subscribe() (<-chan []Status, func()) {
	ch := make(chan []Status, 1)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	ch <- h.snapshotLocked()
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

func (h *hub) snapshot() []Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.snapshotLocked()
}
