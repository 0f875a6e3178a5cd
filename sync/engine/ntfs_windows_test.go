package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/winetest"
)

// deepFolder makes h's export folder a folder more than 300 characters deep: customers
// and years nested in a share end up past MAX_PATH (260), where Win32 paths stop working
// unless given in their \\?\ form.
func deepFolder(t *testing.T, h *harness) {
	t.Helper()
	deep := h.dir
	for i := 0; len(deep) < 300; i++ {
		deep = filepath.Join(deep, "Klant "+strings.Repeat("x", 30)+" "+string(rune('a'+i)))
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	h.dir = deep
}

// TestDeepExportFolder: an export folder past MAX_PATH is copied, then watched: a new
// document, one in a new subfolder and one in a renamed subfolder arrive, as they do at
// the usual depths.
func TestDeepExportFolder(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	deepFolder(t, h)
	h.write("factuur 2026-04-01.pdf", "first")
	opts := testOptions()
	opts.Settle = 150 * time.Millisecond
	opts.Logf = t.Logf
	e, waitFor := h.live(t, opts)
	waitFor("the initial copy", func() bool { s := e.Status(); return len(s) == 1 && s[0].InitialCopyDone })
	has := func(remote, content string) func() bool {
		return func() bool { return h.remoteFiles()[remote] == hashOf(content) }
	}
	if !has("/Acme/2026/Facturen/factuur 2026-04-01.pdf", "first")() {
		t.Fatalf("the initial copy: Dropbox holds %v", h.remoteFiles())
	}

	put := func(rel, content string) {
		p := filepath.Join(h.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("factuur 2026-04-02.pdf", "new")
	waitFor("a new document", has("/Acme/2026/Facturen/factuur 2026-04-02.pdf", "new"))
	put("2026/april/offerte 2026-04-03.pdf", "q")
	waitFor("a document in a new subfolder", has("/Acme/2026/Offertes/offerte 2026-04-03.pdf", "q"))
	if err := os.Rename(filepath.Join(h.dir, "2026"), filepath.Join(h.dir, "archief 2026")); err != nil {
		t.Fatal(err)
	}
	put("archief 2026/april/offerte 2026-04-04.pdf", "r")
	waitFor("a document in a renamed subfolder", has("/Acme/2026/Offertes/offerte 2026-04-04.pdf", "r"))
}

// TestAlternateDataStreams: a browser or mail program marks a downloaded file with a
// Zone.Identifier stream ("x.pdf:Zone.Identifier"). It is part of x.pdf, not a document:
// only x.pdf's contents are sent.
func TestAlternateDataStreams(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	h.write("factuur 2026-05-01.pdf", "%PDF-1.7 the document\n%%EOF\n")
	p := filepath.Join(h.dir, "factuur 2026-05-01.pdf")
	if err := os.WriteFile(p+":Zone.Identifier", []byte("[ZoneTransfer]\r\nZoneId=3\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(h.dir); len(entries) != 1 {
		// Windows lists a stream under no name of its own; Wine 8 has no streams and makes
		// a second file, ':' in its name, which no NTFS volume can hold.
		winetest.Skip(t, "Wine 8 has no alternate data streams: writing one made a second file")
		t.Fatalf("the folder lists %d entries, want the document alone", len(entries))
	}
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), map[string]string{
		"/Acme/2026/Facturen/factuur 2026-05-01.pdf": hashOf("%PDF-1.7 the document\n%%EOF\n"),
	})
}

// TestNTFSSpecialNames: names Win32 paths cannot reach (a device name such as CON or aux
// with an extension, trailing dots and spaces), which Linux programs and Samba shares
// write and NTFS stores, are read through their \\?\ form and sent.
func TestNTFSSpecialNames(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	h.write("gewoon 2026-06-01.pdf", "plain")
	names := map[string]string{
		"CON.pdf":                 "con",
		"aux.xml":                 "aux",
		"factuur 2026-06-02.pdf.": "dot",
		"factuur 2026-06-03.pdf ": "space",
	}
	for name, content := range names {
		// \\?\ is the only way to make these names from Windows.
		p := `\\?\` + filepath.Join(h.dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatalf("make %q: %v", name, err)
		}
		old := time.Now().Add(-time.Hour) // settled, as h.write makes them
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	// Read through their \\?\ form (osPath): in the Win32 form CON.pdf is the console, and
	// the trailing dot or space would be dropped.
	if got := h.remoteFiles(); len(got) != 1+len(names) {
		t.Fatalf("Dropbox holds %d of %d files: %v", len(got), 1+len(names), got)
	}
}
