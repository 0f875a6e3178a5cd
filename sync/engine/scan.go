package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onfact/onfact-dropbox/internal/openshared"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/watcher"
)

// localFile is what a stat-only scan knows of a file.
type localFile struct {
	path  string // slash-separated, relative to the export folder
	size  int64
	mtime time.Time
}

// errFolderMissing wraps a failure to read the export folder itself.
var errFolderMissing = errors.New("the export folder cannot be read")

// errFolderEmpty is an export folder that suddenly holds none of the documents sent from
// it: far more likely a network share that did not mount than an office that deleted its
// archive, so nothing is forgotten.
var errFolderEmpty = errors.New("the export folder is empty, though documents were sent from it before; " +
	"if it is on a network share, the share may not be connected. Nothing is removed from Dropbox, " +
	"and sending resumes when the documents are back")

// unreadable is a file or folder a scan could not read.
type unreadable struct {
	path string
	dir  bool
	err  error
}

// walked is one thing a walk found: a regular file, or (bad set) a file or folder it
// could not read.
type walked struct {
	file localFile
	bad  *unreadable
}

func (w walked) path() string {
	if w.bad != nil {
		return w.bad.path
	}
	return w.file.path
}

// walk hands yield the regular, not ignored files under sub ("" or "." for the whole
// folder), and what it could not read, in the store's order of paths (as bytes: "a.pdf"
// before "a/b.pdf", which filepath.WalkDir's order of names does not give), so that they
// are merged with the records as they come, and neither is ever held whole. Links are not
// followed, so a link loop cannot trap the scan. Only the export folder itself failing is
// an error.
func walk(ctx context.Context, root, sub string, extra []string, yield func(walked)) error {
	folder := root
	root = osPath(root) // names Windows would otherwise read as devices or trim
	whole := sub == "" || sub == "."
	rel := ""
	if !whole {
		rel = sub
	}
	start := filepath.Join(root, filepath.FromSlash(rel))
	info, err := os.Lstat(start)
	var entries []fs.DirEntry
	if err == nil && info.IsDir() {
		entries, err = readDir(start)
	} else if err == nil && whole {
		err = fmt.Errorf("%s is not a folder", start)
	}
	switch {
	case err != nil && whole:
		return fmt.Errorf("%w: %s: %w", errFolderMissing, folder, err)
	case errors.Is(err, fs.ErrNotExist):
		return nil // the subfolder went away since it was reported
	case err != nil:
		yield(walked{bad: &unreadable{path: sub, dir: true, err: err}})
		return nil
	case info.IsDir():
		return walker{ctx: ctx, extra: extra, yield: yield}.dir(start, rel, entries)
	case info.Mode().IsRegular():
		yield(walked{file: localFile{path: sub, size: info.Size(), mtime: info.ModTime()}})
	}
	return nil // a link or a device: left alone
}

// walker walks one tree for walk.
type walker struct {
	ctx   context.Context
	extra []string
	yield func(walked)
}

// dir walks the folder at full (rel from the export folder, "" for it), whose entries are
// read.
func (w walker) dir(full, rel string, entries []fs.DirEntry) error {
	infos := statFiles(entries)
	for i, d := range entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if watcher.Ignored(name, w.extra) {
			continue
		}
		p, path := filepath.Join(full, name), name
		if rel != "" {
			path = rel + "/" + name
		}
		var found walked
		switch {
		case d.IsDir():
			sub, err := readDir(p)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				continue // gone since its folder was read
			case err != nil:
				found = walked{bad: &unreadable{path: path, dir: true, err: err}}
			default:
				if err := w.dir(p, path, sub); err != nil {
					return err
				}
				continue
			}
		case !d.Type().IsRegular():
			continue // links and devices are left alone
		default:
			switch st := infos[i]; {
			case errors.Is(st.err, fs.ErrNotExist):
				continue
			case st.err != nil:
				found = walked{bad: &unreadable{path: path, err: st.err}}
			default:
				found = walked{file: localFile{path: path, size: st.size, mtime: st.mtime}}
			}
		}
		w.yield(found)
	}
	return nil
}

// fileStat is what a walk needs of a file's stat.
type fileStat struct {
	size  int64
	mtime time.Time
	err   error
}

// statFiles stats the regular files among entries. A stat is a system call, and at
// 100,000 files the walk's stats were most of a restart: a large folder's are split over
// the cores, while the order of what the walk hands on stays the entries'.
func statFiles(entries []fs.DirEntry) []fileStat {
	out := make([]fileStat, len(entries))
	stat := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if d := entries[i]; d.Type().IsRegular() {
				info, err := d.Info()
				if err != nil {
					out[i].err = err
				} else {
					out[i] = fileStat{size: info.Size(), mtime: info.ModTime()}
				}
			}
		}
	}
	parts := runtime.GOMAXPROCS(0)
	if len(entries) < 256 || parts == 1 {
		stat(0, len(entries))
		return out
	}
	var wg sync.WaitGroup
	per := (len(entries) + parts - 1) / parts
	for lo := 0; lo < len(entries); lo += per {
		wg.Go(func() { stat(lo, min(lo+per, len(entries))) })
	}
	wg.Wait()
	return out
}

// readDir reads a folder's entries in the store's order of the paths they lead to: a
// folder's name compares as if it ended with "/", so "a.pdf" comes before folder "a" and
// everything in it, and "a0.pdf" after.
func readDir(full string) ([]fs.DirEntry, error) {
	entries, err := openshared.ReadDir(full)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return comparePaths(a.Name(), a.IsDir(), b.Name(), b.IsDir()) })
	return entries, nil
}

// comparePaths orders two names of one folder as the paths below them compare: a folder's
// name as if followed by "/".
func comparePaths(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	next := func(s string, dir bool) int {
		switch {
		case len(s) > n:
			return int(s[n])
		case dir:
			return '/'
		}
		return -1
	}
	return next(a, aDir) - next(b, bDir)
}

// roots turns the paths a watcher reported into the subtrees to rescan: nil (everything)
// when "." is among them, else each path once, without those inside another.
func roots(paths []string) []string {
	sorted := slices.Clone(paths)
	slices.Sort(sorted) // a folder before what lies inside it
	kept := map[string]bool{}
	var out []string
	for _, p := range sorted {
		if p == "." || p == "" {
			return nil
		}
		inside := false
		for i := strings.IndexByte(p, '/'); i >= 0 && !inside; i = next(p, i) {
			inside = kept[p[:i]]
		}
		if !inside && !kept[p] {
			kept[p] = true
			out = append(out, p)
		}
	}
	return out
}

// next is the index of the '/' after the one at i in p, or -1.
func next(p string, i int) int {
	j := strings.IndexByte(p[i+1:], '/')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// under reports whether rel lies in one of subs (nil is everything).
func under(rel string, subs []string) bool {
	if subs == nil {
		return true
	}
	for _, sub := range subs {
		if rel == sub || strings.HasPrefix(rel, sub+"/") {
			return true
		}
	}
	return false
}

// known is what a scan needs of a record: how its file looked when it was last handled.
type known struct {
	path   string
	size   int64
	mtime  int64 // Unix nanoseconds
	failed bool  // not in Dropbox, for a reason recorded
	local  bool  // the reason is here: the file could not be read
	sent   bool  // in Dropbox
}

func knownOf(path string, rec store.FileRecord) known {
	return known{path: path, size: rec.Size, mtime: rec.ModTime, failed: rec.Failure != "", local: rec.Local, sent: rec.RemotePath != ""}
}

// found is what a scan found against the records.
type found struct {
	changed []localFile  // new or changed: to be sent
	gone    []string     // records whose file is gone
	bad     []unreadable // what could not be read
	files   int          // regular files found
	sent    bool         // some record says its file is in Dropbox
}

// merge compares what a walk of one subtree finds (take, as it comes) with the subtree's
// records (next, in the same order), which decide: which files need sending (new or
// changed; on a walk of the whole folder also those that could not be read before, and with
// retry every file not in Dropbox), and which records belong to files that are gone.
// Records under a folder that could not be read are kept: its files are not known to be
// gone.
type merge struct {
	next         func() (known, bool)
	rec          known // the next record not yet compared, if more
	more         bool
	whole, retry bool
	hidden       []string // folders that could not be read
	found
}

func newMerge(next func() (known, bool), whole, retry bool) *merge {
	m := &merge{next: next, whole: whole, retry: retry}
	m.advance()
	return m
}

func (m *merge) advance() {
	m.rec, m.more = m.next()
	m.sent = m.sent || m.more && m.rec.sent
}

// take compares one thing the walk found.
func (m *merge) take(w walked) {
	p := w.path()
	for m.more && m.rec.path < p {
		m.unmatched()
	}
	matched := m.more && m.rec.path == p
	rec := m.rec
	if matched {
		m.advance()
	}
	if w.bad != nil {
		m.bad = append(m.bad, *w.bad) // its record, if any, is kept
		if w.bad.dir {
			m.hidden = append(m.hidden, p)
		}
		return
	}
	m.files++
	f := w.file
	again := matched && rec.failed && (m.retry || rec.local && m.whole)
	if !matched || rec.size != f.size || rec.mtime != f.mtime.UnixNano() || again {
		m.changed = append(m.changed, f)
	}
}

// unmatched settles the next record, which the walk did not find: its file is gone,
// unless it lies in a folder that could not be read.
func (m *merge) unmatched() {
	if m.hidden == nil || !under(m.rec.path, m.hidden) {
		m.gone = append(m.gone, m.rec.path)
	}
	m.advance()
}

// finish settles the records past the walk's last find and returns what the merge found.
func (m *merge) finish() found {
	for m.more {
		m.unmatched()
	}
	return m.found
}

// recordChunk is how many records the reader hands over at a time.
const recordChunk = 1024

// errRecordsStopped: the reader of records was stopped before it was done.
var errRecordsStopped = errors.New("reading records stopped")

// readRecords reads sub's records (recordsUnder) in a goroutine of its own, beside the walk:
// the walk waits on the disk, the reading on decoding, and on two cores they take the time
// of one. next returns them in path order, a chunk of them in memory at a time; stop ends
// the reading if it is not done and returns its error.
func (r *runner) readRecords(sub string) (next func() (known, bool), stop func() error) {
	chunks := make(chan []known, 4)
	quit := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(chunks)
		chunk := make([]known, 0, recordChunk)
		hand := func() bool {
			select {
			case chunks <- chunk:
				chunk = make([]known, 0, recordChunk)
				return true
			case <-quit:
				return false
			}
		}
		err := r.guard("record reader", func() error {
			return r.recordsUnder(sub, func(k known) error {
				if chunk = append(chunk, k); len(chunk) == recordChunk && !hand() {
					return errRecordsStopped
				}
				return nil
			})
		})
		if err == nil && len(chunk) > 0 {
			hand()
		}
		errc <- err
	}()
	var cur []known
	next = func() (known, bool) {
		for len(cur) == 0 {
			c, ok := <-chunks
			if !ok {
				return known{}, false
			}
			cur = c
		}
		k := cur[0]
		cur = cur[1:]
		return k, true
	}
	stop = func() error {
		close(quit)
		for range chunks {
		}
		if err := <-errc; !errors.Is(err, errRecordsStopped) {
			return err
		}
		return nil
	}
	return next, stop
}
