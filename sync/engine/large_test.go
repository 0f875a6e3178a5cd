package engine

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
)

// rewriting is the real client with the test's hand in large uploads: rewrite runs once,
// from the uploader's progress callback, when half of the first large file is at Dropbox,
// so the rest of the file is read after it.
type rewriting struct {
	*dropbox.Client
	once    sync.Once
	rewrite func()
}

func (r *rewriting) UploadLarge(ctx context.Context, local dropbox.LargeFile, path string, progress func(int64)) (*dropbox.File, error) {
	return r.Client.UploadLarge(ctx, local, path, func(n int64) {
		if n >= local.Size/2 {
			r.once.Do(r.rewrite)
		}
		progress(n)
	})
}

// bigPDF is size bytes of content drawn from seed, ending as a whole PDF does.
func bigPDF(seed int64, size int) []byte {
	b := make([]byte, size)
	rand.New(rand.NewSource(seed)).Read(b)
	copy(b[size-7:], "\n%%EOF\n")
	return b
}

// TestLargeFileRewrittenWhileSent rewrites a 50 MiB document when half of it is at
// Dropbox, in place or by renaming another file over it: Dropbox must never hold a version
// that is neither the old nor the new content, and the new content must arrive.
func TestLargeFileRewrittenWhileSent(t *testing.T) {
	const size = 50 << 20
	for _, way := range []string{"in place", "renamed over"} {
		t.Run(way, func(t *testing.T) {
			if way == "renamed over" && runtime.GOOS == "windows" {
				t.Skip("Windows refuses to replace a file that is open, even shared for deleting as the upload opens it: it cannot be renamed over mid-upload")
			}
			data := t.TempDir()
			env := emutest.Start(t, dropboxemu.Options{DataDir: data, Faults: dropboxemu.Faults{Latency: 5 * time.Millisecond}},
				dropboxemu.AccountInfo{Email: "info@acme.be"})
			h := &harness{t: t, dir: t.TempDir(), srv: env.Srv, url: env.URL, account: env.Account, token: env.Token,
				stPath: filepath.Join(t.TempDir(), "state.db")}
			h.openStore()

			old, next := bigPDF(1, size), bigPDF(2, size)
			p := filepath.Join(h.dir, "jaaroverzicht 2025-12-31.pdf")
			if err := os.WriteFile(p, old, 0o644); err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-time.Hour)
			os.Chtimes(p, past, past)
			rewrite := func() {
				var err error
				if way == "in place" {
					var f *os.File
					if f, err = os.OpenFile(p, os.O_WRONLY, 0); err == nil {
						_, err = f.WriteAt(next, 0)
						f.Close()
					}
				} else if err = os.WriteFile(p+".tmp", next, 0o644); err == nil {
					err = os.Rename(p+".tmp", p)
				}
				if err != nil {
					t.Error(err)
				}
			}

			c := h.conn("c1", "Acme")
			c.Remote = &rewriting{Client: h.client(h.token), rewrite: rewrite}
			if err := h.runOnce(c, testOptions()); err != nil {
				t.Fatal(err)
			}

			const remote = "/Acme/2025/Overige/jaaroverzicht 2025-12-31.pdf"
			oldHash, newHash := hashOf(string(old)), hashOf(string(next))
			vs := emutest.Versions(t, data, remote)
			for _, v := range vs {
				if v != oldHash && v != newHash {
					t.Errorf("Dropbox had a version %s that is neither the old (%s) nor the new (%s) content", v, oldHash, newHash)
				}
			}
			if len(vs) == 0 || vs[len(vs)-1] != newHash || h.remoteFiles()[remote] != newHash {
				t.Fatalf("versions %v, Dropbox has %s; want the new content %s last", vs, h.remoteFiles()[remote], newHash)
			}
		})
	}
}
