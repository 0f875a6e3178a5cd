package dropbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/retry"
)

// exchange is what wireTransport saw of one attempt of one call: the SDK hides the status,
// the Retry-After header and the raw body of an error answer, and translate needs them (a
// plain-text 429 decodes as a JSON syntax error, a 503's Retry-After is dropped, a 403's
// user_message is not in the SDK's AccessAPIError). It also keeps the access token the
// request carried, so an expired token is expired, not whatever token is current by then.
// The pacer makes one per attempt and puts it in the attempt's context.
type exchange struct {
	mu sync.Mutex
	// sent: the request reached the transport, so the token source gave a token.
	sent       bool
	token      string
	status     int
	retryAfter time.Duration // 0: no Retry-After header
	body       []byte        // the start of an error answer's body (at most maxErrorBody)
}

// maxErrorBody is how much of an error answer's body is kept: Dropbox's error documents
// are a few hundred bytes; an HTML page from a proxy is not worth more.
const maxErrorBody = 16 << 10

type exchangeKey struct{}

func withExchange(ctx context.Context, ex *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, ex)
}

func exchangeOf(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// seen returns a copy of what was recorded, for translate.
func (ex *exchange) seen() (status int, retryAfter time.Duration, body []byte, sent bool, token string) {
	if ex == nil {
		return 0, 0, nil, false, ""
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	return ex.status, ex.retryAfter, bytes.Clone(ex.body), ex.sent, ex.token
}

// retryAfterPolicy only reads Retry-After (seconds or an HTTP date) through the SDK's own
// parser; the SDK's retries stay off, the pacer holds the whole account instead.
var retryAfterPolicy = retry.Policy{MaxRetries: 1, MaxRetryAfter: 24 * time.Hour}

// retryAfterOf is the Retry-After of a 429 or 503 answer (0: none).
func retryAfterOf(resp *http.Response) time.Duration {
	if resp.Header.Get("Retry-After") == "" {
		return 0 // without the header Policy.Delay would answer with its own backoff
	}
	d, ok := retryAfterPolicy.Delay(resp, nil, 0)
	if !ok {
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			return retryAfterPolicy.MaxRetryAfter // longer than a day: wait a day
		}
		return 0
	}
	return max(d, time.Second)
}

// wireTransport sits between the oauth2 transport and the network. It records each
// attempt in its exchange and makes the Dropbox-API-Arg header ASCII, as Dropbox requires:
// the SDK puts raw UTF-8 there (json.Marshal has no ASCII-only mode), and Dropbox refuses
// a header with non-ASCII bytes.
type wireTransport struct {
	base http.RoundTripper
}

func (t wireTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req
	if v := req.Header.Get("Dropbox-API-Arg"); !isASCII(v) {
		// A RoundTripper must not change the caller's request: send a copy.
		r = req.Clone(req.Context())
		r.Header.Set("Dropbox-API-Arg", asciiJSON(v))
	}
	if b, ok := req.Context().Value(bodyKey{}).(multiBody); ok && req.Body != nil && req.ContentLength == 0 {
		if r == req {
			r = req.Clone(req.Context())
		}
		// The SDK cannot tell the length of a body of many pieces: without it the request
		// would go chunked, and could not be sent again on a fresh connection.
		r.ContentLength = b.size()
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(b.reader()), nil }
	}
	ex := exchangeOf(req.Context())
	if ex != nil {
		ex.mu.Lock()
		ex.sent = true
		ex.token = strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		ex.status, ex.retryAfter, ex.body = 0, 0, nil
		ex.mu.Unlock()
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil || ex == nil {
		return resp, err
	}
	ex.mu.Lock()
	ex.status = resp.StatusCode
	ex.retryAfter = retryAfterOf(resp)
	ex.mu.Unlock()
	if resp.StatusCode >= 400 && resp.Body != nil {
		resp.Body = &teeBody{rc: resp.Body, ex: ex}
	}
	return resp, nil
}

// teeBody keeps the start of an error answer's body in the exchange as the SDK reads it.
type teeBody struct {
	rc io.ReadCloser
	ex *exchange
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.ex.mu.Lock()
		if room := maxErrorBody - len(b.ex.body); room > 0 {
			b.ex.body = append(b.ex.body, p[:min(n, room)]...)
		}
		b.ex.mu.Unlock()
	}
	return n, err
}

func (b *teeBody) Close() error { return b.rc.Close() }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// asciiJSON escapes every non-ASCII character of a JSON document as \uXXXX (a UTF-16
// surrogate pair above U+FFFF). Outside strings JSON is ASCII, so this only rewrites string
// contents, and the document means the same. json.Marshal output is valid UTF-8 (it
// replaces invalid bytes), so every rune here is a real character.
func asciiJSON(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + len(s)/2)
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&0xf])
		b.WriteByte(hex[r>>8&0xf])
		b.WriteByte(hex[r>>4&0xf])
		b.WriteByte(hex[r&0xf])
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteByte(byte(r))
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 + r>>10)
			u(0xdc00 + r&0x3ff)
		default:
			u(r)
		}
	}
	return b.String()
}

// argHeaderLine is the length of the Dropbox-API-Arg header line the transport sends for
// arg: name, ": " and the escaped JSON, as a front end counts it against its limit.
func argHeaderLine(arg any) int {
	b, err := json.Marshal(arg)
	if err != nil {
		return 0 // the SDK will fail on it the same way
	}
	return len("Dropbox-API-Arg: ") + len(asciiJSON(string(b)))
}

// userMessage reads Dropbox's user_message text from an error body, which the SDK's error
// types drop.
func userMessage(body []byte) string {
	var v struct {
		UserMessage *struct {
			Text string `json:"text"`
		} `json:"user_message"`
	}
	if json.Unmarshal(body, &v) != nil || v.UserMessage == nil {
		return ""
	}
	return v.UserMessage.Text
}

// multiBody is a request body made of many files' data, in order (append_batch's).
type multiBody [][]byte

func (b multiBody) size() (n int64) {
	for _, d := range b {
		n += int64(len(d))
	}
	return n
}

// reader reads the body from its start.
func (b multiBody) reader() io.Reader {
	rs := make([]io.Reader, len(b))
	for i, d := range b {
		rs[i] = bytes.NewReader(d)
	}
	return io.MultiReader(rs...)
}

// bodyKey carries a request's multiBody to wireTransport, which gives the request its
// length (see withBody).
type bodyKey struct{}

// withBody tells wireTransport that the request made under ctx sends b.
func withBody(ctx context.Context, b multiBody) context.Context {
	return context.WithValue(ctx, bodyKey{}, b)
}
