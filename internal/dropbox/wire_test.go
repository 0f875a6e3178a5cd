package dropbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

// TestRetryAfterHoldsTheAccount has the emulator answer a burst with plain-text 429s (or
// 503s) carrying Retry-After: no request of the account may reach it before that time,
// including those of calls started while the account was held, and a plain 429 is a rate
// limit, not "offline".
func TestRetryAfterHoldsTheAccount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults dropboxemu.Faults
		kind   Kind
		after  time.Duration
	}{
		{"plain 429", dropboxemu.Faults{PlainTooManyRequests: 1, RetryAfter: 3}, KindRateLimited, 3 * time.Second},
		{"503", dropboxemu.Faults{ServiceUnavailable: 1, RetryAfter: 2}, KindTransient, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, tc.faults)
			var mu sync.Mutex
			var refused time.Time // when the burst's first refusal left the emulator
			var arrivals []time.Time
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrivals = append(arrivals, time.Now())
				mu.Unlock()
				e.Srv.ServeHTTP(w, r)
				mu.Lock()
				if refused.IsZero() {
					refused = time.Now()
					e.Srv.SetFaults(dropboxemu.Faults{}) // the burst is over
				}
				mu.Unlock()
			}))
			t.Cleanup(front.Close)

			held := make(chan Kind, 16)
			c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: front.URL,
				OnWait: func(k Kind, until time.Time) { held <- k }})
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 9)
			wg.Go(func() { _, _, err := c.SpaceUsage(ctx); errs <- err })
			if k := <-held; k != tc.kind {
				t.Fatalf("held for kind %d, want %d", k, tc.kind)
			}
			for range 8 { // calls started while the account is held wait too
				wg.Go(func() { _, err := c.Account(ctx); errs <- err })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(arrivals) != 10 {
				t.Fatalf("%d requests, want 10", len(arrivals))
			}
			for _, at := range arrivals[1:] {
				if d := at.Sub(refused); d < tc.after-50*time.Millisecond {
					t.Errorf("a request arrived %v after the refusal, within its Retry-After of %v", d, tc.after)
				}
			}
		})
	}
}

// TestTranslateHiddenAnswers: what only the transport sees decides the kind.
func TestTranslateHiddenAnswers(t *testing.T) {
	syntax := errors.New("invalid character 'T' looking for beginning of value")
	for _, tc := range []struct {
		name  string
		err   error
		ex    *exchange
		kind  Kind
		code  string
		after time.Duration
	}{
		{"plain 429", syntax, &exchange{sent: true, status: 429, retryAfter: 3 * time.Second}, KindRateLimited, "too_many_requests", 3 * time.Second},
		{"empty 429 without Retry-After", errors.New("unexpected end of JSON input"), &exchange{sent: true, status: 429}, KindRateLimited, "too_many_requests", time.Second},
		{"cut-off 200", errors.New("unexpected end of JSON input"), &exchange{sent: true, status: 200}, KindTransient, "truncated", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *Error
			if !errors.As(translate(tc.err, tc.ex), &e) || e.Kind != tc.kind || e.Code != tc.code || e.RetryAfter != tc.after {
				t.Fatalf("%+v, want kind %d code %s after %v", e, tc.kind, tc.code, tc.after)
			}
		})
	}
}

func TestASCIIJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"path":"/a"}`:     `{"path":"/a"}`,
		`{"path":"/Café"}`:  `{"path":"/Caf\u00e9"}`,
		`{"path":"/€ 😀"}`:   `{"path":"/\u20ac \ud83d\ude00"}`,
		`{"path":"/日本\"x"}`: `{"path":"/\u65e5\u672c\"x"}`,
	} {
		if got := asciiJSON(in); got != want {
			t.Errorf("asciiJSON(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestAccountRefusals: a team over its data transport limit and a suspended user are
// refusals of the account, with Dropbox's user_message, in the user's language when asked.
func TestAccountRefusals(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Faults{})
	var mu sync.Mutex
	locales := map[string]int{}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		locales[r.Header.Get("Dropbox-API-User-Locale")]++
		mu.Unlock()
		e.Srv.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	c := New(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: e.Token}), Options{BaseURL: front.URL, Locale: "nl-BE"})
	ctx := context.Background()

	if err := e.Srv.SetAccountRefusal(e.Account, dropboxemu.RefusalDataTransportLimit); err != nil {
		t.Fatal(err)
	}
	_, err := c.UploadContents(ctx, [][]byte{[]byte("factuur")})
	var de *Error
	if !errors.As(err, &de) || de.Kind != KindAccount || !errors.Is(err, ErrAccountRefused) ||
		de.Code != "invalid_account_type/feature" || !strings.Contains(de.UserMessage, "data transport") {
		t.Fatalf("data transport limit: %+v", err)
	}
	if v := Decide(err, 0); v.Stop != ErrAccountRefused || v.Wait != accountRetry || v.Offline || v.Refuse {
		t.Errorf("Decide = %+v", v)
	}
	if _, err := c.Account(ctx); err != nil { // reads go on
		t.Fatalf("a read over the data transport limit: %v", err)
	}

	if err := e.Srv.SetAccountRefusal(e.Account, dropboxemu.RefusalUserSuspended); err != nil {
		t.Fatal(err)
	}
	_, err = c.Account(ctx)
	if !errors.As(err, &de) || de.Kind != KindAccount || de.Code != "user_suspended" {
		t.Fatalf("suspended: %v", err)
	}

	if err := e.Srv.SetAccountRefusal(e.Account, dropboxemu.RefusalNone); err != nil {
		t.Fatal(err)
	}
	if ups, err := c.UploadContents(ctx, [][]byte{[]byte("factuur")}); err != nil || ups[0].Err != nil {
		t.Fatalf("after the refusal was lifted: %v %+v", err, ups)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(locales) != 1 || locales["nl-BE"] == 0 {
		t.Errorf("Dropbox-API-User-Locale sent: %v, want nl-BE on every request", locales)
	}
}

// strictQuiet is the strict profile with its random faults off, for tests that count.
func strictQuiet(seed int64) dropboxemu.Faults {
	f := dropboxemu.StrictFaults(seed)
	f.PlainTooManyRequests, f.ServiceUnavailable, f.BatchContention, f.BatchInternalError = 0, 0, 0, 0
	return f
}

// TestArgHeaderStaysUnderTheLimit sends files with long non-ASCII names through the
// strict front end (8 KiB per header line, ASCII only): batches are packed close to the
// limit and never over it, and every file arrives; a path too long for any header is
// refused before its content is sent.
func TestArgHeaderStaysUnderTheLimit(t *testing.T) {
	f := strictQuiet(21)
	if f.MaxArgHeader != 8<<10 || !f.StrictArgs {
		t.Fatalf("strict profile changed: %+v", f)
	}
	e := newTestEnv(t, f)
	c := e.client()
	ctx := context.Background()
	// Dropbox allows 255 bytes per name: 120 two-byte letters, 720 bytes once escaped.
	name := func(r string) string { return strings.Repeat(r, 120) }
	dir := "/Acme/Facturen é€ " + name("ü")
	docs := map[string][]byte{}
	var paths []string
	var datas [][]byte
	for i := range 400 {
		p := fmt.Sprintf("%s/%s-%03d.pdf", dir, name("Ω"), i)
		paths = append(paths, p)
		datas = append(datas, []byte(fmt.Sprint("factuur ", i)))
		docs[p] = datas[i]
	}
	ups, err := c.UploadContents(ctx, datas)
	if err != nil {
		t.Fatal(err)
	}
	commits := make([]Commit, len(ups))
	for i, u := range ups {
		if u.Err != nil {
			t.Fatalf("%d: %v", i, u.Err)
		}
		commits[i] = Commit{SessionID: u.SessionID, Size: int64(len(datas[i])), Path: paths[i]}
	}
	res, err := c.Commit(ctx, commits)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", paths[i], r.Err)
		}
	}

	// A large file whose finish carries a long escaped path, and one too long for it.
	big := make([]byte, 9<<20)
	rand.New(rand.NewSource(21)).Read(big)
	local := filepath.Join(t.TempDir(), "big.pdf")
	if err := os.WriteFile(local, big, 0o600); err != nil {
		t.Fatal(err)
	}
	long := dir + strings.Repeat("/"+name("ß"), 8) + ".pdf" // 6.5 KiB escaped
	if _, err := c.UploadLarge(ctx, localFile(t, local), long, nil); err != nil {
		t.Fatalf("large file with a long name: %v", err)
	}
	docs[long] = big
	tooLong := dir + strings.Repeat("/"+name("Ж"), 12) + ".pdf"
	before := e.Srv.Stats()
	_, err = c.UploadLarge(ctx, localFile(t, local), tooLong, nil)
	var de *Error
	if !errors.As(err, &de) || de.Kind != KindFile || de.Code != "path_too_long" {
		t.Fatalf("path too long for the header: %v", err)
	}
	if in := contentBytesIn(e.Srv.Stats()); in != contentBytesIn(before) {
		t.Errorf("%d bytes sent for a path refused up front", in-contentBytesIn(before))
	}

	// A front end with a lower limit than ours: the path is refused for good all the same.
	lower := f
	lower.MaxArgHeader = 2 << 10
	e.Srv.SetFaults(lower)
	_, err = c.UploadLarge(ctx, localFile(t, local), long+".kopie", nil)
	if !errors.As(err, &de) || de.Kind != KindFile || de.Code != "path_too_long" {
		t.Fatalf("path over a lower front-end limit: %v", err)
	}
	e.Srv.SetFaults(f)

	st := e.Srv.Stats()
	for route, rs := range st {
		if rs.MaxArgHeader > maxArgLine {
			t.Errorf("%s: a Dropbox-API-Arg line of %d bytes, over %d", route, rs.MaxArgHeader, maxArgLine)
		}
		want := 0
		if route == "files/upload_session/finish" {
			want = 1 // the one over the lower limit
		}
		if rs.Status[400] != want {
			t.Errorf("%s: %d refused with 400, want %d", route, rs.Status[400], want)
		}
	}
	if n := st["files/upload_session/append_batch"].MaxArgHeader; n < maxArgLine-200 {
		t.Errorf("append_batch lines of at most %d bytes: packed loosely under %d", n, maxArgLine)
	}
	got := e.Files()
	for p, data := range docs {
		if got[p] != hashOf(t, data) {
			t.Errorf("%s: stored %q", p[len(p)-20:], got[p])
		}
	}
	t.Logf("%d append_batch, longest line %d; finish %d", st["files/upload_session/append_batch"].Calls,
		st["files/upload_session/append_batch"].MaxArgHeader, st["files/upload_session/finish"].MaxArgHeader)
}

// tokenFunc is a token source made of a function, to inject its failures.
type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

// A token source that fails (a keychain that cannot be read) is reported as that, never as
// offline; one that fails because the token endpoint cannot be reached is offline.
func TestTokenSourceFailure(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Faults{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name    string
		fail    func() error
		kind    Kind
		offline bool
	}{
		{"keychain unreadable", func() error { return errors.New("load token of connection c1: the keychain is locked") }, KindTokenSource, false},
		{"token endpoint unreachable", func() error {
			_, err := http.Post(gone+"/oauth2/token", "application/x-www-form-urlencoded", nil)
			return fmt.Errorf("refresh token of connection c1: %w", err)
		}, KindTransient, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(tokenFunc(func() (*oauth2.Token, error) { return nil, tc.fail() }), Options{BaseURL: e.URL, Retries: 1})
			c.pacer.minBackoff = time.Millisecond
			_, err := c.Account(context.Background())
			if KindOf(err) != tc.kind {
				t.Fatalf("%v: kind %d, want %d", err, KindOf(err), tc.kind)
			}
			if v := Decide(err, 0); v.Offline != tc.offline {
				t.Errorf("Decide = %+v, want offline %v", v, tc.offline)
			}
			if tc.kind == KindTokenSource && (!errors.Is(err, ErrTokenSource) || !strings.Contains(err.Error(), "keychain")) {
				t.Errorf("message: %v", err)
			}
		})
	}
	if n := e.Srv.Calls("users/get_current_account"); n != 0 {
		t.Errorf("%d requests reached Dropbox without a token", n)
	}
}
