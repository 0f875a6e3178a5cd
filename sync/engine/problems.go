package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"syscall"

	"github.com/onfact/onfact-dropbox/internal/store"
)

// localAttempts is how often a file that cannot be read is retried at once (it may be
// locked while its program writes it) before it is a problem shown to the user; it is
// then tried again at every full rescan and on "sync now".
const localAttempts = 3

// MaxListed is how many problems a Status lists by name; Failed counts them all.
const MaxListed = 100

// Problem is a document (or folder) that is not in Dropbox, and why, in plain English.
type Problem struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// ProblemsError ends a one-shot run that could not send everything: "all documents are in
// Dropbox" is said only when it is true.
type ProblemsError struct {
	Count    int
	Problems []Problem // the first ones, by path
}

func (e *ProblemsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d documents are not in Dropbox:", e.Count)
	for i, p := range e.Problems {
		if i == 10 {
			fmt.Fprintf(&b, "\n  and %d more", e.Count-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s: %s", p.Path, p.Reason)
	}
	return b.String()
}

// readError is a failure to read a file or folder here, as opposed to a refusal by Dropbox.
type readError struct {
	path string
	err  error
}

func (e *readError) Error() string { return fmt.Sprintf("read %s: %v", e.path, e.err) }
func (e *readError) Unwrap() error { return e.err }

// readReason says in plain words why a file or folder cannot be read, and what to do.
func readReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return reasonText("read.permission")
	case errors.Is(err, syscall.ENAMETOOLONG):
		return reasonText("read.too_long")
	case errors.Is(err, syscall.EBUSY):
		return reasonText("read.busy")
	case errors.Is(err, syscall.EIO):
		return reasonText("read.io")
	}
	return reasonText("read.other", "Error", err.Error())
}

// problems is what the runner knows of the files that are not in Dropbox, by path: every
// record with a Failure. It is loaded at start and kept up to date from the updates the
// runner records, so the status never forgets a problem across a restart. Only the
// runner's goroutine touches it.
type problems struct {
	reasons map[string]string
	listed  []Problem // the first MaxListed by path; nil when it must be made again
}

func newProblems() *problems { return &problems{reasons: map[string]string{}} }

// note follows one recorded update.
func (p *problems) note(u store.Update) {
	_, had := p.reasons[u.Path]
	switch {
	case u.Record != nil && u.Record.Failure != "" && !u.Forget:
		p.reasons[u.Path] = u.Record.Failure
		p.listed = nil
	case (u.Forget || u.Record != nil) && had:
		delete(p.reasons, u.Path)
		p.listed = nil
	}
}

// set notes (or, with reason "", clears) a problem the store does not hold, such as a
// file waiting for room in Dropbox.
func (p *problems) set(path, reason string) {
	if reason == "" {
		if _, ok := p.reasons[path]; !ok {
			return
		}
		delete(p.reasons, path)
	} else {
		p.reasons[path] = reason
	}
	p.listed = nil
}

// count is the number of problems.
func (p *problems) count() int { return len(p.reasons) }

// list is the first MaxListed problems by path.
func (p *problems) list() []Problem {
	if p.listed != nil || len(p.reasons) == 0 {
		return p.listed
	}
	paths := make([]string, 0, len(p.reasons))
	for path := range p.reasons {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	paths = paths[:min(MaxListed, len(paths))]
	p.listed = make([]Problem, len(paths))
	for i, path := range paths {
		p.listed[i] = Problem{Path: path, Reason: p.reasons[path]}
	}
	return p.listed
}

// err is the one-shot run's error when any document is not in Dropbox.
func (p *problems) err() error {
	if len(p.reasons) == 0 {
		return nil
	}
	return &ProblemsError{Count: len(p.reasons), Problems: p.list()}
}
