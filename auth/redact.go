package auth

import (
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces a credential in text that Redact cleaned.
const Redacted = "[REDACTED]"

var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Authorization header values ("token_type:bearer refresh_token:..." is left to the
	// key/value rules by requiring the value to end the word).
	{regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*(\s|$|["',;)\]}])`), "${1}${2}" + Redacted + "${3}"},
	// JSON fields, as in a token response body.
	{regexp.MustCompile(`(?i)("(?:access_token|refresh_token|id_token|code|code_verifier|client_secret)"\s*:\s*")[^"]*`), "${1}" + Redacted},
	// Form and query fields, as in a token request or a callback URL.
	{regexp.MustCompile(`(?i)\b((?:access_token|refresh_token|id_token|code|code_verifier|client_secret)=)[^&\s"'<>]+`), "${1}" + Redacted},
	// Go's %+v of an oauth2.Token and similar "key: value" dumps.
	{regexp.MustCompile(`(?i)\b((?:access_?token|refresh_?token)\s*[:=]\s*)[^\s,}&"'<>]+`), "${1}" + Redacted},
	// Dropbox short-lived access tokens wherever they appear.
	{regexp.MustCompile(`\bsl\.[A-Za-z0-9\-._~+/]{16,}=*`), Redacted},
}

// Redact returns s with credentials removed: the given secrets wherever they occur, and
// anything shaped like a token (Bearer values, access_token/refresh_token/code fields in
// JSON, forms and URLs, Dropbox "sl." access tokens). Use it on any text from an HTTP
// exchange before it reaches a log, an error message or the screen. It is a safety net,
// not a licence: code in this package never puts a token in an error in the first place.
func Redact(s string, secrets ...string) string {
	secrets = slices.DeleteFunc(slices.Clone(secrets), func(x string) bool { return len(x) < 8 })
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, x := range secrets {
		s = strings.ReplaceAll(s, x, Redacted)
	}
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// redactedError shows a redacted message but keeps the original in its chain, so callers
// can still use errors.As (e.g. *oauth2.RetrieveError) without the text leaking a token.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr wraps err so that its message is Redact(err.Error(), secrets...).
func redactErr(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: Redact(err.Error(), secrets...), err: err}
}
