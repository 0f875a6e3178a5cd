package engine

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// The engine's decisions, table-tested without an emulator or a folder.

var t0 = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

func TestDiff(t *testing.T) {
	rec := func(size int64) store.FileRecord { return store.FileRecord{Size: size, ModTime: t0.UnixNano()} }
	file := func(p string, size int64) localFile { return localFile{path: p, size: size, mtime: t0} }
	records := map[string]store.FileRecord{
		"a.pdf": rec(1), "b.pdf": rec(2), "sub/c.pdf": rec(3), "sub/d.pdf": rec(4), "subway/e.pdf": rec(5),
	}
	failedHere := store.FileRecord{Size: 6, ModTime: t0.UnixNano(), Failure: "cannot be read", Local: true}
	records["locked/f.pdf"] = rec(6)
	records["x.pdf"] = failedHere
	all := []localFile{file("a.pdf", 1), file("b.pdf", 2), file("sub/c.pdf", 3), file("sub/d.pdf", 4), file("subway/e.pdf", 5), file("locked/f.pdf", 6), file("x.pdf", 6)}
	tests := []struct {
		name    string
		files   []localFile
		subs    []string
		bad     []unreadable
		retry   bool
		changed []string
		gone    []string
	}{
		{"nothing changed, a full scan tries the unreadable file again", all, nil, nil, false, []string{"x.pdf"}, nil},
		{"new and changed", append([]localFile{file("a.pdf", 9), file("n.pdf", 1)}, all[1:]...), []string{"a.pdf", "b.pdf", "locked", "n.pdf", "sub", "subway", "x.pdf"}, nil, false, []string{"a.pdf", "n.pdf"}, nil},
		{"gone everywhere", nil, nil, nil, false, nil, []string{"a.pdf", "b.pdf", "locked/f.pdf", "sub/c.pdf", "sub/d.pdf", "subway/e.pdf", "x.pdf"}},
		{"gone only in the scanned folder", []localFile{file("sub/c.pdf", 3)}, []string{"sub"}, nil, false, nil, []string{"sub/d.pdf"}},
		{"several subtrees at once", []localFile{file("sub/c.pdf", 7)}, []string{"a.pdf", "sub"}, nil, false, []string{"sub/c.pdf"}, []string{"a.pdf", "sub/d.pdf"}},
		{"sync now tries refused files again", all, []string{"x.pdf"}, nil, true, []string{"x.pdf"}, nil},
		{"an unreadable folder hides its files, not their records", all[:5], nil, []unreadable{{path: "locked", dir: true}}, false, nil, []string{"x.pdf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// As the runner's scan does: each subtree's files against its records, in order.
			var paths, gone []string
			for _, sub := range subsOrAll(tt.subs) {
				in := func(p string) bool { return sub == "" || p == sub || strings.HasPrefix(p, sub+"/") }
				var files []localFile
				for _, f := range tt.files {
					if in(f.path) {
						files = append(files, f)
					}
				}
				var recs []known
				for _, p := range slices.Sorted(maps.Keys(records)) {
					if in(p) {
						recs = append(recs, knownOf(p, records[p]))
					}
				}
				// What the walk finds comes in path order, what it could not read in its
				// place among the files.
				var finds []walked
				for _, f := range files {
					finds = append(finds, walked{file: f})
				}
				for _, u := range tt.bad {
					if in(u.path) {
						finds = append(finds, walked{bad: &u})
					}
				}
				slices.SortFunc(finds, func(a, b walked) int { return strings.Compare(a.path(), b.path()) })
				next, stop := iter.Pull(slices.Values(recs))
				defer stop()
				m := newMerge(next, sub == "", tt.retry)
				for _, w := range finds {
					m.take(w)
				}
				d := m.finish()
				for _, f := range d.changed {
					paths = append(paths, f.path)
				}
				gone = append(gone, d.gone...)
			}
			if !slices.Equal(paths, tt.changed) || !slices.Equal(gone, tt.gone) {
				t.Fatalf("diff = changed %v gone %v, want %v %v", paths, gone, tt.changed, tt.gone)
			}
		})
	}
}

func TestRoots(t *testing.T) {
	tests := []struct {
		paths, want []string
	}{
		{[]string{"b.pdf", "a.pdf"}, []string{"a.pdf", "b.pdf"}},
		{[]string{"x/y/z.pdf", "x", "x b/c.pdf", "x/q.pdf"}, []string{"x", "x b/c.pdf"}},
		{[]string{"a.pdf", ".", "b.pdf"}, nil},
		{[]string{"a/b", "a/b", "a/bc"}, []string{"a/b", "a/bc"}},
	}
	for _, tt := range tests {
		if got := roots(tt.paths); !slices.Equal(got, tt.want) {
			t.Errorf("roots(%v) = %v, want %v", tt.paths, got, tt.want)
		}
	}
}

func TestFailed(t *testing.T) {
	dbErr := func(k dropbox.Kind, code string) error {
		return &dropbox.Error{Kind: k, Code: code, Err: errors.New(code)}
	}
	tests := []struct {
		name     string
		err      error
		attempts int
		kind     outcomeKind
		stop     error
		reason   string // the refused file's recorded reason
		stored   bool   // the retry state is stored
		offline  bool
	}{
		{"disallowed name: refused for good", dbErr(dropbox.KindFile, "path/disallowed_name"), 0, outDone, nil, "Dropbox does not accept this file name", false, false},
		{"folder in the way", dbErr(dropbox.KindFile, "path/conflict/folder"), 2, outDone, nil, "a folder with the same name is in the way in Dropbox", false, false},
		{"revoked: the connection stops", dbErr(dropbox.KindReconnect, "invalid_access_token"), 0, outStop, dropbox.ErrReconnect, "", false, false},
		{"full: the connection waits", dbErr(dropbox.KindNoSpace, "path/insufficient_space"), 0, outStop, dropbox.ErrNoSpace, "", false, false},
		{"offline: retried later", dbErr(dropbox.KindTransient, "network"), 3, outRetry, nil, "", true, true},
		{"lost session: redone", dbErr(dropbox.KindRetryFile, "lookup_failed/not_found"), 0, outRetry, nil, "", true, false},
		{"unreadable file: retried later", fmt.Errorf("read a.pdf: %w", errors.New("permission denied")), 0, outRetry, nil, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := failed(t0, job{path: "a.pdf", attempts: tt.attempts}, store.FileRecord{Size: 1}, tt.err)
			refused := o.update != nil && o.update.Record != nil && o.update.Record.Failure != ""
			if o.kind != tt.kind || o.stop != tt.stop || o.offline != tt.offline || refused != (tt.reason != "") {
				t.Fatalf("failed = %+v", o)
			}
			if tt.reason != "" && (o.update == nil || o.update.Record.Failure != tt.reason || !o.update.Dequeue || o.update.Activity.Kind != ActFailed) {
				t.Fatalf("refusal recorded as %+v", o.update)
			}
			if tt.stored {
				r := o.update.Retry
				if r == nil || r.Attempts != tt.attempts+1 || r.LastError != tt.err.Error() || !r.NotBefore.Equal(o.retryAt) || o.retryAt.Before(t0) {
					t.Fatalf("retry state %+v (retry at %v)", o.update, o.retryAt)
				}
			}
			if tt.kind == outStop && o.update != nil {
				t.Fatalf("a stop records %+v; the file must stay queued as it is", o.update)
			}
		})
	}
}

func TestState(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		f    facts
		want State
	}{
		{"starting", facts{phase: StateStarting, queued: 3}, StateStarting},
		{"crashed", facts{phase: StateStopped, fatal: boom}, StateError},
		{"disk full", facts{phase: StateStopped, fatal: fmt.Errorf("record outcomes: write state.db: %w", syscall.ENOSPC)}, StateError},
		{"stopped", facts{phase: StateStopped}, StateStopped},
		{"paused beats everything while running", facts{phase: StateIdle, paused: true, stop: dropbox.ErrReconnect}, StatePaused},
		{"revoked", facts{phase: StateIdle, stop: dropbox.ErrReconnect, queued: 1}, StateNeedsReconnect},
		{"full", facts{phase: StateIdle, stop: dropbox.ErrNoSpace, queued: 1}, StateDropboxFull},
		{"folder missing", facts{phase: StateIdle, folderErr: errFolderMissing}, StateFolderMissing},
		{"listing refused", facts{phase: StateIdle, problem: boom, listing: true}, StateError},
		{"offline with work", facts{phase: StateIdle, offline: true, queued: 2}, StateOffline},
		{"offline while listing", facts{phase: StateIdle, offline: true, listing: true}, StateOffline},
		{"offline with nothing to do", facts{phase: StateIdle, offline: true}, StateIdle},
		{"listing", facts{phase: StateIdle, listing: true, queued: 5}, StateScanning},
		{"scanning", facts{phase: StateScanning}, StateScanning},
		{"sending", facts{phase: StateIdle, queued: 5, inFlight: 2}, StateUploading},
		{"idle", facts{phase: StateIdle}, StateIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, detail := tt.f.state()
			if got != tt.want {
				t.Fatalf("state = %v, want %v", got, tt.want)
			}
			if strings.Contains(detail, "state.db") || strings.Contains(detail, "no space left") {
				t.Fatalf("detail for people says %q", detail)
			}
			if got.Attention() && detail == "" {
				t.Fatalf("%v without a reason", got)
			}
		})
	}
}

func TestDispatch(t *testing.T) {
	q := newQueue()
	q.load([]store.QueueItem{{Path: "old.pdf", Attempts: 2, NotBefore: t0.Add(time.Minute)}}, true)
	q.add([]localFile{{path: "a.pdf", size: 1, mtime: t0}, {path: "b.pdf", size: 2, mtime: t0}, {path: "c.pdf", size: 3, mtime: t0}}, false)

	var sent []job
	accept := func(n int) func(job) bool {
		return func(j job) bool {
			if len(sent) >= n {
				return false
			}
			sent = append(sent, j)
			return true
		}
	}
	always := func(string, int64) bool { return true }
	none := func(string) {}
	// The workers take two: the backed-off file waits, the others go oldest first.
	next := q.dispatch(t0, always, none, accept(2))
	if len(sent) != 2 || sent[0].path != "a.pdf" || sent[1].path != "b.pdf" || !next.Equal(t0.Add(time.Minute)) {
		t.Fatalf("sent %v, next %v", sent, next)
	}
	// Nothing is sent twice; once due, the backed-off file goes first, with its attempts.
	next = q.dispatch(t0.Add(time.Minute), always, none, accept(10))
	if len(sent) != 4 || sent[2] != (job{path: "old.pdf", attempts: 2}) || sent[3].path != "c.pdf" || !next.IsZero() {
		t.Fatalf("sent %v, next %v", sent, next)
	}
	// A file changed while out is queued again when it comes back, even when it is done.
	q.add([]localFile{{path: "a.pdf", size: 5, mtime: t0.Add(time.Second)}}, false)
	q.back("a.pdf")
	q.remove("a.pdf")
	q.requeueChanged("a.pdf")
	if _, ok := q.entries["a.pdf"]; !ok {
		t.Fatal("a file changed while in flight was not queued again")
	}
	// A document saved while the app runs goes ahead of the backlog (as does one changed
	// while it was sent, a.pdf), and stays ahead when it has to be tried again.
	q.add([]localFile{{path: "d.pdf", size: 1, mtime: t0}, {path: "e.pdf", size: 1, mtime: t0}}, false)
	q.add([]localFile{{path: "saved.pdf", size: 1, mtime: t0}}, true)
	sent = nil
	q.dispatch(t0.Add(time.Minute), always, none, accept(2))
	if len(sent) != 2 || sent[0].path != "a.pdf" || sent[1] != (job{path: "saved.pdf", live: true, urgent: true}) {
		t.Fatalf("sent %v: the saved document did not go ahead of the backlog", sent)
	}
	q.back("saved.pdf")
	q.wait("saved.pdf")
	sent = nil
	q.dispatch(t0.Add(time.Minute), always, none, accept(1))
	if len(sent) != 1 || sent[0].path != "saved.pdf" {
		t.Fatalf("sent %v: the saved document tried again did not go first", sent)
	}
	// The restart keeps a loaded file's backoff at the first scan, a real change lifts it.
	q2 := newQueue()
	q2.load([]store.QueueItem{{Path: "x.pdf", NotBefore: t0.Add(time.Hour)}}, true)
	q2.add([]localFile{{path: "x.pdf", size: 1, mtime: t0}}, false)
	if e := q2.entries["x.pdf"]; !e.notBefore.Equal(t0.Add(time.Hour)) {
		t.Fatalf("the first scan lifted a stored backoff: %v", e.notBefore)
	}
	q2.add([]localFile{{path: "x.pdf", size: 2, mtime: t0.Add(time.Second)}}, false)
	if e := q2.entries["x.pdf"]; !e.notBefore.IsZero() || q2.bytes != 2 {
		t.Fatalf("a changed file kept its backoff: %v (bytes %d)", e.notBefore, q2.bytes)
	}
}

func TestControlLastWins(t *testing.T) {
	c := newControl(false)
	for i := range 100 {
		c.send([]Command{CmdPause, CmdResume, CmdSyncNow, CmdCheck}[i%4])
	}
	paused, syncs, checks := c.desired()
	if paused || syncs != 25 || checks != 25 || len(c.wake) != 1 {
		t.Fatalf("paused %v, %d syncs, %d checks, %d wake-ups pending", paused, syncs, checks, len(c.wake))
	}
}

func TestMissed(t *testing.T) {
	after := 8 * time.Second
	tests := []struct {
		name    string
		changed []localFile
		want    bool
	}{
		{"nothing changed", nil, false},
		{"changed just now: the watcher may still hold it", []localFile{{path: "a.pdf", mtime: t0.Add(-time.Second)}}, false},
		{"changed long ago and not reported", []localFile{{path: "a.pdf", mtime: t0.Add(-time.Second)}, {path: "b.pdf", mtime: t0.Add(-time.Hour)}}, true},
	}
	for _, tt := range tests {
		if got := missed(tt.changed, t0, after); got != tt.want {
			t.Errorf("%s: missed = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestWalkInStoreOrder: a walk finds files in the order of their paths as bytes, the
// store's, whatever folders and names sort between them, so it merges with the records.
func TestWalkInStoreOrder(t *testing.T) {
	dir := t.TempDir()
	names := []string{"a.pdf", "a/b.pdf", "a-b.pdf", "a0.pdf", "a b/c.pdf", "a/a/a.pdf", "a/a.pdf", "ab/x.pdf",
		"\u00e4.pdf", "B.pdf", "z/y/x/w.pdf", "z/y.pdf", "z/y-/v.pdf"}
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"", "a", "z/y", "a.pdf"} {
		var got []string
		err := walk(context.Background(), dir, sub, nil, func(w walked) {
			if w.bad != nil {
				t.Fatalf("%s: %v", w.bad.path, w.bad.err)
			}
			got = append(got, w.file.path)
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, n := range names {
			if sub == "" || n == sub || strings.HasPrefix(n, sub+"/") {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("walk of %q: %q, want %q", sub, got, want)
		}
	}
}
