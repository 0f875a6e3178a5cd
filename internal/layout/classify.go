package layout

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// ErrNotRegular is returned by Classify for a directory, link or device.
var ErrNotRegular = errors.New("not a regular file")

// Result is the classification of one file by ClassifyDir.
type Result struct {
	File
	// Err is set when the file or its UBL sibling could not be read; Doc
	// is then empty. The file is not "other": the caller should retry
	// later rather than upload it to a folder it may have to leave.
	Err error
}

// Classify classifies the regular file name (slash-separated, relative to
// the root of fsys, as for fs.Stat) and returns its Document.
//
// Metadata comes from, in order: the file itself if it is a UBL .xml file;
// else the UBL file beside it with the same base name and extension .xml or
// .XML; else the words and dates of its file name; else its modification
// time. A file name that says "aankoopfactuur" (or its fr/en words) turns a
// UBL invoice into a purchase invoice whose counterparty is the supplier.
// Malformed, hostile or non-UBL XML counts as no UBL at all.
//
// The error is for I/O only (the file unreadable, or not a regular file);
// content never causes one, nor does a sibling that cannot be read. Classify is safe for concurrent
// use and keeps no state: to classify a whole folder, ClassifyDir reads the
// folder once and each UBL file once.
func Classify(fsys fs.FS, name string) (Document, error) {
	// Lstat, as ClassifyDir sees links in its listing: a link is never
	// followed out of the export folder.
	info, err := fs.Lstat(fsys, name)
	if err != nil {
		return Document{}, fmt.Errorf("classify %s: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return Document{}, fmt.Errorf("classify %s: %w", name, ErrNotRegular)
	}
	base := path.Base(name)
	var own, sibling *ublInfo
	if isXMLName(base) {
		if own, err = readUBL(fsys, name); err != nil {
			return Document{}, fmt.Errorf("classify %s: %w", name, err)
		}
	} else {
		stem := path.Join(path.Dir(name), stemOf(base))
		for _, ext := range []string{".xml", ".XML"} {
			si, err := fs.Lstat(fsys, stem+ext)
			if err != nil || !si.Mode().IsRegular() {
				// As in ClassifyDir, only a regular file is a sibling. One that cannot
				// be looked at (no permission, a name too long for the system) counts
				// as none: the PDF is still classified by its name and sent, and the
				// XML is reported on its own.
				continue
			}
			u, err := readUBL(fsys, stem+ext)
			if err != nil {
				continue
			}
			sibling = u
			break
		}
	}
	doc := decide(base, own, sibling)
	if needsModTime(doc) {
		doc = withModTime(doc, info.ModTime())
	}
	return doc, nil
}

// ClassifyDir classifies the regular files directly inside dir (not in its
// subfolders), leaving out those Ignored reports, and returns them sorted by
// name. It reads the directory once, parses each .xml file at most once
// (a PDF and its UBL sibling share the work), and stats a file only when its
// date must come from the modification time.
//
// It gives the same Documents as Classify on each file, except on a
// case-sensitive file system where a sibling's extension has mixed case
// (".Xml"): ClassifyDir finds it, Classify only tries ".xml" and ".XML".
//
// The returned error is for dir itself or a cancelled ctx; a file that cannot
// be read has its own Result.Err.
func ClassifyDir(ctx context.Context, fsys fs.FS, dir string) ([]Result, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("classify folder %s: %w", dir, err)
	}
	return classifyEntries(ctx, fsys, dir, entries)
}

// classifyEntries classifies the regular, not ignored entries of dir, as
// listed by fs.ReadDir (sorted by name).
func classifyEntries(ctx context.Context, fsys fs.FS, dir string, entries []fs.DirEntry) ([]Result, error) {
	// siblings maps a stem to the .xml file that documents it, preferring
	// ".xml", then ".XML", then other spellings in name order.
	siblings := make(map[string]string)
	rank := func(name string) int {
		switch path.Ext(name) {
		case ".xml":
			return 0
		case ".XML":
			return 1
		}
		return 2
	}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !isXMLName(n) || Ignored(n) {
			continue
		}
		stem := stemOf(n)
		if old, ok := siblings[stem]; !ok || rank(n) < rank(old) {
			siblings[stem] = n
		}
	}

	type parsed struct {
		info *ublInfo
		err  error
	}
	cache := make(map[string]parsed)
	ubl := func(name string) (*ublInfo, error) {
		if p, ok := cache[name]; ok {
			return p.info, p.err
		}
		u, err := readUBL(fsys, path.Join(dir, name))
		cache[name] = parsed{u, err}
		return u, err
	}

	results := make([]Result, 0, len(entries))
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := e.Name()
		if !e.Type().IsRegular() || Ignored(n) {
			continue
		}
		r := Result{File: File{Path: path.Join(dir, n)}}
		var own, sibling *ublInfo
		var err error
		if isXMLName(n) {
			own, err = ubl(n)
		} else if s, ok := siblings[stemOf(n)]; ok {
			sibling, err = ubl(s)
			if err != nil {
				err = fmt.Errorf("sibling: %w", err)
			}
		}
		if err == nil {
			r.Doc = decide(n, own, sibling)
			if needsModTime(r.Doc) {
				var info fs.FileInfo
				if info, err = e.Info(); err == nil {
					r.Doc = withModTime(r.Doc, info.ModTime())
				}
			}
		}
		if err != nil {
			r.Doc = Document{}
			r.Err = fmt.Errorf("classify %s: %w", r.Path, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// readUBL reads name as UBL. It returns nil and no error for a file that is
// not usable UBL, and an error only when the file cannot be read.
func readUBL(fsys fs.FS, name string) (*ublInfo, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	u, err := parseUBL(f)
	if errors.Is(err, errNotUBL) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// decide combines what is known about one file into a Document. It is pure.
// own is the file's own UBL content, sibling that of its .xml sibling; either
// may be nil. The date may be left for withModTime.
func decide(base string, own, sibling *ublInfo) Document {
	name := parseName(base)
	var doc Document
	u, src := own, SourceUBL
	if u == nil {
		u, src = sibling, SourceSiblingUBL
	}
	if u != nil {
		doc.Type, doc.TypeSource = u.Type, src
		doc.IssueDate, doc.DateSource = u.IssueDate, src
		doc.Customer = u.Customer
		// UBL cannot say which side we are on: a received invoice looks
		// like a sent one. The file name can.
		if name.HasType && name.Type == PurchaseInvoice && (u.Type == Invoice || u.Type == Prepayment) {
			doc.Type, doc.TypeSource = PurchaseInvoice, SourceFileName
			doc.Customer = u.Supplier
		}
		if doc.Customer != "" {
			doc.CustomerSource = src
		}
		if u.Number != "" {
			doc.Number, doc.NumberSource = u.Number, src
		}
		return doc
	}
	if name.HasType {
		doc.Type, doc.TypeSource = name.Type, SourceFileName
	}
	if !name.Date.IsZero() {
		doc.IssueDate, doc.DateSource, doc.DateYearOnly = name.Date, SourceFileName, name.YearOnly
	}
	return doc
}

// needsModTime reports whether decide left (part of) the date to the
// modification time.
func needsModTime(doc Document) bool {
	return doc.IssueDate.IsZero() || doc.DateYearOnly
}

// withModTime completes doc's date from the modification time mtime, taking
// the calendar date in mtime's own location (the local zone for os files).
func withModTime(doc Document, mtime time.Time) Document {
	y, m, d := mtime.Date()
	switch {
	case doc.IssueDate.IsZero():
		doc.IssueDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		doc.DateSource = SourceModTime
		doc.DateYearOnly = false
	case doc.DateYearOnly && doc.IssueDate.Year() == y:
		doc.IssueDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return doc
}

func isXMLName(name string) bool {
	return strings.EqualFold(path.Ext(name), ".xml") && len(name) > len(".xml")
}

// stemOf returns name without its last extension; a leading dot does not
// start an extension.
func stemOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}
