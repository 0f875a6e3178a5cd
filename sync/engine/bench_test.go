package engine

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

// BenchmarkInitialCopy sends 5,000 files of 64 KiB to an emulated Dropbox that answers
// every request after 50 ms and enforces the namespace write lock, as real Dropbox does.
// Run with: go test -run '^$' -bench InitialCopy -benchtime 1x ./sync/engine/
func BenchmarkInitialCopy(b *testing.B) {
	const files, size = 5000, 64 << 10
	for _, conc := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				h := newHarness(b, dropboxemu.Faults{Latency: 50 * time.Millisecond, WriteLock: true})
				rng := rand.New(rand.NewSource(1))
				data := make([]byte, size)
				old := time.Now().Add(-time.Hour)
				for i := range files {
					rng.Read(data)
					p := filepath.Join(h.dir, fmt.Sprintf("%d", i/500), fmt.Sprintf("factuur 2025-%02d-%02d %05d.pdf", i%12+1, i%28+1, i))
					os.MkdirAll(filepath.Dir(p), 0o755)
					if err := os.WriteFile(p, data, 0o644); err != nil {
						b.Fatal(err)
					}
					os.Chtimes(p, old, old)
				}
				opts := Options{Concurrency: conc}
				b.StartTimer()
				start := time.Now()
				if err := h.runOnce(h.conn("bench", "Acme"), opts); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				if n := len(h.remoteFiles()); n != files {
					b.Fatalf("%d files in Dropbox, want %d", n, files)
				}
				b.ReportMetric(float64(files)/elapsed.Seconds(), "files/s")
				b.ReportMetric(float64(files*size)/elapsed.Seconds()/(1<<20), "MiB/s")
				b.ReportMetric(float64(h.srv.Calls("files/upload_session/finish_batch_v2")), "commits")
				st := h.srv.Stats()["files/upload_session/finish_batch_v2"]
				b.ReportMetric(float64(st.Status[429]), "commit-429s")
			}
		})
	}
}
