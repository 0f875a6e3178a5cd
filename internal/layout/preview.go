package layout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"unicode/utf8"
)

// PreviewRow is one line of a preview: a mapped file, or a skipped file or
// folder with the reason.
type PreviewRow struct {
	// Mapping holds the local path and, for a mapped file, its Document
	// and Remote path. A skipped folder's Path ends in "/".
	Mapping
	Skip SkipReason // NotSkipped for a mapped file
	Err  error      // the read error, with SkipUnreadable
}

// PreviewResult is what Preview found.
type PreviewResult struct {
	// Rows is sorted by local path and holds the first mapped files up to
	// the limit, with the skipped ones that sort among them.
	Rows []PreviewRow
	// Mapped and Skipped count the whole folder, not just Rows.
	Mapped, Skipped int
}

// Preview shows where the files of exportDir would go under l: it walks
// the folder, leaves out what Ignored names (reporting it), classifies
// every file, maps them all with MapAll so collisions are resolved as they
// will be, and returns rows sorted by local path up to the limit-th mapped
// file (limit <= 0: all).
//
// It reads the whole folder even for a small limit, since a file's path may
// depend on files that sort after it. The error is for exportDir itself or
// a cancelled ctx; unreadable files and subfolders become skipped rows.
func Preview(ctx context.Context, exportDir string, l Layout, limit int) (PreviewResult, error) {
	info, err := os.Stat(exportDir)
	if err != nil {
		return PreviewResult{}, fmt.Errorf("preview %s: %w", exportDir, err)
	}
	if !info.IsDir() {
		return PreviewResult{}, fmt.Errorf("preview %s: %w", exportDir, errNotDir)
	}
	return PreviewFS(ctx, os.DirFS(exportDir), l, limit)
}

var errNotDir = errors.New("not a folder")

// PreviewFS is Preview over any file system, rooted at the export folder.
func PreviewFS(ctx context.Context, fsys fs.FS, l Layout, limit int) (PreviewResult, error) {
	var (
		files   []File
		skipped []PreviewRow
	)
	skip := func(p string, why SkipReason, err error) {
		skipped = append(skipped, PreviewRow{Mapping: Mapping{File: File{Path: p}}, Skip: why, Err: err})
	}
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			if dir == "." {
				return fmt.Errorf("preview: %w", err)
			}
			skip(dir+"/", SkipUnreadable, err)
			return nil
		}
		results, err := classifyEntries(ctx, fsys, dir, entries)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.Err != nil {
				skip(r.Path, SkipUnreadable, r.Err)
			} else {
				files = append(files, r.File)
			}
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			if why := IgnoreReason(e.Name()); why != NotSkipped {
				if e.IsDir() {
					p += "/"
				}
				skip(p, why, nil)
				continue
			}
			switch {
			case e.IsDir():
				if err := walk(p); err != nil {
					return err
				}
			case !e.Type().IsRegular():
				skip(p, SkipNotRegular, nil)
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return PreviewResult{}, err
	}

	mapped := l.MapAll(files)
	rows := make([]PreviewRow, 0, len(mapped)+len(skipped))
	for _, m := range mapped {
		rows = append(rows, PreviewRow{Mapping: m})
	}
	rows = append(rows, skipped...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Path < rows[j].Path })

	res := PreviewResult{Mapped: len(mapped), Skipped: len(skipped)}
	if limit > 0 && limit < len(mapped) {
		n := 0
		for i, r := range rows {
			if r.Skip == NotSkipped {
				n++
			}
			if n == limit {
				rows = rows[:i+1]
				break
			}
		}
	}
	res.Rows = rows
	return res, nil
}

// WritePreview writes rows as tab-separated lines: local path, type, date
// (YYYY-MM-DD), customer, and the Dropbox path or "skipped: reason". Tabs,
// line breaks and other control characters inside a field are written as
// Go escapes (\t, \n, \x01) so every row stays one line of five fields.
func WritePreview(w io.Writer, rows []PreviewRow) error {
	bw := bufio.NewWriter(w)
	for _, r := range rows {
		typ, date, last := "", "", r.Remote
		if r.Skip == NotSkipped {
			typ = r.Doc.Type.String()
			if !r.Doc.IssueDate.IsZero() {
				date = r.Doc.IssueDate.Format("2006-01-02")
			}
		} else {
			last = "skipped: " + r.Skip.String()
			if r.Err != nil {
				last += ": " + r.Err.Error()
			}
		}
		fields := []string{r.Path, typ, date, r.Doc.Customer, last}
		for i, f := range fields {
			if i > 0 {
				bw.WriteByte('\t')
			}
			bw.WriteString(escapeField(f))
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write preview: %w", err)
	}
	return nil
}

// escapeField keeps a field on one line and free of tabs.
func escapeField(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7F || r == utf8.RuneError }) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7F:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
