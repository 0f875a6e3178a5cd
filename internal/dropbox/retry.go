package dropbox

import (
	"errors"
	"math/rand/v2"
	"time"
)

// Verdict is what becomes of a piece of work (a file's upload or commit, a listing) whose
// call failed after the pacer's own retries. Decide is the client's one retry policy: the
// engine asks it and never keeps a backoff of its own.
type Verdict struct {
	// Refuse: Dropbox will not store this file as asked. Record why, and try again only
	// when the file changes or the user asks.
	Refuse bool
	// Stop is set when the whole account must wait: ErrReconnect until the user connects
	// it again; ErrNoSpace until space is freed, ErrAccountRefused until Dropbox accepts
	// the account again, ErrTokenSource until the keychain can be read (each tried again
	// after Wait). The error Decide was given says more (Error.UserMessage).
	Stop error
	// Wait is how long to wait before the next attempt (0: at once).
	Wait time.Duration
	// Offline: the failure says Dropbox cannot be reached.
	Offline bool
}

// Retry bounds: work that keeps failing is tried again after 2 s, doubling up to 10
// minutes; a full account is tried again every 15 minutes, an account Dropbox refuses
// every hour (a data transport limit lifts at the month's end, a suspension when an admin
// acts: nothing a quicker retry would catch), and a keychain that could not be read every
// minute (it is usually unlocked soon after the session starts).
const (
	retryMin         = 2 * time.Second
	retryMax         = 10 * time.Minute
	fullRetry        = 15 * time.Minute
	accountRetry     = time.Hour
	tokenSourceRetry = time.Minute
)

// Decide gives the verdict for err, after attempts earlier failures of the same work. err
// is normally a translated *Error; an untranslated one that wraps ErrReconnect or
// ErrTokenSource (a token source that could not be made) is read as that kind.
func Decide(err error, attempts int) Verdict {
	var after time.Duration // what Dropbox asked for, if anything
	var e *Error
	if errors.As(err, &e) {
		after = e.RetryAfter
	}
	switch kindOf(err) {
	case KindFile:
		return Verdict{Refuse: true}
	case KindReconnect:
		return Verdict{Stop: ErrReconnect}
	case KindNoSpace:
		return Verdict{Stop: ErrNoSpace, Wait: fullRetry}
	case KindAccount:
		return Verdict{Stop: ErrAccountRefused, Wait: accountRetry}
	case KindTokenSource:
		return Verdict{Stop: ErrTokenSource, Wait: tokenSourceRetry}
	case KindRetryFile, KindWriteContention, KindRecommit:
		// Redo at once the first time (a lost session, a commit that overlapped, a batch
		// entry refused under load), or after the Retry-After Dropbox gave, then back off,
		// so work that keeps failing this way cannot spin.
		if attempts == 0 {
			return Verdict{Wait: after}
		}
		return Verdict{Wait: max(after, backoff(attempts, retryMin, retryMax))}
	case KindRateLimited:
		return Verdict{Wait: max(after, backoff(attempts+1, retryMin, retryMax))}
	case KindTransient:
		return Verdict{Wait: max(after, backoff(attempts+1, retryMin, retryMax)), Offline: true}
	}
	return Verdict{Wait: backoff(attempts+1, retryMin, retryMax)}
}

// kindOf is KindOf, also reading the sentinels an untranslated error may wrap.
func kindOf(err error) Kind {
	if k := KindOf(err); k != 0 {
		return k
	}
	switch {
	case errors.Is(err, ErrReconnect):
		return KindReconnect
	case errors.Is(err, ErrTokenSource):
		return KindTokenSource
	}
	return 0
}

// backoff is the delay before the n-th retry: doubling from lo up to hi, with "equal
// jitter" (half fixed, half random) so many clients do not retry in step.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d/2 + rand.N(d/2+1)
}
