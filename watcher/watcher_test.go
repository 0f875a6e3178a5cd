package watcher

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/onfact/onfact-dropbox/internal/winetest"
)

// Generous: the machine may be loaded. Tests wait this long for something that must happen,
// and never assert on timings beyond "eventually" and "not before the last write".
const eventually = 10 * time.Second

const settle = 50 * time.Millisecond

func testOptions() Options {
	return Options{SettleDelay: settle, MaxDelay: time.Minute, RecheckInterval: time.Minute}
}

// start runs a Watcher on root until the test ends and waits until it is Ready. tweak, if
// not nil, may change the Watcher before Serve starts.
func start(t *testing.T, root string, opts Options, tweak func(*Watcher)) *Watcher {
	t.Helper()
	w, err := New(root, opts)
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(eventually):
			t.Error("Serve did not return after cancel")
		}
	})
	select {
	case <-w.Ready():
	case <-time.After(eventually):
		t.Fatal("watcher not ready")
	}
	return w
}

// collect receives batches until every path in want was reported, then goes on for a quiet
// spell to catch anything extra, and returns all paths reported.
func collect(t *testing.T, w *Watcher, want ...string) map[string]int {
	t.Helper()
	got := await(t, w, want...)
	quiet := time.After(6 * settle)
	for {
		select {
		case b := <-w.Batches():
			checkBatch(t, b)
			for _, p := range b {
				got[p]++
			}
		case <-quiet:
			return got
		}
	}
}

// await receives batches until every path in want was reported, and returns all paths
// reported.
func await(t *testing.T, w *Watcher, want ...string) map[string]int {
	t.Helper()
	got := make(map[string]int)
	missing := func() []string {
		var m []string
		for _, p := range want {
			if got[p] == 0 {
				m = append(m, p)
			}
		}
		return m
	}
	deadline := time.After(eventually)
	for len(missing()) > 0 {
		select {
		case b := <-w.Batches():
			checkBatch(t, b)
			for _, p := range b {
				got[p]++
			}
		case <-deadline:
			t.Fatalf("missing %q after %v; got %v", missing(), eventually, got)
		}
	}
	return got
}

// checkBatch checks the batch contract: non-empty, sorted, no duplicates, slash paths.
func checkBatch(t *testing.T, b []string) {
	t.Helper()
	if len(b) == 0 || !slices.IsSorted(b) || len(slices.Compact(slices.Clone(b))) != len(b) {
		t.Errorf("batch %q is empty, unsorted or has duplicates", b)
	}
	for _, p := range b {
		if strings.Contains(p, `\`) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "..") {
			t.Errorf("batch path %q is not slash-separated and relative", p)
		}
	}
}

func keys(m map[string]int) []string {
	k := make([]string, 0, len(m))
	for p := range m {
		k = append(k, p)
	}
	slices.Sort(k)
	return k
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestScenarios(t *testing.T) {
	j := func(root string, rel ...string) string {
		return filepath.Join(append([]string{root}, rel...)...)
	}
	tests := []struct {
		name   string
		ignore []string
		setup  func(t *testing.T, root, outside string) // before the watcher starts
		act    func(t *testing.T, root, outside string, w *Watcher)
		want   []string // exactly what must be reported
		wine   string   // set: the Wine gap that keeps the case from being made there
	}{
		{
			name: "create",
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				write(t, root, "invoice-001.pdf", "%PDF")
			},
			want: []string{"invoice-001.pdf"},
		},
		{
			name:  "create in an existing subdirectory",
			setup: func(t *testing.T, root, _ string) { must(t, os.MkdirAll(j(root, "2024", "01"), 0o755)) },
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				write(t, root, "2024/01/invoice.pdf", "%PDF")
			},
			want: []string{"2024/01/invoice.pdf"},
		},
		{
			name:  "modify",
			setup: func(t *testing.T, root, _ string) { write(t, root, "a.pdf", "one") },
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				f, err := os.OpenFile(j(root, "a.pdf"), os.O_APPEND|os.O_WRONLY, 0)
				must(t, err)
				_, err = f.WriteString(" two")
				must(t, err)
				must(t, f.Close())
			},
			want: []string{"a.pdf"},
		},
		{
			name:  "delete",
			setup: func(t *testing.T, root, _ string) { write(t, root, "a.pdf", "x") },
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				must(t, os.Remove(j(root, "a.pdf")))
			},
			want: []string{"a.pdf"},
		},
		{
			name:  "rename within a directory",
			setup: func(t *testing.T, root, _ string) { write(t, root, "d/a.pdf", "x") },
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				must(t, os.Rename(j(root, "d", "a.pdf"), j(root, "d", "b.pdf")))
			},
			want: []string{"d/a.pdf", "d/b.pdf"},
		},
		{
			name: "move across subdirectories",
			setup: func(t *testing.T, root, _ string) {
				write(t, root, "x/a.pdf", "x")
				must(t, os.Mkdir(j(root, "y"), 0o755))
			},
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				must(t, os.Rename(j(root, "x", "a.pdf"), j(root, "y", "a.pdf")))
			},
			want: []string{"x/a.pdf", "y/a.pdf"},
		},
		{
			name: "new subdirectory with files written right after mkdir",
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				must(t, os.Mkdir(j(root, "new"), 0o755))
				write(t, root, "new/a.pdf", "a")
				write(t, root, "new/b.pdf", "b")
			},
			want: []string{"new", "new/a.pdf", "new/b.pdf"},
		},
		{
			name: "nested new directories",
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				must(t, os.MkdirAll(j(root, "a", "b", "c"), 0o755))
				write(t, root, "a/b/c/f.pdf", "f")
			},
			want: []string{"a", "a/b", "a/b/c", "a/b/c/f.pdf"},
		},
		{
			name: "directory moved in from outside",
			setup: func(t *testing.T, _, outside string) {
				write(t, outside, "batch/1.pdf", "1")
				write(t, outside, "batch/sub/2.pdf", "2")
			},
			act: func(t *testing.T, root, outside string, _ *Watcher) {
				must(t, os.Rename(j(outside, "batch"), j(root, "batch")))
				write(t, root, "batch/sub/3.pdf", "3")
			},
			want: []string{"batch", "batch/1.pdf", "batch/sub", "batch/sub/2.pdf", "batch/sub/3.pdf"},
		},
		{
			name:  "renamed directory is watched under its new name",
			setup: func(t *testing.T, root, _ string) { write(t, root, "d/sub/f.pdf", "f") },
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				must(t, os.Rename(j(root, "d"), j(root, "e")))
				write(t, root, "e/g.pdf", "g")
				write(t, root, "e/sub/h.pdf", "h")
			},
			want: []string{"d", "e", "e/g.pdf", "e/sub", "e/sub/f.pdf", "e/sub/h.pdf"},
		},
		{
			name:  "directory moved out stops being watched",
			setup: func(t *testing.T, root, _ string) { write(t, root, "d/sub/f.pdf", "f") },
			act: func(t *testing.T, root, outside string, w *Watcher) {
				must(t, os.Rename(j(root, "d"), j(outside, "d")))
				await(t, w, "d") // the move is handled before writing below
				write(t, outside, "d/x.pdf", "x")
				write(t, outside, "d/sub/y.pdf", "y")
				write(t, root, "sentinel.pdf", "s")
			},
			want: []string{"sentinel.pdf"},
		},
		{
			name:   "ignored temp, lock, system and hidden files",
			ignore: []string{"*.bak"},
			setup:  func(t *testing.T, root, _ string) { must(t, os.Mkdir(j(root, ".cache"), 0o755)) },
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				for _, name := range []string{"~$report.docx", ".~lock.report.odt#", "x.tmp",
					"film.part", "setup.crdownload", "desktop.ini", "Thumbs.db", ".DS_Store",
					".hidden.pdf", "old.bak", ".cache/x.pdf", ".git/HEAD", ".git/objects/ab"} {
					write(t, root, name, "x")
				}
				write(t, root, "sentinel.pdf", "s")
			},
			want: []string{"sentinel.pdf"},
		},
		{
			name:  "Office-style save reports just the document",
			setup: func(t *testing.T, root, _ string) { write(t, root, "2024/report.docx", "v1") },
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				d := j(root, "2024")
				write(t, root, "2024/~$report.docx", "owner lock")
				write(t, root, "2024/~WRD0001.tmp", "v2")
				must(t, os.Rename(j(d, "report.docx"), j(d, "~WRL0002.tmp")))
				must(t, os.Rename(j(d, "~WRD0001.tmp"), j(d, "report.docx")))
				must(t, os.Remove(j(d, "~WRL0002.tmp")))
				must(t, os.Remove(j(d, "~$report.docx")))
			},
			want: []string{"2024/report.docx"},
		},
		{
			name: "rename over an existing file",
			setup: func(t *testing.T, root, _ string) {
				write(t, root, "a.pdf", "old")
				write(t, root, "drafts/a.pdf", "new")
			},
			act: func(t *testing.T, root, _ string, _ *Watcher) {
				must(t, os.Rename(j(root, "drafts", "a.pdf"), j(root, "a.pdf")))
			},
			want: []string{"a.pdf", "drafts/a.pdf"},
		},
		{
			name: "symlinked directories are not followed",
			setup: func(t *testing.T, root, outside string) {
				write(t, outside, "elsewhere/x.pdf", "x")
				must(t, os.Symlink(j(outside, "elsewhere"), j(root, "link")))
				must(t, os.Symlink(root, j(root, "loop")))
			},
			act: func(t *testing.T, root, outside string, _ *Watcher) {
				write(t, outside, "elsewhere/y.pdf", "y")
				must(t, os.Symlink(j(outside, "elsewhere"), j(root, "link2")))
				write(t, outside, "elsewhere/z.pdf", "z")
				write(t, root, "sentinel.pdf", "s")
			},
			want: []string{"link2", "sentinel.pdf"},
			wine: "Wine 8 makes no symbolic link that Windows programs see as one (no reparse point)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.wine != "" {
				winetest.Skip(t, tt.wine)
			}
			t.Parallel()
			root := filepath.Join(t.TempDir(), "export")
			outside := filepath.Join(t.TempDir(), "outside")
			must(t, os.Mkdir(root, 0o755))
			must(t, os.Mkdir(outside, 0o755))
			if tt.setup != nil {
				tt.setup(t, root, outside)
			}
			opts := testOptions()
			opts.Ignore = tt.ignore
			w := start(t, root, opts, nil)
			tt.act(t, root, outside, w)
			if got := keys(collect(t, w, tt.want...)); !slices.Equal(got, tt.want) {
				t.Errorf("reported %q, want %q", got, tt.want)
			}
			checkWatches(t, w)
		})
	}
}

// TestSlowWriter writes a file in ten chunks with pauses well under the settle delay and
// checks it is reported once, after the last chunk, at its full size.
func TestSlowWriter(t *testing.T) {
	root := t.TempDir()
	opts := testOptions()
	opts.SettleDelay = 500 * time.Millisecond // pauses below are 10 ms: a wide margin on a busy machine
	w := start(t, root, opts, nil)

	type report struct {
		at   time.Time
		size int64
	}
	reports := make(chan report, 10)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case b := <-w.Batches():
				if slices.Contains(b, "slow.pdf") {
					fi, err := os.Stat(filepath.Join(root, "slow.pdf"))
					if err != nil {
						t.Error(err)
						continue
					}
					reports <- report{time.Now(), fi.Size()}
				}
			case <-stop:
				return
			}
		}
	}()

	const chunks, chunk = 10, 4096
	f, err := os.Create(filepath.Join(root, "slow.pdf"))
	must(t, err)
	for i := range chunks {
		if _, err := f.Write(make([]byte, chunk)); err != nil {
			t.Fatal(err)
		}
		if i < chunks-1 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	must(t, f.Close())
	lastWrite := time.Now()

	var first report
	select {
	case first = <-reports:
	case <-time.After(eventually):
		t.Fatal("slow.pdf never reported")
	}
	if first.at.Before(lastWrite) {
		t.Errorf("reported before the last write")
	}
	if first.size != chunks*chunk {
		t.Errorf("reported at size %d, want the full %d", first.size, chunks*chunk)
	}
	time.Sleep(3 * opts.SettleDelay)
	close(stop)
	<-done
	if n := len(reports); n != 0 {
		t.Errorf("reported %d more times, want once", n)
	}
}

// TestMaxDelay appends to a file without pause and checks it is reported anyway.
func TestMaxDelay(t *testing.T) {
	root := t.TempDir()
	opts := testOptions()
	opts.MaxDelay = 300 * time.Millisecond
	w := start(t, root, opts, nil)

	f, err := os.Create(filepath.Join(root, "app.log"))
	must(t, err)
	defer f.Close()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(eventually)
	for {
		select {
		case b := <-w.Batches():
			if slices.Equal(b, []string{"app.log"}) {
				return // reported while still being written
			}
			t.Fatalf("batch %q, want app.log", b)
		case <-tick.C:
			if _, err := f.WriteString("line\n"); err != nil {
				t.Fatal(err)
			}
		case <-timeout:
			t.Fatal("a file appended to without pause was never reported")
		}
	}
}

// call runs f on the Serve goroutine, the way fsnotify's events are handled.
func call(t *testing.T, w *Watcher, f func(l *loop)) {
	t.Helper()
	done := make(chan struct{})
	select {
	case w.do <- func(l *loop) { f(l); close(done) }:
	case <-time.After(eventually):
		t.Fatal("Serve loop not responding")
	}
	<-done
}

func TestOverflowAsksForFullRescan(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "a", "sub"), 0o755))
	w := start(t, root, testOptions(), nil)
	call(t, w, func(l *loop) {
		// What lost events leave behind: a directory whose Create never arrived, so it
		// is not watched, and one whose Remove never arrived.
		if err := l.fw.Remove(l.abs("a/sub")); err != nil {
			t.Error(err) // not Fatal: this runs on the Serve goroutine
		}
		delete(l.dirs, "a/sub")
		l.dirs["ghost"] = fileID{}
		l.handleError(fsnotify.ErrEventOverflow)
	})

	if got := keys(collect(t, w, ".")); !slices.Equal(got, []string{"."}) {
		t.Errorf("reported %q, want just \".\"", got)
	}
	st := w.Status()
	if !errors.Is(st.Last, ErrOverflow) || !errors.Is(st.Last, fsnotify.ErrEventOverflow) {
		t.Errorf("Status.Last = %v, want an overflow", st.Last)
	}
	if st.Err != nil {
		t.Errorf("Status.Err = %v, want nil: an overflow passes", st.Err)
	}
	var we *Error
	if !errors.As(st.Last, &we) || !strings.Contains(we.Explain(), "checked again") {
		t.Errorf("Status.Last = %#v: no plain explanation", st.Last)
	}
	if st.Watching != 3 {
		t.Errorf("Status.Watching = %d, want 3 (root, a, a/sub) after the re-walk", st.Watching)
	}

	// Still live afterwards, including in the directory the re-walk found.
	write(t, root, "a/sub/after.pdf", "x")
	if got := keys(collect(t, w, "a/sub/after.pdf")); !slices.Equal(got, []string{"a/sub/after.pdf"}) {
		t.Errorf("after the overflow: reported %q", got)
	}
}

func TestWatcherErrorAsksForFullRescan(t *testing.T) {
	w := start(t, t.TempDir(), testOptions(), nil)
	call(t, w, func(l *loop) { l.handleError(errors.New("read inotify: input/output error")) })
	if got := keys(collect(t, w, ".")); !slices.Equal(got, []string{"."}) {
		t.Errorf("reported %q, want just \".\"", got)
	}
	if st := w.Status(); !errors.Is(st.Last, ErrWatch) {
		t.Errorf("Status.Last = %v, want ErrWatch", st.Last)
	}
}

// waitStatus waits until ok(Status) holds.
func waitStatus(t *testing.T, w *Watcher, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.After(eventually)
	for {
		if st := w.Status(); ok(st) {
			return st
		}
		select {
		case <-w.StatusChanged():
		case <-deadline:
			t.Fatalf("status never %s; last %+v", what, w.Status())
		}
	}
}

func TestWatchLimit(t *testing.T) {
	enospc := func(full *atomic.Bool) func(w *Watcher) {
		return func(w *Watcher) {
			w.addWatch = func(fw *fsnotify.Watcher, dir string) error {
				if full.Load() && strings.Contains(filepath.ToSlash(dir), "/deep") {
					return fmt.Errorf("add watch %s: %w", dir, syscall.ENOSPC)
				}
				return fw.Add(dir)
			}
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		act   func(t *testing.T, root string)
	}{
		{
			name: "at start",
			setup: func(t *testing.T, root string) {
				must(t, os.MkdirAll(filepath.Join(root, "deep", "er"), 0o755))
				must(t, os.Mkdir(filepath.Join(root, "a"), 0o755))
			},
			act: func(*testing.T, string) {},
		},
		{
			name:  "for a new directory",
			setup: func(t *testing.T, root string) { must(t, os.Mkdir(filepath.Join(root, "a"), 0o755)) },
			act: func(t *testing.T, root string) {
				must(t, os.MkdirAll(filepath.Join(root, "deep", "er"), 0o755))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tt.setup(t, root)
			var full atomic.Bool
			full.Store(true)
			opts := testOptions()
			opts.RecheckInterval = 100 * time.Millisecond
			w := start(t, root, opts, enospc(&full))
			tt.act(t, root)

			if got := keys(collect(t, w, ".")); !slices.Equal(got, []string{"."}) {
				t.Errorf("reported %q, want just \".\"", got)
			}
			st := w.Status()
			if !errors.Is(st.Err, ErrWatchLimit) || !errors.Is(st.Err, syscall.ENOSPC) {
				t.Fatalf("Status.Err = %v, want ErrWatchLimit wrapping ENOSPC", st.Err)
			}
			var we *Error
			if !errors.As(st.Err, &we) || !strings.Contains(we.Path, "deep") {
				t.Errorf("Status.Err = %#v, want an *Error naming the directory", st.Err)
			}
			if runtime.GOOS == "linux" && !strings.Contains(we.Explain(), "fs.inotify.max_user_watches") {
				t.Errorf("Explain() = %q, want the sysctl to raise", we.Explain())
			}

			// Degraded, not dead: watched directories still report.
			write(t, root, "a/live.pdf", "x")
			if got := keys(collect(t, w, "a/live.pdf")); !slices.Equal(got, []string{"a/live.pdf"}) {
				t.Errorf("while degraded: reported %q", got)
			}

			// Room again: the retry watches the rest and asks for a rescan of it.
			full.Store(false)
			waitStatus(t, w, "healthy", func(st Status) bool { return st.Err == nil })
			await(t, w, "deep")
			write(t, root, "deep/er/late.pdf", "x")
			if got := keys(collect(t, w, "deep/er/late.pdf")); !slices.Equal(got, []string{"deep/er/late.pdf"}) {
				t.Errorf("after recovery: reported %q", got)
			}
		})
	}
}

func TestExplainLimit(t *testing.T) {
	tests := []struct {
		goos  string
		cause error
		want  string
	}{
		{"linux", syscall.ENOSPC, "sudo sysctl fs.inotify.max_user_watches="},
		{"linux", syscall.EMFILE, "fs.inotify.max_user_instances"},
		{"darwin", syscall.EMFILE, "kern.maxfilesperproc"},
	}
	for _, tt := range tests {
		if got := explainLimit(tt.goos, tt.cause); !strings.Contains(got, tt.want) {
			t.Errorf("explainLimit(%s, %v) = %q, want it to mention %q", tt.goos, tt.cause, got, tt.want)
		}
	}
}

func TestRootGone(t *testing.T) {
	tests := []struct {
		name string
		gone func(t *testing.T, root string)
		back func(t *testing.T, root string)
	}{
		{
			name: "removed",
			gone: func(t *testing.T, root string) {
				// Windows 10 deletes with POSIX semantics: an open (watched) subfolder goes at
				// once. Wine 8 has only the older delete, which leaves it pending until the
				// watch lets go, so the root is "not empty".
				winetest.Skip(t, "Wine 8 has no POSIX delete: a watched folder cannot be removed while watched")
				must(t, os.RemoveAll(root))
			},
			back: func(t *testing.T, root string) { must(t, os.Mkdir(root, 0o755)) },
		},
		{
			name: "renamed away",
			gone: func(t *testing.T, root string) { must(t, os.Rename(root, root+".moved")) },
			back: func(t *testing.T, root string) { must(t, os.Rename(root+".moved", root)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "export")
			write(t, root, "2024/a.pdf", "a")
			opts := testOptions()
			opts.RecheckInterval = 100 * time.Millisecond
			w := start(t, root, opts, nil)

			tt.gone(t, root)
			st := waitStatus(t, w, "root gone", func(st Status) bool { return errors.Is(st.Err, ErrRootGone) })
			var we *Error
			if !errors.As(st.Err, &we) || !strings.Contains(we.Explain(), root) {
				t.Errorf("Status.Err = %v, want an *Error explaining the folder is gone", st.Err)
			}
			if st.Watching != 0 {
				t.Errorf("Status.Watching = %d while gone, want 0", st.Watching)
			}

			tt.back(t, root)
			waitStatus(t, w, "healthy", func(st Status) bool { return st.Err == nil && st.Watching > 0 })
			await(t, w, ".")
			write(t, root, "b.pdf", "b")
			if got := keys(collect(t, w, "b.pdf")); !slices.Equal(got, []string{"b.pdf"}) {
				t.Errorf("after the folder came back: reported %q", got)
			}
		})
	}
}

func TestRootMissingAtStart(t *testing.T) {
	root := filepath.Join(t.TempDir(), "export")
	opts := testOptions()
	opts.RecheckInterval = 100 * time.Millisecond
	w := start(t, root, opts, nil)
	if st := w.Status(); !errors.Is(st.Err, ErrRootGone) {
		t.Fatalf("Status.Err = %v, want ErrRootGone", st.Err)
	}
	write(t, root, "a.pdf", "a")
	waitStatus(t, w, "healthy", func(st Status) bool { return st.Err == nil })
	await(t, w, ".")
}

func TestServeLifecycle(t *testing.T) {
	w, err := New(t.TempDir(), testOptions())
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx) }()
	<-w.Ready()
	if err := w.Serve(ctx); err == nil {
		t.Error("second Serve: no error")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	case <-time.After(eventually):
		t.Fatal("Serve did not return")
	}
	if _, ok := <-w.Batches(); ok {
		t.Error("Batches not closed after Serve returned")
	}
	if st := w.Status(); st.Err != nil || st.Watching != 1 {
		t.Errorf("Status = %+v, want healthy with one directory", st)
	}
}

// checkWatches checks that every directory the loop counts as watched has a watch of its own
// in fsnotify, under its own name.
func checkWatches(t *testing.T, w *Watcher) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return // other backends list their watches differently
	}
	var want, got []string
	call(t, w, func(l *loop) {
		for d := range l.dirs {
			want = append(want, l.abs(d))
		}
		got = l.fw.WatchList()
	})
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("fsnotify watches %q, want %q", got, want)
	}
}

// TestMoveIntoNewDirectory moves a watched directory into a directory made just before, so
// the walk of the new directory finds it before the old name's Rename event is handled, then
// deletes a file in it right after the first batch. inotify keeps one watch per directory:
// watching the new name used to hand back the old name's watch, which went with the old
// name, so the directory looked watched and reported nothing more.
func TestMoveIntoNewDirectory(t *testing.T) {
	move := func(root string) error {
		if err := os.Mkdir(filepath.Join(root, "archief"), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(root, "live"), filepath.Join(root, "archief", "live")); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(root, "archief", "live", "b.pdf"), []byte("b"), 0o644)
	}
	tests := []struct {
		name string
		act  func(t *testing.T, root string, w *Watcher)
	}{
		{"as it happens", func(t *testing.T, root string, _ *Watcher) { must(t, move(root)) }},
		{"while the loop is busy", func(t *testing.T, root string, w *Watcher) {
			// fsnotify holds the events until the loop is free, so the walk of archief
			// always finds live there before the Rename of live is handled.
			var err error
			call(t, w, func(*loop) { err = move(root) })
			must(t, err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "live/a.pdf", "a")
			opts := testOptions()
			opts.SettleDelay = 150 * time.Millisecond
			w := start(t, root, opts, nil)

			tt.act(t, root, w)
			select {
			case b := <-w.Batches():
				checkBatch(t, b)
			case <-time.After(eventually):
				t.Fatal("the move was never reported")
			}
			must(t, os.Remove(filepath.Join(root, "archief", "live", "b.pdf")))

			// Later batches may still bring "live" and "archief", left from the move and
			// released apart; they do not count as reporting the deletion.
			got := await(t, w, "archief/live/b.pdf")
			if st := w.Status(); st.Watching != 3 || st.Err != nil {
				t.Errorf("Status = %+v, want 3 directories watched (., archief, archief/live)", st)
			}
			checkWatches(t, w)

			write(t, root, "archief/live/c.pdf", "c")
			for p, n := range collect(t, w, "archief/live/c.pdf") {
				got[p] += n
			}
			for p := range got {
				if p == "live/a.pdf" || p == "live/b.pdf" || p == "live/c.pdf" {
					t.Errorf("reported %q: an event named by the directory's old path", p)
				}
			}
		})
	}
}
