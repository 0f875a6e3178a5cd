//go:build !windows

package openshared

import "os"

// Open is os.Open: only Windows locks what is open.
func Open(name string) (*os.File, error) { return os.Open(name) }

// LongPath is path: only Windows limits a path's length.
func LongPath(path string) string { return path }
