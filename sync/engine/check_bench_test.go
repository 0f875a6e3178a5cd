package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// BenchmarkCheck checks 100,000 synced documents against the standalone emulator (its own
// process, 50 ms per request): first a full listing into an empty mirror, then a check of
// the changes since, with nothing touched. It reports time, listing requests and this
// process's CPU time and peak memory; its heap must not grow with the number of documents.
// Run with: go test -run '^$' -bench Check -benchtime 1x -timeout 30m ./sync/engine/
func BenchmarkCheck(b *testing.B) {
	const docs = 100_000
	data := b.TempDir()
	seedDropbox(b, data, docs)
	remote := startEmulatorBinary(b, "--data", data, "--latency", "50ms").client()
	st := benchStore(b)
	seedRecords(b, st.Conn("c"), docs)
	k := checker{st: st.Conn("c"), remote: remote, now: time.Now, fullEvery: 30 * 24 * time.Hour}
	for _, full := range []bool{true, false} {
		name := "incremental"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				use := measure(10*time.Millisecond, true)
				start := time.Now()
				res := k.run(context.Background(), full)
				elapsed := time.Since(start)
				u := use()
				if res.err != nil || res.report.Present != docs || res.report.Repaired != 0 {
					b.Fatalf("check: %v %+v", res.err, res.report)
				}
				b.ReportMetric(elapsed.Seconds(), "s")
				b.ReportMetric(float64(res.report.Requests), "requests")
				u.report(b)
			}
		})
	}
}

// docPath is the Dropbox path of the benchmark's document i.
func docPath(i int) string {
	return fmt.Sprintf("/Acme/%d/Facturen/factuur %06d.pdf", 2015+i%10, i)
}

// seedDropbox writes n documents into an emulator data folder, as a Dropbox that holds
// them already (the standalone emulator started on it serves them).
func seedDropbox(b *testing.B, dir string, n int) {
	srv, err := dropboxemu.New(dropboxemu.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	id, err := srv.AddAccount(dropboxemu.AccountInfo{Email: "demo@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for i := range n {
		if err := srv.PutFile(id, docPath(i), []byte(fmt.Sprintf("%%PDF-1.7 %d\n%%%%EOF\n", i)), old); err != nil {
			b.Fatal(err)
		}
	}
}

// seedRecords records the same n documents as sent an hour ago.
func seedRecords(b *testing.B, st *store.Conn, n int) {
	synced := time.Now().Add(-time.Hour)
	var ups []store.Update
	for i := range n {
		content := fmt.Sprintf("%%PDF-1.7 %d\n%%%%EOF\n", i)
		rec := store.FileRecord{Size: int64(len(content)), ModTime: synced.UnixNano(), Hash: hashOf(content),
			RemotePath: docPath(i), SyncedAt: synced}
		ups = append(ups, store.Update{Path: fmt.Sprintf("%d/factuur %06d.pdf", 2015+i%10, i), Record: &rec})
		if len(ups) == 5000 || i == n-1 {
			if err := st.Apply(ups...); err != nil {
				b.Fatal(err)
			}
			ups = ups[:0]
		}
	}
}
