package engine

import (
	"testing"

	"github.com/onfact/onfact-dropbox/internal/layout"
)

// BenchmarkInitialCopy100k sends 100,000 documents of 4 KiB to the standalone emulator (its
// own process, storing on disk, 50 ms per request, write lock on) with default options, and
// reports the time, the requests the emulator answered and this process's CPU time and
// peak heap and resident memory.
// Run with: go test -run '^$' -bench InitialCopy100k -benchtime 1x -timeout 60m ./sync/engine/
func BenchmarkInitialCopy100k(b *testing.B) {
	const docs, size = 100_000, 4 << 10
	for range b.N {
		b.StopTimer()
		p := startEmulatorBinary(b, "--data", b.TempDir(), "--latency", "50ms", "--write-lock")
		dir := b.TempDir()
		writeDocs(b, dir, docs, size, 1000)
		before := p.requests()
		elapsed, use := runMeasured(b, benchStore(b), p.conn("bench", dir, layout.PresetYearType), Options{}, true)
		b.ReportMetric(elapsed.Seconds(), "s")
		b.ReportMetric(float64(docs)/elapsed.Seconds(), "files/s")
		b.ReportMetric(float64(p.requests()-before), "requests")
		use.report(b)
	}
}
