package dropboxemu

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

// TestStrictArgs checks the wire rules StrictArgs enforces, and that everything the SDK
// sends for the routes a one-way uploader uses still passes.
func TestStrictArgs(t *testing.T) {
	t.Run("unknown field", func(t *testing.T) {
		for _, strict := range []bool{false, true} {
			e := newEnv(t, Options{Faults: Faults{StrictArgs: strict}})
			tests := []struct{ route, arg string }{
				{"files/list_folder", `{"path":"","bogus":1}`},
				{"files/upload", `{"path":"/u.pdf","mode":"add","bogus":1}`},
				{"files/upload_session/finish_batch_v2", `{"entries":[{"cursor":{"session_id":"x","offset":0,"bogus":1},"commit":{"path":"/f.pdf"}}]}`},
			}
			for _, tt := range tests {
				r := e.raw(t, tt.route, tt.arg, "u")
				refused := r.status == 400 && strings.Contains(r.body, `Error in call to API function "`+tt.route+`"`) && strings.Contains(r.body, `unknown field "bogus"`)
				if refused != strict {
					t.Errorf("strict=%v %s: %d %s", strict, tt.route, r.status, r.body)
				}
			}
		}
	})
	t.Run("raw non-ASCII Dropbox-API-Arg", func(t *testing.T) {
		e := newEnv(t, Options{Faults: Faults{StrictArgs: true}})
		// The SDK sends raw UTF-8.
		_, err := uploadErr(e.files(), "/café.pdf", []byte("c"), "add")
		var br auth.BadRequest
		if !errors.As(err, &br) || !strings.Contains(br.ErrorSummary, "ASCII") {
			t.Fatalf("%T %v", err, err)
		}
		if r := e.raw(t, "files/upload", `{"path":"/caf\u00e9.pdf"}`, "c"); r.status != 200 || !strings.Contains(r.body, `"path_display":"/café.pdf"`) {
			t.Fatalf("escaped: %d %s", r.status, r.body)
		}
	})
	t.Run("finish content_hash covers the call's bytes", func(t *testing.T) {
		for _, strict := range []bool{false, true} {
			e := newEnv(t, Options{Faults: Faults{StrictArgs: strict}})
			c := e.files()
			s, err := c.UploadSessionStart(files.NewUploadSessionStartArg(), bytes.NewReader([]byte("abc")))
			if err != nil {
				t.Fatal(err)
			}
			arg := files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(s.SessionId, 3), files.NewCommitInfo("/h.pdf"))
			arg.ContentHash = hashString(t, []byte("abcdef")) // the whole file's, not this call's
			_, err = c.UploadSessionFinish(arg, bytes.NewReader([]byte("def")))
			var fe files.UploadSessionFinishAPIError
			mismatch := errors.As(err, &fe) && fe.EndpointError.Tag == files.UploadSessionFinishErrorContentHashMismatch
			if mismatch != strict || (!strict && err != nil) {
				t.Errorf("strict=%v: %v", strict, err)
			}
		}
	})
	t.Run("what the SDK sends passes", func(t *testing.T) {
		e := newEnv(t, Options{Faults: Faults{StrictArgs: true}})
		c := e.files()
		arg := files.NewUploadArg("/s/a.pdf")
		arg.Mute, arg.StrictConflict = true, true
		if _, err := c.Upload(arg, bytes.NewReader([]byte("a"))); err != nil {
			t.Fatal("upload:", err)
		}
		ids, err := c.UploadSessionStartBatch(files.NewUploadSessionStartBatchArg(1))
		if err != nil {
			t.Fatal("start_batch:", err)
		}
		ab := files.NewUploadSessionAppendBatchArg([]*files.UploadSessionAppendBatchArgEntry{
			{Cursor: files.NewUploadSessionCursor(ids.SessionIds[0], 0), Length: 2, Close: true},
		})
		if _, err := c.UploadSessionAppendBatch(ab, bytes.NewReader([]byte("bb"))); err != nil {
			t.Fatal("append_batch:", err)
		}
		s, err := c.UploadSessionStart(files.NewUploadSessionStartArg(), bytes.NewReader([]byte("c")))
		if err != nil {
			t.Fatal("start:", err)
		}
		app := files.NewUploadSessionAppendArg(files.NewUploadSessionCursor(s.SessionId, 1))
		if err := c.UploadSessionAppendV2(app, bytes.NewReader([]byte("c"))); err != nil {
			t.Fatal("append_v2:", err)
		}
		if _, err := c.UploadSessionFinish(files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(s.SessionId, 2), files.NewCommitInfo("/s/c.pdf")), bytes.NewReader([]byte("c"))); err != nil {
			t.Fatal("finish:", err)
		}
		if got := finishBatch(t, c, false, []*files.UploadSessionFinishArg{
			files.NewUploadSessionFinishArg(files.NewUploadSessionCursor(ids.SessionIds[0], 2), files.NewCommitInfo("/s/b.pdf")),
		}); got[0] != "ok" {
			t.Fatal("finish_batch_v2:", got)
		}
		if got := finishBatch(t, c, true, batchOf(t, c, "/s/d.pdf")); got[0] != "ok" {
			t.Fatal("finish_batch:", got)
		}
		if _, err := c.GetMetadata(files.NewGetMetadataArg("/s/a.pdf")); err != nil {
			t.Fatal("get_metadata:", err)
		}
		lf := files.NewListFolderArg("")
		lf.Recursive, lf.Limit = true, 2
		res, err := c.ListFolder(lf)
		if err != nil {
			t.Fatal("list_folder:", err)
		}
		if _, err := c.ListFolderContinue(files.NewListFolderContinueArg(res.Cursor)); err != nil {
			t.Fatal("list_folder/continue:", err)
		}
		if _, err := c.CreateFolderV2(files.NewCreateFolderArg("/s/map")); err != nil {
			t.Fatal("create_folder_v2:", err)
		}
		if _, err := c.DeleteV2(files.NewDeleteArg("/s/map")); err != nil {
			t.Fatal("delete_v2:", err)
		}
		if _, body, err := c.Download(files.NewDownloadArg("/s/a.pdf")); err != nil {
			t.Fatal("download:", err)
		} else {
			body.Close()
		}
		if _, err := e.users().GetCurrentAccount(); err != nil {
			t.Fatal("get_current_account:", err)
		}
	})
}

// TestStrictFaults checks that the strict profile switches every behaviour on.
func TestStrictFaults(t *testing.T) {
	f := StrictFaults(5)
	checks := map[string]bool{
		"seed":                    f.Seed == 5,
		"write lock":              f.WriteLock,
		"retry after":             f.RetryAfter >= 1,
		"plain 429":               f.PlainTooManyRequests > 0,
		"503":                     f.ServiceUnavailable > 0,
		"batch contention":        f.BatchContention > f.BatchInternalError && f.BatchInternalError > 0,
		"commit entry cost":       f.CommitEntryCost > 0,
		"Dropbox-API-Arg limit":   f.MaxArgHeader == DefaultMaxArgHeader,
		"strict wire rules":       f.StrictArgs,
		"no other random failure": f.ServerError == 0 && f.TooManyRequests == 0 && f.Drop == 0 && f.Truncate == 0,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s: %+v", name, f)
		}
	}
}

// TestStrictArgsURLParameter checks that the ASCII rule is the header's: the "arg" URL
// parameter arrives percent-encoded, so non-ASCII in it is fine.
func TestStrictArgsURLParameter(t *testing.T) {
	e := newEnv(t, Options{Faults: Faults{StrictArgs: true}})
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/2/files/upload?arg="+url.QueryEscape(`{"path":"/één.pdf"}`), strings.NewReader("1"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d", resp.StatusCode)
	}
}
