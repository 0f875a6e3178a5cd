package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestRedact(t *testing.T) {
	access := "sl.u.AGb3xK9_QmZ-kd8Zx1Y2c3d4e5f6g7h8i9j0"
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"bearer header", "Authorization: Bearer abc.DEF-123_xyz", nil, "Authorization: Bearer " + Redacted},
		{"lower-case bearer", `invalid header "bearer abc123"`, nil, `invalid header "bearer ` + Redacted + `"`},
		{"json token response", `{"access_token": "abc", "token_type":"bearer","refresh_token":"def","expires_in":14400}`, nil,
			`{"access_token": "` + Redacted + `", "token_type":"bearer","refresh_token":"` + Redacted + `","expires_in":14400}`},
		{"form body", "grant_type=refresh_token&refresh_token=r3fr3sh&client_id=key", nil,
			"grant_type=refresh_token&refresh_token=" + Redacted + "&client_id=key"},
		{"callback url", "GET /oauth/callback?code=c0de&state=s", nil, "GET /oauth/callback?code=" + Redacted + "&state=s"},
		{"pkce verifier", "code_verifier=v3r1f13r&grant_type=authorization_code", nil, "code_verifier=" + Redacted + "&grant_type=authorization_code"},
		{"go struct dump", "&{AccessToken:abc TokenType:bearer RefreshToken:def Expiry:0001}", nil,
			"&{AccessToken:" + Redacted + " TokenType:bearer RefreshToken:" + Redacted + " Expiry:0001}"},
		{"dropbox access token anywhere", "token " + access + " was refused", nil, "token " + Redacted + " was refused"},
		{"known secret", "stored xyzzy-secret-value in the log", []string{"xyzzy-secret-value"}, "stored " + Redacted + " in the log"},
		{"short secrets are ignored", "the app is fine", []string{"app"}, "the app is fine"},
		{"error codes stay", `oauth2: "invalid_grant" "refresh token is invalid or revoked"`, nil, `oauth2: "invalid_grant" "refresh token is invalid or revoked"`},
		{"error_code stays", "error_code=invalid_grant", nil, "error_code=invalid_grant"},
		{"status code stays", "unexpected status code: 401", nil, "unexpected status code: 401"},
		{"account ids stay", "account dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", nil, "account dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactErrKeepsChain(t *testing.T) {
	re := &oauth2.RetrieveError{ErrorCode: "invalid_grant", Body: []byte(`{"refresh_token":"leaky"}`)}
	err := fmt.Errorf("refresh: %w", redactErr(re, "leaky"))
	var got *oauth2.RetrieveError
	if !errors.As(err, &got) || got.ErrorCode != "invalid_grant" {
		t.Errorf("the RetrieveError is lost: %v", err)
	}
	if redactErr(nil) != nil {
		t.Error("redactErr(nil) is not nil")
	}
	msg := redactErr(errors.New(`oauth2: cannot fetch token: 200 OK Response: {"access_token":"leaky-access"}`)).Error()
	if strings.Contains(msg, "leaky") {
		t.Errorf("message leaks: %s", msg)
	}
}
