package dropbox

import (
	"context"
	"sync"
	"time"
)

// pacer paces every call to one account, in the manner of rclone's lib/pacer: a 429's
// Retry-After holds back all calls of the account, not just the one that got it, and
// transient failures back off exponentially with jitter. It is safe for concurrent use.
type pacer struct {
	minBackoff, maxBackoff time.Duration
	// maxTransient is how many transient failures in a row one call absorbs before it
	// returns the error, so a file stuck on a failing server goes back to the queue instead
	// of holding a worker forever.
	maxTransient int
	// onWait, if set, is told when calls are held back and why (for the status line).
	onWait func(kind Kind, until time.Time)
	// onExpired, if set, makes the token source refresh: Dropbox called accessToken, the
	// token the failed request carried, expired before the source thought it was (clock
	// skew). Passing the failed token lets the source refresh once for many calls that
	// failed together: a token already replaced is not refreshed again.
	onExpired func(accessToken string)

	mu        sync.Mutex
	notBefore time.Time
}

func newPacer() *pacer {
	return &pacer{minBackoff: 250 * time.Millisecond, maxBackoff: time.Minute, maxTransient: 10}
}

// wait blocks until the account may be called again.
func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		d := time.Until(p.notBefore)
		p.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// holdUntil holds back every call of the account until t.
func (p *pacer) holdUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.notBefore) {
		p.notBefore = t
	}
}

// attempt runs fn once with an exchange in its context, so the transport can record what
// the SDK hides, and translates its error.
func attempt(ctx context.Context, fn func(ctx context.Context) error) (*exchange, error) {
	ex := &exchange{}
	return ex, translate(fn(withExchange(ctx, ex)), ex)
}

// call runs fn until it succeeds, fails for good, or ctx ends. Errors come back translated.
// Any Retry-After (a 429 in JSON or plain text, a 503) holds every call of the account.
func (p *pacer) call(ctx context.Context, fn func(ctx context.Context) error) error {
	transient, expired := 0, 0
	for {
		if err := p.wait(ctx); err != nil {
			return err
		}
		ex, err := attempt(ctx, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e, ok := err.(*Error)
		if !ok {
			return err
		}
		switch e.Kind {
		case KindRateLimited, KindWriteContention:
			until := time.Now().Add(e.RetryAfter)
			p.holdUntil(until)
			p.notify(e.Kind, until)
		case KindTransient:
			if e.Code == "expired_access_token" {
				// Refresh and retry at once; a token that cannot be refreshed (a fixed
				// token) or stays expired means connecting again.
				if p.onExpired == nil || expired >= 2 {
					return &Error{Kind: KindReconnect, Code: e.Code, Err: e.Err}
				}
				expired++
				_, _, _, _, token := ex.seen()
				p.onExpired(token)
				continue
			}
			transient++
			if transient > p.maxTransient {
				return err
			}
			if e.RetryAfter > 0 {
				// A 503 that says when: the whole account waits that long, as for a 429.
				until := time.Now().Add(e.RetryAfter)
				p.holdUntil(until)
				p.notify(e.Kind, until)
				continue
			}
			d := backoff(transient, p.minBackoff, p.maxBackoff)
			p.notify(e.Kind, time.Now().Add(d))
			if err := sleep(ctx, d); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

func (p *pacer) notify(k Kind, until time.Time) {
	if p.onWait != nil {
		p.onWait(k, until)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
