package app

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// Trouble is a kind of failure the people in the office can do something about. The
// command line and the GUI each say it in their own words (and languages): what happened
// and what to do; the error itself, with its technical detail, goes to the log.
type Trouble int

// The troubles Classify knows.
const (
	// TroubleOther is any other error: its own text is shown (the app's own errors are
	// written for people, e.g. auth.ErrNoKeychain, dropbox.ErrReconnect).
	TroubleOther Trouble = iota
	// TroubleDiskFull: the disk of this computer is full (or the user's quota is used).
	TroubleDiskFull
	// TroubleNotWritable: the settings folder is read-only or belongs to another user.
	TroubleNotWritable
	// TroubleSettingsDamaged: config.json cannot be read as JSON.
	TroubleSettingsDamaged
	// TroubleStoreDamaged: the state store is damaged and could not be set aside.
	TroubleStoreDamaged
	// TroubleRunning: another onFact Dropbox Sync holds the state store.
	TroubleRunning
	// TroubleNoKeychain: the keychain is missing, locked or cannot be reached.
	TroubleNoKeychain
)

// Classify says which Trouble err is; dir is the settings folder (config.json and
// state.db), where a refused write is the app's problem rather than the export folder's.
func Classify(err error, dir string) Trouble {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		pe     *fs.PathError
	)
	switch {
	case err == nil:
		return TroubleOther
	case errors.Is(err, store.ErrLocked):
		return TroubleRunning
	case errors.Is(err, store.ErrDamaged):
		return TroubleStoreDamaged
	case errors.Is(err, auth.ErrNoKeychain):
		return TroubleNoKeychain
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return TroubleDiskFull
	case (errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission)) && errors.As(err, &pe) && within(dir, pe.Path):
		return TroubleNotWritable
	case errors.As(err, &syntax), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		// Only the settings file is JSON that the app reads at start and shows an error for.
		return TroubleSettingsDamaged
	}
	return TroubleOther
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	if dir == "" {
		return false
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
