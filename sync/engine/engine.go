// Package engine is the sync engine: for each connection it copies the export folder into
// Dropbox once, then sends every new or changed document, one way, durably.
//
// Each connection is one runner goroutine that owns its state and loops on select; its
// upload workers read, hash and send file contents in parallel, and one committer per
// connection commits them to Dropbox in batches and records the outcome in the store in
// the same step. The queue and the records live in the store before anything is acted on,
// so a kill at any moment loses nothing; a restart re-sends at most what Dropbox already
// has, which Dropbox answers as a no-op.
//
// The engine knows nothing of the GUI: it publishes Status snapshots and takes commands.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// Remote is what the engine needs from one Dropbox account; *dropbox.Client provides it.
type Remote interface {
	ListFiles(ctx context.Context, root string) ([]dropbox.File, error)
	UploadContents(ctx context.Context, datas [][]byte) ([]dropbox.UploadResult, error)
	Commit(ctx context.Context, commits []dropbox.Commit) ([]dropbox.Result, error)
	UploadLarge(ctx context.Context, localPath, path string, modified time.Time, progress func(int64)) (*dropbox.File, error)
}

var _ Remote = (*dropbox.Client)(nil)

// Conn is one connection as the engine runs it.
type Conn struct {
	ID     string
	Name   string
	Folder string
	Layout layout.Layout
	// Ignore holds extra patterns (path.Match syntax on base names) beside the built-in ones.
	Ignore []string
	Paused bool
	Remote Remote
	// Concurrency, when above zero, replaces Options.Concurrency for this connection (the
	// user's setting; a change takes a restart of the connection).
	Concurrency int
}

// Options tune the engine. Zero values take the defaults.
type Options struct {
	// Concurrency is the number of files read and uploaded at once per connection
	// (default 16: on a 50 ms line, throughput grows with it up to the client's 16
	// connections; see BENCHMARKS.md).
	Concurrency int
	// LargeFile is the size from which a file is streamed through an upload session
	// instead of being read whole (default 8 MiB).
	LargeFile int64
	// BatchSize is the most files per commit (default and maximum dropbox.MaxBatch).
	BatchSize int
	// BatchIdle is how long the committer waits for more files before committing a partial
	// batch (default 250 ms).
	BatchIdle time.Duration
	// Settle is how long a file must have been left alone before it is read (default 1 s):
	// a document still being written is never sent as final. The watcher waits as long
	// after a file's last change, and then for its size and mtime to hold still.
	Settle time.Duration
	// RescanInterval is the period of the cheap stat-only rescan that catches what the
	// watcher missed (default 15 min, jittered by up to 10%).
	RescanInterval time.Duration
	// Watch turns on live watching; without it a runner stops once its queue is empty
	// (sync --once).
	Watch bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logf receives diagnostic lines (default: discarded).
	Logf func(format string, args ...any)
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.LargeFile <= 0 {
		o.LargeFile = 8 << 20
	}
	if o.BatchSize <= 0 || o.BatchSize > dropbox.MaxBatch {
		o.BatchSize = dropbox.MaxBatch
	}
	if o.BatchIdle <= 0 {
		o.BatchIdle = 250 * time.Millisecond
	}
	if o.Settle <= 0 {
		o.Settle = time.Second
	}
	if o.RescanInterval <= 0 {
		o.RescanInterval = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Engine runs connections. Its methods are safe for concurrent use.
type Engine struct {
	store *store.Store
	opts  Options
	hub   *hub

	mu      sync.Mutex
	runners map[string]*runner
	wg      sync.WaitGroup
}

// New returns an engine over an open store.
func New(st *store.Store, opts Options) *Engine {
	opts.defaults()
	return &Engine{store: st, opts: opts, hub: newHub(), runners: map[string]*runner{}}
}

// ErrUnknownConnection is returned for commands naming no running connection.
var ErrUnknownConnection = errors.New("no such connection")

// Start runs a connection until ctx ends or Stop is called. done, if not nil, receives the
// runner's final error (nil after a clean stop or, without Watch, an emptied queue).
func (e *Engine) Start(ctx context.Context, c Conn, done func(error)) error {
	if err := c.Layout.Validate(); err != nil {
		return fmt.Errorf("connection %s: %w", c.Name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.runners[c.ID]; ok {
		return fmt.Errorf("connection %s is already running", c.Name)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := newRunner(e, c, cancel)
	e.runners[c.ID] = r
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		err := r.serve(ctx)
		cancel()
		e.mu.Lock()
		delete(e.runners, c.ID)
		e.mu.Unlock()
		// Closed only once the runner is unregistered, so Stop followed by Start (a
		// restart after a reconnect) never finds it still running.
		close(r.stopped)
		if done != nil {
			done(err)
		}
	}()
	return nil
}

// Stop stops one connection and waits for it; its queue stays in the store.
func (e *Engine) Stop(id string) {
	e.mu.Lock()
	r := e.runners[id]
	e.mu.Unlock()
	if r != nil {
		r.cancel()
		<-r.stopped
	}
}

// Wait waits for every runner to stop (after their contexts ended).
func (e *Engine) Wait() { e.wg.Wait() }

// Forget removes a stopped connection's state from the store and the status feed.
func (e *Engine) Forget(id string) error {
	e.Stop(id)
	e.hub.remove(id)
	return e.store.Conn(id).Delete()
}

// Command is an order for a runner.
type Command int

// The commands.
const (
	CmdSyncNow Command = iota // rescan now and retry anything waiting
	CmdPause
	CmdResume
	CmdRescan // full rescan (same as SyncNow today; kept apart for the API's clarity)
)

// Send gives a command to a connection.
func (e *Engine) Send(id string, cmd Command) error {
	e.mu.Lock()
	r := e.runners[id]
	e.mu.Unlock()
	if r == nil {
		return ErrUnknownConnection
	}
	select {
	case r.cmds <- cmd:
	default: // a command is already waiting; the runner will get to it
	}
	return nil
}

// Subscribe returns a channel of status snapshots (every connection, sorted by name) and a
// function to stop the subscription. The current snapshot is sent at once; later ones
// replace unread earlier ones, so a slow reader never holds up the engine.
func (e *Engine) Subscribe() (<-chan []Status, func()) { return e.hub.subscribe() }

// Report publishes the status of a connection the engine does not run (one that could not
// start), so the GUI can say why.
func (e *Engine) Report(s Status) { e.hub.publish(s) }

// Status returns the current snapshot.
func (e *Engine) Status() []Status { return e.hub.snapshot() }

// Activity returns the newest entries of a connection's activity feed.
func (e *Engine) Activity(id string, n int) ([]store.Activity, error) {
	return e.store.Conn(id).Activities(n)
}
