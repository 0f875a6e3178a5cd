package app

import (
	"sync"
	"time"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// countEvery bounds how often the documents of a connection are counted again while its
// status keeps changing (a long run changes it at every document): counting reads every
// record of the connection.
const countEvery = 5 * time.Second

// counts caches, per connection, the number of documents in Dropbox and the status it was
// counted at. Its methods are safe for concurrent use.
type counts struct {
	mu   sync.Mutex
	byID map[string]counted
}

type counted struct {
	n   int
	sig countSig
	at  time.Time
}

// countSig is what of a status tells that the count may have moved.
type countSig struct {
	state                   engine.State
	done, total, failed, qd int
	lastSync                time.Time
}

func sigOf(s engine.Status) countSig {
	return countSig{s.State, s.Done, s.Total, s.Failed, s.Queued, s.LastSync}
}

// InDropbox returns, for each connection of the snapshot st, the number of its documents
// that are in Dropbox: the store's records with a Dropbox path and no failure. A count is
// cached with the status it was made at and made again when that status changed: at once
// when the state changed (a run that ends), else at most every countEvery. A connection
// whose records cannot be read is left out.
//
// It may read every record of a connection (100,000 of them take a fraction of a second):
// call it off the UI goroutine. It is safe for concurrent use.
func (a *App) InDropbox(st []engine.Status) map[string]int {
	out := make(map[string]int, len(st))
	for _, s := range st {
		if n, ok := a.counts.get(s, time.Now(), func() (int, error) { return countInDropbox(a.svc.Store.Conn(s.ID)) }); ok {
			out[s.ID] = n
		}
	}
	return out
}

// get returns the cached count of s's connection, or counts it with count when s moved on.
func (c *counts) get(s engine.Status, now time.Time, count func() (int, error)) (int, bool) {
	sig := sigOf(s)
	c.mu.Lock()
	old, had := c.byID[s.ID]
	c.mu.Unlock()
	if had && (old.sig == sig || old.sig.state == sig.state && now.Sub(old.at) < countEvery) {
		return old.n, true
	}
	n, err := count()
	if err != nil {
		return old.n, had
	}
	c.mu.Lock()
	if c.byID == nil {
		c.byID = map[string]counted{}
	}
	c.byID[s.ID] = counted{n: n, sig: sig, at: now}
	c.mu.Unlock()
	return n, true
}

// countInDropbox counts the records of c that Dropbox holds: a Dropbox path and no failure.
func countInDropbox(c *store.Conn) (int, error) {
	n := 0
	err := c.Files("", func(_ string, r store.FileRecord) error {
		if r.RemotePath != "" && r.Failure == "" && !r.Dir {
			n++
		}
		return nil
	})
	return n, err
}

// DropboxWebsite reports whether the connections go to dropbox.com, whose web pages show
// their folders; it is false for another Dropbox address (the demo's emulated Dropbox,
// ONFACT_DROPBOX_API_URL), which has no pages to browse.
func (a *App) DropboxWebsite() bool { return a.opts.Auth.Dropbox.APIURL == "" }

// LayoutOf is the layout the engine maps c's documents with (service.Layout).
func LayoutOf(c config.Connection) (layout.Layout, error) { return service.Layout(c) }
