package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
)

// The engine against real Dropbox's edges: the emulator's strict profile (plain-text
// 429s, 503s with Retry-After, contended batch entries, commits that take time, the
// Dropbox-API-Arg line limit, strict wire rules) and refusals of a whole account.

// contentRoutes are the routes whose bodies are file contents (start_batch's is JSON).
var contentRoutes = []string{"files/upload", "files/upload_session/start",
	"files/upload_session/append_v2", "files/upload_session/append_batch", "files/upload_session/finish"}

// bytesIn is what the content routes received.
func (h *harness) bytesIn() int64 { return contentBytesIn(h.srv.Stats()) }

// contentBytesIn is what the content routes received, by an emulator's counters.
func contentBytesIn(stats map[string]dropboxemu.RouteStats) int64 {
	var n int64
	for _, r := range contentRoutes {
		n += stats[r].BytesIn
	}
	return n
}

// odd writes documents with long non-ASCII names (NFD among them), so the strict
// header rules and the line limit are met by what the office really saves.
func (h *harness) odd(n int) (want map[string]string, size int64) {
	want = map[string]string{}
	for i := range n {
		name := fmt.Sprintf("Factuur 2026-03-%02d Brasserie Élégance – Crème brûlée & Ünïcödé cafe\u0301 %s %03d.pdf",
			i%28+1, strings.Repeat("ĳ", 20), i)
		content := fmt.Sprintf("%%PDF-1.7 %d %s\n%%%%EOF\n", i, strings.Repeat("x", i*37))
		h.write("odd/"+name, content)
		want["/Acme/2026/Facturen/"+name] = hashOf(content)
		size += int64(len(content))
	}
	return want, size
}

// TestStrictProfile: under the strict profile every file arrives once with the right
// content, and no request exceeds the Dropbox-API-Arg line limit.
func TestStrictProfile(t *testing.T) {
	f := dropboxemu.StrictFaults(7)
	f.BatchContention = 0.1
	h := newHarness(t, f)
	want := h.corpus(60)
	odd, _ := h.odd(40)
	for k, v := range odd {
		want[k] = v
	}
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
	for route, st := range h.srv.Stats() {
		if st.MaxArgHeader > dropboxemu.DefaultMaxArgHeader {
			t.Errorf("%s sent a Dropbox-API-Arg line of %d bytes", route, st.MaxArgHeader)
		}
	}
}

// TestContendedEntriesAreNotSentTwice: batch entries Dropbox does not commit under load
// are committed again from their sessions: the content routes receive each file's bytes
// exactly once.
func TestContendedEntriesAreNotSentTwice(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{Seed: 3, WriteLock: true, BatchContention: 0.1, BatchInternalError: 0.02, StrictArgs: true})
	want, size := h.odd(150)
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
	failures := h.srv.Stats()["files/upload_session/finish_batch_v2"].EntryFailures
	if failures["too_many_write_operations"] == 0 {
		t.Fatalf("no entry met contention (%v): the test proves nothing", failures)
	}
	if got := h.bytesIn(); got != size {
		t.Fatalf("the content routes received %d bytes for %d bytes of files", got, size)
	}
}

// TestRetryAfterHoldsTheAccount: a plain-text 429 with Retry-After: 3 holds every call of
// the account for those 3 seconds, not only the call that got it.
func TestRetryAfterHoldsTheAccount(t *testing.T) {
	var mu sync.Mutex
	var first time.Time // when the first 429 was answered
	var arrivals []time.Time
	h := newHarnessWrapped(t, dropboxemu.Faults{Latency: 20 * time.Millisecond}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
			rec := &statusRecorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if rec.status == http.StatusTooManyRequests {
				mu.Lock()
				if first.IsZero() {
					first = time.Now()
				}
				mu.Unlock()
			}
		})
	})
	h.corpus(150)
	e, waitFor := h.live(t, testOptions())
	waitFor("sending", func() bool { return h.srv.Calls("files/upload_session/append_batch") > 0 })
	f := dropboxemu.Faults{Latency: 20 * time.Millisecond, PlainTooManyRequests: 1, RetryAfter: 3}
	h.srv.SetFaults(f)
	waitFor("a 429", func() bool { mu.Lock(); defer mu.Unlock(); return !first.IsZero() })
	time.Sleep(200 * time.Millisecond) // what was in flight then meets the 429s too
	f.PlainTooManyRequests = 0
	h.srv.SetFaults(f)
	waitFor("everything sent", func() bool { s := statusOf(e, "c1"); return s.State == StateIdle && s.InitialCopyDone })

	mu.Lock()
	defer mu.Unlock()
	for _, at := range arrivals {
		if d := at.Sub(first); d > 300*time.Millisecond && d < 2900*time.Millisecond {
			t.Fatalf("a request arrived %v after a 429 that said Retry-After: 3", d)
		}
	}
	if s := statusOf(e, "c1"); s.State != StateIdle {
		t.Fatalf("state %v", s.State)
	}
}

// TestAccountRefusal: Dropbox refusing a whole account (a Business team over its data
// transport limit) stops that connection with Dropbox's own message, keeps its queue,
// and sync now tries again; another account keeps syncing meanwhile.
func TestAccountRefusal(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(3)
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "factuur 2026-03-01.pdf"), []byte("%PDF-1.7 b\n%%EOF\n"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(other, "factuur 2026-03-01.pdf"), old, old)
	id2, _ := h.srv.AddAccount(dropboxemu.AccountInfo{Email: "boekhouder@acme.be"})
	tok2, _, _ := h.srv.IssueToken(id2, emutest.AppKey, true)
	if err := h.srv.SetAccountRefusal(h.account, dropboxemu.RefusalDataTransportLimit); err != nil {
		t.Fatal(err)
	}

	e, waitFor := h.live(t, testOptions())
	c2 := h.conn("c2", "Beta")
	c2.Folder = other
	c2.Remote = h.client(tok2)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // before the harness waits for the engine: cleanups run last first
	if err := e.Start(ctx, c2, nil); err != nil {
		t.Fatal(err)
	}
	waitFor("refused", func() bool { return statusOf(e, "c1").State == StateRefused })
	if s := statusOf(e, "c1"); !strings.Contains(s.Detail, "data transport") || s.Queued == 0 {
		t.Fatalf("refused with %q and %d queued", s.Detail, s.Queued)
	}
	waitFor("the other account synced", func() bool { s := statusOf(e, "c2"); return s.State == StateIdle && s.InitialCopyDone })

	h.srv.SetAccountRefusal(h.account, dropboxemu.RefusalNone)
	e.Send("c1", CmdSyncNow)
	waitFor("sent after the refusal lifted", func() bool { s := statusOf(e, "c1"); return s.State == StateIdle && s.InitialCopyDone })
	equalMaps(t, h.remoteFiles(), want)
}

// statusRecorder notes the status of an answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// newHarnessWrapped is newHarness with wrap in front of the emulator, for tests that
// watch every request.
func newHarnessWrapped(t *testing.T, f dropboxemu.Faults, wrap func(http.Handler) http.Handler) *harness {
	t.Helper()
	srv, err := dropboxemu.New(dropboxemu.Options{Faults: f})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(wrap(srv))
	t.Cleanup(func() { ts.Close(); srv.Close() })
	srv.RegisterApp(dropboxemu.App{Key: emutest.AppKey})
	id, err := srv.AddAccount(dropboxemu.AccountInfo{Email: "info@acme.be"})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := srv.IssueToken(id, emutest.AppKey, true)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: t.TempDir(), srv: srv, url: ts.URL, account: id, token: token}
	h.stPath = filepath.Join(t.TempDir(), "state.db")
	h.openStore()
	return h
}

// TestOddNames: names an old share holds are sent, under the strict wire rules: a Latin-1
// name (not UTF-8) arrives under what it reads as in Windows-1252, and a 255-byte name
// arrives under a name Dropbox takes.
func TestOddNames(t *testing.T) {
	h := newHarness(t, dropboxemu.StrictFaults(1))
	e := "\xe9" // é in Windows-1252, not valid UTF-8
	if runtime.GOOS == "windows" {
		// Windows names are UTF-16: Go turns invalid UTF-8 into U+FFFD, so a Latin-1 name
		// cannot be made here (it comes from Unix shares). The same é, properly encoded,
		// must arrive the same way.
		e = "é"
	}
	h.write("Factuur "+e+"t"+e+" 2026-03-01.pdf", "%PDF-1.7 a\n%%EOF\n")
	h.write("oud"+e+"/factuur 2026-03-02.pdf", "%PDF-1.7 b\n%%EOF\n")
	long := "factuur 2026-03-03 " + strings.Repeat("x", 255-len("factuur 2026-03-03 .pdf")) + ".pdf"
	h.write(long, "%PDF-1.7 c\n%%EOF\n")
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	got := h.remoteFiles()
	for _, p := range []string{"/Acme/2026/Facturen/Factuur été 2026-03-01.pdf", "/Acme/2026/Facturen/factuur 2026-03-02.pdf"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s not in Dropbox: %v", p, got)
		}
	}
	if len(got) != 3 {
		t.Fatalf("Dropbox holds %v", got)
	}
}
