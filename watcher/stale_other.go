//go:build !windows

package watcher

// watchesOutliveMoves is false here: inotify and kqueue drop or re-key a moved directory's
// watch themselves (see stale_windows.go for Windows).
const watchesOutliveMoves = false
