package engine

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
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

// BenchmarkLargeFileMemory sends one 300 MiB file to the standalone emulator (its own
// process, storing on disk) and reports this process's peak heap: streaming through upload
// sessions must keep it far below the file's size.
// Run with: go test -run '^$' -bench LargeFileMemory -benchtime 1x ./sync/engine/
func BenchmarkLargeFileMemory(b *testing.B) {
	url, token := startEmulatorBinary(b)
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		writeBigFile(b, filepath.Join(dir, "archief 2025-12-31.pdf"), 300<<20)
		st, err := store.Open(filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		c := Conn{ID: "m", Name: "mem", Folder: dir,
			Layout: layout.Layout{Structure: layout.MustParseStructure(layout.PresetYear), Company: "Acme"},
			Remote: dropbox.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), dropbox.Options{BaseURL: url})}
		runtime.GC()
		var peak atomic.Uint64
		stop := make(chan struct{})
		go func() {
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		b.StartTimer()
		e := New(st, Options{})
		done := make(chan error, 1)
		e.Start(context.Background(), c, func(err error) { done <- err })
		err = <-done
		b.StopTimer()
		close(stop)
		st.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
}

// startEmulatorBinary builds and starts cmd/dropbox-emulator on a free loopback port.
func startEmulatorBinary(b *testing.B) (url, token string) {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "dropbox-emulator")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/dropbox-emulator").CombinedOutput(); err != nil {
		b.Fatalf("build emulator: %v\n%s", err, out)
	}
	tokFile := filepath.Join(b.TempDir(), "token")
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data", b.TempDir(), "--token-file", tokFile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	m := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
	tok, err := os.ReadFile(tokFile)
	if err != nil || m == "" {
		b.Fatalf("emulator start: %q %v", line, err)
	}
	return m, string(tok)
}

// BenchmarkSaveToCommit measures how long a document saved in the export folder takes to
// be committed in Dropbox while the app runs, with default options (1 s settle) and an
// emulated Dropbox at 50 ms per request with the write lock on. Documents are saved one
// at a time.
// Run with: go test -run '^$' -bench SaveToCommit -benchtime 20x ./sync/engine/
func BenchmarkSaveToCommit(b *testing.B) {
	h := newHarness(b, dropboxemu.Faults{Latency: 50 * time.Millisecond, WriteLock: true})
	e := New(h.st, Options{Watch: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); e.Wait() }()
	if err := e.Start(ctx, h.conn("lat", "Acme"), nil); err != nil {
		b.Fatal(err)
	}
	for s := e.Status(); len(s) == 0 || !s[0].InitialCopyDone; s = e.Status() {
		time.Sleep(10 * time.Millisecond)
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("factuur 2026-03-%02d %04d.pdf", i%28+1, i)
		remote := "/Acme/2026/Facturen/" + name
		start := time.Now()
		if err := os.WriteFile(filepath.Join(h.dir, name), []byte("%PDF "+name), 0o644); err != nil {
			b.Fatal(err)
		}
		for {
			if _, ok := h.remoteFiles()[remote]; ok {
				break
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("%s not committed after 30 s", name)
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Milliseconds()), "p95-ms")
}
