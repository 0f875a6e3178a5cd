package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// TestPlainMessages: each failure class the office can act on is said in words, and
// report puts the technical error on a detail line after it.
func TestPlainMessages(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ONFACT_DROPBOX_HOME", dir)
	os.WriteFile(config.Path(dir), []byte(`{"version": 1,`), 0o600)
	_, damaged := config.Load(config.Path(dir))
	db := filepath.Join(dir, "state.db")
	for _, tc := range []struct {
		err       error
		want, not string
	}{
		{damaged, "the settings file " + config.Path(dir) + " is damaged", "JSON"},
		{fmt.Errorf("record outcomes: %w", &fs.PathError{Op: "write", Path: db, Err: syscall.ENOSPC}), "the disk of this computer is full", "no space"},
		{fmt.Errorf("open state store: %w", &fs.PathError{Op: "open", Path: db, Err: syscall.EACCES}), "may not write in its folder " + dir, "permission denied"},
		{fmt.Errorf("open state store: %w", &fs.PathError{Op: "open", Path: db, Err: syscall.EROFS}), "may not write in its folder", "read-only file system"},
		{fmt.Errorf("check the keychain: %w (failed to unlock correct collection 'login')", auth.ErrNoKeychain), "available to keep the Dropbox connection safe", "collection"},
		{fmt.Errorf("load token of connection x: %w", auth.ErrKeychainUnreachable), "cannot be reached", "load token"},
		{fmt.Errorf("record outcomes: %w: page 7: invalid type", store.ErrDamaged), "turned out to be damaged", "page 7"},
	} {
		var out strings.Builder
		if code := report(&out, "sync", tc.err); code != ExitError {
			t.Fatalf("exit %d", code)
		}
		msg, detail, _ := strings.Cut(out.String(), "\n")
		if !strings.HasPrefix(msg, "sync: ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.not) {
			t.Errorf("%v: message %q", tc.err, msg)
		}
		if !strings.Contains(detail, "sync: detail: "+tc.err.Error()) {
			t.Errorf("%v: detail %q", tc.err, detail)
		}
	}
	// A refused write in an export folder is not the settings folder's problem.
	other := &fs.PathError{Op: "open", Path: "/srv/export/a.pdf", Err: syscall.EACCES}
	if _, ok := plain(other); ok {
		t.Error("an export folder's error was taken for the settings folder's")
	}
	if msg := say(errors.New("Dropbox no longer accepts this connection")); msg != "Dropbox no longer accepts this connection" {
		t.Errorf("other errors: %q", msg)
	}
}
