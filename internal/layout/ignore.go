package layout

import (
	"fmt"
	"strings"
)

// SkipReason tells why a file is not synced. The zero value means it is.
type SkipReason int

// The reasons, for the preview and the sync engine's activity log.
const (
	NotSkipped     SkipReason = iota
	SkipHidden                // a name starting with "."
	SkipTemporary             // an editor's lock file or a partial download
	SkipSystem                // desktop.ini, Thumbs.db, .DS_Store and the like
	SkipNotRegular            // a link, device or other non-regular file
	SkipUnreadable            // the file or its UBL sibling could not be read
)

var skipText = [...]string{
	NotSkipped:     "not skipped",
	SkipHidden:     "hidden",
	SkipTemporary:  "temporary or lock file",
	SkipSystem:     "system file",
	SkipNotRegular: "not a regular file",
	SkipUnreadable: "unreadable",
}

// String returns a short English explanation, such as "temporary or lock file".
func (r SkipReason) String() string {
	if r < 0 || int(r) >= len(skipText) {
		return fmt.Sprintf("skip(%d)", int(r))
	}
	return skipText[r]
}

// Ignored reports whether a file or folder with this base name is never
// synced: hidden names (".git", ".~lock.x#"), Office and download temporary
// files ("~$x.docx", "x.tmp", "x.part", "x.crdownload"), and system files
// (desktop.ini, Thumbs.db, .DS_Store, Icon\r, $RECYCLE.BIN, System Volume
// Information). Matching ignores case. The sync engine uses it too, so the
// preview shows exactly what will be synced.
func Ignored(name string) bool {
	return IgnoreReason(name) != NotSkipped
}

// IgnoreReason is Ignored with the reason: NotSkipped, SkipHidden,
// SkipTemporary or SkipSystem.
func IgnoreReason(name string) SkipReason {
	lower := strings.ToLower(name)
	switch lower {
	case "desktop.ini", "thumbs.db", "ehthumbs.db", ".ds_store", "icon\r",
		".dropbox", ".dropbox.attr", ".dropbox.cache", "$recycle.bin",
		"system volume information", ".spotlight-v100", ".trashes", ".fseventsd":
		return SkipSystem
	}
	switch {
	case strings.HasPrefix(lower, "~$"), strings.HasPrefix(lower, ".~"),
		strings.HasSuffix(lower, ".tmp"), strings.HasSuffix(lower, ".part"),
		strings.HasSuffix(lower, ".crdownload"), strings.HasSuffix(lower, ".partial"):
		return SkipTemporary
	case strings.HasPrefix(lower, "."):
		return SkipHidden
	}
	return NotSkipped
}
