package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// The running app holds the state store's lock, so "onfact-dropbox status" cannot read
// the store then. Instead the running process publishes its status in a file beside the
// store (PublishStatus), rewritten atomically on each change and every HeartbeatEvery, and
// removed when it stops; ReadStatus reads the file while the store is locked, and the store
// itself when nothing runs. A file whose Updated is older than StaleAfter is from a
// process that hangs or died without removing it; the store's lock tells which.

// StatusFileName is the status file in the settings folder.
const StatusFileName = "status.json"

// HeartbeatEvery is how often a running process rewrites its status file even when
// nothing changed; StaleAfter is the age past which a reader calls the file stale.
const (
	HeartbeatEvery = 10 * time.Second
	StaleAfter     = time.Minute
)

// MaxProblems bounds the problem files listed per connection; Refused still counts all.
const MaxProblems = engine.MaxListed

// StatusPath is the status file inside a config folder.
func StatusPath(dir string) string { return filepath.Join(dir, StatusFileName) }

// Report is the status of every connection: the status file's format and the output of
// "onfact-dropbox status --json". Fields are only added, never renamed.
type Report struct {
	// Running is true when an app (tray or run --headless) runs the connections; then
	// PID is its process and Updated when it last wrote. Stale means it has not written
	// for StaleAfter: it hangs, or died and the lock was not yet released.
	Running bool      `json:"running"`
	PID     int       `json:"pid,omitempty"`
	Updated time.Time `json:"updated"`
	Stale   bool      `json:"stale,omitempty"`
	// Connections are in the settings' order.
	Connections []ConnReport `json:"connections"`
}

// ConnReport is one connection in a Report.
type ConnReport struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Account string `json:"account,omitempty"` // the Dropbox e-mail
	// State is the engine's state name ("idle", "uploading", "needs reconnect", ...) or
	// "not running"; Detail says why for the problem states, in plain English.
	State   string `json:"state"`
	Detail  string `json:"detail,omitempty"`
	Warning string `json:"warning,omitempty"`
	// Waiting is the number of files queued to be sent; Done and Total count the current
	// run of uploads ("12 of 340").
	Waiting         int       `json:"waiting"`
	Done            int       `json:"done,omitempty"`
	Total           int       `json:"total,omitempty"`
	InitialCopyDone bool      `json:"initial_copy_done"`
	LastSync        time.Time `json:"last_sync,omitzero"`
	// Refused is the number of files not in Dropbox (refused by it, or unreadable here), and
	// Problems the first MaxProblems of them with the reason.
	Refused  int       `json:"refused"`
	Problems []Problem `json:"problems,omitempty"`
	// LastCheck is what the last check of Dropbox found (absent: never checked).
	LastCheck *engine.Check `json:"last_check,omitempty"`
}

// Problem is a file that could not be sent, and why in plain English.
type Problem = engine.Problem

// problems reads a connection's refused files from the store.
func problems(c *store.Conn) (n int, out []Problem, err error) {
	err = c.Files("", func(p string, r store.FileRecord) error {
		if r.Failure == "" {
			return nil
		}
		n++
		if len(out) < MaxProblems {
			out = append(out, Problem{Path: p, Reason: r.Failure})
		}
		return nil
	})
	return n, out, err
}

// PublishStatus writes the status file from the engine's snapshots until ctx ends, then
// removes it. conns gives the configured connections (their order and Dropbox e-mail);
// logf gets a failure to write, once until a write works again. It blocks: run it on a
// goroutine of its own and wait for it before Close.
func (s *Service) PublishStatus(ctx context.Context, conns func() []config.Connection, logf func(string, ...any)) {
	path := StatusPath(s.opts.Dir)
	defer os.Remove(path)
	sub, unsub := s.Engine.Subscribe()
	defer unsub()
	// Writes are at most once a second: a snapshot comes with every upload.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var (
		last      []engine.Status
		dirty     bool
		lastWrite time.Time
		failing   bool
	)
	for {
		select {
		case <-ctx.Done():
			return
		case last = <-sub:
			dirty = true
			if !lastWrite.IsZero() {
				continue // the tick writes it
			}
		case <-tick.C:
			if !dirty && time.Since(lastWrite) < HeartbeatEvery {
				continue
			}
		}
		r := s.report(conns(), last)
		err := writeJSON(path, r)
		switch {
		case err != nil && !failing:
			logf("write the status file: %v", err)
			failing = true
		case err == nil:
			failing, dirty, lastWrite = false, false, time.Now()
		}
	}
}

// report builds the running process's Report from a snapshot. Its problems are the
// engine's: they count files waiting for room in Dropbox too, which no record holds.
func (s *Service) report(conns []config.Connection, snap []engine.Status) Report {
	byID := map[string]engine.Status{}
	for _, st := range snap {
		byID[st.ID] = st
	}
	r := Report{Running: true, PID: os.Getpid(), Updated: time.Now().UTC(), Connections: []ConnReport{}}
	for _, c := range conns {
		st, ok := byID[c.ID]
		cr := ConnReport{ID: c.ID, Name: c.Name, Account: c.AccountEmail, State: "starting"}
		if ok {
			cr.State, cr.Detail, cr.Warning = st.State.String(), st.Detail, st.Warning
			cr.Waiting, cr.Done, cr.Total = st.Queued, st.Done, st.Total
			cr.InitialCopyDone, cr.LastSync = st.InitialCopyDone, st.LastSync
			cr.Refused, cr.Problems, cr.LastCheck = st.Failed, st.Problems, st.Check
		}
		r.Connections = append(r.Connections, cr)
	}
	return r
}

// writeJSON writes v to path atomically: a temp file beside it, then a rename, so a
// reader never sees half a file.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".status-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// ErrNoStatus means an app runs (it holds the state store) but publishes no status file:
// a version from before status files, or one that cannot write in its folder.
var ErrNoStatus = errors.New("onFact Dropbox Sync is running but does not say how it is doing; " +
	"its window and tray icon show it, or update it and restart it")

// ReadStatus returns the status of the configured connections: the running app's status
// file when one runs, else what the state store knows (State "not running"). A damaged
// store is reset as in Open, and reset says so.
func ReadStatus(dir string, conns []config.Connection) (r Report, reset *store.Reset, err error) {
	st, reset, err := store.TryOpenOrReset(StorePath(dir))
	if errors.Is(err, store.ErrLocked) {
		r, err := readStatusFile(StatusPath(dir))
		return r, nil, err
	}
	if err != nil {
		return Report{}, nil, err
	}
	defer st.Close()
	os.Remove(StatusPath(dir)) // nothing runs: a file left by a killed app is stale
	r = Report{Updated: time.Now().UTC(), Connections: []ConnReport{}}
	for _, c := range conns {
		cs := st.Conn(c.ID)
		m, err := cs.Meta()
		if err != nil {
			return Report{}, reset, fmt.Errorf("read the state of %s: %w", c.Name, err)
		}
		queued, err := cs.QueueLen()
		if err != nil {
			return Report{}, reset, fmt.Errorf("read the queue of %s: %w", c.Name, err)
		}
		n, ps, err := problems(cs)
		if err != nil {
			return Report{}, reset, fmt.Errorf("read the files of %s: %w", c.Name, err)
		}
		check, err := cs.CheckState()
		if err != nil {
			return Report{}, reset, fmt.Errorf("read the last check of %s: %w", c.Name, err)
		}
		r.Connections = append(r.Connections, ConnReport{ID: c.ID, Name: c.Name, Account: c.AccountEmail, State: "not running",
			Waiting: queued, InitialCopyDone: m.InitialCopyDone, LastSync: m.LastSync, Refused: n, Problems: ps, LastCheck: check.Last})
	}
	return r, reset, nil
}

// readStatusFile reads a running app's status file and marks it Stale when it is old.
func readStatusFile(path string) (Report, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// The app may be starting and not have written yet: give it a moment.
		for range 20 {
			time.Sleep(100 * time.Millisecond)
			if b, err = os.ReadFile(path); !errors.Is(err, fs.ErrNotExist) {
				break
			}
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return Report{}, ErrNoStatus
	}
	if err != nil {
		return Report{}, fmt.Errorf("read the status file: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Report{}, fmt.Errorf("read the status file %s: %w", path, err)
	}
	r.Running = true
	r.Stale = time.Since(r.Updated) > StaleAfter
	return r, nil
}
