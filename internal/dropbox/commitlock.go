package dropbox

import "sync"

// CommitLock serializes the commits of one Dropbox account: Dropbox takes a write lock per
// namespace, and overlapping commits fail with too_many_write_operations. A commit of one
// document (Upload, a large file's finish) goes before the batch commits waiting for the
// lock: a document saved now waits at most for the commit under way, not also for the
// next batch of backlog files, which the committer has ready as soon as the lock is free. Single commits come from people saving documents, a few a minute, so batches are
// not starved. The zero value is unlocked. sync.Mutex has no such order, hence this type.
type CommitLock struct {
	mu      sync.Mutex
	free    *sync.Cond
	held    bool
	singles int // single commits waiting
}

// lock waits for the lock; single says the commit is of one document.
func (l *CommitLock) lock(single bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.free == nil {
		l.free = sync.NewCond(&l.mu)
	}
	if single {
		l.singles++
		defer func() { l.singles-- }()
	}
	for l.held || !single && l.singles > 0 {
		l.free.Wait()
	}
	l.held = true
}

func (l *CommitLock) unlock() {
	l.mu.Lock()
	l.held = false
	l.mu.Unlock()
	if l.free != nil {
		l.free.Broadcast()
	}
}
