package watcher

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
)

// The kinds of trouble the watcher reports through Status. Each comes wrapped in an *Error;
// test with errors.Is.
var (
	// ErrRootGone: the export folder does not exist (deleted, renamed, or its network drive or
	// USB stick is gone). The watcher retries every RecheckInterval and sends {"."} once the
	// folder is back.
	ErrRootGone = errors.New("export folder is gone")

	// ErrWatchLimit: a system limit on watches was reached (ENOSPC from inotify on Linux, too
	// many open files elsewhere). Some directories are not watched live; the watcher asked
	// for a full rescan and retries the missing watches every RecheckInterval.
	ErrWatchLimit = errors.New("too many folders to watch")

	// ErrOverflow: the kernel dropped events because too many arrived at once. The watcher
	// asked for a full rescan.
	ErrOverflow = errors.New("too many changes at once")

	// ErrWatch: any other failure of the underlying watcher, or a directory that could not be
	// watched (for example permission denied). Changes there are found by a rescan.
	ErrWatch = errors.New("watching for changes failed")
)

// Error is a problem that makes the watcher miss or delay changes. It matches its Kind and its
// cause with errors.Is, so errors.Is(err, ErrWatchLimit) and errors.Is(err, syscall.ENOSPC)
// both hold for a full inotify table.
type Error struct {
	Kind error  // ErrRootGone, ErrWatchLimit, ErrOverflow or ErrWatch
	Path string // the directory concerned, as an OS path; the export folder for folder-wide trouble
	Err  error  // the underlying cause; may be nil
}

// Error returns a one-line message for logs, such as
// "watch /data/export/2024: too many folders to watch: no space left on device".
func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("watch %s: %v", e.Path, e.Kind)
	}
	return fmt.Sprintf("watch %s: %v: %v", e.Path, e.Kind, e.Err)
}

// Unwrap returns the kind and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Explain returns a plain-language explanation for people, with what to do about it, for the
// GUI's status window.
func (e *Error) Explain() string {
	switch {
	case errors.Is(e.Kind, ErrRootGone):
		return fmt.Sprintf("The export folder %s cannot be found. If it is on a network drive or "+
			"a USB stick, reconnect it; syncing resumes by itself when the folder is back.", e.Path)
	case errors.Is(e.Kind, ErrWatchLimit):
		return explainLimit(runtime.GOOS, e.Err)
	case errors.Is(e.Kind, ErrOverflow):
		return "So many files changed at once that the system dropped some change notices. " +
			"The whole export folder is checked again, so nothing is missed."
	default:
		return fmt.Sprintf("Watching %s for changes failed (%v). Changes there are found by "+
			"the periodic rescan instead: nothing is missed, it is only noticed later.", e.Path, e.Err)
	}
}

func explainLimit(goos string, cause error) string {
	const later = " is reached, so changes in some folders are found only by the periodic " +
		"rescan, a little later instead of right away."
	switch {
	case goos == "linux" && errors.Is(cause, syscall.EMFILE):
		return "The system limit on file watchers per user (fs.inotify.max_user_instances)" + later +
			" To raise it, run: sudo sysctl fs.inotify.max_user_instances=1024 — and to keep it " +
			"after a restart, put the line fs.inotify.max_user_instances=1024 in a file in " +
			"/etc/sysctl.d/, for example /etc/sysctl.d/60-onfact-dropbox.conf."
	case goos == "linux":
		return "The system limit on watched folders (fs.inotify.max_user_watches)" + later +
			" To raise it, run: sudo sysctl fs.inotify.max_user_watches=524288 — and to keep it " +
			"after a restart, put the line fs.inotify.max_user_watches=524288 in a file in " +
			"/etc/sysctl.d/, for example /etc/sysctl.d/60-onfact-dropbox.conf."
	default:
		return "The system limit on open files" + later + " Raising the limit (ulimit -n; on " +
			"macOS also kern.maxfilesperproc) or choosing an export folder with fewer " +
			"subfolders avoids this."
	}
}

// isWatchLimit reports whether err means a system limit on watches or descriptors: inotify
// returns ENOSPC for fs.inotify.max_user_watches and EMFILE for max_user_instances; kqueue
// needs a descriptor per watched path and runs into EMFILE or ENFILE.
func isWatchLimit(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}
