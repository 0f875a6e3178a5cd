package engine

import (
	"errors"
	"strings"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// Activity kinds written to the store's feed.
const (
	ActUploaded = "uploaded"
	ActExisting = "already-in-dropbox" // found in Dropbox with the same content: recorded, not sent
	ActFailed   = "failed"             // not in Dropbox until the file changes (Message says why)
	// ActIncomplete is a document sent although its content does not look complete, after
	// Options.IncompleteWait: in Dropbox, but worth a look.
	ActIncomplete = "incomplete"
	// ActRepaired is a document sent again because a check did not find it in Dropbox as
	// it was sent; Message is why (store.CheckMissing or store.CheckDifferent).
	ActRepaired = "repaired"
)

// job is a queued file handed to a worker, with its retry state.
type job struct {
	path     string
	attempts int  // failures so far, for the retry policy
	live     bool // saved while the app runs: sent ahead of any backlog
	// urgent is a live document among few (not a burst of thousands dropped at once): the
	// packer and the committer send it at once instead of waiting to fill a batch.
	urgent bool
}

// outcomeKind is what became of one queued file, as the runner needs to know it.
type outcomeKind int

const (
	outDone    outcomeKind = iota // recorded (uploaded, unchanged, already there, refused, gone)
	outRetry                      // a failure that may pass: try again at retryAt
	outChanged                    // the file is being written: try again once it settles
	outStop                       // the connection must wait: stop is why
)

// outcome is the end of one job: what the committer records (update) and what the runner
// applies to its queue.
type outcome struct {
	path    string
	kind    outcomeKind
	update  *store.Update // recorded in the store before the runner hears of it; nil: nothing
	err     error
	retryAt time.Time
	stop    error // dropbox.ErrReconnect or dropbox.ErrNoSpace, with outStop
	offline bool  // the failure says Dropbox cannot be reached
	// bytes is what was sent (0 when nothing was uploaded).
	bytes    int64
	uploaded bool
}

// done is a file recorded as u says, with nothing sent.
func done(u store.Update) outcome {
	return outcome{path: u.Path, kind: outDone, update: &u}
}

// sent is a file recorded as uploaded: it is in Dropbox as rec says. incomplete marks one
// sent although its content did not look complete.
func sent(path string, rec store.FileRecord, incomplete bool) outcome {
	a := store.Activity{Time: rec.SyncedAt, Kind: ActUploaded, Path: path, RemotePath: rec.RemotePath}
	switch {
	case incomplete:
		a.Kind = ActIncomplete
	case rec.Repaired != "":
		a.Kind, a.Message = ActRepaired, rec.Repaired
	}
	return outcome{path: path, kind: outDone, bytes: rec.Size, uploaded: true, update: &store.Update{
		Path: path, Record: &rec, Dequeue: true, Activity: a}}
}

// notSettled is a file still being written: it is read again once it holds still (or,
// for content not complete yet, after the settle time).
func notSettled(path string, at time.Time) outcome {
	return outcome{path: path, kind: outChanged, retryAt: at}
}

// failed decides what err means for one job, by the Dropbox client's retry policy: refused
// for good (recorded with the reason, tried again when the file changes), tried again
// later (the retry state stored, so the backoff survives a restart), or stopping the
// connection. rec is the record to keep for a refused file.
func failed(now time.Time, j job, rec store.FileRecord, err error) outcome {
	v := dropbox.Decide(err, j.attempts)
	o := outcome{path: j.path, err: err, offline: v.Offline, retryAt: now.Add(v.Wait)}
	var re *readError
	local := errors.As(err, &re) && j.attempts+1 >= localAttempts
	switch {
	case v.Refuse || local:
		rec.Failure, rec.Local = reasonFor(err), local
		o.kind = outDone
		o.update = &store.Update{Path: j.path, Record: &rec, Dequeue: true,
			Activity: store.Activity{Time: now, Kind: ActFailed, Path: j.path, RemotePath: rec.RemotePath, Message: rec.Failure}}
	case v.Stop != nil:
		o.kind, o.stop = outStop, v.Stop
	default:
		o.kind = outRetry
		o.update = &store.Update{Path: j.path, Retry: &store.QueueItem{
			Attempts: j.attempts + 1, LastError: err.Error(), NotBefore: o.retryAt}}
	}
	return o
}

// reasonFor is the plain-English reason a file is not in Dropbox, for the activity feed
// and the status.
func reasonFor(err error) string {
	var re *readError
	if errors.As(err, &re) {
		return readReason(re.err)
	}
	var e *dropbox.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	switch e.Code {
	case "path/disallowed_name":
		return reasonText("dropbox.disallowed_name")
	case "path/malformed_path", "bad_request/path":
		return reasonText("dropbox.malformed_path")
	case "path_too_long":
		return reasonText("dropbox.path_too_long")
	case "path/conflict/folder":
		return reasonText("dropbox.conflict_folder")
	case "path/conflict/file_ancestor", "path/conflict/file":
		return reasonText("dropbox.conflict_file")
	case "payload_too_large", "too_large":
		return reasonText("dropbox.too_large")
	case "path/no_write_permission":
		return reasonText("dropbox.no_permission")
	case "path/access_restricted":
		return reasonText("dropbox.restricted")
	case "encryption_not_supported":
		return reasonText("dropbox.encrypted")
	case "properties_error":
		return reasonText("dropbox.properties")
	case "too_many_shared_folder_targets":
		return reasonText("dropbox.shared_folders")
	}
	if strings.HasPrefix(e.Code, "unknown/") || strings.Contains(e.Code, "/unknown/") {
		return reasonText("dropbox.unknown", "Code", e.Code)
	}
	return reasonText("dropbox.refused", "Code", e.Code)
}
