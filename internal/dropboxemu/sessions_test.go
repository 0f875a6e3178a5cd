package dropboxemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/async"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/filetransfer"
)

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func lookupTag(t testing.TB, err error) (string, uint64) {
	t.Helper()
	var ae files.UploadSessionAppendV2APIError
	if !errors.As(err, &ae) || ae.EndpointError == nil {
		t.Fatalf("want UploadSessionAppendV2APIError, got %T %v", err, err)
	}
	if ae.EndpointError.IncorrectOffset != nil {
		return ae.EndpointError.Tag, ae.EndpointError.IncorrectOffset.CorrectOffset
	}
	return ae.EndpointError.Tag, 0
}

func TestSequentialSession(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	data := randomBytes(3000, 1)

	start, err := c.UploadSessionStart(files.NewUploadSessionStartArg(), bytes.NewReader(data[:1000]))
	if err != nil {
		t.Fatal(err)
	}
	cursor := files.NewUploadSessionCursor(start.SessionId, 500)
	err = c.UploadSessionAppendV2(files.NewUploadSessionAppendArg(cursor), bytes.NewReader(data[1000:2000]))
	if tag, off := lookupTag(t, err); tag != files.UploadSessionLookupErrorIncorrectOffset || off != 1000 {
		t.Fatalf("tag %s offset %d", tag, off)
	}
	cursor.Offset = 1000
	if err := c.UploadSessionAppendV2(files.NewUploadSessionAppendArg(cursor), bytes.NewReader(data[1000:2000])); err != nil {
		t.Fatal(err)
	}
	cursor.Offset = 2000
	m, err := c.UploadSessionFinish(files.NewUploadSessionFinishArg(cursor, files.NewCommitInfo("/big/file.bin")), bytes.NewReader(data[2000:]))
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != 3000 || m.ContentHash != hashString(t, data) {
		t.Fatalf("%+v", m)
	}
	// The session is gone once finished.
	err = c.UploadSessionAppendV2(files.NewUploadSessionAppendArg(files.NewUploadSessionCursor(start.SessionId, 3000)), bytes.NewReader(nil))
	if tag, _ := lookupTag(t, err); tag != files.UploadSessionLookupErrorNotFound {
		t.Fatalf("after finish: %s", tag)
	}
}

func TestSessionClosedAndExpired(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	arg := files.NewUploadSessionStartArg()
	arg.Close = true
	start, err := c.UploadSessionStart(arg, bytes.NewReader([]byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	err = c.UploadSessionAppendV2(files.NewUploadSessionAppendArg(files.NewUploadSessionCursor(start.SessionId, 3)), bytes.NewReader([]byte("d")))
	if tag, _ := lookupTag(t, err); tag != files.UploadSessionLookupErrorClosed {
		t.Fatalf("closed: %s", tag)
	}

	open, err := c.UploadSessionStart(files.NewUploadSessionStartArg(), bytes.NewReader([]byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(sessionLifetime + time.Hour)
	e.srv.mu.Lock()
	e.srv.tokens[e.token].Expiry = e.clock.Now().Add(time.Hour) // keep the token, age the session
	e.srv.mu.Unlock()
	err = c.UploadSessionAppendV2(files.NewUploadSessionAppendArg(files.NewUploadSessionCursor(open.SessionId, 3)), bytes.NewReader([]byte("d")))
	if tag, _ := lookupTag(t, err); tag != files.UploadSessionLookupErrorNotFound {
		t.Fatalf("expired: %s", tag)
	}
}

func TestUploaderMultiChunk(t *testing.T) {
	e := newEnv(t, Options{})
	data := randomBytes(20<<20+12345, 2) // three 8 MiB chunks, the last one short
	for _, tc := range []struct {
		name     string
		parallel int
	}{{"sequential", 0}, {"concurrent session", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			e.srv.ResetStats()
			var progress int64
			path := "/uploader/" + strings.ReplaceAll(tc.name, " ", "-") + ".bin"
			res, err := filetransfer.NewUploader(files.NewContext(e.config(e.token))).Upload(context.Background(), filetransfer.BytesUpload(data),
				files.NewCommitInfo(path), filetransfer.UploadOptions{
					ParallelUploads: tc.parallel,
					Progress:        func(p filetransfer.UploadProgress) { progress = p.BytesCommitted },
				})
			if err != nil {
				t.Fatal(err)
			}
			if res.Metadata.ContentHash != hashString(t, data) || res.Metadata.Size != uint64(len(data)) || progress != int64(len(data)) {
				t.Fatalf("%+v progress %d", res.Metadata, progress)
			}
			if n := e.srv.Calls("files/upload_session/append_v2"); n < 2 {
				t.Errorf("only %d appends: not a multi-chunk upload", n)
			}
			got, _ := e.srv.ReadFile(e.account, path)
			if !bytes.Equal(got, data) {
				t.Fatal("content differs")
			}
		})
	}
}

func TestConcurrentSessionRules(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	concurrent := func() *files.UploadSessionStartArg {
		a := files.NewUploadSessionStartArg()
		a.SessionType = &files.UploadSessionType{Tagged: dropbox.Tagged{Tag: files.UploadSessionTypeConcurrent}}
		return a
	}
	_, err := c.UploadSessionStart(concurrent(), bytes.NewReader([]byte("data")))
	var se files.UploadSessionStartAPIError
	if !errors.As(err, &se) || se.EndpointError.Tag != files.UploadSessionStartErrorConcurrentSessionDataNotAllowed {
		t.Fatalf("start with data: %v", err)
	}
	start, err := c.UploadSessionStart(concurrent(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := start.SessionId
	appendAt := func(off int64, n int, close bool) error {
		a := files.NewUploadSessionAppendArg(files.NewUploadSessionCursor(id, uint64(off)))
		a.Close = close
		return c.UploadSessionAppendV2(a, bytes.NewReader(make([]byte, n)))
	}
	if tag, _ := lookupTag(t, appendAt(0, 1000, false)); tag != files.UploadSessionLookupErrorConcurrentSessionInvalidDataSize {
		t.Fatalf("odd size: %s", tag)
	}
	if tag, _ := lookupTag(t, appendAt(1000, concurrentUnit, false)); tag != files.UploadSessionLookupErrorConcurrentSessionInvalidOffset {
		t.Fatalf("odd offset: %s", tag)
	}
	finish := func() error {
		_, err := c.UploadSessionFinish(files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(id, concurrentUnit+10), files.NewCommitInfo("/c.bin")), nil)
		return err
	}
	// Parts may arrive in any order; the closing one is the short tail.
	if err := appendAt(concurrentUnit, 10, true); err != nil {
		t.Fatal(err)
	}
	var fe files.UploadSessionFinishAPIError
	if err := finish(); !errors.As(err, &fe) || fe.EndpointError.Tag != files.UploadSessionFinishErrorConcurrentSessionMissingData {
		t.Fatalf("missing data: %v", err)
	}
	e.srv.mu.Lock()
	e.srv.accounts[e.account].sessions[id].closed = false // reopen to send the first part
	e.srv.mu.Unlock()
	if err := appendAt(0, concurrentUnit, false); err != nil {
		t.Fatal(err)
	}
	e.srv.mu.Lock()
	e.srv.accounts[e.account].sessions[id].closed = true
	e.srv.mu.Unlock()
	if err := finish(); err != nil {
		t.Fatal(err)
	}
}

// closedSession uploads data in a closed session, ready for a batch commit.
func closedSession(t *testing.T, c files.Client, data []byte) string {
	t.Helper()
	a := files.NewUploadSessionStartArg()
	a.Close = true
	s, err := c.UploadSessionStart(a, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.SessionId
}

func TestFinishBatchV2(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	upload(t, c, "/batch/taken.pdf", []byte("other"), "add")

	ids, err := c.UploadSessionStartBatch(files.NewUploadSessionStartBatchArg(2))
	if err != nil || len(ids.SessionIds) != 2 {
		t.Fatalf("start_batch: %v %v", ids, err)
	}
	var entries []*files.UploadSessionFinishArg
	for i, p := range []string{"/batch/a.pdf", "/batch/b.xml", "/batch/taken.pdf"} {
		data := []byte(p)
		id := closedSession(t, c, data)
		entries = append(entries, files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(id, uint64(len(data))), files.NewCommitInfo(p)))
		_ = i
	}
	// A session that was never closed fails alone.
	open, _ := c.UploadSessionStart(files.NewUploadSessionStartArg(), bytes.NewReader([]byte("x")))
	entries = append(entries, files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(open.SessionId, 1), files.NewCommitInfo("/batch/open.pdf")))

	e.srv.ResetStats()
	res, err := c.UploadSessionFinishBatchV2(files.NewUploadSessionFinishBatchArg(entries))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range res.Entries {
		switch en.Tag {
		case "success":
			got = append(got, "ok "+en.Success.PathDisplay)
			// Each file's content is its path (a session filled and closed by its start).
			if want := hashString(t, []byte(en.Success.PathDisplay)); en.Success.ContentHash != want {
				t.Errorf("%s: content hash %s, want %s", en.Success.PathDisplay, en.Success.ContentHash, want)
			}
		case "failure":
			f := en.Failure
			tag := f.Tag
			if f.Path != nil {
				tag += "/" + f.Path.Tag
			}
			if f.LookupFailed != nil {
				tag += "/" + f.LookupFailed.Tag
			}
			got = append(got, "fail "+tag)
		}
	}
	want := "ok /batch/a.pdf|ok /batch/b.xml|fail path/conflict|fail lookup_failed/not_closed"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %v", got)
	}
	if n := e.srv.Calls("files/upload_session/finish_batch_v2"); n != 1 {
		t.Fatalf("%d commits", n)
	}

	tooMany := make([]*files.UploadSessionFinishArg, maxBatch+1)
	for i := range tooMany {
		tooMany[i] = entries[0]
	}
	_, err = c.UploadSessionFinishBatchV2(files.NewUploadSessionFinishBatchArg(tooMany))
	var br auth.BadRequest
	if !errors.As(err, &br) {
		t.Fatalf("1001 entries: %v", err)
	}
}

func TestFinishBatchAsync(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	id := closedSession(t, c, []byte("async"))
	launch, err := c.UploadSessionFinishBatch(files.NewUploadSessionFinishBatchArg([]*files.UploadSessionFinishArg{
		files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(id, 5), files.NewCommitInfo("/async.pdf")),
	}))
	if err != nil || launch.Tag != "async_job_id" || launch.AsyncJobId == "" {
		t.Fatalf("%+v %v", launch, err)
	}
	var status *files.UploadSessionFinishBatchJobStatus
	for _, want := range []string{"in_progress", "complete"} {
		status, err = c.UploadSessionFinishBatchCheck(async.NewPollArg(launch.AsyncJobId))
		if err != nil || status.Tag != want {
			t.Fatalf("want %s: %+v %v", want, status, err)
		}
	}
	if len(status.Complete.Entries) != 1 || status.Complete.Entries[0].Success.PathDisplay != "/async.pdf" {
		t.Fatalf("%+v", status.Complete)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{RateLimit: 0.5, RateBurst: 2}})
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		_, err = e.users().GetSpaceUsage()
	}
	var rl auth.RateLimitAPIError
	if !errors.As(err, &rl) || rl.RateLimitError.Reason.Tag != auth.RateLimitReasonTooManyRequests || rl.RateLimitError.RetryAfter < 1 {
		t.Fatalf("want 429 too_many_requests, got %T %v", err, err)
	}
	if !strings.HasPrefix(rl.ErrorSummary, "too_many_requests/") {
		t.Errorf("summary %q", rl.ErrorSummary)
	}
}

func TestWriteLock(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{WriteLock: true}})
	lock := &e.srv.accounts[e.account].writeLock
	lock.Lock() // another commit on this account is running
	_, err := uploadErr(e.files(), "/w.pdf", []byte("w"), "add")
	var rl auth.RateLimitAPIError
	if !errors.As(err, &rl) || rl.RateLimitError.Reason.Tag != auth.RateLimitReasonTooManyWriteOperations {
		t.Fatalf("want too_many_write_operations, got %v", err)
	}
	// Reads and content uploads are not commits and go through.
	if _, err := e.files().UploadSessionStart(files.NewUploadSessionStartArg(), bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	lock.Unlock()
	upload(t, e.files(), "/w.pdf", []byte("w"), "add")
}

// TestFaultsAreDeterministic checks that one seed gives the same faults for the same calls,
// and that each fault reaches the SDK as the error type a client must handle.
func TestFaultsAreDeterministic(t *testing.T) {
	run := func() string {
		e := newEnv(t, Options{Faults: Faults{Seed: 42, ServerError: 0.2, TooManyRequests: 0.1, Drop: 0.1, Truncate: 0.1}})
		var out []string
		for i := 0; i < 60; i++ {
			_, err := e.users().GetSpaceUsage()
			var se auth.ServerError
			var rl auth.RateLimitAPIError
			switch {
			case err == nil:
				out = append(out, "ok")
			case errors.As(err, &se):
				out = append(out, "5xx")
			case errors.As(err, &rl):
				out = append(out, "429")
			default:
				out = append(out, "net") // dropped connection or truncated body
			}
		}
		return strings.Join(out, " ")
	}
	a, b := run(), run()
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	for _, kind := range []string{"ok", "5xx", "429", "net"} {
		if !strings.Contains(a, kind) {
			t.Errorf("no %s in %s", kind, a)
		}
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t, Options{})
	for i := 0; i < 3; i++ {
		upload(t, e.files(), fmt.Sprintf("/s/%d", i), []byte("12345"), "add")
	}
	st := e.srv.Stats()["files/upload"]
	if st.Calls != 3 || st.BytesIn != 15 || st.Status[200] != 3 {
		t.Fatalf("%+v", st)
	}
	e.srv.ResetStats()
	if e.srv.Calls("files/upload") != 0 {
		t.Fatal("not reset")
	}
}

// TestBandwidthCapKeepsContent checks that throttled bodies still arrive whole, both ways.
func TestBandwidthCapKeepsContent(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{Bandwidth: 4 << 20}})
	data := randomBytes(300<<10, 4)
	upload(t, e.files(), "/bw.bin", data, "add")
	_, body, err := e.files().Download(files.NewDownloadArg("/bw.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got, _ := io.ReadAll(body)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}
