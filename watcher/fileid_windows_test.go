package watcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileIDWindows checks the identity the watcher re-keys moved directories by: it stays
// when a directory is renamed or moved, differs between directories, and is read at
// depths past MAX_PATH, where export folders of nested years and customers end up.
func TestFileIDWindows(t *testing.T) {
	root := t.TempDir()
	id := func(p string) fileID {
		t.Helper()
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		got := idOf(p, fi)
		if got == (fileID{}) {
			t.Fatalf("idOf(%s) is unknown", p)
		}
		return got
	}
	a, other := filepath.Join(root, "a"), filepath.Join(root, "other")
	must(t, os.Mkdir(a, 0o755))
	must(t, os.Mkdir(other, 0o755))
	before := id(a)
	if id(other) == before {
		t.Errorf("two directories share the identity %+v", before)
	}

	renamed := filepath.Join(root, "b")
	must(t, os.Rename(a, renamed))
	if got := id(renamed); got != before {
		t.Errorf("renamed: identity %+v, was %+v", got, before)
	}
	moved := filepath.Join(other, "b")
	must(t, os.Rename(renamed, moved))
	if got := id(moved); got != before {
		t.Errorf("moved into another directory: identity %+v, was %+v", got, before)
	}

	deep := root
	for len(deep) < 300 {
		deep = filepath.Join(deep, strings.Repeat("d", 40))
	}
	must(t, os.MkdirAll(deep, 0o755))
	deepID := id(deep)
	must(t, os.Rename(deep, deep+"2"))
	if got := id(deep + "2"); got != deepID {
		t.Errorf("renamed past MAX_PATH: identity %+v, was %+v", got, deepID)
	}

	f := filepath.Join(root, "f.pdf")
	must(t, os.WriteFile(f, nil, 0o644))
	fi, err := os.Lstat(f)
	must(t, err)
	if got := idOf(f, fi); got != (fileID{}) {
		t.Errorf("idOf(file) = %+v, want unknown: only directories are keyed", got)
	}
}
