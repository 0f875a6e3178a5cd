package dropbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/contenthash"
	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu/emutest"
)

// testEnv is an emulated account for the client tests.
type testEnv struct{ *emutest.Env }

func newTestEnv(t *testing.T, f dropboxemu.Faults) *testEnv {
	t.Helper()
	return &testEnv{emutest.Start(t, dropboxemu.Options{Faults: f},
		dropboxemu.AccountInfo{Email: "boekhouding@acme.be", GivenName: "Acme", Surname: "Boekhouding"})}
}

// Whether a test needs the strict profile's random faults off (it counts calls or bytes,
// or expects every entry to succeed).
const (
	quiet = true
	noisy = false
)

// eachProfile runs test under the emulator's forgiving default with faults, and under
// the strict profile on top of them: Dropbox's wire rules, its front end's header limit,
// its write lock and slow batches, and, unless quietly, its occasional plain-text 429s,
// 503s and contention inside batches.
func eachProfile(t *testing.T, faults dropboxemu.Faults, quietly bool, test func(t *testing.T, f dropboxemu.Faults)) {
	t.Run("default", func(t *testing.T) { test(t, faults) })
	t.Run("strict", func(t *testing.T) { test(t, strictOver(faults, quietly)) })
}

// strictOver is faults with the strict profile's switches added.
func strictOver(f dropboxemu.Faults, quietly bool) dropboxemu.Faults {
	s := dropboxemu.StrictFaults(f.Seed)
	f.WriteLock, f.StrictArgs, f.MaxArgHeader = true, true, s.MaxArgHeader
	f.CommitEntryCost = max(f.CommitEntryCost, s.CommitEntryCost)
	if f.RetryAfter == 0 {
		f.RetryAfter = s.RetryAfter
	}
	if !quietly {
		f.PlainTooManyRequests = max(f.PlainTooManyRequests, s.PlainTooManyRequests)
		f.ServiceUnavailable = max(f.ServiceUnavailable, s.ServiceUnavailable)
		f.BatchContention = max(f.BatchContention, s.BatchContention)
		f.BatchInternalError = max(f.BatchInternalError, s.BatchInternalError)
	}
	return f
}

func (e *testEnv) client() *Client {
	return New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: e.URL})
}

func hashOf(t testing.TB, b []byte) string {
	h, err := contenthash.Compute(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// sendAll uploads and commits files the way the engine does, redoing entries that must be
// redone, until all are committed.
func sendAll(ctx context.Context, t *testing.T, c *Client, docs map[string][]byte) map[string]*File {
	t.Helper()
	got := map[string]*File{}
	for round := 0; len(got) < len(docs); round++ {
		if round > 20 {
			t.Fatalf("not done after 20 rounds: %d of %d", len(got), len(docs))
		}
		var commits []Commit
		for p, data := range docs {
			if got[p] != nil {
				continue
			}
			id, err := c.UploadContent(ctx, data)
			if err != nil {
				if KindOf(err) == KindTransient {
					continue
				}
				t.Fatal(err)
			}
			commits = append(commits, Commit{SessionID: id, Size: int64(len(data)), Path: p})
		}
		commitInto(ctx, t, c, commits, got)
	}
	return got
}

// commitInto commits and records each committed file in got by path; entries Dropbox
// asks to redo or recommit, and a whole batch that failed transiently, are left for the
// next round (which uploads them again: simpler here, and TestRecommitContendedEntries
// shows recommitting).
func commitInto(ctx context.Context, t *testing.T, c *Client, commits []Commit, got map[string]*File) {
	t.Helper()
	res, err := c.Commit(ctx, commits)
	if KindOf(err) == KindTransient {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		switch {
		case r.Err == nil:
			got[commits[i].Path] = r.File
		case KindOf(r.Err) != KindRetryFile && KindOf(r.Err) != KindRecommit:
			t.Fatalf("%s: %v", commits[i].Path, r.Err)
		}
	}
}

func TestAccountAndUsage(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testAccountAndUsage)
}

func testAccountAndUsage(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	a, err := c.Account(context.Background())
	if err != nil || a.ID != e.Account || a.Email != "boekhouding@acme.be" || a.Name != "Acme Boekhouding" {
		t.Fatalf("%+v %v", a, err)
	}
	used, alloc, err := c.SpaceUsage(context.Background())
	if err != nil || used != 0 || alloc != dropboxemu.DefaultQuota {
		t.Fatalf("%d %d %v", used, alloc, err)
	}
}

func TestBatchCommitAndList(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testBatchCommitAndList)
}

func testBatchCommitAndList(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	ctx := context.Background()
	docs := map[string][]byte{}
	for i := 0; i < 2100; i++ { // more than one page of list_folder
		docs[fmt.Sprintf("/Acme/2026/Facturen/F2026-%04d.pdf", i)] = []byte(fmt.Sprint("factuur ", i))
	}
	var commits []Commit
	for p, data := range docs {
		id, err := c.UploadContent(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, Commit{SessionID: id, Size: int64(len(data)), Path: p, ClientModified: time.Date(2026, 3, 15, 10, 0, 0, 5, time.UTC)})
	}
	for len(commits) > 0 {
		n := min(len(commits), MaxBatch)
		res, err := c.Commit(ctx, commits[:n])
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || r.File.Hash != hashOf(t, docs[commits[i].Path]) {
				t.Fatalf("%s: %+v %v", commits[i].Path, r.File, r.Err)
			}
		}
		commits = commits[n:]
	}
	if n := e.Srv.Calls("files/upload_session/finish_batch_v2"); n != 3 {
		t.Errorf("%d commits for 2100 files", n)
	}
	listed, err := c.ListFiles(ctx, "/acme")
	if err != nil || len(listed) != len(docs) {
		t.Fatalf("listed %d %v", len(listed), err)
	}
	if missing, err := c.ListFiles(ctx, "/Nobody"); err != nil || len(missing) != 0 {
		t.Fatalf("missing root: %v %v", missing, err)
	}
}

func TestPerEntryFailures(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testPerEntryFailures)
}

func testPerEntryFailures(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	ctx := context.Background()
	var commits []Commit
	for _, p := range []string{"/ok.pdf", "/bad./x.pdf", "/desktop.ini"} {
		id, err := c.UploadContent(ctx, []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, Commit{SessionID: id, Size: int64(len(p)), Path: p})
	}
	commits = append(commits, Commit{SessionID: "pid_upload_session:unknown", Size: 1, Path: "/lost.pdf"})
	res, err := c.Commit(ctx, commits)
	if err != nil {
		t.Fatal(err)
	}
	want := []Kind{0, KindFile, KindFile, KindRetryFile}
	for i, r := range res {
		if KindOf(r.Err) != want[i] {
			t.Errorf("%s: kind %d (%v), want %d", commits[i].Path, KindOf(r.Err), r.Err, want[i])
		}
	}
	if !errors.Is(res[1].Err, ErrFile) {
		t.Errorf("errors.Is(ErrFile) = false for %v", res[1].Err)
	}
}

func TestNoSpaceAndReconnect(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testNoSpaceAndReconnect)
}

func testNoSpaceAndReconnect(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	ctx := context.Background()
	e.Srv.SetQuota(e.Account, 4)
	id, _ := c.UploadContent(ctx, []byte("too big"))
	res, err := c.Commit(ctx, []Commit{{SessionID: id, Size: 7, Path: "/x"}})
	if err != nil || !errors.Is(res[0].Err, ErrNoSpace) {
		t.Fatalf("%v %v", res, err)
	}
	if err := e.Srv.RevokeAccess(e.Account, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Account(ctx); !errors.Is(err, ErrReconnect) {
		t.Fatalf("after revoke: %v", err)
	}
}

func TestUploadLarge(t *testing.T) { eachProfile(t, dropboxemu.Faults{}, noisy, testUploadLarge) }

func testUploadLarge(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	data := make([]byte, 20<<20+7)
	rand.New(rand.NewSource(3)).Read(data)
	p := filepath.Join(t.TempDir(), "big.pdf")
	os.WriteFile(p, data, 0o600)
	// Parallel chunks in a concurrent session, and one chunk at a time in a sequential
	// one, whose finish carries the last chunk (and its own content hash).
	for _, chunks := range []int{4, 1} {
		var mu sync.Mutex
		var last int64
		c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: e.URL, ParallelChunks: chunks})
		path := fmt.Sprintf("/Acme/groot bestand %d€.pdf", chunks)
		f, err := c.UploadLarge(context.Background(), localFile(t, p), path, func(n int64) {
			mu.Lock()
			last = max(last, n)
			mu.Unlock()
		})
		if err != nil || f.Hash != hashOf(t, data) || last != int64(len(data)) {
			t.Fatalf("%d chunks at once: %+v %v progress %d", chunks, f, err, last)
		}
	}
}

// TestFaultsAreAbsorbed sends files through 5xx errors, dropped connections, truncated
// answers and rate limits: every file must arrive with the right content.
func TestFaultsAreAbsorbed(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{Seed: 9, ServerError: 0.15, Drop: 0.1, Truncate: 0.1, TooManyRequests: 0.05}, noisy, testFaultsAreAbsorbed)
}

func testFaultsAreAbsorbed(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	c.pacer.minBackoff = time.Millisecond // keep the test quick; the policy is the same
	docs := map[string][]byte{}
	for i := 0; i < 40; i++ {
		docs[fmt.Sprintf("/f/%02d.xml", i)] = []byte(fmt.Sprint("<Invoice>", i, "</Invoice>"))
	}
	got := sendAll(context.Background(), t, c, docs)
	for p, data := range docs {
		if got[p].Hash != hashOf(t, data) {
			t.Errorf("%s: hash differs", p)
		}
	}
	for _, en := range e.Srv.Entries(e.Account) {
		if !en.Folder && docs[en.PathDisplay] == nil {
			t.Errorf("unexpected file %s", en.PathDisplay)
		}
	}
}

func TestRateLimitHoldsTheAccount(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{RateLimit: 2, RateBurst: 1}, noisy, testRateLimitHoldsTheAccount)
}

func testRateLimitHoldsTheAccount(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	for i := 0; i < 3; i++ {
		if _, _, err := c.SpaceUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTranslate(t *testing.T) {
	if translate(nil, nil) != nil {
		t.Fatal("nil")
	}
	if err := translate(context.Canceled, nil); err != context.Canceled {
		t.Fatalf("canceled: %v", err)
	}
	if KindOf(translate(errors.New("dial tcp: connection reset by peer"), nil)) != KindTransient {
		t.Fatal("connection reset is transient")
	}
}

// A 400 for one entry's path refuses that file only: the rest of the batch is committed.
func TestCommitBadPathEntry(t *testing.T) {
	eachProfile(t, dropboxemu.Faults{}, quiet, testCommitBadPathEntry)
}

func testCommitBadPathEntry(t *testing.T, faults dropboxemu.Faults) {
	e := newTestEnv(t, faults)
	c := e.client()
	ctx := context.Background()
	var commits []Commit
	for _, p := range []string{"/ok1.pdf", "no-slash.pdf", "/ok2.pdf"} {
		id, err := c.UploadContent(ctx, []byte(p))
		if err != nil {
			t.Fatal(err)
		}
		commits = append(commits, Commit{SessionID: id, Size: int64(len(p)), Path: p})
	}
	res, err := c.Commit(ctx, commits)
	if err != nil {
		t.Fatal(err)
	}
	var de *Error
	if res[0].Err != nil || res[2].Err != nil || !errors.As(res[1].Err, &de) || de.Kind != KindFile || de.Code != "bad_request/path" {
		t.Fatalf("%+v", res)
	}
	if n := len(e.Files()); n != 2 {
		t.Errorf("%d files stored, want 2", n)
	}
}
