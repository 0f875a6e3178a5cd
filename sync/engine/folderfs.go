package engine

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/onfact/onfact-dropbox/internal/openshared"
)

// folderFS is the export folder as the fs.FS layout.Classify reads. os.DirFS refuses names
// that are not valid UTF-8 (fs.ValidPath), and old shares and programs write Latin-1 names
// ("Factuur été.pdf" in Windows-1252): those documents must be sent too, under the name
// layout gives them. The engine's paths come from its own walk of the folder, so the one
// check kept is that a name cannot lead out of it.
type folderFS string

func (d folderFS) path(op, name string) (string, error) {
	local := filepath.Clean(filepath.FromSlash(name))
	// Not filepath.IsLocal: it refuses Windows's reserved names (CON.pdf), which osPath
	// reads as the files they are.
	if filepath.IsAbs(local) || filepath.VolumeName(local) != "" || local == ".." ||
		strings.HasPrefix(local, ".."+string(filepath.Separator)) {
		return "", &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: not inside the export folder", fs.ErrInvalid)}
	}
	return osPath(filepath.Join(string(d), local)), nil
}

func (d folderFS) Open(name string) (fs.File, error) {
	p, err := d.path("open", name)
	if err != nil {
		return nil, err
	}
	return openshared.Open(p)
}

func (d folderFS) Lstat(name string) (fs.FileInfo, error) {
	p, err := d.path("lstat", name)
	if err != nil {
		return nil, err
	}
	return os.Lstat(p)
}

func (d folderFS) ReadLink(name string) (string, error) {
	p, err := d.path("readlink", name)
	if err != nil {
		return "", err
	}
	return os.Readlink(p)
}

var _ fs.ReadLinkFS = folderFS("")
