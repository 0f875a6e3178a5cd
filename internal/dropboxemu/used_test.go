package dropboxemu

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

// recomputedUsed walks the tree the slow way, as the quota check once did on every commit.
func recomputedUsed(s *Server, id string) (running, walked int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[id]
	for _, n := range a.nodes {
		walked += n.Size
	}
	return a.used, walked
}

// TestUsedBytesRunningTotal checks that the running total the quota check and
// get_space_usage read stays equal to the sum of the files after every kind of write, and
// after the account is loaded again from its data directory.
func TestUsedBytesRunningTotal(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Options{DataDir: dir})
	c := e.files()
	check := func(step string) {
		t.Helper()
		running, walked := recomputedUsed(e.srv, e.account)
		if running != walked {
			t.Fatalf("after %s: running total %d, files sum to %d", step, running, walked)
		}
		u, err := e.users().GetSpaceUsage()
		if err != nil || int64(u.Used) != walked {
			t.Fatalf("after %s: get_space_usage %+v %v, want used %d", step, u, err, walked)
		}
	}
	steps := []struct {
		name string
		do   func()
	}{
		{"uploads", func() {
			for i := range 5 {
				upload(t, c, fmt.Sprintf("/a/%d.pdf", i), make([]byte, 100*(i+1)), "add")
			}
		}},
		{"overwrite with a smaller file", func() { upload(t, c, "/a/4.pdf", make([]byte, 7), "overwrite") }},
		{"overwrite with a larger file under another case", func() { upload(t, c, "/A/0.PDF", make([]byte, 1000), "overwrite") }},
		{"identical add", func() { upload(t, c, "/a/1.pdf", make([]byte, 200), "add") }},
		{"autorename", func() {
			arg := files.NewUploadArg("/a/1.pdf")
			arg.Autorename = true
			if _, err := c.Upload(arg, bytes.NewReader([]byte("other content"))); err != nil {
				t.Fatal(err)
			}
		}},
		{"delete a file", func() {
			if _, err := c.DeleteV2(files.NewDeleteArg("/a/2.pdf")); err != nil {
				t.Fatal(err)
			}
		}},
		{"session finish", func() {
			id := closedSession(t, c, make([]byte, 321))
			if _, err := c.UploadSessionFinishBatchV2(files.NewUploadSessionFinishBatchArg([]*files.UploadSessionFinishArg{
				files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(id, 321), files.NewCommitInfo("/b/c.pdf")),
			})); err != nil {
				t.Fatal(err)
			}
		}},
		{"delete a folder", func() {
			if _, err := c.DeleteV2(files.NewDeleteArg("/a")); err != nil {
				t.Fatal(err)
			}
		}},
		{"re-create after delete", func() { upload(t, c, "/a/0.pdf", make([]byte, 55), "add") }},
	}
	for _, s := range steps {
		s.do()
		check(s.name)
	}
	want, _ := recomputedUsed(e.srv, e.account)

	e.ts.Close()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	running, walked := recomputedUsed(again, e.account)
	if running != walked || running != want {
		t.Fatalf("loaded from the data directory: running %d, files %d, before %d", running, walked, want)
	}
}
