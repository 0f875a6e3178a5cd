package openshared

import (
	"io/fs"
	"os"
	"syscall"
)

// Open opens a file or folder for reading, shared for reading, writing and deleting (which
// covers renaming and moving), so that whoever else works in the folder is not refused
// while it is open. FILE_FLAG_BACKUP_SEMANTICS lets CreateFile open folders too.
func Open(name string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(LongPath(name))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE,
		nil, syscall.OPEN_EXISTING, syscall.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}

// LongPath gives an absolute path longer than MAX_PATH its \\?\ form, which syscall does
// not add (os does, internally): export folders nest deep enough to pass 260 characters.
// Relative paths and paths already in a \\?\ or \\.\ form are left as they are.
func LongPath(path string) string {
	const maxPath = 248 // CreateDirectory's limit, the lower one, as os uses
	if len(path) < maxPath || len(path) < 3 {
		return path
	}
	switch {
	case path[:2] == `\\` && (path[2] == '?' || path[2] == '.'):
		return path
	case path[:2] == `\\`:
		return `\\?\UNC\` + path[2:] // a share: \\server\share\dir
	case path[1] == ':' && (path[2] == '\\' || path[2] == '/'):
		return `\\?\` + path
	}
	return path
}
