package logfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const (
	accessToken  = "sl.BxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOp"
	accessTokenU = "sl.u.AGE3q0Yfx1qXH9k_Lw-5u2V2pT3nNwQz7aBcDeFgHiJk"
	refreshToken = "Xq3vK9mZpL2wR8tY5uI1oP4aS7dF0gHjKlZxCvBnM6qWeRtYuIoPaSdFgHjKlZx"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"bare access token",
			"upload failed for token " + accessToken + " at 10:00",
			"upload failed for token sl.[REDACTED] at 10:00"},
		{"new-style access token",
			"tok=" + accessTokenU,
			"tok=sl.[REDACTED]"},
		{"bearer header",
			"Authorization: Bearer " + accessToken,
			"Authorization: Bearer [REDACTED]"},
		{"bearer lower case, non-Dropbox token",
			"header authorization=bearer abc.def-ghi_jkl/mno+pqr==",
			"header authorization=bearer [REDACTED]"},
		{"basic auth",
			"Authorization: Basic Y2xpZW50OnNlY3JldA==",
			"Authorization: Basic [REDACTED]"},
		{"refresh token in form",
			"POST /oauth2/token grant_type=refresh_token&refresh_token=" + refreshToken + "&client_id=abc",
			"POST /oauth2/token grant_type=refresh_token&refresh_token=[REDACTED]&client_id=abc"},
		{"code and verifier in query",
			"GET /callback?code=AbC123_xyz-Q&state=s1 then code_verifier=" + refreshToken,
			"GET /callback?code=[REDACTED]&state=s1 then code_verifier=[REDACTED]"},
		{"slog key=value, quoted",
			`level=INFO msg=x access_token="` + refreshToken + `" n=1`,
			`level=INFO msg=x access_token=[REDACTED] n=1`},
		{"JSON body",
			`{"access_token": "` + accessToken + `", "token_type": "bearer", "refresh_token":"` + refreshToken + `", "expires_in": 14400}`,
			`{"access_token": "[REDACTED]", "token_type": "bearer", "refresh_token":"[REDACTED]", "expires_in": 14400}`},
		{"JSON inside a quoted string",
			`body="{\"refresh_token\": \"` + refreshToken + `\"}"`,
			`body="{\"refresh_token\": \"[REDACTED]\"}"`},
		{"JSON code string",
			`{"code": "` + refreshToken + `"}`,
			`{"code": "[REDACTED]"}`},
		{"oauth2.Token %+v",
			"token &{AccessToken:" + accessToken + " TokenType:Bearer RefreshToken:" + refreshToken + " Expiry:2025-01-01}",
			"token &{AccessToken:[REDACTED] TokenType:Bearer RefreshToken:[REDACTED] Expiry:2025-01-01}"},
		{"several on one line",
			accessToken + " " + accessToken,
			"sl.[REDACTED] sl.[REDACTED]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(redact([]byte(tc.in)))
			if got != tc.want {
				t.Errorf("redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			for _, secret := range []string{accessToken, accessTokenU, refreshToken} {
				if strings.Contains(got, secret) {
					t.Errorf("secret survived: %q", got)
				}
			}
		})
	}
}

func TestRedactLeavesOrdinaryTextAlone(t *testing.T) {
	for _, line := range []string{
		"2025/01/02 10:00:00 uploaded /Facturen/2025/F-0001.pdf (12345 bytes)",
		"level=WARN msg=\"rate limited\" status=429 retry_after=3s error_code=too_many_requests",
		`{"error_summary": "path/not_found/..", "error": {".tag": "path"}, "code": 409}`,
		"barcode=5412345678908 postcode=9000",
		"slept 1.5s; sl.example.com is not a token; sl.short",
		"the access token expired, refreshing",
		"TokenType:Bearer Expiry:0; bearer authentication failed",
		"",
		"ünïcode ✓ text with tabs\tand\nnewlines\n",
	} {
		if got := string(redact([]byte(line))); got != line {
			t.Errorf("redact changed a line without secrets:\n got %q\nwant %q", got, line)
		}
	}
}

// failWriter fails every write: the one fake here, only to inject the error.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRedactorWrite(t *testing.T) {
	var buf bytes.Buffer
	r := NewRedactor(&buf)
	in := []byte("Authorization: Bearer " + accessToken + "\n")
	orig := string(in)
	n, err := r.Write(in)
	if err != nil || n != len(in) {
		t.Fatalf("Write = %d, %v; want %d, nil (the caller's length, not the redacted one)", n, err, len(in))
	}
	if got := buf.String(); got != "Authorization: Bearer [REDACTED]\n" {
		t.Errorf("wrote %q", got)
	}
	if string(in) != orig {
		t.Error("Write modified the caller's buffer")
	}

	if n, err := NewRedactor(failWriter{}).Write(in); err == nil || n != 0 {
		t.Errorf("Write to a failing writer = %d, %v; want 0 and the error", n, err)
	}
}
