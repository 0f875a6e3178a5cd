package openshared

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOthersKeepWorking: while the app has a folder or a document open, it can be renamed,
// moved and deleted, as the user and the export program expect (on Windows, under Wine in
// CI, os.Open refuses all three with a sharing violation), and what was opened reads whole.
func TestOthersKeepWorking(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	content := bytes.Repeat([]byte("%PDF-1.7 factuur\n"), 1000)
	live := filepath.Join(root, "live")
	must(os.Mkdir(live, 0o755))
	must(os.WriteFile(filepath.Join(live, "factuur.pdf"), content, 0o644))

	dir, err := Open(live)
	must(err)
	must(os.Rename(live, filepath.Join(root, "archief")))
	entries, err := dir.ReadDir(-1)
	must(err)
	if len(entries) != 1 || entries[0].Name() != "factuur.pdf" {
		t.Errorf("the open folder lists %v, want factuur.pdf", entries)
	}
	must(dir.Close())

	doc := filepath.Join(root, "archief", "factuur.pdf")
	f, err := Open(doc)
	must(err)
	moved := filepath.Join(root, "factuur 2026.pdf")
	must(os.Rename(doc, moved))
	must(os.Remove(moved))
	info, err := f.Stat()
	must(err)
	if info.Size() != int64(len(content)) {
		t.Errorf("the open document's size is %d, want %d", info.Size(), len(content))
	}
	must(f.Close())

	must(os.WriteFile(doc, content, 0o644))
	got, err := ReadFile(doc)
	must(err)
	if !bytes.Equal(got, content) {
		t.Errorf("ReadFile read %d bytes, want %d", len(got), len(content))
	}
	if got, err := ReadFile(filepath.Join(root, "empty.pdf")); !errors.Is(err, fs.ErrNotExist) || got != nil {
		t.Errorf("ReadFile of a missing file: %q, %v; want fs.ErrNotExist", got, err)
	}
	if list, err := ReadDir(filepath.Join(root, "archief")); err != nil || len(list) != 1 {
		t.Errorf("ReadDir: %v, %v; want factuur.pdf", list, err)
	}

	// Past MAX_PATH, where export folders of nested years and customers end up.
	deep := root
	for len(deep) < 300 {
		deep = filepath.Join(deep, strings.Repeat("d", 40))
	}
	must(os.MkdirAll(deep, 0o755))
	must(os.WriteFile(filepath.Join(deep, "f.pdf"), content, 0o644))
	if got, err := ReadFile(filepath.Join(deep, "f.pdf")); err != nil || len(got) != len(content) {
		t.Errorf("ReadFile past MAX_PATH: %d bytes, %v", len(got), err)
	}
}
