//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package instance

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLock opens path and takes an exclusive flock without waiting. flock (not fcntl) locks
// belong to the open file, so two Acquire calls in one process exclude each other exactly as
// two processes do.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// unlock releases the lock by closing the file, which drops the flock.
func unlock(f *os.File) error { return f.Close() }
