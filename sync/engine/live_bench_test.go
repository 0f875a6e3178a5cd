package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/layout"
)

// BenchmarkLiveBehindBacklog measures how long a document saved while the initial copy of
// 100,000 documents runs takes to be committed in Dropbox: an emulated Dropbox at 50 ms per
// request, with the write lock and 2 ms per batch entry of commit time (a batch of 1,000
// holds the account's lock for 2 s, as real Dropbox's commits take). One document is saved
// every 200 ms, 40 in all, each measured from its write until Dropbox holds it. The
// emulator is the standalone one, so cpu-s and peak-RSS-MiB are the app's.
// Run with: go test -run '^$' -bench LiveBehindBacklog -benchtime 1x -timeout 30m ./sync/engine/
func BenchmarkLiveBehindBacklog(b *testing.B) {
	const backlog, live = 100_000, 40
	for range b.N {
		b.StopTimer()
		p, dir := startEmulatorBinary(b), b.TempDir()
		p.setFaults(dropboxemu.Faults{Latency: 50 * time.Millisecond, WriteLock: true, CommitEntryCost: 2 * time.Millisecond})
		old := time.Now().Add(-time.Hour)
		for i := range backlog {
			rel := fmt.Sprintf("archief/%d/factuur 2025-%02d-%02d %06d.pdf", i/1000, i%12+1, i%28+1, i)
			writeDoc(b, dir, rel, fmt.Appendf(nil, "%%PDF-1.7 %d\n%%%%EOF\n", i), old)
		}
		e := New(benchStore(b), Options{Watch: true})
		ctx, cancel := context.WithCancel(context.Background())
		if err := e.Start(ctx, p.conn("live", dir, layout.PresetYearType), nil); err != nil {
			b.Fatal(err)
		}
		for s := e.Status(); len(s) == 0 || s[0].Done < 2000; s = e.Status() {
			time.Sleep(10 * time.Millisecond) // the copy is well under way
		}
		use := measure(10*time.Millisecond, false)
		b.StartTimer()
		var (
			mu  sync.Mutex
			lat []time.Duration
			wg  sync.WaitGroup
		)
		for i := range live {
			name := fmt.Sprintf("factuur 2026-03-%02d L%03d.pdf", i%28+1, i)
			remote := "/Acme/2026/Facturen/" + name
			start := time.Now()
			if err := os.WriteFile(filepath.Join(dir, name), []byte("%PDF-1.7 "+name+"\n%%EOF\n"), 0o644); err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ok, err := p.has(remote)
					if err != nil {
						b.Error(err)
						return
					}
					if ok {
						break
					}
					if time.Since(start) > 5*time.Minute {
						b.Errorf("%s not committed after 5 minutes", name)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}()
			time.Sleep(200 * time.Millisecond)
		}
		wg.Wait()
		b.StopTimer()
		u := use()
		left := e.Status()[0].Queued
		cancel()
		e.Wait()
		if left == 0 {
			b.Fatal("the initial copy ended before the live documents were measured")
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(left), "backlog-left")
		u.report(b)
	}
}
