package dropboxemu

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/async"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

// batchOf starts a closed session for each path and returns the finish entries.
func batchOf(t *testing.T, c files.Client, paths ...string) []*files.UploadSessionFinishArg {
	t.Helper()
	var entries []*files.UploadSessionFinishArg
	for _, p := range paths {
		id := closedSession(t, c, []byte(p))
		entries = append(entries, files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(id, uint64(len(p))), files.NewCommitInfo(p)))
	}
	return entries
}

// finishBatch commits entries with finish_batch_v2 or with the async finish_batch and its
// check, and returns each entry's outcome: "ok" or the failure tag.
func finishBatch(t *testing.T, c files.Client, async_ bool, entries []*files.UploadSessionFinishArg) []string {
	t.Helper()
	var res []*files.UploadSessionFinishBatchResultEntry
	if async_ {
		launch, err := c.UploadSessionFinishBatch(files.NewUploadSessionFinishBatchArg(entries))
		if err != nil {
			t.Fatal(err)
		}
		for {
			st, err := c.UploadSessionFinishBatchCheck(async.NewPollArg(launch.AsyncJobId))
			if err != nil {
				t.Fatal(err)
			}
			if st.Tag == "complete" {
				res = st.Complete.Entries
				break
			}
		}
	} else {
		r, err := c.UploadSessionFinishBatchV2(files.NewUploadSessionFinishBatchArg(entries))
		if err != nil {
			t.Fatal(err)
		}
		res = r.Entries
	}
	out := make([]string, len(res))
	for i, en := range res {
		out[i] = "ok"
		if en.Tag == "failure" {
			out[i] = en.Failure.Tag
		}
	}
	return out
}

// TestBatchContention checks that entries of a batch fail alone with
// too_many_write_operations or internal_error, leave their session committable, and are
// counted.
func TestBatchContention(t *testing.T) {
	for _, async_ := range []bool{false, true} {
		route := "files/upload_session/finish_batch_v2"
		if async_ {
			route = "files/upload_session/finish_batch"
		}
		t.Run(route, func(t *testing.T) {
			e := newEnv(t, Options{Faults: Faults{Seed: 3, BatchContention: 0.4, BatchInternalError: 0.3}})
			c := e.files()
			var paths []string
			for i := range 30 {
				paths = append(paths, fmt.Sprintf("/b/%02d.pdf", i))
			}
			entries := batchOf(t, c, paths...)
			got := finishBatch(t, c, async_, entries)
			count := map[string]int{}
			var retry []*files.UploadSessionFinishArg
			for i, tag := range got {
				count[tag]++
				if tag != "ok" {
					retry = append(retry, entries[i])
				}
			}
			if count["too_many_write_operations"] == 0 || count["internal_error"] == 0 || count["ok"] == 0 || len(count) != 3 {
				t.Fatalf("outcomes %v", count)
			}
			st := e.srv.Stats()[route]
			if st.EntryFailures["too_many_write_operations"] != count["too_many_write_operations"] || st.EntryFailures["internal_error"] != count["internal_error"] {
				t.Fatalf("stats %v, outcomes %v", st.EntryFailures, count)
			}
			if n := len(e.srv.Entries(e.account)) - 1; n != count["ok"] {
				t.Fatalf("%d files written, %d entries succeeded", n, count["ok"])
			}

			// The failed entries' sessions are still there, closed, for the next batch.
			e.srv.SetFaults(Faults{})
			for i, tag := range finishBatch(t, c, async_, retry) {
				if tag != "ok" {
					t.Fatalf("retry of %s: %s", retry[i].Commit.Path, tag)
				}
			}
			if n := len(e.srv.Entries(e.account)) - 1; n != len(paths) {
				t.Fatalf("%d files after the retry, want %d", n, len(paths))
			}
		})
	}
	t.Run("deterministic", func(t *testing.T) {
		run := func() string {
			e := newEnv(t, Options{Faults: Faults{Seed: 9, BatchContention: 0.3, BatchInternalError: 0.1}})
			return strings.Join(finishBatch(t, e.files(), false, batchOf(t, e.files(), "/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h")), " ")
		}
		if a, b := run(), run(); a != b {
			t.Fatalf("same seed, different outcomes:\n%s\n%s", a, b)
		}
	})
}

// TestCommitEntryCost checks that a batch holds the account's write lock for its entries'
// cost: a commit that arrives meanwhile meets too_many_write_operations.
func TestCommitEntryCost(t *testing.T) {
	const cost, n = 50 * time.Millisecond, 10
	e := newEnv(t, Options{Faults: Faults{WriteLock: true, CommitEntryCost: cost}})
	c := e.files()
	var paths []string
	for i := range n {
		paths = append(paths, fmt.Sprintf("/c/%d", i))
	}
	entries := batchOf(t, c, paths...)
	start := time.Now()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, tag := range finishBatch(t, c, false, entries) {
			if tag != "ok" {
				t.Errorf("entry %d: %s", i, tag)
			}
		}
	})
	// Commit beside the batch once it surely holds the lock (probing the lock with
	// TryLock could make the batch itself meet too_many_write_operations).
	time.Sleep(n * cost / 3)
	_, err := uploadErr(c, "/beside.pdf", []byte("x"), "add")
	var rl auth.RateLimitAPIError
	if !errors.As(err, &rl) || rl.RateLimitError.Reason.Tag != auth.RateLimitReasonTooManyWriteOperations {
		t.Fatalf("commit during the batch: %v", err)
	}
	wg.Wait()
	if d := time.Since(start); d < n*cost {
		t.Fatalf("batch of %d took %v, want at least %v", n, d, n*cost)
	}
}
