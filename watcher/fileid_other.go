//go:build !unix && !windows

package watcher

import "io/fs"

// fileID identifies a directory independently of its name. Off Unix and Windows it is
// always the zero value, unknown: a directory moved before its Rename event was handled is
// then not recognised under its new name.
type fileID struct{}

// idOf returns the zero fileID.
func idOf(string, fs.FileInfo) fileID { return fileID{} }
