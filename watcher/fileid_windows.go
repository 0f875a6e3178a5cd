package watcher

import (
	"io/fs"
	"syscall"

	"github.com/onfact/onfact-dropbox/internal/openshared"
)

// fileID identifies a directory independently of its name: the volume serial number and
// the file index, which NTFS keeps when the directory is renamed or moved within its volume
// (Windows' counterpart of device and inode). The zero value means unknown.
type fileID struct {
	volume uint32
	index  uint64
}

// idOf returns the identity of the directory at path, which fi describes, or the zero
// fileID. fi's Sys() holds no file index on Windows, so the directory is opened: with
// FILE_FLAG_BACKUP_SEMANTICS, without which CreateFile refuses directories, no access
// rights (reading the index needs none) and every share mode, so that while it is open the
// export program can still write, rename or delete in it.
func idOf(path string, fi fs.FileInfo) fileID {
	if !fi.IsDir() {
		return fileID{} // only directories are ever looked up by identity
	}
	p, err := syscall.UTF16PtrFromString(openshared.LongPath(path))
	if err != nil {
		return fileID{}
	}
	h, err := syscall.CreateFile(p, 0,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE,
		nil, syscall.OPEN_EXISTING, syscall.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return fileID{}
	}
	defer syscall.CloseHandle(h)
	var d syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(h, &d); err != nil {
		return fileID{}
	}
	return fileID{volume: d.VolumeSerialNumber, index: uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)}
}
