package dropbox

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// limitBurst is the most bytes a Limiter lets through at once. Reads of upload bodies are
// cut to this size, so a low limit still moves smoothly instead of in big bursts, and a
// high one costs one token wait per 64 KiB.
const limitBurst = 64 << 10

// Limiter caps the bytes per second sent as file contents (the bodies of upload routes).
// One Limiter is shared by every Client of the app (Options.Limiter), so the cap holds for
// all connections together. Its methods are safe for concurrent use, and SetLimit takes
// effect at once, also for uploads in progress.
type Limiter struct {
	lim    *rate.Limiter
	passed atomic.Int64
}

// NewLimiter returns a Limiter of bytesPerSec (0 or less: no limit).
func NewLimiter(bytesPerSec int64) *Limiter {
	l := &Limiter{lim: rate.NewLimiter(rate.Inf, limitBurst)}
	l.SetLimit(bytesPerSec)
	return l
}

// SetLimit changes the cap (0 or less: no limit).
func (l *Limiter) SetLimit(bytesPerSec int64) {
	if bytesPerSec <= 0 {
		l.lim.SetLimit(rate.Inf)
		return
	}
	l.lim.SetLimit(rate.Limit(bytesPerSec))
}

// Limit is the current cap in bytes per second (0: none).
func (l *Limiter) Limit() int64 {
	if r := l.lim.Limit(); r != rate.Inf {
		return int64(r)
	}
	return 0
}

// Passed is how many bytes of upload bodies have been let through, for tests and stats.
func (l *Limiter) Passed() int64 { return l.passed.Load() }

// wait takes n bytes' worth of tokens (n at most limitBurst), blocking until they are there.
func (l *Limiter) wait(ctx context.Context, n int) error {
	if err := l.lim.WaitN(ctx, n); err != nil {
		return err
	}
	l.passed.Add(int64(n))
	return nil
}

// limitTransport paces the request bodies of upload routes through a Limiter. The SDK
// sends file contents, and only them, as application/octet-stream (upload, upload_session
// start/append/finish, append_batch); JSON calls pass untouched.
type limitTransport struct {
	base http.RoundTripper
	lim  *Limiter
}

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.Header.Get("Content-Type") != "application/octet-stream" {
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not change the caller's request: pace a shallow copy.
	r := req.Clone(req.Context())
	r.Body = &limitedBody{ctx: req.Context(), rc: req.Body, lim: t.lim}
	if req.GetBody != nil {
		r.GetBody = func() (io.ReadCloser, error) {
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			return &limitedBody{ctx: req.Context(), rc: b, lim: t.lim}, nil
		}
	}
	return t.base.RoundTrip(r)
}

// limitedBody hands the transport at most limitBurst bytes per Read, each after their
// tokens were taken; a request whose context ends while waiting fails with ctx's error.
// It lives for one request, so it keeps that request's context, as http.Request does.
type limitedBody struct {
	ctx context.Context
	rc  io.ReadCloser
	lim *Limiter
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if len(p) > limitBurst {
		p = p[:limitBurst]
	}
	n, err := b.rc.Read(p)
	if n > 0 {
		if werr := b.lim.wait(b.ctx, n); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
