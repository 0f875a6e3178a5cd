// Package logfile is the app's log file: size-bounded, rotated, and scrubbed of anything
// that looks like a Dropbox credential before it reaches the disk.
package logfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Name is the file name of the current log in Dir; rotated ones sit next to it as
// onfact-dropbox-<time>.log.gz.
const Name = "onfact-dropbox.log"

// Sizes chosen so a year of normal use stays well under 20 MB while one bad day of retries
// still fits: the current file plus three compressed backups.
const (
	maxSizeMB  = 5
	maxBackups = 3
)

// Dir is where the logs of the current user go:
//
//   - macOS: ~/Library/Logs/onfact-dropbox, where Console.app lists them and users and
//     support expect logs;
//   - elsewhere: os.UserCacheDir()/onfact-dropbox/logs, that is
//     %LocalAppData%\onfact-dropbox\logs on Windows (local, not roaming: logs should not
//     travel with the profile) and $XDG_CACHE_HOME/onfact-dropbox/logs (~/.cache) on Linux.
//
// Dir only computes the path; Open creates it.
func Dir() (string, error) {
	if runtime.GOOS == "darwin" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find log directory: %w", err)
		}
		return filepath.Join(home, "Library", "Logs", "onfact-dropbox"), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find log directory: %w", err)
	}
	return filepath.Join(cache, "onfact-dropbox", "logs"), nil
}

// Open opens (appending) or creates dir/Name, creating dir with mode 0700 and the file with
// 0600. The file is rotated when a write would take it past 5 MiB; the three newest rotated
// files are kept, gzipped.
//
// Every Write is redacted as NewRedactor describes, one Write at a time, so each Write must
// be a whole log line: log.Logger and the slog handlers write each record with exactly one
// Write. The writer is safe for concurrent use. Close closes the file; a later Write would
// reopen it. Open once per process: each writer owns one background goroutine that
// compresses old files and outlives Close.
func Open(dir string) (io.WriteCloser, error) {
	return open(dir, maxSizeMB, maxBackups)
}

func open(dir string, sizeMB, backups int) (io.WriteCloser, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open log in %s: %w", dir, err)
	}
	lj := &lumberjack.Logger{
		Filename:   filepath.Join(dir, Name),
		MaxSize:    sizeMB,
		MaxBackups: backups,
		Compress:   true,
		LocalTime:  true, // backup names are read by people in the office, in their time zone
	}
	// lumberjack opens lazily on the first Write; an empty one surfaces a read-only or
	// full disk now, while main can still report it, instead of losing the first line.
	if _, err := lj.Write(nil); err != nil {
		return nil, fmt.Errorf("open log %s: %w", lj.Filename, err)
	}
	return &file{Redactor: NewRedactor(lj), lj: lj}, nil
}

// file is the writer Open returns: redaction in front of the rotating file.
type file struct {
	*Redactor
	lj *lumberjack.Logger
}

func (f *file) Close() error {
	if err := f.lj.Close(); err != nil {
		return fmt.Errorf("close log %s: %w", f.lj.Filename, err)
	}
	return nil
}
