package dropboxemu

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

// TestPlainRateLimits checks the 429 and 503 that carry only a Retry-After header, on the
// wire and as the SDK reports them.
func TestPlainRateLimits(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		status int
		// sdk checks the SDK's error for the answer.
		sdk func(error) bool
	}{
		{"plain-text 429", Faults{PlainTooManyRequests: 1, RetryAfter: 7}, 429, func(err error) bool {
			// The SDK tries to decode every 429 as JSON and fails: a client must look
			// at the status and Retry-After itself.
			var se *json.SyntaxError
			return errors.As(err, &se)
		}},
		{"503 with Retry-After", Faults{ServiceUnavailable: 1, RetryAfter: 7}, 503, func(err error) bool {
			var se auth.ServerError
			return errors.As(err, &se)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{Faults: tt.faults})
			bodies := map[string]bool{}
			for range 20 {
				r := e.raw(t, "files/get_metadata", `{"path":"/x"}`, "")
				if r.status != tt.status || r.header.Get("Retry-After") != "7" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
					t.Fatalf("%d Retry-After %q Content-Type %q %q", r.status, r.header.Get("Retry-After"), r.header.Get("Content-Type"), r.body)
				}
				if json.Valid([]byte(r.body)) {
					t.Fatalf("body is JSON: %q", r.body)
				}
				bodies[r.body] = true
			}
			if tt.status == 429 && !(bodies[""] && bodies["Too Many Requests"]) {
				t.Errorf("want both empty and plain-text bodies, got %v", bodies)
			}
			_, err := e.files().GetMetadata(files.NewGetMetadataArg("/x"))
			if !tt.sdk(err) {
				t.Fatalf("SDK error %T %v", err, err)
			}
			if n := e.srv.Stats()["files/get_metadata"].Status[tt.status]; n != 21 {
				t.Errorf("%d answers counted as %d", n, tt.status)
			}
		})
	}
	t.Run("Retry-After of the JSON 429", func(t *testing.T) {
		e := newEnv(t, Options{Faults: Faults{TooManyRequests: 1, RetryAfter: 3}})
		_, err := e.users().GetSpaceUsage()
		var rl auth.RateLimitAPIError
		if !errors.As(err, &rl) || rl.RateLimitError.RetryAfter != 3 {
			t.Fatalf("%T %v", err, err)
		}
	})
}
