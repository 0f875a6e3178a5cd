package logfile

import (
	"bytes"
	"io"
	"regexp"
)

// mask replaces a secret. The text around it (key names, "Bearer ", "sl.") is kept so the
// line still says what was sent.
const mask = "[REDACTED]"

// secretKeys are the OAuth parameters whose values are credentials. "code" is the
// authorization code; code_verifier and client_secret are included as well, since they are
// as good as a token to whoever reads the log.
const secretKeys = `access_token|refresh_token|id_token|code|code_verifier|client_secret`

// keyHints cover every name in secretKeys.
var keyHints = []string{"token", "code", "secret"}

// redactions run in order over each Write. Nothing should log these values at all; this is
// the net under that rule, so it prefers masking a harmless value over missing a token.
// Each rule has hints, lowercase words one of which any match contains: most log lines hold
// none, and skipping the regexp for them keeps a line at a few microseconds.
var redactions = []struct {
	hints []string
	re    *regexp.Regexp
	repl  string
}{
	// JSON members, also inside a quoted string (\"refresh_token\": \"...\"). Credentials
	// never contain quotes or backslashes, so the value ends at the first of either.
	// Numbers are left alone: "code": 409 is an error code, not a secret.
	{keyHints, regexp.MustCompile(`(\\?"(?:` + secretKeys + `)\\?"\s*:\s*\\?")[^"\\]*`), "${1}" + mask},
	// Query strings, form bodies and slog's key=value, the value quoted or not. The leading
	// \b keeps error_code= and barcode= out, but code=409 is masked too: log status codes as
	// status=, never code=.
	{keyHints, regexp.MustCompile(`\b((?:` + secretKeys + `)=)(?:"[^"]*"|[^&\s"',;]+)`), "${1}" + mask},
	// %+v of an oauth2.Token. Before the Bearer rule, which would otherwise read
	// "TokenType:Bearer RefreshToken" as a header and swallow the field name.
	{[]string{"token:"}, regexp.MustCompile(`\b((?:AccessToken|RefreshToken):)[^\s}]+`), "${1}" + mask},
	// Authorization headers, in any case: "Bearer sl.xxx", "authorization: basic ...".
	// A bearer value must be 20+ characters, as every real token is, so prose such as
	// "bearer authentication" stays readable.
	{[]string{"bearer"}, regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{20,}=*`), "${1}" + mask},
	{[]string{"basic"}, regexp.MustCompile(`(?i)\b(authorization:\s*basic\s+)[A-Za-z0-9+/]+=*`), "${1}" + mask},
	// Bare Dropbox short-lived access tokens wherever they appear: "sl." (newer ones
	// "sl.u.") and then a long URL-safe base64 run.
	{[]string{"sl."}, regexp.MustCompile(`\bsl\.(?:[A-Za-z0-9_-]{1,3}\.)?[A-Za-z0-9_-]{20,}`), "sl." + mask},
}

// redact returns p with every secret masked; p itself is not modified.
func redact(p []byte) []byte {
	// The mask contains no hint, so hints found in the original line stay a valid filter
	// after earlier rules replaced parts of it.
	lower := bytes.ToLower(p)
	for _, r := range redactions {
		for _, h := range r.hints {
			if bytes.Contains(lower, []byte(h)) {
				p = r.re.ReplaceAll(p, []byte(r.repl))
				break
			}
		}
	}
	return p
}

// Redactor masks what looks like a Dropbox or OAuth credential in each Write before passing
// it on: access tokens (sl.…), Bearer and Basic authorization values, and the values of
// access_token, refresh_token, id_token, code, code_verifier and client_secret in query
// strings, form bodies, key=value pairs and JSON.
//
// Redaction works on one Write at a time: a secret split across two Writes is not found.
// That holds for the log package and slog, which write each record with one Write; a
// Redactor is not meant for byte streams such as io.Copy. It is as safe for concurrent
// use as the writer it wraps.
type Redactor struct {
	w io.Writer
}

// NewRedactor returns a Redactor writing to w. Wrap the whole destination with it
// (io.MultiWriter(os.Stderr, file) included), not just the file.
func NewRedactor(w io.Writer) *Redactor { return &Redactor{w: w} }

// Write writes the redacted p to the underlying writer in one Write. It reports len(p) on
// success, since callers count what they handed over, not what reached the disk.
func (r *Redactor) Write(p []byte) (int, error) {
	if _, err := r.w.Write(redact(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
