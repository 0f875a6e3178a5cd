package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// statusOf returns the connection's current status.
func statusOf(e *Engine, id string) Status {
	for _, s := range e.Status() {
		if s.ID == id {
			return s
		}
	}
	return Status{}
}

// TestCommandsAreLossless: commands sent faster than the runner takes them are never
// dropped; the runner ends in the state the last one asked for.
func TestCommandsAreLossless(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{Latency: 20 * time.Millisecond})
	h.corpus(100)
	e, waitFor := h.live(t, testOptions())
	waitFor("sending", func() bool { return statusOf(e, "c1").State == StateUploading })

	cmds := []Command{CmdPause, CmdResume, CmdSyncNow}
	for i := range 100 { // ends with a pause
		if err := e.Send("c1", cmds[i%3]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("paused", func() bool { return statusOf(e, "c1").State == StatePaused })
	// Paused for good: nothing more is sent once what was out has come back.
	time.Sleep(500 * time.Millisecond)
	before := h.contentCalls()
	time.Sleep(500 * time.Millisecond)
	if s := statusOf(e, "c1"); s.State != StatePaused || h.contentCalls() != before {
		t.Fatalf("after the last pause: %v, %d content requests meanwhile", s.State, h.contentCalls()-before)
	}

	for i := range 100 { // ends with a resume
		e.Send("c1", cmds[(i+2)%3])
	}
	waitFor("everything sent after the last resume", func() bool {
		s := statusOf(e, "c1")
		return s.State == StateIdle && s.InitialCopyDone
	})
	if n := len(h.remoteFiles()); n != 202 {
		t.Fatalf("%d files in Dropbox, want 202", n)
	}
}

// TestListingDoesNotBlockTheLoop: while the first start lists a large Dropbox, the
// connection still answers pause and quit at once, and a revoked token during the listing
// is shown while commands keep working.
func TestListingDoesNotBlockTheLoop(t *testing.T) {
	const n = 100_000 // 50 pages of 2,000
	h := newHarness(t, dropboxemu.Faults{})
	mod := time.Now().Add(-time.Hour)
	for i := range n {
		if err := h.srv.PutFile(h.account, fmt.Sprintf("/Acme/2025/Facturen/F%06d.pdf", i), []byte{byte(i)}, mod); err != nil {
			t.Fatal(err)
		}
	}
	h.srv.SetFaults(dropboxemu.Faults{Latency: 50 * time.Millisecond})
	h.write("factuur 2026-03-01.pdf", "a")

	e, waitFor := h.live(t, testOptions())
	waitFor("listing", func() bool { return h.srv.Calls("files/list_folder/continue") >= 2 })
	e.Send("c1", CmdPause)
	waitFor("paused during the listing", func() bool { return statusOf(e, "c1").State == StatePaused })
	if pages := h.srv.Calls("files/list_folder/continue"); pages >= n/2000-1 {
		t.Fatalf("pause answered only after %d of %d pages", pages, n/2000)
	}
	e.Send("c1", CmdResume)
	waitFor("the listing done and the new file sent", func() bool {
		s := statusOf(e, "c1")
		return s.State == StateIdle && s.InitialCopyDone
	})
	if _, ok := h.remoteFiles()["/Acme/2026/Facturen/factuur 2026-03-01.pdf"]; !ok {
		t.Fatal("the local file was not sent")
	}

	t.Run("revoked while listing", func(t *testing.T) {
		h.reopenStore()
		h.st.Conn("c2").Delete()
		h.srv.RevokeAccess(h.account, "")
		opts := testOptions()
		opts.Watch = true
		e := New(h.st, opts)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := e.Start(ctx, h.conn("c2", "Acme"), nil); err != nil {
			t.Fatal(err)
		}
		waitFor("needs reconnect", func() bool { return statusOf(e, "c2").State == StateNeedsReconnect })
		e.Send("c2", CmdPause)
		waitFor("paused while revoked", func() bool { return statusOf(e, "c2").State == StatePaused })
		cancel()
		stopped := make(chan struct{})
		go func() { e.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(2 * time.Second):
			t.Fatal("quit not answered")
		}
	})
}

// TestWatcherBatchIsOneTransaction: files dropped at once are queued in one store commit
// per watcher batch, not one per file.
func TestWatcherBatchIsOneTransaction(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	var mu sync.Mutex
	batches := 0
	opts := testOptions()
	opts.Settle = 300 * time.Millisecond // the drop below is one burst for the watcher
	opts.Logf = func(format string, args ...any) {
		if strings.Contains(format, "changes reported") {
			mu.Lock()
			batches++
			mu.Unlock()
		}
	}
	e, waitFor := h.live(t, opts)
	waitFor("the initial copy", func() bool { return statusOf(e, "c1").InitialCopyDone })
	e.Send("c1", CmdPause)
	waitFor("paused", func() bool { return statusOf(e, "c1").State == StatePaused })

	const n = 500
	before := h.st.Commits()
	for i := range n {
		p := filepath.Join(h.dir, fmt.Sprintf("factuur 2026-03-01 %03d.pdf", i))
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("all queued", func() bool { return statusOf(e, "c1").Queued == n })
	mu.Lock()
	defer mu.Unlock()
	if c := h.st.Commits() - before; c > uint64(batches) || c >= n/10 {
		t.Fatalf("%d store commits for %d watcher batches to queue %d files dropped at once", c, batches, n)
	}
}

// panicky is a Remote whose uploads (batched or alone) panic: a bug in a stage must not take the app down.
type panicky struct{ Remote }

func (panicky) UploadContents(context.Context, [][]byte) ([]dropbox.UploadResult, error) {
	panic("a bug in an upload stage")
}

func (panicky) Upload(context.Context, []byte, dropbox.Commit) (*dropbox.File, error) {
	panic("a bug in an upload stage")
}

// TestPanicStopsOnlyThatConnection: a panic in one connection's goroutines is that
// connection's error, logged with its stack and shown in plain words; the other
// connection keeps syncing.
func TestPanicStopsOnlyThatConnection(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(3)
	var logMu sync.Mutex
	var log strings.Builder
	opts := testOptions()
	opts.Logf = func(format string, args ...any) {
		logMu.Lock()
		fmt.Fprintf(&log, format+"\n", args...)
		logMu.Unlock()
	}
	e := New(h.st, opts)
	bad := h.conn("bad", "Kapot")
	bad.Remote = panicky{bad.Remote}
	done := map[string]chan error{"bad": make(chan error, 1), "c1": make(chan error, 1)}
	for _, c := range []Conn{bad, h.conn("c1", "Acme")} {
		if err := e.Start(context.Background(), c, func(err error) { done[c.ID] <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for id, ch := range done {
		select {
		case err := <-ch:
			if (err != nil) != (id == "bad") {
				t.Fatalf("%s ended with %v", id, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not end", id)
		}
	}
	equalMaps(t, h.remoteFiles(), want)
	s := statusOf(e, "bad")
	if s.State != StateError || !strings.Contains(s.Detail, "internal error") {
		t.Fatalf("status of the crashed connection: %v %q", s.State, s.Detail)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(log.String(), "a bug in an upload stage") || !strings.Contains(log.String(), "goroutine") {
		t.Fatalf("the panic and its stack are not in the log:\n%s", log.String())
	}
}

// offline is a Remote whose uploads (batched or alone) fail as if Dropbox could not be
// reached; it notes when each upload was tried.
type offline struct {
	Remote
	mu    sync.Mutex
	tried []time.Time
}

func (o *offline) UploadContents(context.Context, [][]byte) ([]dropbox.UploadResult, error) {
	o.mu.Lock()
	o.tried = append(o.tried, time.Now())
	o.mu.Unlock()
	return nil, &dropbox.Error{Kind: dropbox.KindTransient, Code: "network", Err: errors.New("connection refused")}
}

func (o *offline) Upload(ctx context.Context, data []byte, _ dropbox.Commit) (*dropbox.File, error) {
	_, err := o.UploadContents(ctx, [][]byte{data})
	return nil, err
}

func (o *offline) tries() []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.tried)
}

// TestRetryStateIsStored: a file that keeps failing keeps its attempts, its last error and
// its backoff in the store, so a restart goes on where it was instead of retrying at once.
func TestRetryStateIsStored(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	h.write("factuur 2026-03-01.pdf", "a")
	stored := func() store.QueueItem {
		q, err := h.st.Conn("c1").Queue()
		if err != nil || len(q) > 1 {
			t.Fatalf("queue %+v %v", q, err)
		}
		if len(q) == 0 {
			return store.QueueItem{} // not queued yet
		}
		return q[0]
	}
	c := h.conn("c1", "Acme")
	first := &offline{Remote: c.Remote}
	c.Remote = first
	opts := testOptions()
	opts.Watch = true
	run := func() (stop func()) {
		e := New(h.st, opts)
		ctx, cancel := context.WithCancel(context.Background())
		if err := e.Start(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
		return func() { cancel(); e.Wait() }
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; stored %+v", what, stored())
			}
		}
	}
	stop := run()
	waitFor("the first failure stored", func() bool { return stored().Attempts == 1 })
	stop()
	it := stored()
	if !strings.Contains(it.LastError, "connection refused") || !it.NotBefore.After(time.Now()) {
		t.Fatalf("stored retry state %+v", it)
	}

	again := &offline{Remote: first.Remote}
	c.Remote = again
	stop = run()
	defer stop()
	waitFor("the second failure stored", func() bool { return stored().Attempts == 2 })
	if tried := again.tries(); tried[0].Before(it.NotBefore) {
		t.Fatalf("retried at %v after the restart, before its backoff ended at %v", tried[0], it.NotBefore)
	}
}

// TestFolderGoneOrEmptied: an export folder that vanished, or an empty mount point where
// a share did not mount, is "folder unavailable", never "everything was deleted": the
// records are kept, and when the documents are back nothing is sent again.
func TestFolderGoneOrEmptied(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(3)
	c := h.conn("c1", "Acme")
	if err := h.runOnce(c, testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
	aside := h.dir + ".aside"
	if err := os.Rename(h.dir, aside); err != nil {
		t.Fatal(err)
	}
	if err := h.runOnce(c, testOptions()); !errors.Is(err, errFolderMissing) {
		t.Fatalf("a missing export folder ended the run with %v", err)
	}
	os.Mkdir(h.dir, 0o755) // the empty mount point
	e := New(h.st, testOptions())
	done := make(chan error, 1)
	e.Start(context.Background(), c, func(err error) { done <- err })
	if err := <-done; !errors.Is(err, errFolderEmpty) {
		t.Fatalf("an emptied export folder ended the run with %v", err)
	}
	if s := statusOf(e, "c1"); s.State != StateError || !strings.Contains(s.Detail, "share") {
		t.Fatalf("status %v %q", s.State, s.Detail)
	}
	n := 0
	h.st.Conn("c1").Files("", func(string, store.FileRecord) error { n++; return nil })
	if n != len(want) {
		t.Fatalf("%d records kept of %d", n, len(want))
	}
	// The share is back: nothing is sent again.
	os.Remove(h.dir)
	if err := os.Rename(aside, h.dir); err != nil {
		t.Fatal(err)
	}
	h.srv.ResetStats()
	if err := h.runOnce(c, testOptions()); err != nil {
		t.Fatal(err)
	}
	if n := h.contentCalls(); n != 0 {
		t.Fatalf("%d content requests after the share came back", n)
	}
}

// TestUnreadableIsAProblem: a file or a folder that cannot be read is named as a problem
// with its reason, the run does not say "up to date", the rest gets through, and once it
// can be read it is sent. Permissions need a user they apply to: as root the test runs
// itself again as nobody.
func TestUnreadableIsAProblem(t *testing.T) {
	if !asUnprivileged(t) {
		return
	}
	h := newHarness(t, dropboxemu.Faults{})
	h.write("factuur 2026-03-01.pdf", "a")
	h.write("dicht/factuur 2026-03-02.pdf", "b")
	h.write("geheim 2026-03-03.pdf", "c")
	// An unreadable UBL file does not keep its PDF out of Dropbox.
	h.write("F2026-0001.pdf", "%PDF-1.7 F2026-0001\n%%EOF\n")
	h.write("F2026-0001.xml", fmt.Sprintf(ublInvoice, "F2026-0001", "2026-03-04", "Klant"))
	locked := []string{filepath.Join(h.dir, "dicht"), filepath.Join(h.dir, "geheim 2026-03-03.pdf"), filepath.Join(h.dir, "F2026-0001.xml")}
	for _, p := range locked {
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
	}
	open := func() {
		os.Chmod(locked[0], 0o755)
		os.Chmod(locked[1], 0o644)
		os.Chmod(locked[2], 0o644)
	}
	t.Cleanup(open)
	c := h.conn("c1", "Acme")
	err := h.runOnce(c, testOptions())
	wantProblems(t, err, "F2026-0001.xml", "dicht", "geheim 2026-03-03.pdf")
	if !strings.Contains(err.Error(), "no permission") {
		t.Fatalf("the reason does not say what is wrong: %v", err)
	}
	got := h.remoteFiles()
	_, invoice := got["/Acme/2026/Facturen/factuur 2026-03-01.pdf"]
	_, pdf := got["/Acme/2026/Overige/F2026-0001.pdf"] // its UBL unread: classified by name
	if !invoice || !pdf || len(got) != 2 {
		t.Fatalf("Dropbox holds %v", got)
	}
	open()
	if err := h.runOnce(c, testOptions()); err != nil {
		t.Fatal(err)
	}
	if n := len(h.remoteFiles()); n != 5 {
		t.Fatalf("%d files in Dropbox once readable, want 5: %v", n, h.remoteFiles())
	}
}

// TestHalfWrittenDocuments: a document written in pieces with pauses longer than the
// settle time, or created empty first as browsers download, is sent once, whole; one that
// never completes is sent after IncompleteWait and reported so.
func TestHalfWrittenDocuments(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	opts := testOptions()
	opts.Settle = 150 * time.Millisecond
	opts.IncompleteWait = 4 * time.Second
	e, waitFor := h.live(t, opts)
	waitFor("the initial copy", func() bool { return statusOf(e, "c1").InitialCopyDone })
	has := func(remote, content string) func() bool {
		return func() bool { return h.remoteFiles()[remote] == hashOf(content) }
	}

	// Written in pieces, 400 ms apart (the settle time is 150 ms).
	p := filepath.Join(h.dir, "factuur 2026-04-05.pdf")
	var full strings.Builder
	for i := range 6 {
		full.WriteString(fmt.Sprintf("%%PDF-1.7 part %d of the document\n", i))
		if err := os.WriteFile(p, []byte(full.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond)
	}
	full.WriteString("%%EOF\n")
	os.WriteFile(p, []byte(full.String()), 0o644)
	waitFor("the document written in pieces", has("/Acme/2026/Facturen/factuur 2026-04-05.pdf", full.String()))

	// A download: an empty file first, the content a while later.
	q := filepath.Join(h.dir, "offerte 2026-04-06.pdf")
	os.WriteFile(q, nil, 0o644)
	time.Sleep(time.Second)
	os.WriteFile(q, []byte("%PDF-1.7 offerte\n%%EOF\n"), 0o644)
	waitFor("the downloaded document", has("/Acme/2026/Offertes/offerte 2026-04-06.pdf", "%PDF-1.7 offerte\n%%EOF\n"))
	// Recorded a moment after Dropbox has them; a partial version would be a third.
	waitFor("both recorded", func() bool { return h.uploaded("c1") >= 2 })
	time.Sleep(2 * opts.Settle)
	if n := h.uploaded("c1"); n != 2 {
		t.Fatalf("%d uploads for 2 documents: a partial version was sent", n)
	}

	// Never complete: sent after the wait, and the activity says so.
	os.WriteFile(filepath.Join(h.dir, "factuur 2026-04-07.pdf"), []byte("%PDF-1.7 cut short"), 0o644)
	start := time.Now()
	waitFor("the incomplete document", has("/Acme/2026/Facturen/factuur 2026-04-07.pdf", "%PDF-1.7 cut short"))
	if waited := time.Since(start); waited < opts.IncompleteWait {
		t.Fatalf("an incomplete document was sent after %v, before IncompleteWait", waited)
	}
	// Recorded once Dropbox confirmed it, a moment after it is visible there.
	waitFor("the document reported as incomplete", func() bool {
		acts, _ := h.st.Conn("c1").Activities(1)
		return len(acts) == 1 && acts[0].Kind == ActIncomplete && acts[0].Path == "factuur 2026-04-07.pdf"
	})
}

// TestOfflineShowsAtOnce: the status says "offline" at the client's first wait for an
// unreachable Dropbox, not after a file's retries run out (minutes later).
func TestOfflineShowsAtOnce(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{ServerError: 1})
	h.write("factuur 2026-03-01.pdf", "a")
	opts := testOptions()
	opts.Watch = true
	e := New(h.st, opts)
	c := h.conn("c1", "Acme")
	c.Remote = dropbox.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token}), dropbox.Options{BaseURL: h.url,
		OnWait: func(k dropbox.Kind, until time.Time) { e.Waiting("c1", k, until) }})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); e.Wait() }()
	if err := e.Start(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for statusOf(e, "c1").State != StateOffline {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("not offline after %v: %v", time.Since(start), statusOf(e, "c1").State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Dropbox is back: the listing gets through and the file is sent.
	h.srv.SetFaults(dropboxemu.Faults{})
	for s := statusOf(e, "c1"); s.State != StateIdle || !s.InitialCopyDone; s = statusOf(e, "c1") {
		if time.Since(start) > 90*time.Second {
			t.Fatalf("not back after Dropbox came back: %v", s.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestOnlyWhatDoesNotFitWaits: a file too big for the space left in Dropbox waits, named
// with the space it lacks, without being sent again and again; documents that fit are
// sent meanwhile, and the big one once there is room.
func TestOnlyWhatDoesNotFitWaits(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	if err := h.srv.SetQuota(h.account, 1_000_000); err != nil {
		t.Fatal(err)
	}
	big := "%PDF-1.7 " + strings.Repeat("x", 1_500_000) + "\n%%EOF\n"
	h.write("archief 2026-01-01.pdf", big)
	e, waitFor := h.live(t, testOptions())
	full := func() bool {
		s := statusOf(e, "c1")
		return s.State == StateDropboxFull && strings.Contains(s.Detail, "archief 2026-01-01.pdf") &&
			strings.Contains(s.Detail, "1.5 MB") && s.Failed == 1
	}
	waitFor("Dropbox full, naming the file", full)
	sent := h.bytesIn()

	for i := range 5 {
		h.write(fmt.Sprintf("factuur 2026-03-%02d.pdf", i+1), fmt.Sprintf("%%PDF-1.7 %d\n%%%%EOF\n", i))
	}
	waitFor("the documents that fit", func() bool { return len(h.remoteFiles()) == 5 })
	waitFor("full again, for the big one only", full)
	if again := h.bytesIn() - sent; again >= int64(len(big)) {
		t.Fatalf("%d bytes sent since: the file that does not fit was sent again", again)
	}

	h.srv.SetQuota(h.account, 10_000_000)
	e.Send("c1", CmdSyncNow)
	waitFor("the big one once there is room", func() bool {
		s := statusOf(e, "c1")
		return len(h.remoteFiles()) == 6 && s.State == StateIdle && s.Failed == 0
	})
}

// TestLoneDocumentOneRequest: a document saved while nothing else is on its way goes in
// one request (files/upload with its content hash), not three.
func TestLoneDocumentOneRequest(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{StrictArgs: true})
	e, waitFor := h.live(t, testOptions())
	waitFor("the initial copy", func() bool { return statusOf(e, "c1").InitialCopyDone })
	h.srv.ResetStats()
	content := "%PDF-1.7 factuur\n%%EOF\n"
	os.WriteFile(filepath.Join(h.dir, "factuur 2026-03-01.pdf"), []byte(content), 0o644)
	waitFor("the document", func() bool { return h.remoteFiles()["/Acme/2026/Facturen/factuur 2026-03-01.pdf"] == hashOf(content) })
	if up, other := h.srv.Calls("files/upload"), h.srv.Calls("files/upload_session/start_batch", "files/upload_session/finish_batch_v2"); up != 1 || other != 0 {
		t.Fatalf("%d files/upload and %d batch requests for one document", up, other)
	}
}

// TestChangesNotReportedArePolled: on a network drive, changes made from another computer
// send no events. Written here through a second hard link outside the export folder (whose
// writes the folder's watch does not see), such a change is found by the periodic rescan,
// which then turns into polling the folder every PollInterval, said in the status.
func TestChangesNotReportedArePolled(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	opts := testOptions()
	opts.RescanInterval = 3 * time.Second
	opts.PollInterval = 200 * time.Millisecond
	outside := filepath.Join(t.TempDir(), "factuur.pdf")
	version := func(v string) string { return "%PDF-1.7 " + v + "\n%%EOF\n" }
	os.WriteFile(outside, []byte(version("v1")), 0o644)
	e, waitFor := h.live(t, opts)
	if err := os.Link(outside, filepath.Join(h.dir, "factuur 2026-03-01.pdf")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	has := func(v string) func() bool {
		return func() bool {
			return h.remoteFiles()["/Acme/2026/Facturen/factuur 2026-03-01.pdf"] == hashOf(version(v))
		}
	}
	waitFor("the first version", has("v1"))

	// Changed "from another computer", long ago as far as its mtime goes.
	os.WriteFile(outside, []byte(version("v2")), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(outside, old, old)
	waitFor("the change found by the periodic rescan", has("v2"))
	waitFor("polling said in the status", func() bool { return strings.Contains(statusOf(e, "c1").Warning, "network drive") })

	start := time.Now()
	os.WriteFile(outside, []byte(version("v3")), 0o644)
	waitFor("the next change, polled", has("v3"))
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a change was found after %v: not polled every %v", d, opts.PollInterval)
	}
}

// TestUploadsGoOnDuringACommit: while Dropbox works on one batch's commit (seconds for
// 1,000 entries), the next batch is uploaded meanwhile. Before, every upload waited for
// the commit to come back, and an initial copy took the uploads' time plus the commits'.
// The first commit is held until the next batch has reached Dropbox, or for 30 s if the
// uploads wait for it.
func TestUploadsGoOnDuringACommit(t *testing.T) {
	const batch, size = 50, 1000
	h := newHarness(t, dropboxemu.Faults{})
	doc := "%PDF-1.7 " + strings.Repeat("x", size-len("%PDF-1.7 \n%%EOF\n")) + "\n%%EOF\n"
	for i := range 3 * batch {
		h.write(fmt.Sprintf("factuur 2026-01-01 %03d.pdf", i), doc)
	}
	sent := func() int64 {
		var n int64
		for route, st := range h.srv.Stats() {
			if slices.Contains(contentCallRoutes, route) {
				n += st.BytesIn
			}
		}
		return n
	}
	var held sync.Once
	var atFirst int64 // bytes sent when the first commit was let through
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/2/files/upload_session/finish_batch_v2" {
			held.Do(func() {
				deadline := time.Now().Add(30 * time.Second)
				for sent() < 2*batch*size && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				atomic.StoreInt64(&atFirst, sent())
			})
		}
		h.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(gate.Close)
	h.url = gate.URL

	opts := testOptions()
	opts.BatchSize = batch
	if err := h.runOnce(h.conn("c1", "Acme"), opts); err != nil {
		t.Fatal(err)
	}
	if n := len(h.remoteFiles()); n != 3*batch {
		t.Fatalf("%d documents in Dropbox, want %d", n, 3*batch)
	}
	if got := atomic.LoadInt64(&atFirst); got < 2*batch*size {
		t.Errorf("while the first commit was held, %d bytes were sent: the uploads waited for it (want the next batch's too, %d)", got, 2*batch*size)
	}
}

// TestPauseTakesBackWaitingFiles: a pause lets finish what is being read or sent, not the
// files dispatched to the pipeline and still waiting for a worker (up to two batches).
func TestPauseTakesBackWaitingFiles(t *testing.T) {
	const files = 2000
	h := newHarness(t, dropboxemu.Faults{Latency: 20 * time.Millisecond})
	for i := range files {
		h.write(fmt.Sprintf("archief/factuur 2025-01-01 %04d.pdf", i), fmt.Sprintf("%%PDF-1.7 %d\n%%%%EOF\n", i))
	}
	opts := testOptions()
	e, waitFor := h.live(t, opts)
	waitFor("sending", func() bool { return h.contentCalls() > 0 })
	if err := e.Send("c1", CmdPause); err != nil {
		t.Fatal(err)
	}
	waitFor("paused", func() bool { return statusOf(e, "c1").State == StatePaused })
	for before := -1; before != h.contentCalls(); {
		before = h.contentCalls()
		time.Sleep(300 * time.Millisecond) // what was out comes back
	}
	// What the workers and packers held (here 264: a file per worker, the uploads waiting
	// for a packer, a full pack per packer) and what they took before the pause came, but
	// not the two batches (1,000) dispatched to the pipeline, as before.
	const most = 500
	if n := len(h.remoteFiles()); n > most {
		t.Errorf("%d documents sent after the pause, want at most %d", n, most)
	}
	if s := statusOf(e, "c1"); s.Queued+len(h.remoteFiles()) != files {
		t.Errorf("%d queued and %d in Dropbox, want %d in all", s.Queued, len(h.remoteFiles()), files)
	}
	if err := e.Send("c1", CmdResume); err != nil {
		t.Fatal(err)
	}
	waitFor("everything sent after the resume", func() bool { return len(h.remoteFiles()) == files })
}
