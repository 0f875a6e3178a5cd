//go:build !windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The file-based mechanisms (XDG, LaunchAgent) share this code; each OS file provides
// defaultDir, fileName, content and fileEnabled.

func (e Entry) path() (string, error) {
	dir := e.Dir
	if dir == "" {
		var err error
		if dir, err = defaultDir(); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, fileName), nil
}

// Enable writes the entry file for exe, replacing any previous one (including one the
// desktop switched off), so calling it again is harmless.
func (e Entry) Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	path, err := e.path()
	if err != nil {
		return fmt.Errorf("enable autostart: %w", err)
	}
	if err := writeFileAtomic(path, content(exe)); err != nil {
		return fmt.Errorf("enable autostart: %w", err)
	}
	return nil
}

// Disable removes the entry file; a missing file is not an error.
func (e Entry) Disable() error {
	path, err := e.path()
	if err != nil {
		return fmt.Errorf("disable autostart: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("disable autostart: remove %s: %w", path, err)
	}
	return nil
}

// Enabled reports whether the entry file exists and is not switched off.
func (e Entry) Enabled() (bool, error) {
	path, err := e.path()
	if err != nil {
		return false, fmt.Errorf("check autostart: %w", err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check autostart: read %s: %w", path, err)
	}
	return fileEnabled(b), nil
}

// writeFileAtomic writes through a temp file and a rename so the session manager, reading
// the directory at login, never sees a half-written entry.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".autostart-*")
	if err != nil {
		return fmt.Errorf("create temp file in %s: %w", dir, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	// Entries are not secret and session managers may read them as another process; the
	// usual mode for both .desktop files and LaunchAgents is 0644.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return nil
}
