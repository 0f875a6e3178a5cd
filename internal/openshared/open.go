// Package openshared opens the user's documents and folders for reading without locking
// the user out of them. On Windows, os.Open shares a file or folder only for reading and
// writing: while the app lists a folder or reads a document, Explorer or the export
// program cannot rename, move or delete it ("the folder is open in another program"), and
// a scan of 100,000 documents, or a network drive polled every few seconds, keeps folders
// open often enough for that to be met. Here everything is opened with every share mode,
// as rclone's lib/file does (too large a dependency for these few lines); elsewhere this
// is os.Open.
package openshared

import (
	"bytes"
	"io/fs"
)

// ReadFile is os.ReadFile through Open.
func ReadFile(name string) ([]byte, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	if info, err := f.Stat(); err == nil && info.Size() > 0 && info.Size() < 1<<31 {
		b.Grow(int(info.Size()) + bytes.MinRead) // one read for the content, one for EOF
	}
	_, err = b.ReadFrom(f)
	return b.Bytes(), err
}

// ReadDir is a folder's entries, unsorted, through Open.
func ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}
