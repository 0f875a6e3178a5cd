package cli

import (
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// The command line speaks English only: it has no translations, and the people who script
// it (an office's IT contact, a monitoring check) read English. The GUI says the same
// things in Dutch, French and English.

// plain says, for the failures a user can meet and do something about (app.Classify),
// what happened and what to do, in words for the office; ok is false for any other error,
// which is then shown as it is: the app's own errors are written for people already (see
// auth.ErrNoKeychain, dropbox.ErrReconnect).
func plain(err error) (msg string, ok bool) {
	dir, _ := config.Dir()
	switch app.Classify(err, dir) {
	case app.TroubleStoreDamaged:
		// Open sets a damaged store aside by itself: this is damage found while working.
		return "the record of what was already sent to Dropbox turned out to be damaged. Nothing is lost. " +
			"Run the command again: the record is set aside and rebuilt from the export folder and Dropbox, " +
			"and nothing is sent twice. If it keeps happening, the disk may be failing: tell your onFact contact.", true
	case app.TroubleDiskFull:
		return "the disk of this computer is full, so onFact Dropbox Sync cannot keep track of what it sends. " +
			"Nothing is lost: what could not be recorded is sent again next time. Free some space, then try again.", true
	case app.TroubleNotWritable:
		return fmt.Sprintf("onFact Dropbox Sync may not write in its folder %s (it is read-only, or belongs to another user). "+
			"Nothing was sent or changed. Run it as the user who set it up, or make the folder writable for that user.", dir), true
	case app.TroubleNoKeychain:
		// The sentence without the keychain's own error (a D-Bus message), which goes
		// to the detail line.
		if errors.Is(err, auth.ErrKeychainUnreachable) {
			return auth.ErrKeychainUnreachable.Error(), true
		}
		return auth.ErrNoKeychain.Error(), true
	case app.TroubleSettingsDamaged:
		return fmt.Sprintf("the settings file %s is damaged and cannot be read. Nothing was sent or changed. "+
			"Put back a copy from a backup; or rename the file and add the connections again with "+
			"'onfact-dropbox connections add' (documents already in Dropbox are not sent again).", config.Path(dir)), true
	}
	return "", false
}

// say is the message for err: plain words where plain has them, else err's own text.
func say(err error) string {
	if msg, ok := plain(err); ok {
		return msg
	}
	return err.Error()
}

// report prints "cmd: message" on stderr for err, and, where the message is a plain one,
// the technical detail as a log line after it (stderr is the headless commands' log),
// for support and scripts. It returns ExitError.
func report(stderr io.Writer, cmd string, err error) int {
	msg, ok := plain(err)
	if !ok {
		msg = err.Error()
	}
	fmt.Fprintf(stderr, "%s: %s\n", cmd, msg)
	if ok {
		log.New(stderr, "", log.LstdFlags).Printf("%s: detail: %v", cmd, err)
	}
	return ExitError
}

// resetNotice is what the headless commands print once when the state store was damaged
// and replaced by an empty one.
func resetNotice(stderr io.Writer, cmd string, r *store.Reset) {
	fmt.Fprintf(stderr, "%s: the record of what was already sent to Dropbox was damaged (the disk or a crash of the computer). "+
		"It was set aside and is being rebuilt from the export folder and Dropbox: documents already in Dropbox "+
		"are recognized and not sent again. Nothing needs to be done.\n", cmd)
	log.New(stderr, "", log.LstdFlags).Printf("%s: detail: %v; the damaged file is kept as %s", cmd, r.Cause, r.Broken)
}
