// Package engine is the sync engine: for each connection it copies the export folder into
// Dropbox once, then sends every new or changed document, one way, durably.
//
// One file, followed from the watcher to a Dropbox commit:
//
//  1. The watcher (package watcher) reports a batch of settled paths. The connection's
//     runner, the one goroutine that owns its state and loops on select (loop.go),
//     rescans them (scan.go): one walk, one diff against the store's records, and one
//     store transaction that queues what changed and forgets what is gone.
//  2. The runner's queue (queue.go) hands due files to the workers as jobs, unless the
//     connection is paused, still listing Dropbox, or held by Dropbox. Documents saved
//     while the app runs go first, ahead of any backlog, to workers of their own.
//  3. A worker (worker.go) stats, classifies and places the file (its Dropbox path, from
//     internal/layout), then reads and hashes it. Content already in Dropbox is decided
//     at once; a large file is streamed through an upload session of its own and
//     committed; a small one goes on as an upload.
//  4. A packer (packer.go) sends the contents of many small uploads in a few requests
//     (start_batch, append_batch) and hands each on as a commit of a closed session.
//  5. The committer (committer.go), one per connection, commits up to a batch of sessions
//     with one finish_batch_v2 and records every outcome in the store in one
//     transaction, then hands the outcomes to the runner.
//  6. The runner applies the outcomes to its queue: done, tried again after the wait the
//     Dropbox client's retry policy decides (dropbox.Decide), waiting for room in Dropbox
//     (room.go: only what does not fit waits), or holding the connection; then it
//     publishes a Status (status.go) that names every document not in Dropbox and why
//     (problems.go: refused by Dropbox, unreadable here, waiting for room).
//
// Commands (pause, resume, sync now, check now) are desired state under a lock with a
// wake-up signal (control.go), so none is lost and the last one wins. Listing Dropbox at
// the first start (listing.go) and the weekly check that Dropbox still holds every
// document (check.go) run beside the loop, which keeps answering meanwhile. Every
// goroutine the engine starts turns a panic into its connection's error (guard.go).
//
// The queue and the records live in the store before anything is acted on, so a kill at
// any moment loses nothing; a restart re-sends at most what Dropbox already has, which
// Dropbox answers as a no-op. The engine knows nothing of the GUI: it publishes Status
// snapshots and takes commands.
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
	List(ctx context.Context, root, cursor string, page func([]dropbox.Entry) error) (string, error)
	UploadContents(ctx context.Context, datas [][]byte) ([]dropbox.UploadResult, error)
	Upload(ctx context.Context, data []byte, c dropbox.Commit) (*dropbox.File, error)
	Commit(ctx context.Context, commits []dropbox.Commit) ([]dropbox.Result, error)
	UploadLarge(ctx context.Context, local dropbox.LargeFile, path string, progress func(int64)) (*dropbox.File, error)
	SpaceUsage(ctx context.Context) (used, allocated int64, err error)
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
	// CheckEvery, when not zero, replaces Options.CheckEvery for this connection (the
	// user's setting, likewise).
	CheckEvery time.Duration
}

// Options tune the engine. Zero values take the defaults.
type Options struct {
	// Concurrency is the number of files read and the number of upload requests in
	// flight at once per connection (default 16: on a 50 ms line, throughput grows with it
	// up to the client's 16 connections; see BENCHMARKS.md).
	Concurrency int
	// LargeFile is the size from which a file is streamed through an upload session
	// instead of being read whole (default 8 MiB).
	LargeFile int64
	// BatchSize is the most files per commit (default 500, at most dropbox.MaxBatch).
	// Dropbox holds the account's write lock for the whole commit, which takes longer the
	// more entries it has, and a document saved meanwhile waits for it: half the maximum
	// halves that wait and costs one more request per 500 files.
	BatchSize int
	// BatchIdle is how long the committer waits for more files before committing a partial
	// batch (default 250 ms).
	BatchIdle time.Duration
	// Settle is how long a file must have been left alone before it is read (default 1 s):
	// a document still being written is never sent as final. The watcher waits as long
	// after a file's last change, and then for its size and mtime to hold still.
	Settle time.Duration
	// IncompleteWait is how long after its last change a document whose content is not
	// complete (a PDF without its %%EOF, XML cut short) is waited for; one left alone
	// longer than that is not being written any more, and is sent as it is and reported
	// so (default 30 s).
	IncompleteWait time.Duration
	// RescanInterval is the period of the cheap stat-only rescan that catches what the
	// watcher missed (default 15 min, jittered by up to 10%).
	RescanInterval time.Duration
	// PollInterval is how often a folder whose changes the system does not report (a
	// network drive: changes made from another computer send no events) is checked with a
	// stat-only scan, once a periodic rescan found such a change (default 10 s).
	PollInterval time.Duration
	// CheckEvery is how often Dropbox is checked for every document (check.go), once the
	// initial copy is done and nothing waits to be sent (default 7 days; below zero:
	// never on a schedule, only when asked).
	CheckEvery time.Duration
	// FullCheckEvery is how often a check lists Dropbox in full rather than the changes
	// since the last check (default 30 days).
	FullCheckEvery time.Duration
	// CheckAtStart checks Dropbox as soon as each connection can (onfact-dropbox verify);
	// CheckFull makes that check a full listing. Without Watch a runner then stops once the
	// check is done and what it found missing is sent again.
	CheckAtStart, CheckFull bool
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
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	o.BatchSize = min(o.BatchSize, dropbox.MaxBatch)
	if o.BatchIdle <= 0 {
		o.BatchIdle = 250 * time.Millisecond
	}
	if o.Settle <= 0 {
		o.Settle = time.Second
	}
	if o.IncompleteWait <= 0 {
		o.IncompleteWait = 30 * time.Second
	}
	if o.RescanInterval <= 0 {
		o.RescanInterval = 15 * time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 10 * time.Second
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = 7 * 24 * time.Hour
	}
	if o.FullCheckEvery <= 0 {
		o.FullCheckEvery = 30 * 24 * time.Hour
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
		err := r.guard("runner", func() error { return r.serve(ctx) })
		r.stopped(err)
		cancel()
		e.mu.Lock()
		delete(e.runners, c.ID)
		e.mu.Unlock()
		// Closed only once the runner is unregistered, so Stop followed by Start (a
		// restart after a reconnect) never finds it still running.
		close(r.done)
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
		<-r.done
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
	CmdCheck // check that Dropbox holds every document (check.go)
)

// Send gives a command to a connection. It never blocks and no command is lost: the
// runner ends in the state the last one asked for (see control).
func (e *Engine) Send(id string, cmd Command) error {
	e.mu.Lock()
	r := e.runners[id]
	e.mu.Unlock()
	if r == nil {
		return ErrUnknownConnection
	}
	r.ctl.send(cmd)
	return nil
}

// Waiting tells a connection that its Dropbox client holds calls back until until for a
// failure of kind (the client's Options.OnWait): a transient one means Dropbox cannot be
// reached, and the status says "offline" at once instead of after a file's retries give
// up. Safe to call from any goroutine; it never blocks.
func (e *Engine) Waiting(id string, kind dropbox.Kind, until time.Time) {
	if kind != dropbox.KindTransient {
		return // a rate limit or write contention: Dropbox is there, just busy
	}
	e.mu.Lock()
	r := e.runners[id]
	e.mu.Unlock()
	if r != nil {
		select {
		case r.unreachable <- struct{}{}:
		default: // already told
		}
	}
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
