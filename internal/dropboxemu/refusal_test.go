package dropboxemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

// TestAccountRefusals checks both refusals on the wire, through the SDK, and lifted again.
func TestAccountRefusals(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	upload(t, c, "/before.pdf", []byte("b"), "add")
	if err := e.srv.SetAccountRefusal(e.account, "bogus"); err == nil {
		t.Fatal("unknown refusal accepted")
	}
	if err := e.srv.SetAccountRefusal("dbid:nobody", RefusalUserSuspended); err == nil {
		t.Fatal("unknown account accepted")
	}

	t.Run("data transport limit", func(t *testing.T) {
		if err := e.srv.SetAccountRefusal(e.account, RefusalDataTransportLimit); err != nil {
			t.Fatal(err)
		}
		r := e.raw(t, "files/upload", `{"path":"/after.pdf"}`, "a")
		var body struct {
			ErrorSummary string         `json:"error_summary"`
			Error        map[string]any `json:"error"`
			UserMessage  struct {
				Locale, Text string
			} `json:"user_message"`
		}
		if r.status != 403 || r.header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(r.body), &body) != nil ||
			!strings.HasPrefix(body.ErrorSummary, "invalid_account_type/feature/") || body.UserMessage.Locale != "en" ||
			!strings.Contains(body.UserMessage.Text, "data transport API calls") {
			t.Fatalf("%d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		transport := map[string]func() error{
			"upload": func() error { _, err := uploadErr(c, "/after.pdf", []byte("a"), "add"); return err },
			"upload_session/start": func() error {
				_, err := c.UploadSessionStart(files.NewUploadSessionStartArg(), bytes.NewReader(nil))
				return err
			},
			"upload_session/start_batch": func() error {
				_, err := c.UploadSessionStartBatch(files.NewUploadSessionStartBatchArg(1))
				return err
			},
			"upload_session/finish_batch_v2": func() error {
				_, err := c.UploadSessionFinishBatchV2(files.NewUploadSessionFinishBatchArg(nil))
				return err
			},
		}
		for name, call := range transport {
			err := call()
			var ae auth.AccessAPIError
			if !errors.As(err, &ae) || ae.AccessError.Tag != auth.AccessErrorInvalidAccountType ||
				ae.AccessError.InvalidAccountType.Tag != auth.InvalidAccountTypeErrorFeature {
				t.Errorf("%s: %T %v", name, err, err)
			}
		}
		// Reads are not data transport calls.
		if _, err := c.GetMetadata(files.NewGetMetadataArg("/before.pdf")); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.SetAccountRefusal(e.account, RefusalNone); err != nil {
			t.Fatal(err)
		}
		upload(t, c, "/after.pdf", []byte("a"), "add")
	})

	t.Run("user suspended", func(t *testing.T) {
		if err := e.srv.SetAccountRefusal(e.account, RefusalUserSuspended); err != nil {
			t.Fatal(err)
		}
		r := e.raw(t, "files/get_metadata", `{"path":"/before.pdf"}`, "")
		if r.status != 401 || !strings.Contains(r.body, `"error":{".tag":"user_suspended"}`) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for name, call := range map[string]func() error{
			"get_current_account": func() error { _, err := e.users().GetCurrentAccount(); return err },
			"upload":              func() error { _, err := uploadErr(c, "/s.pdf", []byte("s"), "add"); return err },
		} {
			var ae auth.AuthAPIError
			if err := call(); !errors.As(err, &ae) || ae.AuthError.Tag != auth.AuthErrorUserSuspended {
				t.Errorf("%s: %T %v", name, err, err)
			}
		}
		if err := e.srv.SetAccountRefusal(e.account, RefusalNone); err != nil {
			t.Fatal(err)
		}
		if _, err := e.users().GetCurrentAccount(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRefusalAdmin sets and lifts a refusal the way a script drives the standalone binary.
func TestRefusalAdmin(t *testing.T) {
	e := newEnv(t, Options{})
	put := func(q string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, e.ts.URL+"/_emulator/refusal?"+q, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := put("account=" + e.account + "&refusal=user_suspended"); st != http.StatusNoContent {
		t.Fatalf("set: %d", st)
	}
	var ae auth.AuthAPIError
	if _, err := e.users().GetCurrentAccount(); !errors.As(err, &ae) || ae.AuthError.Tag != auth.AuthErrorUserSuspended {
		t.Fatalf("%T %v", err, err)
	}
	if st := put("account=" + e.account + "&refusal=bogus"); st != http.StatusBadRequest {
		t.Fatalf("bogus refusal: %d", st)
	}
	if st := put("account=" + e.account + "&refusal="); st != http.StatusNoContent {
		t.Fatalf("lift: %d", st)
	}
	if _, err := e.users().GetCurrentAccount(); err != nil {
		t.Fatal(err)
	}
}
