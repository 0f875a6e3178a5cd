package dropbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

// invoices are n files the size of onFact invoices (1 B to 200 KiB), every 50th empty, in a
// map by path and in a fixed path order.
func invoices(n int, seed int64) (map[string][]byte, []string) {
	rnd := rand.New(rand.NewSource(seed))
	docs := make(map[string][]byte, n)
	paths := make([]string, n)
	for i := range n {
		size := 1 + rnd.Intn(200<<10)
		if i%50 == 0 {
			size = 0
		}
		data := make([]byte, size)
		rnd.Read(data)
		paths[i] = fmt.Sprintf("/Acme/2026/Facturen/F2026-%04d.pdf", i)
		docs[paths[i]] = data
	}
	return docs, paths
}

func TestUploadContentsThenCommit(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testUploadContentsThenCommit)
}

func testUploadContentsThenCommit(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	ctx := context.Background()
	docs, paths := invoices(500, 1)
	datas := make([][]byte, len(paths))
	var total int64
	for i, p := range paths {
		datas[i] = docs[p]
		total += int64(len(docs[p]))
	}

	ups, err := c.UploadContents(ctx, datas)
	if err != nil || len(ups) != len(datas) {
		t.Fatalf("%d results, %v", len(ups), err)
	}
	commits := make([]Commit, len(ups))
	for i, u := range ups {
		if u.Err != nil || u.SessionID == "" {
			t.Fatalf("%s: %+v", paths[i], u)
		}
		commits[i] = Commit{SessionID: u.SessionID, Size: int64(len(datas[i])), Path: paths[i]}
	}
	res, err := c.Commit(ctx, commits)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.File.Hash != hashOf(t, datas[i]) || r.File.Size != int64(len(datas[i])) {
			t.Fatalf("%s: %+v %v", paths[i], r.File, r.Err)
		}
	}

	starts := e.Srv.Calls("files/upload_session/start_batch")
	appends := e.Srv.Calls("files/upload_session/append_batch")
	t.Logf("500 files, %d MiB: %d start_batch, %d append_batch, %d finish_batch_v2", total>>20, starts, appends,
		e.Srv.Calls("files/upload_session/finish_batch_v2"))
	if starts != 1 || e.Srv.Calls("files/upload_session/start") != 0 {
		t.Errorf("%d start_batch and %d start for 500 files", starts, e.Srv.Calls("files/upload_session/start"))
	}
	// About 100 bytes of argument per file in an 8 KiB header: 70-odd files per request.
	if appends < 1 || appends > 10 {
		t.Errorf("%d append_batch requests for 500 files", appends)
	}
	if in := e.Srv.Stats()["files/upload_session/append_batch"].BytesIn; in != total {
		t.Errorf("append_batch received %d bytes, the files have %d", in, total)
	}
}

// TestUploadContentsSplits crosses both limits: more files than one start_batch opens, and
// more data than one append_batch carries.
func TestUploadContentsSplits(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testUploadContentsSplits)
}

func testUploadContentsSplits(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	ctx := context.Background()

	tiny := make([][]byte, MaxBatch+1)
	for i := range tiny {
		tiny[i] = []byte(fmt.Sprint("factuur ", i))
	}
	ups, err := c.UploadContents(ctx, tiny)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Srv.Calls("files/upload_session/start_batch"); n != 2 {
		t.Errorf("%d start_batch for %d files", n, len(tiny))
	}
	last := len(tiny) - 1
	res, err := c.Commit(ctx, []Commit{
		{SessionID: ups[0].SessionID, Size: int64(len(tiny[0])), Path: "/first"},
		{SessionID: ups[last].SessionID, Size: int64(len(tiny[last])), Path: "/last"},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil ||
		res[0].File.Hash != hashOf(t, tiny[0]) || res[1].File.Hash != hashOf(t, tiny[last]) {
		t.Fatalf("order not kept across start_batch groups: %+v %v", res, err)
	}

	if testing.Short() {
		t.Skip("sends 70 MiB")
	}
	e.Srv.ResetStats()
	big := make([][]byte, 7)
	for i := range big {
		big[i] = make([]byte, 10<<20)
		big[i][0] = byte(i)
	}
	ups, err = c.UploadContents(ctx, big)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Srv.Calls("files/upload_session/append_batch"); n != 2 {
		t.Errorf("%d append_batch for 70 MiB, want 2 of at most 64 MiB", n)
	}
	commits := make([]Commit, len(big))
	for i, u := range ups {
		commits[i] = Commit{SessionID: u.SessionID, Size: int64(len(big[i])), Path: fmt.Sprintf("/big/%d", i)}
	}
	res, err = c.Commit(ctx, commits)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.File.Hash != hashOf(t, big[i]) {
			t.Fatalf("%d: %+v %v", i, r.File, r.Err)
		}
	}

	_, err = c.UploadContents(ctx, [][]byte{make([]byte, maxContentsBody+1)})
	if KindOf(err) != KindOther {
		t.Fatalf("a file over 64 MiB: %v", err)
	}
	if ups, err := c.UploadContents(ctx, nil); err != nil || len(ups) != 0 {
		t.Fatalf("no files: %v %v", ups, err)
	}
}

// TestUploadContentsUnderFaults sends 500 files through 5xx answers, dropped connections
// (half of them after the request took effect) and cut-off answers, redoing what must be
// redone as the engine does: every file must end up committed with its content.
func TestUploadContentsUnderFaults(t *testing.T) {
	for _, seed := range []int64{5, 6, 7} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			eachProfile(t, dropboxemu.Faults{Seed: seed, ServerError: 0.1, Drop: 0.1, Truncate: 0.1}, noisy,
				func(t *testing.T, f dropboxemu.Faults) { uploadContentsUnderFaults(t, f, seed) })
		})
	}
}

func uploadContentsUnderFaults(t *testing.T, faults dropboxemu.Faults, seed int64) {
	e := newTestEnv(t, faults)
	c := e.client()
	c.pacer.minBackoff = time.Millisecond // keep the test quick; the policy is the same
	ctx := context.Background()
	docs, paths := invoices(500, seed)

	got := map[string]*File{}
	round := 0
	for ; len(got) < len(docs); round++ {
		if round > 20 {
			t.Fatalf("not done after 20 rounds: %d of %d", len(got), len(docs))
		}
		var todo []string
		var datas [][]byte
		for _, p := range paths {
			if got[p] == nil {
				todo = append(todo, p)
				datas = append(datas, docs[p])
			}
		}
		ups, err := c.UploadContents(ctx, datas)
		if KindOf(err) == KindTransient {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var commits []Commit
		for i, u := range ups {
			switch {
			case u.Err == nil:
				commits = append(commits, Commit{SessionID: u.SessionID, Size: int64(len(datas[i])), Path: todo[i]})
			case KindOf(u.Err) != KindRetryFile:
				t.Fatalf("%s: %v", todo[i], u.Err)
			}
		}
		commitInto(ctx, t, c, commits, got)
	}
	for p, data := range docs {
		if got[p].Hash != hashOf(t, data) || got[p].Size != int64(len(data)) {
			t.Errorf("%s: %+v", p, got[p])
		}
	}
	for _, en := range e.Srv.Entries(e.Account) {
		if en.Folder {
			continue
		}
		if data, ok := docs[en.PathDisplay]; !ok || en.ContentHash != hashOf(t, data) {
			t.Errorf("stored %s differs", en.PathDisplay)
		}
	}
	st := e.Srv.Stats()
	t.Logf("%d rounds; start_batch %v, append_batch %v, finish_batch_v2 %v (calls by status)", round,
		st["files/upload_session/start_batch"].Status, st["files/upload_session/append_batch"].Status,
		st["files/upload_session/finish_batch_v2"].Status)
}

// TestAppendResults is the decision table for append_batch's entries.
func TestAppendResults(t *testing.T) {
	failure := func(tag string, correct uint64) *files.UploadSessionAppendBatchResultEntry {
		e := &files.UploadSessionAppendBatchResultEntry{Failure: &files.UploadSessionAppendBatchEntryError{}}
		e.Tag, e.Failure.Tag = files.UploadSessionAppendBatchResultEntryFailure, tag
		if tag == files.UploadSessionAppendBatchEntryErrorIncorrectOffset {
			e.Failure.IncorrectOffset = &files.UploadSessionOffsetError{CorrectOffset: correct}
		}
		return e
	}
	success := &files.UploadSessionAppendBatchResultEntry{}
	success.Tag = files.UploadSessionAppendBatchResultEntrySuccess
	for _, tc := range []struct {
		name    string
		entry   *files.UploadSessionAppendBatchResultEntry
		retried bool
		want    Kind // 0: the session is good
	}{
		{"success", success, false, 0},
		{"success on a retry", success, true, 0},
		{"closed on the first attempt", failure("closed", 0), false, KindRetryFile},
		{"closed on a retry: the lost attempt took effect", failure("closed", 0), true, 0},
		{"offset at the file's end on a retry", failure("incorrect_offset", 10), true, 0},
		{"offset elsewhere on a retry", failure("incorrect_offset", 4), true, KindRetryFile},
		{"offset on the first attempt", failure("incorrect_offset", 10), false, KindRetryFile},
		{"not_found", failure("not_found", 0), true, KindRetryFile},
		{"too_large", failure("too_large", 0), false, KindFile},
		{"concurrent rule", failure("concurrent_session_invalid_data_size", 0), false, KindOther},
		{"unknown tag", failure("something_new", 0), false, KindRetryFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := appendResults([]string{"sid"}, []int{10}, []*files.UploadSessionAppendBatchResultEntry{tc.entry}, tc.retried)[0]
			if KindOf(r.Err) != tc.want || (tc.want == 0) != (r.SessionID == "sid") {
				t.Fatalf("%+v, want kind %d", r, tc.want)
			}
			if tc.want != 0 && !errors.Is(r.Err, kindErr[tc.want]) {
				t.Fatalf("errors.Is(%v, %v) = false", r.Err, kindErr[tc.want])
			}
		})
	}
}

func TestPlanAppends(t *testing.T) {
	id := "pid_upload_session:ABCDEFGHIJKLMNOPQRSTUV1234"
	ids := make([]string, 300)
	for i := range ids {
		ids[i] = id
	}
	for _, tc := range []struct {
		name  string
		sizes []int
		want  []span
	}{
		{"nothing", nil, nil},
		{"one empty file", []int{0}, []span{{0, 1}}},
		{"bodies split at 64 MiB", []int{40 << 20, 24 << 20, 1}, []span{{0, 2}, {2, 3}}},
		{"a file alone at the limit", []int{1, maxContentsBody, 1}, []span{{0, 1}, {1, 2}, {2, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			datas := make([][]byte, len(tc.sizes))
			for i, n := range tc.sizes {
				datas[i] = make([]byte, n)
			}
			if got := planAppends(ids, datas); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Many tiny files: every request's argument fits the header budget, and all are covered.
	datas := make([][]byte, len(ids))
	plan := planAppends(ids, datas)
	at := 0
	for _, s := range plan {
		if s.lo != at || s.hi <= s.lo {
			t.Fatalf("plan %v does not cover the files in order", plan)
		}
		at = s.hi
		var entries []*files.UploadSessionAppendBatchArgEntry
		for i := s.lo; i < s.hi; i++ {
			entries = append(entries, appendEntry(ids[i], datas[i]))
		}
		arg := files.NewUploadSessionAppendBatchArg(entries)
		arg.ContentHash = hashOf(t, nil)
		if n := argHeaderLine(arg); n > maxArgLine {
			t.Errorf("span %v: header line of %d bytes", s, n)
		}
	}
	if at != len(ids) || len(plan) < 2 {
		t.Fatalf("plan %v for %d files", plan, len(ids))
	}
}

// TestUploadContentsAnswerLost loses the answer of the first append_batch after it took
// effect: the retry finds the sessions closed, which means the files are there.
func TestUploadContentsAnswerLost(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testUploadContentsAnswerLost)
}

func testUploadContentsAnswerLost(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	var mu sync.Mutex
	lost := false
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lose := !lost && r.URL.Path == "/2/files/upload_session/append_batch"
		lost = lost || lose
		mu.Unlock()
		if lose {
			e.Srv.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler) // the connection closes with no answer
		}
		e.Srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: front.URL})
	c.pacer.minBackoff = time.Millisecond
	ctx := context.Background()

	datas := [][]byte{[]byte("factuur 1"), {}, []byte("factuur 3")}
	ups, err := c.UploadContents(ctx, datas)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.Srv.Calls("files/upload_session/append_batch"); n != 2 {
		t.Fatalf("%d append_batch, want the lost one and its retry", n)
	}
	commits := make([]Commit, len(ups))
	for i, u := range ups {
		if u.Err != nil {
			t.Fatalf("file %d: %v", i, u.Err)
		}
		commits[i] = Commit{SessionID: u.SessionID, Size: int64(len(datas[i])), Path: fmt.Sprintf("/f%d", i)}
	}
	res, err := c.Commit(ctx, commits)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.File.Hash != hashOf(t, datas[i]) {
			t.Fatalf("file %d: %+v %v", i, r.File, r.Err)
		}
	}
}

// contentBytesIn is what the emulator received on the routes that carry file contents.
func contentBytesIn(st map[string]dropboxemu.RouteStats) int64 {
	var n int64
	for _, r := range []string{"files/upload", "files/upload_session/start", "files/upload_session/append_v2",
		"files/upload_session/append_batch", "files/upload_session/finish"} {
		n += st[r].BytesIn
	}
	return n
}

// TestRecommitContendedEntries commits under contention inside batches: the entries
// Dropbox refused are committed again from the same sessions until all are in, and no
// file's content is sent twice.
func TestRecommitContendedEntries(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{Seed: 11, BatchContention: 0.3, BatchInternalError: 0.05}, quiet, testRecommitContendedEntries)
}

func testRecommitContendedEntries(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	ctx := context.Background()
	docs, paths := invoices(300, 11)
	datas := make([][]byte, len(paths))
	var total int64
	for i, p := range paths {
		datas[i] = docs[p]
		total += int64(len(datas[i]))
	}
	ups, err := c.UploadContents(ctx, datas)
	if err != nil {
		t.Fatal(err)
	}
	pending := make([]Commit, len(ups))
	for i, u := range ups {
		if u.Err != nil {
			t.Fatalf("%s: %v", paths[i], u.Err)
		}
		pending[i] = Commit{SessionID: u.SessionID, Size: int64(len(datas[i])), Path: paths[i]}
	}
	got := map[string]*File{}
	for round := 0; len(pending) > 0; round++ {
		if round > 30 {
			t.Fatalf("%d entries not committed after 30 rounds", len(pending))
		}
		res, err := c.Commit(ctx, pending)
		if err != nil {
			t.Fatal(err)
		}
		var again []Commit
		for i, r := range res {
			switch {
			case r.Err == nil:
				got[pending[i].Path] = r.File
			case KindOf(r.Err) == KindRecommit && errors.Is(r.Err, ErrRecommit):
				var re *Error
				errors.As(r.Err, &re)
				if re.RetryAfter <= 0 {
					t.Fatalf("%s: recommit without a RetryAfter: %v", pending[i].Path, r.Err)
				}
				again = append(again, pending[i]) // the same session: no new upload
			default:
				t.Fatalf("%s: %v", pending[i].Path, r.Err)
			}
		}
		pending = again
	}
	for p, data := range docs {
		if got[p] == nil || got[p].Hash != hashOf(t, data) {
			t.Errorf("%s: %+v", p, got[p])
		}
	}
	st := e.Srv.Stats()
	fails := st["files/upload_session/finish_batch_v2"].EntryFailures
	if fails["too_many_write_operations"] == 0 || fails["internal_error"] == 0 {
		t.Fatalf("entry failures %v: the test did not see both kinds of contention", fails)
	}
	if in := contentBytesIn(st); in != total {
		t.Errorf("content routes received %d bytes, the files have %d", in, total)
	}
	t.Logf("%d commits, entry failures %v", e.Srv.Calls("files/upload_session/finish_batch_v2"), fails)
}
