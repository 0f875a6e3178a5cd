// Package autostart registers onFact Dropbox Sync to start when the user logs in.
//
// Each OS has its own per-user mechanism, and all of them work without admin rights:
//
//   - Windows: the value "onFact Dropbox Sync" under
//     HKCU\Software\Microsoft\Windows\CurrentVersion\Run, holding the quoted exe path.
//   - macOS: the LaunchAgent ~/Library/LaunchAgents/be.onfact.dropboxsync.plist (RunAtLoad).
//   - Linux and the BSDs: the XDG autostart entry
//     $XDG_CONFIG_HOME/autostart/be.onfact.dropboxsync.desktop (default ~/.config/autostart).
//
// Enabling only registers the entry for the next login; it never starts a second copy now.
// All functions are safe for concurrent use in the sense that each call is one file or
// registry write; two calls racing on the same entry leave one of the two results.
package autostart

import (
	"errors"
	"fmt"
	"path/filepath"
)

const (
	// appName is what the user sees in Task Manager, GNOME Tweaks and System Settings.
	appName = "onFact Dropbox Sync"
	// appID matches the app ID in FyneApp.toml, so the entry is recognisably ours.
	appID = "be.onfact.dropboxsync"
)

// Entry is the current user's start-at-login registration of the app.
// The zero value uses the OS's standard location.
type Entry struct {
	// Dir, when not empty, replaces the directory the entry file is written to: the XDG
	// autostart directory on Linux/BSD, the LaunchAgents directory on macOS. It exists so
	// tests can use a temp dir; Windows ignores it because its entry is a registry value.
	Dir string
}

// Enable registers exe (an absolute path) to start at login for the current user.
func Enable(exe string) error { return Entry{}.Enable(exe) }

// Disable removes the registration; it is not an error if there is none.
func Disable() error { return Entry{}.Disable() }

// Enabled reports whether the app is registered to start at login.
func Enabled() (bool, error) { return Entry{}.Enabled() }

// checkExe rejects paths the login session could not resolve: autostart runs with another
// working directory, so a relative path would silently start nothing.
func checkExe(exe string) error {
	if exe == "" {
		return errors.New("enable autostart: empty executable path")
	}
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("enable autostart for %q: path is not absolute", exe)
	}
	return nil
}
