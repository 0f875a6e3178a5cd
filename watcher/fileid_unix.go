//go:build unix

package watcher

import (
	"io/fs"
	"syscall"
)

// fileID identifies a directory independently of its name: the device and inode, which stay
// the same when the directory is renamed or moved within its file system. The zero value
// means unknown.
type fileID struct{ dev, ino uint64 }

// idOf returns the identity of the file at path, which fi describes, or the zero fileID.
// Here fi holds it all; Windows needs path (fileid_windows.go).
func idOf(_ string, fi fs.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
}
