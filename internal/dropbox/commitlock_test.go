package dropbox

import (
	"testing"
	"time"
)

// TestCommitLockSinglesFirst: a single document's commit waiting for the lock goes before
// a batch commit waiting too, whichever asked first; and each waits for the one under way.
func TestCommitLockSinglesFirst(t *testing.T) {
	var l CommitLock
	l.lock(false) // a batch commit under way
	order := make(chan string, 3)
	go func() {
		l.lock(true)
		order <- "single"
		l.unlock()
	}()
	for waiting := 0; waiting == 0; {
		time.Sleep(time.Millisecond)
		l.mu.Lock()
		waiting = l.singles
		l.mu.Unlock()
	}
	go func() {
		l.lock(false)
		order <- "next batch"
		l.unlock()
	}()
	select {
	case got := <-order:
		t.Fatalf("%s committed while the lock was held", got)
	case <-time.After(20 * time.Millisecond):
	}
	l.unlock()
	if first, second := <-order, <-order; first != "single" || second != "next batch" {
		t.Fatalf("order %s, %s; want the single document first", first, second)
	}
}
