package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// BenchmarkRestartNoop restarts a watched connection with 100,000 documents already sent
// and nothing changed since: the time from Start until it is idle (records loaded, the
// folder watched and walked, compared with the store) and this process's CPU time and peak
// heap and resident memory meanwhile (the emulator is the standalone one, its own process).
// Run with: go test -run '^$' -bench RestartNoop -benchtime 3x -timeout 30m ./sync/engine/
func BenchmarkRestartNoop(b *testing.B) {
	const docs = 100_000
	p, dir, st := startEmulatorBinary(b), b.TempDir(), benchStore(b)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	var ups []store.Update
	for i := range docs {
		rel := fmt.Sprintf("archief/%d/factuur 2025-%02d-%02d %06d.pdf", i/1000, i%12+1, i%28+1, i)
		content := fmt.Sprintf("%%PDF-1.7 %d\n%%%%EOF\n", i)
		writeDoc(b, dir, rel, []byte(content), old)
		rec := store.FileRecord{Size: int64(len(content)), ModTime: old.UnixNano(), Hash: hashOf(content),
			RemotePath: fmt.Sprintf("/Acme/2025/Facturen/factuur 2025-%02d-%02d %06d.pdf", i%12+1, i%28+1, i), SyncedAt: old}
		ups = append(ups, store.Update{Path: rel, Record: &rec})
		if len(ups) == 5000 {
			if err := st.Conn("r").Apply(ups...); err != nil {
				b.Fatal(err)
			}
			ups = ups[:0]
		}
	}
	if err := st.Conn("r").SetMeta(store.Meta{InitialCopyDone: true, LastSync: old}); err != nil {
		b.Fatal(err)
	}
	// Checked just now: no check of Dropbox is due (this emulated Dropbox is empty).
	if err := st.Conn("r").SetCheckState(store.CheckState{Since: time.Now()}); err != nil {
		b.Fatal(err)
	}
	ups = nil
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		calls := p.calls(contentCallRoutes...)
		use := measure(10*time.Millisecond, true)
		b.StartTimer()
		start := time.Now()
		e := New(st, Options{Watch: true})
		ctx, cancel := context.WithCancel(context.Background())
		if err := e.Start(ctx, p.conn("r", dir, layout.PresetYearType), nil); err != nil {
			b.Fatal(err)
		}
		for s := statusOf(e, "r"); s.State != StateIdle; s = statusOf(e, "r") {
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("not idle after 5 minutes: %+v", s)
			}
			time.Sleep(time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		u := use()
		cancel()
		e.Wait()
		if n := p.calls(contentCallRoutes...) - calls; n != 0 {
			b.Fatalf("a restart with nothing changed sent %d requests with content", n)
		}
		b.ReportMetric(elapsed.Seconds(), "s-to-idle")
		u.report(b)
	}
}
