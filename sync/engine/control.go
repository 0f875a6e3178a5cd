package engine

import "sync"

// control is what the user last asked of a runner. Commands arrive from any goroutine and
// must never be lost or reordered: Pause then Resume sent while the runner is busy must
// leave it resumed. So, as syncthing's ScheduleScan does, the desired state is kept under
// a lock and a wake-up channel of one is signalled; the runner reads the state when it
// wakes, and the last request always wins however many came in between.
type control struct {
	mu     sync.Mutex
	paused bool
	// syncs counts "sync now" requests; the runner syncs when it has seen fewer.
	syncs uint64
	// checks counts "check now" requests, in the same way.
	checks uint64
	wake   chan struct{}
}

func newControl(paused bool) *control {
	return &control{paused: paused, wake: make(chan struct{}, 1)}
}

// send records cmd and wakes the runner. It never blocks.
func (c *control) send(cmd Command) {
	c.mu.Lock()
	switch cmd {
	case CmdPause:
		c.paused = true
	case CmdResume:
		c.paused = false
	case CmdSyncNow:
		c.syncs++
	case CmdCheck:
		c.checks++
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is already pending; it will read this state too
	}
}

// desired returns what the runner should be: paused or not, and how many "sync now" and
// "check now" requests have been made so far.
func (c *control) desired() (paused bool, syncs, checks uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paused, c.syncs, c.checks
}
