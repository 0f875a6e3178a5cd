package dropbox

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	e := func(k Kind) error { return &Error{Kind: k, Code: "x", Err: errors.New("x")} }
	after := func(k Kind, d time.Duration) error {
		return &Error{Kind: k, Code: "x", RetryAfter: d, Err: errors.New("x")}
	}
	tests := []struct {
		name     string
		err      error
		attempts int
		refuse   bool
		stop     error
		offline  bool
		min, max time.Duration
	}{
		{"refused file", e(KindFile), 3, true, nil, false, 0, 0},
		{"revoked", e(KindReconnect), 0, false, ErrReconnect, false, 0, 0},
		{"full", e(KindNoSpace), 0, false, ErrNoSpace, false, fullRetry, fullRetry},
		{"lost session, first time: at once", e(KindRetryFile), 0, false, nil, false, 0, 0},
		{"lost session again: backs off", e(KindRetryFile), 2, false, nil, false, 2 * time.Second, 4 * time.Second},
		{"contention, first time: at once", e(KindWriteContention), 0, false, nil, false, 0, 0},
		{"contention with Retry-After, first time: that long", after(KindWriteContention, time.Second), 0, false, nil, false, time.Second, time.Second},
		{"recommit, first time: after its RetryAfter", after(KindRecommit, time.Second), 0, false, nil, false, time.Second, time.Second},
		{"recommit again: backs off", after(KindRecommit, time.Second), 3, false, nil, false, 4 * time.Second, 8 * time.Second},
		{"rate limited: not offline, Retry-After kept", after(KindRateLimited, 30*time.Second), 0, false, nil, false, 30 * time.Second, 30 * time.Second},
		{"rate limited, short Retry-After: backoff", after(KindRateLimited, time.Second), 0, false, nil, false, time.Second, 2 * time.Second},
		{"503 with Retry-After", after(KindTransient, 20*time.Second), 0, false, nil, true, 20 * time.Second, 20 * time.Second},
		{"account refused", e(KindAccount), 0, false, ErrAccountRefused, false, accountRetry, accountRetry},
		{"account refused, later", e(KindAccount), 7, false, ErrAccountRefused, false, accountRetry, accountRetry},
		{"keychain unreadable", e(KindTokenSource), 0, false, ErrTokenSource, false, tokenSourceRetry, tokenSourceRetry},
		{"keychain unreadable, untranslated", fmt.Errorf("load token: %w", ErrTokenSource), 2, false, ErrTokenSource, false, tokenSourceRetry, tokenSourceRetry},
		{"reconnect, untranslated", fmt.Errorf("refresh: %w", ErrReconnect), 0, false, ErrReconnect, false, 0, 0},
		{"offline", e(KindTransient), 0, false, nil, true, time.Second, 2 * time.Second},
		{"offline, long", e(KindTransient), 30, false, nil, true, retryMax / 2, retryMax},
		{"unknown", errors.New("boom"), 1, false, nil, false, 2 * time.Second, 4 * time.Second},
		{"cancelled", context.Canceled, 0, false, nil, false, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.err, tt.attempts)
			if v.Refuse != tt.refuse || v.Stop != tt.stop || v.Offline != tt.offline || v.Wait < tt.min || v.Wait > tt.max {
				t.Fatalf("Decide = %+v, want refuse %v stop %v offline %v wait in [%v, %v]",
					v, tt.refuse, tt.stop, tt.offline, tt.min, tt.max)
			}
		})
	}
}
