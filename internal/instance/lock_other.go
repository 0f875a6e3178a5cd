//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package instance

import (
	"fmt"
	"os"
)

// tryLock always succeeds where the app does not ship (no portable lock without cgo there):
// every launch becomes primary, and the last one's instance.json wins.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

func unlock(f *os.File) error { return f.Close() }
