package engine

import (
	"sort"
	"sync"
	"time"
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
	StateError          // anything else; Detail says what
	StateStopped
)

var stateNames = [...]string{"starting", "scanning", "uploading", "idle", "paused", "offline",
	"needs reconnect", "dropbox full", "folder missing", "error", "stopped"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Attention reports whether the state needs the user.
func (s State) Attention() bool {
	return s == StateNeedsReconnect || s == StateDropboxFull || s == StateFolderMissing || s == StateError
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
	// Failed is the number of files Dropbox refused (kept out until they change).
	Failed int
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
