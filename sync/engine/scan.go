package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

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

// walk lists the regular, not ignored files under sub ("" or "." for the whole folder).
// Links are not followed, so a link loop cannot trap the scan. An unreadable subfolder is
// skipped (and reported through skipped); only the export folder itself failing is an
// error.
func walk(ctx context.Context, root, sub string, extra []string, skipped func(rel string, err error)) ([]localFile, error) {
	start := filepath.Join(root, filepath.FromSlash(sub))
	var out []localFile
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		rel, relErr := filepath.Rel(root, p)
		if relErr != nil {
			return relErr
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			if p == start {
				return err
			}
			skipped(rel, err)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p != start && watcher.Ignored(d.Name(), extra) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // folders are walked into; links and devices are left alone
		}
		info, err := d.Info()
		if err != nil {
			skipped(rel, err)
			return nil
		}
		out = append(out, localFile{path: rel, size: info.Size(), mtime: info.ModTime()})
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		if sub == "" || sub == "." {
			return nil, fmt.Errorf("%w: %s: %w", errFolderMissing, root, err)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // the subfolder went away since it was reported
		}
	}
	return out, err
}

// under reports whether rel lies in sub ("" or "." is everything).
func under(rel, sub string) bool {
	return sub == "" || sub == "." || rel == sub || strings.HasPrefix(rel, sub+"/")
}

// diff compares a scan with the records: which files need sending (new or changed, except
// those that failed for good and did not change since), and which records belong to files
// that are gone.
func diff(files []localFile, records map[string]store.FileRecord, sub string) (changed []localFile, gone []string) {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		seen[f.path] = true
		rec, ok := records[f.path]
		if ok && rec.Same(f.size, f.mtime) {
			continue
		}
		changed = append(changed, f)
	}
	for p := range records {
		if under(p, sub) && !seen[p] {
			gone = append(gone, p)
		}
	}
	return changed, gone
}
