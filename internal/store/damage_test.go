package store

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// filled writes a store of a few hundred records over many pages and returns its path.
func filled(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, id := range []string{"c1", "c2"} {
		var ups []Update
		for i := range 400 {
			path := fmt.Sprintf("2026/%03d/factuur %05d.pdf", i%40, i)
			ups = append(ups, Update{Path: path, Record: &FileRecord{Size: int64(i), Hash: strings.Repeat("ab", 32), RemotePath: "/Acme/" + path},
				Activity: Activity{Time: now, Kind: "uploaded", Path: path}})
		}
		if err := s.Conn(id).Apply(ups...); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// scribble overwrites n random 4 KiB pages (or the meta pages) with garbage, as a failing
// disk does.
func scribble(t *testing.T, path string, rng *rand.Rand, pages ...int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, pg := range pages {
		junk := make([]byte, 4096)
		rng.Read(junk)
		if _, err := f.WriteAt(junk, int64(pg)*4096); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDamagedStoreIsAnErrorNotAPanic scribbles over pages of a real store in many ways:
// Open must return ErrDamaged (or, where the garbage happens to fall in a value, open and
// read without panicking), and OpenOrReset must set the file aside and start empty.
func TestDamagedStoreIsAnErrorNotAPanic(t *testing.T) {
	clean := filled(t)
	orig, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	npages := len(orig) / 4096
	damaged := 0
	for seed := range 60 {
		rng := rand.New(rand.NewSource(int64(seed)))
		p := filepath.Join(panickedDir(t), "state.db")
		os.WriteFile(p, orig, 0o600)
		var pages []int
		switch seed % 4 {
		case 0:
			pages = []int{0, 1} // both meta pages
		default:
			for range seed%4 + 1 {
				pages = append(pages, 2+rng.Intn(npages-2))
			}
		}
		scribble(t, p, rng, pages...)

		// A file bbolt panicked on stays locked by this process (see openBolt): OpenOrReset
		// gets a copy of its own, as it would be at the next start.
		again := filepath.Join(panickedDir(t), "state.db")
		b, _ := os.ReadFile(p)
		os.WriteFile(again, b, 0o600)

		s, err := Open(p)
		if err == nil {
			// The garbage fell where nothing is read at open; reading must still not panic.
			c := s.Conn("c1")
			c.Files("", func(string, FileRecord) error { return nil })
			c.Activities(10)
			s.Close()
			continue
		}
		if !errors.Is(err, ErrDamaged) {
			t.Fatalf("seed %d, pages %v: %v, want ErrDamaged", seed, pages, err)
		}
		damaged++

		p = again
		s, reset, err := OpenOrReset(p)
		if err != nil || reset == nil {
			t.Fatalf("seed %d: reset %+v, %v", seed, reset, err)
		}
		if !strings.HasPrefix(filepath.Base(reset.Broken), "state.db.broken-") || !errors.Is(reset.Cause, ErrDamaged) {
			t.Fatalf("seed %d: reset %+v", seed, reset)
		}
		if b, err := os.ReadFile(reset.Broken); err != nil || len(b) != len(orig) {
			t.Fatalf("seed %d: the damaged file was not kept: %v", seed, err)
		}
		if _, ok, err := s.Conn("c1").File("2026/000/factuur 00000.pdf"); ok || err != nil {
			t.Fatalf("seed %d: the new store is not empty: %v %v", seed, ok, err)
		}
		if err := s.Conn("c1").Enqueue(time.Now(), "a.pdf"); err != nil {
			t.Fatalf("seed %d: the new store does not write: %v", seed, err)
		}
		s.Close()
		// Once set aside, the next start opens the new store as it is.
		s, reset, err = OpenOrReset(p)
		if err != nil || reset != nil {
			t.Fatalf("seed %d: second open: %+v %v", seed, reset, err)
		}
		s.Close()
	}
	if damaged < 30 {
		t.Fatalf("only %d of 60 scribbles were found damaged", damaged)
	}
	t.Logf("%d of 60 found damaged", damaged)
}

// TestOpenOrResetKeepsAGoodStore: a sound store is opened as it is, nothing set aside.
func TestOpenOrResetKeepsAGoodStore(t *testing.T) {
	p := filled(t)
	s, reset, err := OpenOrReset(p)
	if err != nil || reset != nil {
		t.Fatalf("%+v %v", reset, err)
	}
	defer s.Close()
	if _, ok, _ := s.Conn("c2").File("2026/001/factuur 00001.pdf"); !ok {
		t.Fatal("records lost")
	}
	if m, _ := filepath.Glob(p + ".broken-*"); len(m) != 0 {
		t.Fatalf("set aside: %v", m)
	}
}

// panickedDir is a temporary folder for a file bbolt may panic on. Such a file stays mapped
// for the life of the process (openBolt) and Windows deletes no mapped file (renaming it
// aside, as OpenOrReset does, still works): there the folder outlives the test, where
// t.TempDir would fail it.
func panickedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "damaged-store-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil && runtime.GOOS != "windows" {
			t.Error(err)
		}
	})
	return dir
}
