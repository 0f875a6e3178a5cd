package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// records lists a connection's file records and its activity feed, for a failure message.
func (h *harness) records(id string) string {
	var b strings.Builder
	c := h.st.Conn(id)
	c.Files("", func(p string, rec store.FileRecord) error {
		fmt.Fprintf(&b, "record %q: %+v\n", p, rec)
		return nil
	})
	acts, _ := c.Activities(store.MaxActivity)
	for _, a := range acts {
		fmt.Fprintf(&b, "activity %+v\n", a)
	}
	return b.String()
}

// live runs a connection with watching on and returns a wait helper.
func (h *harness) live(t *testing.T, opts Options) (e *Engine, waitFor func(what string, ok func() bool)) {
	opts.Watch = true
	e = New(h.st, opts)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); e.Wait() })
	if err := e.Start(ctx, h.conn("c1", "Acme"), nil); err != nil {
		t.Fatal(err)
	}
	waitFor = func(what string, ok func() bool) {
		t.Helper()
		// Generous: a timeout only ends a failing test, and CI machines are slow under -race.
		deadline := time.Now().Add(90 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; status %+v; %d files in Dropbox\n%s", what, e.Status(), len(h.remoteFiles()), h.records("c1"))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return e, waitFor
}

func TestLiveChanges(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	opts := testOptions()
	opts.Settle = 150 * time.Millisecond
	// The slowly written document below is not complete until its last piece: a pause of
	// the writer longer than this (a busy CI machine) would rightly send it as it is.
	opts.IncompleteWait = 5 * time.Second
	opts.Logf = t.Logf
	e, waitFor := h.live(t, opts)
	waitFor("the initial copy", func() bool { s := e.Status(); return len(s) == 1 && s[0].InitialCopyDone })

	put := func(rel, content string) {
		p := filepath.Join(h.dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	has := func(remote, content string) func() bool {
		return func() bool { return h.remoteFiles()[remote] == hashOf(content) }
	}
	// Whole PDFs, as far as their ends go: sent once they settle, not after IncompleteWait.
	doc := func(s string) string { return "%PDF-1.7 " + s + "\n%%EOF\n" }

	put("live/factuur 2026-04-01.pdf", doc("v1"))
	waitFor("a new file", has("/Acme/2026/Facturen/factuur 2026-04-01.pdf", doc("v1")))
	put("live/factuur 2026-04-01.pdf", doc("v2"))
	waitFor("a changed file", has("/Acme/2026/Facturen/factuur 2026-04-01.pdf", doc("v2")))
	// Renamed and moved while the engine may be reading them: on Windows too, nothing it
	// holds open refuses the user that.
	mv := func(from, to string) {
		if err := os.Rename(filepath.Join(h.dir, from), filepath.Join(h.dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	mv("live/factuur 2026-04-01.pdf", "live/factuur 2026-04-02.pdf")
	waitFor("a renamed file", has("/Acme/2026/Facturen/factuur 2026-04-02.pdf", doc("v2")))
	os.MkdirAll(filepath.Join(h.dir, "archief"), 0o755)
	mv("live", "archief/live")
	put("archief/live/offerte 2026-04-03.pdf", doc("q"))
	waitFor("a file in a moved folder", has("/Acme/2026/Offertes/offerte 2026-04-03.pdf", doc("q")))
	waitFor("the moved file recorded", func() bool {
		_, ok, _ := h.st.Conn("c1").File("archief/live/factuur 2026-04-02.pdf")
		return ok
	})
	os.Remove(filepath.Join(h.dir, "archief/live/offerte 2026-04-03.pdf"))
	waitFor("the deleted file forgotten", func() bool {
		_, ok, _ := h.st.Conn("c1").File("archief/live/offerte 2026-04-03.pdf")
		return !ok
	})
	if !has("/Acme/2026/Offertes/offerte 2026-04-03.pdf", doc("q"))() {
		t.Fatal("a local deletion removed the Dropbox copy")
	}

	// A document written slowly, in pieces, is sent once, complete. (Its own sends are
	// counted: the moved folder above may still be settling.)
	p := filepath.Join(h.dir, "factuur 2026-04-05.pdf")
	f, _ := os.Create(p)
	var full strings.Builder
	for i := 0; i < 10; i++ {
		chunk := fmt.Sprintf("part %d of the document\n", i)
		if i == 0 {
			chunk = "%PDF-1.7\n" + chunk
		} else if i == 9 {
			chunk += "%%EOF\n"
		}
		f.WriteString(chunk)
		full.WriteString(chunk)
		time.Sleep(30 * time.Millisecond)
	}
	f.Close()
	waitFor("the slowly written file", has("/Acme/2026/Facturen/factuur 2026-04-05.pdf", full.String()))
	time.Sleep(2 * opts.Settle)
	acts, err := h.st.Conn("c1").Activities(store.MaxActivity)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range acts {
		if a.Path == "factuur 2026-04-05.pdf" && (a.Kind == ActUploaded || a.Kind == ActIncomplete) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("slowly written file sent %d times; feed %+v", n, acts)
	}
}

// TestLiveAheadOfBacklog: a document saved while a large initial copy runs is in Dropbox
// long before the copy ends, not after the backlog ahead of it.
func TestLiveAheadOfBacklog(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{Latency: 20 * time.Millisecond, WriteLock: true, CommitEntryCost: time.Millisecond})
	const backlog = 5000
	for i := range backlog {
		h.write(fmt.Sprintf("archief/%d/factuur 2025-01-01 %05d.pdf", i/500, i), fmt.Sprintf("%%PDF-1.7 %d\n%%%%EOF\n", i))
	}
	opts := testOptions()
	opts.Concurrency = 8
	e, waitFor := h.live(t, opts)
	waitFor("the copy under way", func() bool { return statusOf(e, "c1").Done >= 500 })
	name := "factuur 2026-03-02 nu.pdf"
	if err := os.WriteFile(filepath.Join(h.dir, name), []byte("%PDF-1.7 saved now\n%%EOF\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the saved document", func() bool {
		_, err := h.srv.ReadFile(h.account, "/Acme/2026/Facturen/"+name)
		return err == nil
	})
	if s := statusOf(e, "c1"); s.Queued < 1000 {
		t.Fatalf("the saved document waited for the backlog: %d of %d left when it was in Dropbox", s.Queued, backlog)
	}
}
