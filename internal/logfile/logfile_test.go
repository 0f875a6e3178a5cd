package logfile

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// settled waits until lumberjack's background goroutine has compressed every rotated file,
// so the test reads a stable directory and its cleanup does not race the compressor.
func settled(t *testing.T, dir string) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		pending := false
		for _, e := range entries {
			names = append(names, e.Name())
			if e.Name() != Name && strings.HasSuffix(e.Name(), ".log") {
				pending = true // a backup not yet compressed
			}
		}
		if !pending {
			return names
		}
		if time.Now().After(deadline) {
			t.Fatalf("backups not compressed after 10s: %v", names)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lines returns the lines of a log file, gunzipping backups.
func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	var out []string
	s := bufio.NewScanner(r)
	for s.Scan() {
		out = append(out, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRotatesAtSizeBound(t *testing.T) {
	dir := t.TempDir()
	// 1 MiB is lumberjack's smallest bound (it counts in MiB); the production 5 MiB is
	// the same code path.
	w, err := open(dir, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	logger := log.New(w, "", 0)
	line := strings.Repeat("x", 1000)
	const n = 1100 // 1.1 MB: exactly one rotation
	for i := range n {
		logger.Printf("%04d %s", i, line)
	}

	names := settled(t, dir)
	if len(names) != 2 {
		t.Fatalf("files after 1.1 MB: %v, want the log and one .gz backup", names)
	}
	fi, err := os.Stat(filepath.Join(dir, Name))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20 {
		t.Errorf("current log is %d bytes, over the 1 MiB bound", fi.Size())
	}
	var all []string
	for _, name := range names { // the backup sorts before the current file
		if name != Name {
			all = append(all, lines(t, filepath.Join(dir, name))...)
		}
	}
	all = append(all, lines(t, filepath.Join(dir, Name))...)
	if len(all) != n {
		t.Fatalf("%d lines across files, want %d", len(all), n)
	}
	for i, l := range all {
		if !strings.HasPrefix(l, fmt.Sprintf("%04d ", i)) {
			t.Fatalf("line %d starts %q: lost or reordered across the rotation", i, l[:10])
		}
	}

	// Keep writing: never more than 2 backups.
	for i := range 2 * n {
		logger.Printf("%04d %s", i, line)
		if i%n == 0 {
			time.Sleep(5 * time.Millisecond) // backup names have millisecond resolution
		}
	}
	names = settled(t, dir)
	if len(names) > 3 {
		t.Errorf("files after 3.3 MB: %v, want the log and at most 2 backups", names)
	}
}

func TestOpenRedactsAndAppends(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs", "nested")
	for i := range 2 { // the second Open appends to the first one's file
		w, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		logger := log.New(w, "", 0)
		logger.Printf("run %d: refresh with refresh_token=%s", i, refreshToken)
		logger.Printf("run %d: header Authorization: Bearer %s", i, accessToken)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got := lines(t, filepath.Join(dir, Name))
	want := []string{
		"run 0: refresh with refresh_token=[REDACTED]",
		"run 0: header Authorization: Bearer [REDACTED]",
		"run 1: refresh with refresh_token=[REDACTED]",
		"run 1: header Authorization: Bearer [REDACTED]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log file:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if runtime.GOOS != "windows" {
		for path, mode := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, Name): 0o600} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
				t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, mode)
			}
		}
	}
}

func TestOpenReportsUnusableDir(t *testing.T) {
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if w, err := Open(filepath.Join(notADir, "logs")); err == nil {
		w.Close()
		t.Fatal("Open under a regular file succeeded")
	}
}

func TestDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cache := filepath.Join(home, "cache")
	t.Setenv("XDG_CACHE_HOME", cache)
	got, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(cache, "onfact-dropbox", "logs")
	if runtime.GOOS == "darwin" {
		want = filepath.Join(home, "Library", "Logs", "onfact-dropbox")
	}
	if runtime.GOOS == "windows" {
		base, _ := os.UserCacheDir() // %LocalAppData%, not affected by the variables above
		want = filepath.Join(base, "onfact-dropbox", "logs")
	}
	if got != want {
		t.Errorf("Dir() = %q, want %q", got, want)
	}
}
