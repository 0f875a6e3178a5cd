package dropboxemu

import (
	"errors"
	"strings"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
)

// TestArgHeaderLimit checks the proxy's answer to an over-long Dropbox-API-Arg and the
// statistic that lets a test show no request came near it.
func TestArgHeaderLimit(t *testing.T) {
	const limit = 300
	e := newEnv(t, Options{Faults: Faults{MaxArgHeader: limit}})
	c := e.files()
	short := "/kort.pdf"
	long := "/" + strings.Repeat("lang", 80) + ".pdf"
	upload(t, c, short, []byte("s"), "add")
	_, err := uploadErr(c, long, []byte("l"), "add")
	var br auth.BadRequest
	if !errors.As(err, &br) || !strings.Contains(br.ErrorSummary, "Request Header Or Cookie Too Large") {
		t.Fatalf("%T %v", err, err)
	}
	r := e.raw(t, "files/upload", `{"path":"`+long+`"}`, "l")
	if r.status != 400 || r.header.Get("Content-Type") != "text/html" || !strings.Contains(r.body, "<center>nginx</center>") {
		t.Fatalf("%d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if len(e.srv.Entries(e.account)) != 1 {
		t.Fatalf("refused upload was written: %+v", e.srv.Entries(e.account))
	}
	got := e.srv.Stats()["files/upload"].MaxArgHeader
	// The SDK's header (with mode, autorename, content_hash ...) is the longest one sent.
	if raw := len("Dropbox-API-Arg: ") + len(`{"path":"`+long+`"}`); got <= raw {
		t.Fatalf("MaxArgHeader %d, want more than the raw request's %d", got, raw)
	}

	e.srv.ResetStats()
	upload(t, c, "/nog.pdf", []byte("n"), "add")
	if got := e.srv.Stats()["files/upload"].MaxArgHeader; got == 0 || got > limit {
		t.Fatalf("MaxArgHeader %d after a short upload", got)
	}
}
