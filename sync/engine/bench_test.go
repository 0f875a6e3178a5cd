package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/errgroup"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// The initial copy's folder: 5,000 files of 64 KiB (320 MiB).
const copyFiles, copySize = 5000, 64 << 10

// newCopyEmulator is the standalone emulator answering every request after 50 ms and
// enforcing the namespace write lock, as real Dropbox does, and an export folder of
// copyFiles whole PDFs of copySize bytes, dated an hour ago (settled). It returns the
// folder and its files' paths relative to it, with slashes.
func newCopyEmulator(b *testing.B) (p *emuProc, dir string, rels []string) {
	b.Helper()
	p = startEmulatorBinary(b)
	p.setFaults(dropboxemu.Faults{Latency: 50 * time.Millisecond, WriteLock: true})
	dir = b.TempDir()
	return p, dir, writeDocs(b, dir, copyFiles, copySize, 500)
}

// writeDocs writes n whole PDFs (random bytes, as far as their end goes) of size bytes
// into dir, perDir to a folder, dated an hour ago (settled), and returns their paths
// relative to dir, with slashes.
func writeDocs(b *testing.B, dir string, n, size, perDir int) (rels []string) {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	data := make([]byte, size)
	old := time.Now().Add(-time.Hour)
	for i := range n {
		rng.Read(data)
		copy(data[size-7:], "\n%%EOF\n")
		rel := fmt.Sprintf("%d/factuur 2025-%02d-%02d %06d.pdf", i/perDir, i%12+1, i%28+1, i)
		writeDoc(b, dir, rel, data, old)
		rels = append(rels, rel)
	}
	return rels
}

// writeDoc writes data at rel (with slashes) under dir, its folders too, dated mod.
func writeDoc(t testing.TB, dir, rel string, data []byte, mod time.Time) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkInitialCopy sends the initial copy's folder (newCopyEmulator) with the engine.
// Run with: go test -run '^$' -bench 'InitialCopy$' -benchtime 1x ./sync/engine/
func BenchmarkInitialCopy(b *testing.B) {
	const files, size = copyFiles, copySize
	for _, conc := range []int{8, 16, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				p, dir, _ := newCopyEmulator(b)
				elapsed, use := runMeasured(b, benchStore(b), p.conn("bench", dir, layout.PresetYearType), Options{Concurrency: conc}, false)
				if n := len(p.files()); n != files {
					b.Fatalf("%d files in Dropbox, want %d", n, files)
				}
				b.ReportMetric(float64(files)/elapsed.Seconds(), "files/s")
				b.ReportMetric(float64(files*size)/elapsed.Seconds()/(1<<20), "MiB/s")
				st := p.stats()["files/upload_session/finish_batch_v2"]
				b.ReportMetric(float64(st.Calls), "commits")
				b.ReportMetric(float64(st.Status[429]), "commit-429s")
				use.report(b)
			}
		})
	}
}

// BenchmarkNaiveCopy sends the same folder as BenchmarkInitialCopy (newCopyEmulator) the
// way a simple uploader does, as the baseline the engine is measured against: one
// files/upload per file, four at a time. Each of the four has its own client, so nothing
// serializes their commits on this side: uploads that meet another's write lock get 429
// too_many_write_operations and the client retries them after the Retry-After, as it
// retries every call. The files keep their folder's paths under /Acme.
// Run with: go test -run '^$' -bench NaiveCopy -benchtime 1x ./sync/engine/
func BenchmarkNaiveCopy(b *testing.B) {
	const workers = 4
	for range b.N {
		b.StopTimer()
		p, dir, rels := newCopyEmulator(b)
		paths := make(chan string)
		g, ctx := errgroup.WithContext(context.Background())
		use := measure(10*time.Millisecond, false)
		b.StartTimer()
		start := time.Now()
		g.Go(func() error {
			defer close(paths)
			for _, rel := range rels {
				select {
				case paths <- rel:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
		for range workers {
			c := p.client()
			g.Go(func() error {
				for rel := range paths {
					fp := filepath.Join(dir, filepath.FromSlash(rel))
					fi, err := os.Stat(fp)
					if err != nil {
						return err
					}
					data, err := os.ReadFile(fp)
					if err != nil {
						return err
					}
					cm := dropbox.Commit{Path: "/Acme/" + rel, Size: int64(len(data)), ClientModified: fi.ModTime()}
					if _, err := c.Upload(ctx, data, cm); err != nil {
						return fmt.Errorf("upload %s: %w", rel, err)
					}
				}
				return nil
			})
		}
		err := g.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		u := use()
		if err != nil {
			b.Fatal(err)
		}
		if n := len(p.files()); n != copyFiles {
			b.Fatalf("%d files in Dropbox, want %d", n, copyFiles)
		}
		stats := p.stats()
		requests := 0
		for _, st := range stats {
			requests += st.Calls
		}
		b.ReportMetric(elapsed.Seconds(), "s")
		b.ReportMetric(float64(copyFiles)/elapsed.Seconds(), "files/s")
		b.ReportMetric(float64(requests), "requests")
		b.ReportMetric(float64(stats["files/upload"].Status[429]), "upload-429s")
		u.report(b)
	}
}

// BenchmarkLargeFileMemory sends one 1 GiB file to the standalone emulator (its own
// process, storing on disk, 50 ms per request) and reports the throughput and this
// process's CPU time and peak heap and resident memory: streaming through upload sessions must keep memory
// far below the file's size.
// Run with: go test -run '^$' -bench LargeFileMemory -benchtime 1x ./sync/engine/
func BenchmarkLargeFileMemory(b *testing.B) {
	const size = 1 << 30
	p := startEmulatorBinary(b, "--data", b.TempDir(), "--latency", "50ms")
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		writeBigFile(b, filepath.Join(dir, "archief 2025-12-31.pdf"), size)
		elapsed, use := runMeasured(b, benchStore(b), p.conn("bench", dir, layout.PresetYear), Options{}, true)
		b.ReportMetric(float64(size)/(1<<20)/elapsed.Seconds(), "MiB/s")
		use.report(b)
	}
}

// watchHeap samples this process's heap in use from now (after a GC) until the returned
// function is called, which returns the peak.
func watchHeap() (peak func() uint64) {
	runtime.GC()
	return watchPeak(20*time.Millisecond, func() uint64 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	})
}

// watchRSS samples this process's resident memory every period likewise (0 where /proc is
// not there).
func watchRSS(period time.Duration) (peak func() uint64) { return watchPeak(period, residentBytes) }

// residentBytes is this process's resident memory now (Linux /proc; 0 elsewhere).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseUint(f[1], 10, 64)
	return n * uint64(os.Getpagesize())
}

// watchPeak calls read every period from now until the returned function is called,
// which returns the largest value read.
func watchPeak(period time.Duration, read func() uint64) (peak func() uint64) {
	var max atomic.Uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			if v := read(); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(period):
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-stopped
		return max.Load()
	}
}

// usage is what this process used over a benchmark's measured part: CPU time (user and
// system) and peak resident memory, and peak heap where it was sampled. The emulator runs
// in its own process, so these are the app's (and the benchmark's own polling), not the
// emulator's.
type usage struct {
	cpu       time.Duration
	heap, rss uint64
}

// measure starts measuring usage, sampling resident memory every rssEvery and, with heap,
// the heap too (each sample of it stops the world, so only where the heap is the point);
// the returned function stops and returns it. It frees what it can to the OS first, so
// the peaks are of the measured part.
func measure(rssEvery time.Duration, heap bool) (stop func() usage) {
	debug.FreeOSMemory()
	peakHeap := func() uint64 { return 0 }
	if heap {
		peakHeap = watchHeap()
	}
	peakRSS, cpu := watchRSS(rssEvery), cpuTime()
	return func() usage {
		return usage{cpu: cpuTime() - cpu, heap: peakHeap(), rss: peakRSS()}
	}
}

// report reports u as the benchmark's cpu-s, peak-RSS-MiB and, if sampled, peak-heap-MiB.
func (u usage) report(b *testing.B) {
	b.ReportMetric(u.cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(u.rss)/(1<<20), "peak-RSS-MiB")
	if u.heap > 0 {
		b.ReportMetric(float64(u.heap)/(1<<20), "peak-heap-MiB")
	}
}

// runMeasured runs c once (without Watch) on a fresh engine with opts over st and returns
// how long it took and what this process used meanwhile (with the heap sampled, if heap).
func runMeasured(b *testing.B, st *store.Store, c Conn, opts Options, heap bool) (elapsed time.Duration, u usage) {
	b.Helper()
	use := measure(10*time.Millisecond, heap)
	b.StartTimer()
	start := time.Now()
	done := make(chan error, 1)
	if err := New(st, opts).Start(context.Background(), c, func(err error) { done <- err }); err != nil {
		b.Fatal(err)
	}
	err := <-done
	elapsed = time.Since(start)
	b.StopTimer()
	u = use()
	if err != nil {
		b.Fatal(err)
	}
	return elapsed, u
}

// benchStore is a fresh state store, closed when the benchmark ends.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// emuProc is a running standalone emulator (cmd/dropbox-emulator): its URL, an access
// token for its account and that account's id. Benchmarks run the app against it rather
// than against an emulator in this process, so that this process's CPU time and memory
// are the app's; they read and change it through its admin API (/_emulator/...).
type emuProc struct {
	b                   *testing.B
	url, token, account string
	pid                 int
}

// startEmulatorBinary builds and starts cmd/dropbox-emulator with args on a free loopback
// port until the benchmark ends. It stores in memory, as the emulator in a test process
// does, unless args give --data: on this machine's disk a copy of 5,000 documents took 3×
// as long, the emulator's writes and not the app's requests setting the pace.
func startEmulatorBinary(b *testing.B, args ...string) *emuProc {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "dropbox-emulator")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/dropbox-emulator").CombinedOutput(); err != nil {
		b.Fatalf("build emulator: %v\n%s", err, out)
	}
	tokFile := filepath.Join(b.TempDir(), "token")
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--token-file", tokFile}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start emulator: %v", err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// "dropbox-emulator listening on http://ADDR (app key KEY, account EMAIL)": the token
	// file is for that first account, whose id follows from its e-mail address.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("emulator start: %v", err)
	}
	m := regexp.MustCompile(`(http://[0-9.:]+) .*, account ([^)]+)\)`).FindStringSubmatch(line)
	tok, err := os.ReadFile(tokFile)
	if err != nil || m == nil {
		b.Fatalf("emulator start: %q %v", line, err)
	}
	return &emuProc{b: b, url: m[1], token: string(tok), account: dropboxemu.AccountID(m[2]), pid: cmd.Process.Pid}
}

// client is a new Dropbox client of the emulator's account.
func (p *emuProc) client() *dropbox.Client {
	return dropbox.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: p.token}), dropbox.Options{BaseURL: p.url})
}

// conn is a connection id of dir to the emulator's account, under /Acme with structure.
func (p *emuProc) conn(id, dir, structure string) Conn {
	return Conn{ID: id, Name: id, Folder: dir,
		Layout: layout.Layout{Structure: layout.MustParseStructure(structure), Company: "Acme"},
		Remote: p.client()}
}

// admin calls the emulator's admin API: method on /_emulator/route with query, in (if not
// nil) as the JSON body and the JSON answer decoded into out (if not nil).
func (p *emuProc) admin(method, route string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		js, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("emulator %s: %w", route, err)
		}
		body = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, p.url+"/_emulator/"+route+"?"+query.Encode(), body)
	if err != nil {
		return fmt.Errorf("emulator %s: %w", route, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("emulator %s: %w", route, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("emulator %s %s: %s %s", method, route, resp.Status, msg)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("emulator %s: %w", route, err)
		}
	}
	return nil
}

// setFaults replaces the emulator's faults.
func (p *emuProc) setFaults(f dropboxemu.Faults) {
	p.b.Helper()
	if err := p.admin(http.MethodPut, "faults", nil, f, nil); err != nil {
		p.b.Fatal(err)
	}
}

// stats is the emulator's counters per route.
func (p *emuProc) stats() map[string]dropboxemu.RouteStats {
	p.b.Helper()
	var stats map[string]dropboxemu.RouteStats
	if err := p.admin(http.MethodGet, "stats", nil, nil, &stats); err != nil {
		p.b.Fatal(err)
	}
	return stats
}

// resetStats zeroes the emulator's counters.
func (p *emuProc) resetStats() {
	p.b.Helper()
	if err := p.admin(http.MethodDelete, "stats", nil, nil, nil); err != nil {
		p.b.Fatal(err)
	}
}

// calls is how often routes were called, summed over the names given.
func (p *emuProc) calls(routes ...string) int {
	stats, n := p.stats(), 0
	for _, r := range routes {
		n += stats[r].Calls
	}
	return n
}

// requests is the number of API requests the emulator has answered, OAuth's left out.
func (p *emuProc) requests() int {
	n := 0
	for route, s := range p.stats() {
		if !strings.HasPrefix(route, "oauth2/") {
			n += s.Calls
		}
	}
	return n
}

// files lists the account's files in Dropbox as path_display → content hash.
func (p *emuProc) files() map[string]string {
	p.b.Helper()
	var entries []dropboxemu.Entry
	if err := p.admin(http.MethodGet, "entries", url.Values{"account": {p.account}}, nil, &entries); err != nil {
		p.b.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.Folder {
			out[e.PathDisplay] = e.ContentHash
		}
	}
	return out
}

// has tells whether Dropbox holds a file at path. It looks up that path alone, so it is
// cheap in an account of any size, and it may be called from any goroutine.
func (p *emuProc) has(path string) (bool, error) {
	var entries []dropboxemu.Entry
	err := p.admin(http.MethodGet, "entries", url.Values{"account": {p.account}, "path": {path}}, nil, &entries)
	return len(entries) == 1 && !entries[0].Folder, err
}

// BenchmarkSaveToCommit measures how long a document saved in the export folder takes to
// be committed in Dropbox while the app runs, with default options (1 s settle) and an
// emulated Dropbox at 50 ms per request with the write lock on. Documents are saved one
// at a time.
// Run with: go test -run '^$' -bench SaveToCommit -benchtime 20x ./sync/engine/
func BenchmarkSaveToCommit(b *testing.B) {
	p := startEmulatorBinary(b)
	p.setFaults(dropboxemu.Faults{Latency: 50 * time.Millisecond, WriteLock: true})
	dir := b.TempDir()
	e := New(benchStore(b), Options{Watch: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); e.Wait() }()
	if err := e.Start(ctx, p.conn("lat", dir, layout.PresetYearType), nil); err != nil {
		b.Fatal(err)
	}
	for s := e.Status(); len(s) == 0 || !s[0].InitialCopyDone; s = e.Status() {
		time.Sleep(10 * time.Millisecond)
	}
	var lat []time.Duration
	use := measure(10*time.Millisecond, false)
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("factuur 2026-03-%02d %04d.pdf", i%28+1, i)
		remote := "/Acme/2026/Facturen/" + name
		start := time.Now()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("%PDF-1.7 "+name+"\n%%EOF\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		for {
			ok, err := p.has(remote)
			if err != nil {
				b.Fatal(err)
			}
			if ok {
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
	u := use()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Milliseconds()), "p95-ms")
	u.report(b)
}

// BenchmarkDropBurst measures how a burst of 5,000 documents dropped into a watched export
// folder reaches the queue: the time from the first file written until all are queued,
// and the store commits (fsyncs) that took. The connection is paused, so only queueing is
// measured.
// Run with: go test -run '^$' -bench DropBurst -benchtime 3x ./sync/engine/
func BenchmarkDropBurst(b *testing.B) {
	const files = 5000
	for i := range b.N {
		b.StopTimer()
		p, dir, st := startEmulatorBinary(b), b.TempDir(), benchStore(b)
		e := New(st, Options{Watch: true})
		ctx, cancel := context.WithCancel(context.Background())
		c := p.conn("burst", dir, layout.PresetYearType)
		c.Paused = true
		if err := e.Start(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
		for s := e.Status(); len(s) == 0 || s[0].State != StatePaused; s = e.Status() {
			time.Sleep(5 * time.Millisecond)
		}
		dir = filepath.Join(dir, fmt.Sprint(i))
		os.MkdirAll(dir, 0o755)
		time.Sleep(100 * time.Millisecond) // the new folder is watched
		before := st.Commits()
		use := measure(10*time.Millisecond, false)
		b.StartTimer()
		start := time.Now()
		for j := range files {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("factuur 2026-03-01 %05d.pdf", j)), []byte("%PDF-1.7\n%%EOF\n"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		for s := e.Status(); s[0].Queued < files; s = e.Status() {
			if time.Since(start) > time.Minute {
				b.Fatalf("%d of %d queued after a minute", s[0].Queued, files)
			}
			time.Sleep(5 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		u := use()
		b.ReportMetric(elapsed.Seconds(), "s-to-queued")
		b.ReportMetric(float64(st.Commits()-before), "store-commits")
		u.report(b)
		cancel()
		e.Wait()
	}
}

// writeMixedDocs writes files whole PDFs of 20–200 KiB (random bytes, as far as their end
// goes), 500 to a folder, dated an hour ago (settled), into dir, and returns their bytes.
func writeMixedDocs(b *testing.B, dir string, files int) (bytes int64) {
	b.Helper()
	rng := rand.New(rand.NewSource(1))
	old := time.Now().Add(-time.Hour)
	for i := range files {
		data := make([]byte, 20<<10+rng.Intn(180<<10))
		rng.Read(data)
		copy(data[len(data)-7:], "\n%%EOF\n")
		bytes += int64(len(data))
		writeDoc(b, dir, fmt.Sprintf("%d/factuur 2025-%02d-%02d %05d.pdf", i/500, i%12+1, i%28+1, i), data, old)
	}
	return bytes
}

// requestCounts logs the emulator's calls per route (stats) and returns them in all, those
// answered 429 and the calls of each route.
func requestCounts(b *testing.B, stats map[string]dropboxemu.RouteStats) (requests, limited int, calls map[string]int) {
	calls = make(map[string]int, len(stats))
	routes := make([]string, 0, len(stats))
	for r, st := range stats {
		requests += st.Calls
		limited += st.Status[429]
		calls[r] = st.Calls
		routes = append(routes, r)
	}
	slices.Sort(routes)
	for _, r := range routes {
		st := stats[r]
		b.Logf("%-40s %5d calls, %4d answered 429, entry failures %v", r, st.Calls, st.Status[429], st.EntryFailures)
	}
	return requests, limited, calls
}

// BenchmarkCopyFloor sends 5,000 documents of 20–200 KiB with default options to an
// emulated Dropbox at 50 ms per request with the write lock, and reports the time against
// the floor its requests set: the upload requests, "uploads at once" of them in flight at
// a time, each round 50 ms, plus the commits, which the write lock makes one at a time.
// Run with: go test -run '^$' -bench CopyFloor -benchtime 1x -v ./sync/engine/
func BenchmarkCopyFloor(b *testing.B) {
	const files, latency = 5000, 50 * time.Millisecond
	for range b.N {
		b.StopTimer()
		p, dir := startEmulatorBinary(b), b.TempDir()
		p.setFaults(dropboxemu.Faults{Latency: latency, WriteLock: true})
		writeMixedDocs(b, dir, files)
		opts := Options{}
		emuCPU := processCPU(p.pid)
		elapsed, use := runMeasured(b, benchStore(b), p.conn("bench", dir, layout.PresetYearType), opts, false)
		emuCPU = processCPU(p.pid) - emuCPU
		if n := len(p.files()); n != files {
			b.Fatalf("%d files in Dropbox, want %d", n, files)
		}
		requests, _, calls := requestCounts(b, p.stats())
		uploads := calls["files/upload_session/start_batch"] + calls["files/upload_session/append_batch"]
		commits := calls["files/upload_session/finish_batch_v2"]
		opts.defaults()
		inFlight := opts.Concurrency
		rounds := (uploads + inFlight - 1) / inFlight
		floor := time.Duration(rounds+commits) * latency
		b.ReportMetric(elapsed.Seconds(), "s")
		b.ReportMetric(float64(requests), "requests")
		b.ReportMetric(floor.Seconds(), "s-floor")
		b.ReportMetric(elapsed.Seconds()/floor.Seconds(), "x-floor")
		// Both processes share the machine: how many of its cores they kept busy between
		// them says whether the requests or the CPU set the pace.
		b.ReportMetric(emuCPU.Seconds(), "emulator-cpu-s")
		b.ReportMetric((use.cpu+emuCPU).Seconds()/elapsed.Seconds(), "cores-busy")
		use.report(b)
	}
}

// BenchmarkRateLimitedCopy sends 5,000 documents of 20–200 KiB to an emulated Dropbox at
// 50 ms per request with the write lock, a per-account rate limit of 20 requests/s (burst
// 40) and 5 % of batch entries meeting write contention, and reports the time against the
// floor the rate limit sets (requests ÷ 20 per second).
// Run with: go test -run '^$' -bench RateLimitedCopy -benchtime 1x ./sync/engine/
func BenchmarkRateLimitedCopy(b *testing.B) {
	const files, rate = 5000, 20
	for range b.N {
		b.StopTimer()
		p, dir := startEmulatorBinary(b), b.TempDir()
		p.setFaults(dropboxemu.Faults{Seed: 1, Latency: 50 * time.Millisecond, WriteLock: true,
			RateLimit: rate, RateBurst: 2 * rate, BatchContention: 0.05})
		bytes := writeMixedDocs(b, dir, files)
		elapsed, use := runMeasured(b, benchStore(b), p.conn("bench", dir, layout.PresetYearType), Options{}, false)
		if n := len(p.files()); n != files {
			b.Fatalf("%d files in Dropbox, want %d", n, files)
		}
		stats := p.stats()
		requests, limited, _ := requestCounts(b, stats)
		floor := float64(requests) / rate
		b.ReportMetric(elapsed.Seconds(), "s")
		b.ReportMetric(float64(requests), "requests")
		b.ReportMetric(float64(limited), "429s")
		b.ReportMetric(elapsed.Seconds()/floor, "x-floor")
		b.ReportMetric(float64(contentBytesIn(stats))/float64(bytes), "bytes-sent/bytes")
		use.report(b)
	}
}
