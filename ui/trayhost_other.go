//go:build !(linux || freebsd || openbsd || netbsd)

package ui

// TrayHost reports whether a tray icon will be shown: Windows and macOS always have a tray.
func TrayHost() bool { return true }
