package dropboxemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

// batchEnv drives upload_session/append_batch through the real SDK.
type batchEnv struct {
	*env
	c   files.ContextClient
	ctx context.Context
}

func newBatchEnv(t *testing.T, opts Options) *batchEnv {
	e := newEnv(t, opts)
	return &batchEnv{env: e, c: files.NewContext(e.config(e.token)), ctx: context.Background()}
}

func (b *batchEnv) startBatch(t *testing.T, n int) []string {
	t.Helper()
	res, err := b.c.UploadSessionStartBatchContext(b.ctx, files.NewUploadSessionStartBatchArg(uint64(n)))
	if err != nil || len(res.SessionIds) != n {
		t.Fatalf("start_batch %d: %v %v", n, res, err)
	}
	return res.SessionIds
}

// part is one entry of an append_batch: data for a session at an offset.
type part struct {
	id     string
	offset uint64
	data   []byte
	close  bool
}

// appendBatch sends parts in one request, their data concatenated in order, with the
// lengths matching the body. The SDK attaches the body's content hash (bytes.Reader seeks).
func (b *batchEnv) appendBatch(parts ...part) (*files.UploadSessionAppendBatchResult, error) {
	entries := make([]*files.UploadSessionAppendBatchArgEntry, len(parts))
	var body []byte
	for i, p := range parts {
		entries[i] = files.NewUploadSessionAppendBatchArgEntry(files.NewUploadSessionCursor(p.id, p.offset), uint64(len(p.data)))
		entries[i].Close = p.close
		body = append(body, p.data...)
	}
	return b.c.UploadSessionAppendBatchContext(b.ctx, files.NewUploadSessionAppendBatchArg(entries), bytes.NewReader(body))
}

// appendTags sends parts in one append_batch and returns, per entry, "success" or the
// failure's tag (with the correct offset for incorrect_offset).
func (b *batchEnv) appendTags(t *testing.T, parts ...part) []string {
	t.Helper()
	res, err := b.appendBatch(parts...)
	if err != nil {
		t.Fatalf("append_batch: %v", err)
	}
	out := make([]string, len(res.Entries))
	for i, e := range res.Entries {
		switch {
		case e.Tag == files.UploadSessionAppendBatchResultEntrySuccess:
			out[i] = e.Tag
		case e.Failure != nil && e.Failure.IncorrectOffset != nil:
			out[i] = e.Failure.Tag + "@" + itoa(e.Failure.IncorrectOffset.CorrectOffset)
		case e.Failure != nil:
			out[i] = e.Failure.Tag
		default:
			out[i] = "?" + e.Tag
		}
	}
	return out
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// batchErrTag is the request-level UploadSessionAppendBatchError's tag.
func batchErrTag(t *testing.T, err error) string {
	t.Helper()
	var ae files.UploadSessionAppendBatchAPIError
	if !errors.As(err, &ae) || ae.EndpointError == nil {
		t.Fatalf("want UploadSessionAppendBatchAPIError, got %T %v", err, err)
	}
	if !strings.HasPrefix(ae.ErrorSummary, ae.EndpointError.Tag+"/") {
		t.Errorf("summary %q for tag %s", ae.ErrorSummary, ae.EndpointError.Tag)
	}
	return ae.EndpointError.Tag
}

// finishAll commits sessions at paths and returns the metadata, failing on any entry error.
func (b *batchEnv) finishAll(t *testing.T, ids, paths []string, sizes []int) []*files.FileMetadata {
	t.Helper()
	entries := make([]*files.UploadSessionFinishArg, len(ids))
	for i, id := range ids {
		entries[i] = files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(id, uint64(sizes[i])), files.NewCommitInfo(paths[i]))
	}
	res, err := b.c.UploadSessionFinishBatchV2Context(b.ctx, files.NewUploadSessionFinishBatchArg(entries))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*files.FileMetadata, len(ids))
	for i, e := range res.Entries {
		if e.Success == nil {
			t.Fatalf("%s: %s %+v", paths[i], e.Tag, e.Failure)
		}
		out[i] = e.Success
	}
	return out
}

func TestAppendBatchStartToFinish(t *testing.T) {
	b := newBatchEnv(t, Options{})
	sizes := []int{0, 1, 1000, 70 << 10, 5, 300 << 10, 0}
	ids := b.startBatch(t, len(sizes))
	parts := make([]part, len(sizes))
	datas := make([][]byte, len(sizes))
	paths := make([]string, len(sizes))
	for i, n := range sizes {
		datas[i] = randomBytes(n, int64(i+1))
		parts[i] = part{id: ids[i], data: datas[i], close: true}
		paths[i] = "/Facturen/F" + itoa(uint64(i)) + ".pdf"
	}
	tags := b.appendTags(t, parts...)
	if strings.Join(tags, " ") != strings.TrimSpace(strings.Repeat("success ", len(sizes))) {
		t.Fatalf("entries: %v", tags)
	}
	for i, m := range b.finishAll(t, ids, paths, sizes) {
		if m.Size != uint64(sizes[i]) || m.ContentHash != hashString(t, datas[i]) {
			t.Errorf("%s: size %d hash %s", paths[i], m.Size, m.ContentHash)
		}
		if got, err := b.srv.ReadFile(b.account, paths[i]); err != nil || !bytes.Equal(got, datas[i]) {
			t.Errorf("%s: stored content differs (%v)", paths[i], err)
		}
	}
	if n := b.srv.Calls("files/upload_session/start_batch", "files/upload_session/append_batch", "files/upload_session/finish_batch_v2"); n != 3 {
		t.Errorf("%d requests for %d files, want 3", n, len(sizes))
	}
}

// TestAppendBatchAcrossRequests appends to the same sessions over two requests, with one
// session appearing twice in a request: entries apply in order.
func TestAppendBatchAcrossRequests(t *testing.T) {
	b := newBatchEnv(t, Options{})
	ids := b.startBatch(t, 2)
	x, y := randomBytes(5000, 7), randomBytes(3000, 8)
	tags := b.appendTags(t,
		part{id: ids[0], data: x[:1000]},
		part{id: ids[1], data: y[:2000]},
		part{id: ids[0], offset: 1000, data: x[1000:2500]},
	)
	if strings.Join(tags, " ") != "success success success" {
		t.Fatalf("first request: %v", tags)
	}
	tags = b.appendTags(t,
		part{id: ids[1], offset: 2000, data: y[2000:], close: true},
		part{id: ids[0], offset: 2500, data: x[2500:], close: true},
	)
	if strings.Join(tags, " ") != "success success" {
		t.Fatalf("second request: %v", tags)
	}
	ms := b.finishAll(t, ids, []string{"/x.bin", "/y.bin"}, []int{len(x), len(y)})
	if ms[0].ContentHash != hashString(t, x) || ms[1].ContentHash != hashString(t, y) {
		t.Fatal("content differs")
	}
}

// TestAppendBatchEntryFailures checks that entries fail one by one with append_v2's errors,
// the others still taking effect, and that a failed entry leaves its session unchanged.
func TestAppendBatchEntryFailures(t *testing.T) {
	b := newBatchEnv(t, Options{})
	ids := b.startBatch(t, 3)
	closedArg := files.NewUploadSessionStartArg()
	closedArg.Close = true
	closed, err := b.c.UploadSessionStartContext(b.ctx, closedArg, bytes.NewReader([]byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	concArg := files.NewUploadSessionStartBatchArg(1)
	concArg.SessionType = &files.UploadSessionType{}
	concArg.SessionType.Tag = files.UploadSessionTypeConcurrent
	conc, err := b.c.UploadSessionStartBatchContext(b.ctx, concArg)
	if err != nil {
		t.Fatal(err)
	}
	cid := conc.SessionIds[0]

	good, wrong, later := []byte("good"), []byte("wrong offset"), []byte("second good")
	tags := b.appendTags(t,
		part{id: ids[0], data: good, close: true},
		part{id: ids[1], offset: 7, data: wrong, close: true},
		part{id: closed.SessionId, offset: 3, data: []byte("more")},
		part{id: "pid_upload_session:unknown", data: []byte("lost")},
		part{id: cid, data: []byte("not 4 MiB"), close: false},
		part{id: cid, offset: 1000, data: []byte("x"), close: true},
		part{id: ids[2], data: later, close: true},
	)
	want := "success incorrect_offset@0 closed not_found concurrent_session_invalid_data_size concurrent_session_invalid_offset success"
	if got := strings.Join(tags, " "); got != want {
		t.Fatalf("entries:\n got %s\nwant %s", got, want)
	}
	// The session that failed is as it was: it takes the same data at the right offset.
	tags = b.appendTags(t, part{id: ids[1], data: wrong, close: true}, part{id: cid, data: []byte("tail"), close: true})
	if strings.Join(tags, " ") != "success success" {
		t.Fatalf("retry: %v", tags)
	}
	ms := b.finishAll(t, []string{ids[0], ids[1], ids[2], cid}, []string{"/g", "/w", "/l", "/c"}, []int{4, len(wrong), len(later), 4})
	for i, data := range [][]byte{good, wrong, later, []byte("tail")} {
		if ms[i].ContentHash != hashString(t, data) {
			t.Errorf("entry %d: content differs", i)
		}
	}
	// Appending to a closed session after success is `closed`, as for append_v2.
	if tags := b.appendTags(t, part{id: closed.SessionId, offset: 3}); tags[0] != "closed" {
		t.Fatalf("closed session: %v", tags)
	}
}

// TestAppendBatchRequestErrors checks the errors of the request as a whole: they are a 409
// and no entry takes effect.
func TestAppendBatchRequestErrors(t *testing.T) {
	b := newBatchEnv(t, Options{})
	ids := b.startBatch(t, 2)
	send := func(lengths []uint64, body []byte, hash string) error {
		entries := make([]*files.UploadSessionAppendBatchArgEntry, len(lengths))
		for i, n := range lengths {
			entries[i] = files.NewUploadSessionAppendBatchArgEntry(files.NewUploadSessionCursor(ids[i], 0), n)
		}
		arg := files.NewUploadSessionAppendBatchArg(entries)
		arg.ContentHash = hash
		_, err := b.c.UploadSessionAppendBatchContext(b.ctx, arg, files.WithoutAutoContentHash(bytes.NewReader(body)))
		return err
	}
	body := []byte("0123456789")
	for _, tc := range []struct {
		name    string
		lengths []uint64
		hash    string
		want    string
	}{
		{"lengths short of the body", []uint64{3, 5}, "", "length_mismatch"},
		{"lengths past the body", []uint64{3, 8}, "", "length_mismatch"},
		{"length that would wrap a sum", []uint64{3, 1<<64 - 2}, "", "length_mismatch"},
		{"hash of something else", []uint64{4, 6}, hashString(t, []byte("other")), "content_hash_mismatch"},
		{"hash of one entry, not the body", []uint64{4, 6}, hashString(t, body[:4]), "content_hash_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tag := batchErrTag(t, send(tc.lengths, body, tc.hash)); tag != tc.want {
				t.Fatalf("tag %s, want %s", tag, tc.want)
			}
		})
	}
	// Nothing was appended: both sessions still take data at offset 0, and a correct hash
	// of the whole body is accepted.
	if err := send([]uint64{4, 6}, body, hashString(t, body)); err != nil {
		t.Fatal(err)
	}
}

func TestAppendBatchBadArguments(t *testing.T) {
	b := newBatchEnv(t, Options{})
	id := b.startBatch(t, 1)[0]
	for _, arg := range []string{
		`{}`,
		`{"entries":[{"length":1}]}`,
		`{"entries":[{"cursor":{"session_id":"` + id + `","offset":0}}]}`,
		`{"entries":[{"cursor":{"session_id":"` + id + `","offset":0},"length":-1}]}`,
		`{"entries":"x"}`,
	} {
		if r := b.raw(t, "files/upload_session/append_batch", arg, "x"); r.status != http.StatusBadRequest ||
			!strings.HasPrefix(r.body, `Error in call to API function "files/upload_session/append_batch": `) {
			t.Errorf("%s: %d %s", arg, r.status, r.body)
		}
	}
	// An empty batch with an empty body is a batch of nothing.
	if r := b.raw(t, "files/upload_session/append_batch", `{"entries":[]}`, ""); r.status != 200 || r.body != `{"entries":[]}` {
		t.Errorf("empty batch: %d %s", r.status, r.body)
	}
}

// TestAppendBatchWireShape pins the JSON: success is a void member, failure nests the
// entry error, and incorrect_offset flattens its struct beside the tag.
func TestAppendBatchWireShape(t *testing.T) {
	b := newBatchEnv(t, Options{})
	id := b.startBatch(t, 1)[0]
	arg := `{"entries":[{"cursor":{"session_id":"` + id + `","offset":0},"length":3},` +
		`{"cursor":{"session_id":"` + id + `","offset":9},"length":2,"close":true}]}`
	r := b.raw(t, "files/upload_session/append_batch", arg, "abcde")
	want := `{"entries":[{".tag":"success"},{".tag":"failure","failure":{".tag":"incorrect_offset","correct_offset":3}}]}`
	var got, exp any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	json.Unmarshal([]byte(want), &exp)
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || string(gb) != string(eb) {
		t.Fatalf("%d %q\n got %s\nwant %s", r.status, r.header.Get("Content-Type"), r.body, want)
	}
	r = b.raw(t, "files/upload_session/append_batch", arg, "abcdef")
	if r.status != http.StatusConflict || !strings.Contains(r.body, `"error_summary":"length_mismatch/..."`) ||
		!strings.Contains(r.body, `"error":{".tag":"length_mismatch"}`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestAppendBatchIsNotACommit: content uploads do not take the namespace write lock.
func TestAppendBatchIsNotACommit(t *testing.T) {
	b := newBatchEnv(t, Options{Faults: Faults{WriteLock: true}})
	id := b.startBatch(t, 1)[0]
	lock := &b.srv.accounts[b.account].writeLock
	lock.Lock() // another commit on this account is running
	if tags := b.appendTags(t, part{id: id, data: []byte("doc"), close: true}); tags[0] != "success" {
		t.Fatalf("append_batch under the write lock: %v", tags)
	}
	_, err := b.c.UploadSessionFinishBatchV2Context(b.ctx, files.NewUploadSessionFinishBatchArg([]*files.UploadSessionFinishArg{
		files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(id, 3), files.NewCommitInfo("/doc")),
	}))
	var rl auth.RateLimitAPIError
	if !errors.As(err, &rl) || rl.RateLimitError.Reason.Tag != auth.RateLimitReasonTooManyWriteOperations {
		t.Fatalf("finish under the write lock: %v", err)
	}
	lock.Unlock()
	b.finishAll(t, []string{id}, []string{"/doc"}, []int{3})
}

func TestAppendBatchPayloadTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 150 MiB")
	}
	b := newBatchEnv(t, Options{})
	id := b.startBatch(t, 1)[0]
	entry := files.NewUploadSessionAppendBatchArgEntry(files.NewUploadSessionCursor(id, 0), MaxUploadRequest+1)
	big := io.LimitReader(zeroReader{}, MaxUploadRequest+1) // not seekable: no hash pass
	_, err := b.c.UploadSessionAppendBatchContext(b.ctx, files.NewUploadSessionAppendBatchArg([]*files.UploadSessionAppendBatchArgEntry{entry}), big)
	if tag := batchErrTag(t, err); tag != "payload_too_large" {
		t.Fatalf("tag %s", tag)
	}
}
