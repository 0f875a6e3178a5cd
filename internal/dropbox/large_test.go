package dropbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
)

// localFile is the file at p as a caller sees it before sending it: stat and hash.
func localFile(t testing.TB, p string) LargeFile {
	t.Helper()
	info, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := ContentHash(f)
	if err != nil {
		t.Fatal(err)
	}
	return LargeFile{LocalPath: p, Size: info.Size(), ModTime: info.ModTime(), Hash: h}
}

// TestLargeFileRewrittenWhileSent rewrites a 50 MiB file when half of it is at Dropbox,
// in place or by putting another file over its path, and checks that the mix of old and
// new bytes the session then holds is never committed: UploadLarge reports ErrLocalChanged,
// and every version Dropbox ever had at the path is the old or the new content.
func TestLargeFileRewrittenWhileSent(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{Latency: 5 * time.Millisecond}, quiet, testLargeFileRewrittenWhileSent)
}

func testLargeFileRewrittenWhileSent(t *testing.T, faults dropboxemu.Faults) {
	const size = 50 << 20
	rewrites := []struct {
		name     string
		parallel int
		// rewrite changes the file at p from old towards next and returns what is on disk then.
		rewrite func(t *testing.T, p string, old, next []byte) []byte
	}{
		{"in place", 4, func(t *testing.T, p string, _, data []byte) []byte {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return nil
			}
			defer f.Close()
			if _, err := f.WriteAt(data, 0); err != nil {
				t.Error(err)
			}
			return data
		}},
		{"in place, mtime kept", 4, func(t *testing.T, p string, _, data []byte) []byte {
			// As cp -p or a restore would: same size, same mtime, only the bytes differ.
			info, _ := os.Stat(p)
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return nil
			}
			f.WriteAt(data, 0)
			f.Close()
			os.Chtimes(p, info.ModTime(), info.ModTime())
			return data
		}},
		{"renamed over", 4, func(t *testing.T, p string, _, data []byte) []byte {
			tmp := p + ".tmp"
			if err := os.WriteFile(tmp, data, 0o600); err != nil {
				t.Error(err)
				return nil
			}
			if err := os.Rename(tmp, p); err != nil {
				t.Error(err)
			}
			return data
		}},
		{"sequential, in place", 1, func(t *testing.T, p string, _, data []byte) []byte {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return nil
			}
			defer f.Close()
			f.WriteAt(data, 0)
			return data
		}},
		{"truncated", 4, func(t *testing.T, p string, old, _ []byte) []byte {
			if err := os.Truncate(p, size/4); err != nil {
				t.Error(err)
			}
			return old[:size/4]
		}},
	}
	rnd := rand.New(rand.NewSource(13))
	for i, rw := range rewrites {
		t.Run(rw.name, func(t *testing.T) {
			if rw.name == "renamed over" && runtime.GOOS == "windows" {
				t.Skip("Windows refuses to replace a file that is open, even shared for deleting as the upload opens it: it cannot be renamed over mid-upload")
			}
			data := t.TempDir()
			e := emutest.Start(t, dropboxemu.Options{DataDir: data, Faults: faults}, dropboxemu.AccountInfo{Email: "groot@acme.be"})
			c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: e.URL, ParallelChunks: rw.parallel})
			old, next := make([]byte, size), make([]byte, size)
			rnd.Read(old)
			rnd.Read(next)
			p := filepath.Join(t.TempDir(), "jaaroverzicht.pdf")
			if err := os.WriteFile(p, old, 0o600); err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-time.Hour)
			os.Chtimes(p, past, past)
			path := "/Acme/jaaroverzicht " + string(rune('a'+i)) + ".pdf"

			// The rewrite runs inside the progress callback once half is confirmed, so the
			// uploader reads the rest only after it: the session is sure to hold a mix.
			var once sync.Once
			_, err := c.UploadLarge(context.Background(), localFile(t, p), path, func(n int64) {
				if n >= size/2 {
					once.Do(func() { next = rw.rewrite(t, p, old, next) })
				}
			})
			if !errors.Is(err, ErrLocalChanged) {
				t.Fatalf("rewritten at half: %v, want ErrLocalChanged", err)
			}
			if v := emutest.Versions(t, data, path); len(v) != 0 {
				t.Fatalf("versions committed of a file rewritten while sent: %v", v)
			}

			// Once it holds still, the new content goes through.
			f, err := c.UploadLarge(context.Background(), localFile(t, p), path, nil)
			if err != nil || f.Hash != hashOf(t, next) {
				t.Fatalf("sent again: %+v %v", f, err)
			}
			v := emutest.Versions(t, data, path)
			if len(v) != 1 || v[0] != hashOf(t, next) {
				t.Fatalf("versions %v, want only the new content %s", v, hashOf(t, next))
			}
			if got := e.Files()[path]; got != hashOf(t, next) {
				t.Fatalf("Dropbox has %s, want %s", got, hashOf(t, next))
			}
		})
	}
}

// TestLargeFileChangedBeforeSending: a file that no longer is what the caller saw is not
// sent at all.
func TestLargeFileChangedBeforeSending(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Faults{})
	c := e.client()
	p := filepath.Join(t.TempDir(), "groot.pdf")
	os.WriteFile(p, make([]byte, 9<<20), 0o600)
	seen := localFile(t, p)
	os.WriteFile(p, make([]byte, 9<<20+1), 0o600)
	_, err := c.UploadLarge(context.Background(), seen, "/Acme/groot.pdf", nil)
	if !errors.Is(err, ErrLocalChanged) {
		t.Fatalf("%v, want ErrLocalChanged", err)
	}
	if in := contentBytesIn(e.Srv.Stats()); in != 0 {
		t.Fatalf("%d bytes sent of a file that had changed", in)
	}
}

// TestSessionHash: the session's content hash is composed from its parts' block digests
// only when they are whole blocks from 0 without a gap; anything else is refused.
func TestSessionHash(t *testing.T) {
	const block = 4 << 20
	data := make([]byte, 3*block+5)
	rand.New(rand.NewSource(1)).Read(data)
	cut := func(lo, hi int) part {
		p, err := digest(bytes.NewReader(data[lo:hi]))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		parts map[int64]part
		size  int64
		ok    bool
	}{
		{"one part", map[int64]part{0: cut(0, len(data))}, int64(len(data)), true},
		{"chunks out of order", map[int64]part{2 * block: cut(2*block, len(data)), 0: cut(0, 2*block)}, int64(len(data)), true},
		{"a gap", map[int64]part{0: cut(0, block), 2 * block: cut(2*block, len(data))}, int64(len(data)), false},
		{"short of the file", map[int64]part{0: cut(0, 2*block)}, int64(len(data)), false},
		{"not on a block boundary", map[int64]part{0: cut(0, block+1), block + 1: cut(block+1, len(data))}, int64(len(data)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &largeSession{parts: tc.parts}
			got, err := s.sessionHash(tc.size)
			if !tc.ok {
				if err == nil {
					t.Fatalf("composed %s, want a refusal", got)
				}
				return
			}
			if err != nil || got != hashOf(t, data) {
				t.Fatalf("%s %v, want %s", got, err, hashOf(t, data))
			}
		})
	}
}

// TestLargeFilesShareTheChunkBudget: however many large files are sent at once, no more
// than ParallelChunks of their chunks are read and on their way together, and every file
// arrives whole.
func TestLargeFilesShareTheChunkBudget(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Faults{Latency: 20 * time.Millisecond})
	var inFlight, most atomic.Int32
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/upload_session/append_v2") {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
		}
		e.Srv.ServeHTTP(w, r)
	})
	front := httptest.NewServer(count)
	defer front.Close()
	const budget = 2
	c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: front.URL, ParallelChunks: budget})
	var wg sync.WaitGroup
	for i := range 3 {
		p := filepath.Join(t.TempDir(), "scan.pdf")
		data := make([]byte, 3*8<<20+12345)
		rand.New(rand.NewSource(int64(i))).Read(data)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		local := localFile(t, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := c.UploadLarge(context.Background(), local, fmt.Sprintf("/Acme/scan %d.pdf", i), nil)
			if err != nil || f.Hash != local.Hash {
				t.Errorf("file %d: %v %+v", i, err, f)
			}
		}()
	}
	wg.Wait()
	if m := most.Load(); m > budget || m == 0 {
		t.Fatalf("%d chunks on their way at once, budget %d", m, budget)
	}
	if n := len(c.chunks); n != 0 {
		t.Fatalf("%d chunk tokens not given back", n)
	}
}
