package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// harness is an export folder, a state store and an emulated Dropbox account.
type harness struct {
	t       testing.TB
	dir     string
	srv     *dropboxemu.Server
	url     string
	account string
	token   string
	st      *store.Store
	stPath  string
}

func newHarness(t testing.TB, f dropboxemu.Faults) *harness {
	t.Helper()
	env := emutest.Start(t, dropboxemu.Options{Faults: f}, dropboxemu.AccountInfo{Email: "info@acme.be"})
	h := &harness{t: t, dir: t.TempDir(), srv: env.Srv, url: env.URL, account: env.Account, token: env.Token}
	h.stPath = filepath.Join(t.TempDir(), "state.db")
	h.openStore()
	return h
}

func (h *harness) openStore() {
	st, err := store.Open(h.stPath)
	if err != nil {
		h.t.Fatal(err)
	}
	h.st = st
	h.t.Cleanup(func() { st.Close() })
}

func (h *harness) reopenStore() {
	h.st.Close()
	h.openStore()
}

// write creates a file in the export folder, dated well in the past so it is settled.
func (h *harness) write(rel, content string) {
	h.t.Helper()
	writeDoc(h.t, h.dir, rel, []byte(content), time.Now().Add(-time.Hour))
}

func (h *harness) conn(id string, company string) Conn {
	return Conn{
		ID: id, Name: "Test " + id, Folder: h.dir,
		Layout: layout.Layout{Structure: layout.MustParseStructure(layout.PresetYearType), Company: company},
		Remote: h.client(h.token),
	}
}

// client is a Dropbox client of the emulator with a fixed token.
func (h *harness) client(token string) *dropbox.Client {
	return dropbox.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}), dropbox.Options{BaseURL: h.url})
}

// testOptions are quick: test documents written live are a few bytes, not whole PDFs,
// and are sent after a short IncompleteWait (TestHalfWrittenDocuments tests the waiting).
func testOptions() Options {
	return Options{Concurrency: 4, Settle: 50 * time.Millisecond, BatchIdle: 100 * time.Millisecond,
		IncompleteWait: 200 * time.Millisecond}
}

// runOnce runs a connection until its queue is empty (sync --once).
func (h *harness) runOnce(c Conn, opts Options) error {
	h.t.Helper()
	e := New(h.st, opts)
	done := make(chan error, 1)
	if err := e.Start(context.Background(), c, func(err error) { done <- err }); err != nil {
		h.t.Fatal(err)
	}
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		h.t.Fatal("sync --once did not finish")
		return nil
	}
}

// contentCallRoutes are the routes of the requests that carry file contents.
var contentCallRoutes = []string{"files/upload", "files/upload_session/start", "files/upload_session/start_batch",
	"files/upload_session/append_v2", "files/upload_session/append_batch"}

// contentCalls counts the requests that carry file contents.
func (h *harness) contentCalls() int { return h.srv.Calls(contentCallRoutes...) }

// uploaded counts the files a connection has recorded as sent.
func (h *harness) uploaded(id string) int {
	acts, err := h.st.Conn(id).Activities(store.MaxActivity)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, a := range acts {
		if a.Kind == ActUploaded || a.Kind == ActIncomplete {
			n++
		}
	}
	return n
}

// remoteFiles lists the emulator's files as path → content hash.
func (h *harness) remoteFiles() map[string]string {
	return (&emutest.Env{Srv: h.srv, Account: h.account}).Files()
}

func hashOf(s string) string {
	h, _ := dropbox.ContentHash(strings.NewReader(s))
	return h
}

const ublInvoice = `<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:ID>%s</cbc:ID><cbc:IssueDate>%s</cbc:IssueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>%s</cbc:Name></cac:PartyName></cac:Party></cac:AccountingCustomerParty>
</Invoice>`

// corpus writes n invoices (UBL + PDF each), a quote, a credit note by name, and files
// that must be ignored. It returns the files expected in Dropbox.
func (h *harness) corpus(n int) map[string]string {
	want := map[string]string{}
	for i := 0; i < n; i++ {
		num := fmt.Sprintf("F2025-%04d", i)
		xml := fmt.Sprintf(ublInvoice, num, "2025-06-1"+fmt.Sprint(i%10), "Klant "+fmt.Sprint(i%3))
		pdf := "%PDF-1.7 " + num + "\n%%EOF\n"
		h.write("facturen/"+num+".xml", xml)
		h.write("facturen/"+num+".pdf", pdf)
		want["/Acme/2025/Facturen/"+num+".xml"] = hashOf(xml)
		want["/Acme/2025/Facturen/"+num+".pdf"] = hashOf(pdf)
	}
	offerte, credit := "%PDF-1.7 offerte\n%%EOF\n", "%PDF-1.7 credit\n%%EOF\n"
	h.write("Offerte 2026-01-15 Peeters.pdf", offerte)
	want["/Acme/2026/Offertes/Offerte 2026-01-15 Peeters.pdf"] = hashOf(offerte)
	h.write("creditnota 2026-02-01.pdf", credit)
	want["/Acme/2026/Creditnota's/creditnota 2026-02-01.pdf"] = hashOf(credit)
	for _, ign := range []string{"~$Factuur.docx", "download.crdownload", ".hidden.pdf", "Thumbs.db", "facturen/x.tmp"} {
		h.write(ign, "ignore me")
	}
	return want
}

func equalMaps(t *testing.T, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range want {
		if got[k] != v {
			diffs = append(diffs, "missing or different: "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "unexpected: "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Fatalf("Dropbox differs from the folder:\n%s", strings.Join(diffs, "\n"))
	}
}

func TestInitialCopyThenNothing(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(30)
	c := h.conn("c1", "Acme")
	if err := h.runOnce(c, testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
	if n := h.srv.Calls("files/upload_session/finish_batch_v2"); n > 3 {
		t.Errorf("%d commits for %d files: not batched", n, len(want))
	}
	m, _ := h.st.Conn("c1").Meta()
	if !m.InitialCopyDone || m.LastSync.IsZero() {
		t.Errorf("meta %+v", m)
	}
	acts, _ := h.st.Conn("c1").Activities(1000)
	if len(acts) != len(want) || acts[0].Kind != ActUploaded {
		t.Errorf("%d activities, want %d", len(acts), len(want))
	}

	// A restart with nothing changed sends nothing.
	h.srv.ResetStats()
	h.reopenStore()
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	if n := h.contentCalls() + h.srv.Calls("files/upload_session/finish_batch_v2", "files/list_folder"); n != 0 {
		t.Fatalf("restart with nothing changed made %d calls: %v", n, h.srv.Stats())
	}
}

func TestChangesWhileClosed(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(5)
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	// Modified, added, deleted and renamed while the app was closed.
	h.write("Offerte 2026-01-15 Peeters.pdf", "offerte v2")
	want["/Acme/2026/Offertes/Offerte 2026-01-15 Peeters.pdf"] = hashOf("offerte v2")
	h.write("nieuw/factuur 2026-03-01.pdf", "new")
	want["/Acme/2026/Facturen/factuur 2026-03-01.pdf"] = hashOf("new")
	os.Remove(filepath.Join(h.dir, "creditnota 2026-02-01.pdf")) // Dropbox keeps its copy
	os.Rename(filepath.Join(h.dir, "facturen/F2025-0001.pdf"), filepath.Join(h.dir, "F2025-0001 kopie.pdf"))
	// Away from its UBL sibling it is known only by its name: a number from 2025, no type.
	want["/Acme/2025/Overige/F2025-0001 kopie.pdf"] = hashOf("%PDF-1.7 F2025-0001\n%%EOF\n")

	before := h.uploaded("c1")
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
	if n := h.uploaded("c1") - before; n != 3 {
		t.Fatalf("%d uploads, want 3", n)
	}
}

func TestReinstallSendsNothingAlreadyThere(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(20)
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	// A new install: empty state store, same folder, same Dropbox.
	h.st.Close()
	os.Remove(h.stPath)
	h.openStore()
	h.write("facturen/F2025-0003.pdf", "changed since")
	want["/Acme/2025/Facturen/F2025-0003.pdf"] = hashOf("changed since")
	h.srv.ResetStats()
	if err := h.runOnce(h.conn("c2", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
	if n := h.uploaded("c2"); n != 1 {
		t.Fatalf("reinstall sent %d files, want 1", n)
	}
	// Counted by Dropbox too: only the changed file's bytes arrived.
	if in := h.srv.Stats()["files/upload_session/append_batch"].BytesIn; in != int64(len("changed since")) {
		t.Fatalf("Dropbox received %d content bytes, want %d", in, len("changed since"))
	}
	acts, _ := h.st.Conn("c2").Activities(1000)
	existing := 0
	for _, a := range acts {
		if a.Kind == ActExisting {
			existing++
		}
	}
	if existing != len(want)-1 {
		t.Fatalf("%d recorded as already there, want %d", existing, len(want)-1)
	}
}

func TestRefusedFileIsRecordedAndLeftAlone(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	h.write("factuur 2026-03-01.pdf", "a")
	h.write("offerte 2026-03-02.pdf", "b")
	// Someone made a folder where the invoice must go.
	c := h.conn("c1", "Acme")
	cl := dropbox.New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token}), dropbox.Options{BaseURL: h.url})
	id, _ := cl.UploadContent(context.Background(), []byte("x"))
	cl.Commit(context.Background(), []dropbox.Commit{{SessionID: id, Size: 1, Path: "/Acme/2026/Facturen/factuur 2026-03-01.pdf/inside"}})

	wantProblems(t, h.runOnce(c, testOptions()), "factuur 2026-03-01.pdf")
	rec, ok, _ := h.st.Conn("c1").File("factuur 2026-03-01.pdf")
	if !ok || !strings.Contains(rec.Failure, "folder") {
		t.Fatalf("record %+v", rec)
	}
	if _, ok := h.remoteFiles()["/Acme/2026/Offertes/offerte 2026-03-02.pdf"]; !ok {
		t.Fatal("the other file did not get through")
	}
	// Not retried until it changes, and still named.
	h.srv.ResetStats()
	wantProblems(t, h.runOnce(c, testOptions()), "factuur 2026-03-01.pdf")
	if n := h.contentCalls(); n != 0 {
		t.Fatalf("refused file retried: %d content requests", n)
	}
	// Once it changes it is tried again (and refused again: the folder is still there).
	h.write("factuur 2026-03-01.pdf", "a2")
	wantProblems(t, h.runOnce(c, testOptions()), "factuur 2026-03-01.pdf")
	if n := h.contentCalls(); n == 0 {
		t.Fatal("changed refused file not tried again")
	}
}

// wantProblems checks that a one-shot run ended naming exactly the documents paths as not
// in Dropbox.
func wantProblems(t *testing.T, err error, paths ...string) {
	t.Helper()
	var pe *ProblemsError
	if !errors.As(err, &pe) || pe.Count != len(paths) {
		t.Fatalf("run ended with %v, want %v named", err, paths)
	}
	for i, p := range paths {
		if pe.Problems[i].Path != p || pe.Problems[i].Reason == "" {
			t.Fatalf("problems %+v, want %v", pe.Problems, paths)
		}
	}
}

func TestRevokedAndFullKeepTheQueue(t *testing.T) {
	t.Run("revoked", func(t *testing.T) {
		h := newHarness(t, dropboxemu.Faults{})
		h.corpus(3)
		h.srv.RevokeAccess(h.account, "")
		err := h.runOnce(h.conn("c1", "Acme"), testOptions())
		if !errors.Is(err, dropbox.ErrReconnect) {
			t.Fatalf("err = %v", err)
		}
		if n, _ := h.st.Conn("c1").QueueLen(); n != 8 {
			t.Fatalf("queue has %d files, want 8", n)
		}
	})
	t.Run("full", func(t *testing.T) {
		h := newHarness(t, dropboxemu.Faults{})
		h.corpus(3)
		h.srv.SetQuota(h.account, 20)
		err := h.runOnce(h.conn("c1", "Acme"), testOptions())
		if !errors.Is(err, dropbox.ErrNoSpace) {
			t.Fatalf("err = %v", err)
		}
		if n, _ := h.st.Conn("c1").QueueLen(); n == 0 {
			t.Fatal("queue emptied")
		}
		// Space freed: the next run finishes.
		h.srv.SetQuota(h.account, 1<<30)
		if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLargeFileThroughSessions(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	big := bytes.Repeat([]byte("onFact "), 3<<20) // 21 MiB
	h.write("archief/jaaroverzicht 2025-12-31.pdf", string(big))
	opts := testOptions()
	opts.LargeFile = 4 << 20
	if err := h.runOnce(h.conn("c1", "Acme"), opts); err != nil {
		t.Fatal(err)
	}
	got := h.remoteFiles()
	if got["/Acme/2025/Overige/jaaroverzicht 2025-12-31.pdf"] != hashOf(string(big)) {
		t.Fatalf("%v", got)
	}
	if h.srv.Calls("files/upload_session/append_v2") < 2 {
		t.Fatal("not sent in chunks")
	}
}

func TestFaultStorm(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{Seed: 5, ServerError: 0.1, Drop: 0.05, Truncate: 0.05, TooManyRequests: 0.05})
	want := h.corpus(25)
	var err error
	for i := 0; i < 5; i++ { // a one-shot run leaves stubborn files for the next run
		if err = h.runOnce(h.conn("c1", "Acme"), testOptions()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
}

// TestRateLimitStorm runs an initial copy against an account rate-limited far below what
// the engine would send: it must slow down to Dropbox's pace, not fail.
func TestRateLimitStorm(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{RateLimit: 20, RateBurst: 2})
	want := h.corpus(40)
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	equalMaps(t, h.remoteFiles(), want)
	limited := 0
	for _, st := range h.srv.Stats() {
		limited += st.Status[429]
	}
	if limited == 0 {
		t.Fatal("the storm never hit: no 429 was answered")
	}
}

func TestTwoConnectionsOneFolder(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	h.write("factuur 2026-03-01.pdf", "a")
	e := New(h.st, testOptions())
	done := make(chan error, 2)
	for _, c := range []Conn{h.conn("c1", "Acme"), h.conn("c2", "Acme Backup")} {
		if err := e.Start(context.Background(), c, func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	equalMaps(t, h.remoteFiles(), map[string]string{
		"/Acme/2026/Facturen/factuur 2026-03-01.pdf":        hashOf("a"),
		"/Acme Backup/2026/Facturen/factuur 2026-03-01.pdf": hashOf("a"),
	})
}

// TestCollisionsKeepBoth: two local files that Dropbox would see as one path (case beyond
// ASCII, NFC and NFD spellings of one name) both arrive, the second under a distinct name.
func TestCollisionsKeepBoth(t *testing.T) {
	for _, tt := range []struct{ name, a, b string }{
		{"case", "a/Factuur 2026-03-01.pdf", "b/FACTUUR 2026-03-01.PDF"},
		{"NFC and NFD", "factuur caf\u00e9 2026-03-01.pdf", "factuur cafe\u0301 2026-03-01.pdf"},
		{"case and normalization", "a/factuur \u00e9t\u00e9 2026-03-01.pdf", "b/FACTUUR E\u0301TE\u0301 2026-03-01.pdf"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, dropboxemu.Faults{})
			h.write(tt.a, "one")
			h.write(tt.b, "two")
			if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
				t.Fatal(err)
			}
			got := h.remoteFiles()
			hashes := map[string]bool{}
			for _, hsh := range got {
				hashes[hsh] = true
			}
			if len(got) != 2 || !hashes[hashOf("one")] || !hashes[hashOf("two")] {
				t.Fatalf("one overwrote the other: %v", got)
			}
		})
	}
}

func TestLiveSyncNowAndStatus(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	h.write("factuur 2026-03-01.pdf", "a")
	opts := testOptions()
	opts.Watch = true
	e := New(h.st, opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, unsub := e.Subscribe()
	defer unsub()
	if err := e.Start(ctx, h.conn("c1", "Acme"), nil); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func(Status) bool) Status {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case snap := <-sub:
				for _, s := range snap {
					if ok(s) {
						return s
					}
				}
			case <-deadline:
				t.Fatalf("timed out waiting for %s; last %+v", what, e.Status())
			}
		}
	}
	waitFor("idle after the initial copy", func(s Status) bool { return s.State == StateIdle && s.InitialCopyDone })

	h.write("offerte 2026-03-02.pdf", "b")
	if err := e.Send("c1", CmdSyncNow); err != nil {
		t.Fatal(err)
	}
	waitFor("the new file sent", func(Status) bool {
		_, ok := h.remoteFiles()["/Acme/2026/Offertes/offerte 2026-03-02.pdf"]
		return ok
	})
	e.Send("c1", CmdPause)
	waitFor("paused", func(s Status) bool { return s.State == StatePaused })
	cancel()
	e.Wait()
}

// TestVeryLargeFile sends a 300 MiB file through an upload session: chunked, parallel,
// streamed from disk (BenchmarkLargeFileMemory measures that memory stays flat).
func TestVeryLargeFile(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	p := filepath.Join(h.dir, "archief 2025-12-31.pdf")
	want := writeBigFile(t, p, 300<<20)
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	if got := h.remoteFiles()["/Acme/2025/Overige/archief 2025-12-31.pdf"]; got != want {
		t.Fatalf("hash %s, want %s", got, want)
	}
}

// writeBigFile writes size bytes of non-repeating content (a random block, varied per
// MiB) without holding it in memory, and returns its content hash.
func writeBigFile(t testing.TB, p string, size int) string {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 1<<20)
	rand.New(rand.NewSource(7)).Read(block)
	for i := 0; i < size>>20; i++ {
		block[0], block[1] = byte(i), byte(i>>8)
		if i == size>>20-1 {
			copy(block[len(block)-7:], "\n%%EOF\n") // a whole PDF, as far as its end goes
		}
		if _, err := f.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	f, _ = os.Open(p)
	defer f.Close()
	h, err := dropbox.ContentHash(f)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
