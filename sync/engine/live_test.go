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
)

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
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; status %+v; remote %v", what, e.Status(), h.remoteFiles())
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

	put("live/factuur 2026-04-01.pdf", "v1")
	waitFor("a new file", has("/Acme/2026/Facturen/factuur 2026-04-01.pdf", "v1"))
	put("live/factuur 2026-04-01.pdf", "v2")
	waitFor("a changed file", has("/Acme/2026/Facturen/factuur 2026-04-01.pdf", "v2"))
	os.Rename(filepath.Join(h.dir, "live/factuur 2026-04-01.pdf"), filepath.Join(h.dir, "live/factuur 2026-04-02.pdf"))
	waitFor("a renamed file", has("/Acme/2026/Facturen/factuur 2026-04-02.pdf", "v2"))
	os.MkdirAll(filepath.Join(h.dir, "archief"), 0o755)
	os.Rename(filepath.Join(h.dir, "live"), filepath.Join(h.dir, "archief/live"))
	put("archief/live/offerte 2026-04-03.pdf", "q")
	waitFor("a file in a moved folder", has("/Acme/2026/Offertes/offerte 2026-04-03.pdf", "q"))
	waitFor("the moved file recorded", func() bool {
		_, ok, _ := h.st.Conn("c1").File("archief/live/factuur 2026-04-02.pdf")
		return ok
	})
	os.Remove(filepath.Join(h.dir, "archief/live/offerte 2026-04-03.pdf"))
	waitFor("the deleted file forgotten", func() bool {
		_, ok, _ := h.st.Conn("c1").File("archief/live/offerte 2026-04-03.pdf")
		return !ok
	})
	if !has("/Acme/2026/Offertes/offerte 2026-04-03.pdf", "q")() {
		t.Fatal("a local deletion removed the Dropbox copy")
	}

	// A document written slowly, in pieces, is sent once, complete.
	before := h.uploaded("c1")
	p := filepath.Join(h.dir, "factuur 2026-04-05.pdf")
	f, _ := os.Create(p)
	var full strings.Builder
	for i := 0; i < 10; i++ {
		chunk := fmt.Sprintf("part %d of the document\n", i)
		f.WriteString(chunk)
		full.WriteString(chunk)
		time.Sleep(30 * time.Millisecond)
	}
	f.Close()
	waitFor("the slowly written file", has("/Acme/2026/Facturen/factuur 2026-04-05.pdf", full.String()))
	time.Sleep(2 * opts.Settle)
	if n := h.uploaded("c1") - before; n != 1 {
		t.Fatalf("slowly written file sent %d times", n)
	}
}
