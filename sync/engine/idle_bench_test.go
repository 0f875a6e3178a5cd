package engine

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/layout"
)

// BenchmarkIdle watches a connection of 5,000 sent documents for 60 s with nothing
// happening, and reports the CPU time this process used meanwhile (cpu-s), its heap and
// resident memory at the end (the heap read once: sampling it would be most of the CPU
// time) and its peak resident memory: a tray app that runs for years must cost nothing
// when nothing changes.
// Run with: go test -run '^$' -bench Idle -benchtime 1x ./sync/engine/
func BenchmarkIdle(b *testing.B) {
	const docs, idle = 5000, 60 * time.Second
	for range b.N {
		b.StopTimer()
		p, dir := startEmulatorBinary(b), b.TempDir()
		old := time.Now().Add(-time.Hour)
		for i := range docs {
			writeDoc(b, dir, fmt.Sprintf("archief/%d/factuur 2025-01-01 %05d.pdf", i/500, i), fmt.Appendf(nil, "%%PDF-1.7 %d\n%%%%EOF\n", i), old)
		}
		e := New(benchStore(b), Options{Watch: true})
		ctx, cancel := context.WithCancel(context.Background())
		if err := e.Start(ctx, p.conn("idle", dir, layout.PresetYearType), nil); err != nil {
			b.Fatal(err)
		}
		for s := statusOf(e, "idle"); !s.InitialCopyDone || s.State != StateIdle; s = statusOf(e, "idle") {
			time.Sleep(10 * time.Millisecond)
		}
		// Resident memory is sampled once a second: more often would be much of the little
		// CPU time an idle app uses.
		use := measure(time.Second, false)
		b.StartTimer()
		time.Sleep(idle)
		b.StopTimer()
		u := use()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		resident := residentBytes()
		cancel()
		e.Wait()
		b.ReportMetric(float64(m.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(resident)/(1<<20), "RSS-MiB")
		u.report(b)
	}
}
