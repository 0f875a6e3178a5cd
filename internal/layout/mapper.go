package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Layout is the mapping configuration of one Dropbox connection.
// The zero Layout is valid except for Company: year-type structure, Dutch
// folder names, no accountant mode.
type Layout struct {
	Structure Structure
	// Language of the {type} folders and of the "unknown" folder. Persist
	// it with the connection so that paths never move on their own.
	Language Language
	// Company is {company}: the connection's company name. In accountant
	// mode it is used only for files directly in the export folder.
	Company string
	// Accountant mode: each top-level subfolder of the export folder is a
	// client company and becomes {company} for every file below it, at any
	// depth. Files directly in the export folder belong to Company, as if
	// the accountant's own documents, so nothing is left out.
	Accountant bool
}

// ErrNoCompany is returned by Validate for a blank company name.
var ErrNoCompany = errors.New("the company name is empty")

// Validate reports a configuration the wizard must not save: a blank
// company name or an unknown language. Map itself never fails: it maps a
// blank company to "_".
func (l Layout) Validate() error {
	if strings.TrimSpace(l.Company) == "" {
		return ErrNoCompany
	}
	if l.Language != "" {
		if _, err := ParseLanguage(string(l.Language)); err != nil {
			return err
		}
	}
	return nil
}

// Mapping is where one local file goes.
type Mapping struct {
	File
	// Remote is the Dropbox path, relative to the app folder: it starts
	// with "/" and uses "/" between segments, and passes ValidPath.
	Remote string
	// Suffixed is set when Remote carries a " (hash)" suffix because
	// another local file maps to the same path.
	Suffixed bool
}

// CompanyFolder returns the sanitized {company} of the file at the local
// path p: the first segment of every path Map returns for it.
func (l Layout) CompanyFolder(p string) string {
	return SanitizeSegment(l.companyOf(p))
}

func (l Layout) companyOf(p string) string {
	if l.Accountant {
		if i := strings.IndexByte(p, '/'); i > 0 {
			return p[:i]
		}
	}
	return l.Company
}

// Map returns the Dropbox path of f, without looking at other files: two
// files may get the same path. Use MapAll to map a set of files safely.
// Map is pure and deterministic.
func (l Layout) Map(f File) string {
	return l.folder(f) + "/" + SanitizeFileName(path.Base(f.Path))
}

// folder returns the folders of f's path, from "/" up to the file name.
func (l Layout) folder(f File) string {
	lang := l.Language.index()
	var b strings.Builder
	var seg strings.Builder
	for i, parts := range l.Structure.segments() {
		seg.Reset()
		for _, p := range parts {
			seg.WriteString(l.value(p, f, lang))
		}
		b.WriteByte('/')
		if i == 0 {
			b.WriteString(l.CompanyFolder(f.Path))
		} else {
			b.WriteString(SanitizeSegment(seg.String()))
		}
	}
	return b.String()
}

// value is the text of one template part for f.
func (l Layout) value(p part, f File, lang int) string {
	d := f.Doc.IssueDate
	unknown := unknownNames[lang]
	switch p.ph {
	case phNone:
		return p.lit
	case phCompany:
		return l.companyOf(f.Path)
	case phType:
		return folderNames[clampType(f.Doc.Type)][lang]
	case phCustomer:
		if strings.TrimSpace(f.Doc.Customer) == "" {
			return unknown
		}
		return f.Doc.Customer
	}
	if d.IsZero() {
		return unknown
	}
	switch p.ph {
	case phYear:
		return fmt.Sprintf("%04d", d.Year())
	case phQuarter:
		return "Q" + strconv.Itoa((int(d.Month())+2)/3)
	case phMonth:
		return fmt.Sprintf("%02d", int(d.Month()))
	}
	return ""
}

func clampType(t Type) Type {
	if t < 0 || int(t) >= len(folderNames) {
		return Other
	}
	return t
}

// MapAll maps a set of files, such as every file of the export folder, and
// keeps them all: when files map to the same path as Dropbox sees it
// (ignoring case, see FoldKey) the one with the smallest local path (byte
// order) keeps the plain name and each other one gets " (h)" before its
// extension, h being the first 8 hex digits of the SHA-256 of its local
// path (longer if even that collides). The result is in the order of files.
//
// Because the suffix depends only on the file's own local path, adding or
// removing a file never changes the path of a file it does not collide
// with. Adding a colliding file can take the plain name from an existing
// one if its local path sorts first; MapAllKeeping avoids that.
//
// Local paths must be unique. MapAll is pure and deterministic.
func (l Layout) MapAll(files []File) []Mapping {
	return l.MapAllKeeping(files, nil)
}

// MapAllKeeping is MapAll for a caller that remembers where files went:
// previous maps a local path to its earlier Remote. A file keeps its
// previous Remote as long as that is still one of its possible paths (its
// plain path or one of its suffixed ones, under its current metadata) and
// no other file kept it first, so a newcomer cannot push an uploaded file
// to another name. A file whose metadata changed simply moves.
func (l Layout) MapAllKeeping(files []File, previous map[string]string) []Mapping {
	out := make([]Mapping, len(files))
	order := make([]int, len(files))
	for i, f := range files {
		out[i].File = f
		out[i].Remote = l.Map(f)
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return files[order[a]].Path < files[order[b]].Path })

	taken := make(map[string]bool, len(files))
	done := make([]bool, len(files))
	claim := func(i int, remote string, suffixed bool) bool {
		k := FoldKey(remote)
		if taken[k] {
			return false
		}
		taken[k] = true
		done[i] = true
		out[i].Remote, out[i].Suffixed = remote, suffixed
		return true
	}

	// Earlier choices first, then plain names, then suffixes: a plain name
	// never loses to a suffixed one.
	if len(previous) > 0 {
		for _, i := range order {
			prev, ok := previous[files[i].Path]
			if !ok {
				continue
			}
			if prev == out[i].Remote {
				claim(i, prev, false)
				continue
			}
			for n := minHashDigits; n <= sha256.Size*2; n += 4 {
				if prev == suffixed(out[i].Remote, files[i].Path, n, 0) {
					claim(i, prev, true)
					break
				}
			}
		}
	}
	for _, i := range order {
		if !done[i] {
			claim(i, out[i].Remote, false)
		}
	}
	for _, i := range order {
		if done[i] {
			continue
		}
		plain := out[i].Remote
		for n, c := minHashDigits, 0; ; {
			if claim(i, suffixed(plain, files[i].Path, n, c), true) {
				break
			}
			// Only identical local paths (a caller bug) get past 64 digits.
			if n < sha256.Size*2 {
				n += 4
			} else {
				c++
			}
		}
	}
	return out
}

// Resolve places one more file beside files already placed, as the sync engine does
// when a single file appears: its plain path when no other file holds it, else the first
// free suffixed path, the same name MapAllKeeping gives a newcomer. taken reports whether
// another file holds a path, by FoldKey.
func (l Layout) Resolve(f File, taken func(key string) bool) (remote string, isSuffixed bool) {
	plain := l.Map(f)
	if !taken(FoldKey(plain)) {
		return plain, false
	}
	for n, c := minHashDigits, 0; ; {
		if p := suffixed(plain, f.Path, n, c); !taken(FoldKey(p)) {
			return p, true
		}
		if n < sha256.Size*2 {
			n += 4
		} else {
			c++
		}
	}
}

// minHashDigits is the usual length of a distinguishing suffix: 32 bits
// make an accidental clash between two colliding files negligible.
const minHashDigits = 8

// suffixed returns the plain path with " (h)" before the extension of its
// file name, h being the first n hex digits of the SHA-256 of local, and
// "-c" after them when c > 0.
func suffixed(plain, local string, n, c int) string {
	i := strings.LastIndexByte(plain, '/')
	dir, name := plain[:i+1], plain[i+1:]
	sum := sha256.Sum256([]byte(local))
	h := hex.EncodeToString(sum[:])[:n]
	if c > 0 {
		h += "-" + strconv.Itoa(c)
	}
	stem, ext := splitExt(name)
	return dir + fitName(stem, ext, " ("+h+")")
}

// FoldKey returns a key equal for two paths exactly when Dropbox would see
// them as the same path. Dropbox treats the NFC and NFD spellings of a name
// as one (macOS and some shares write NFD, Windows NFC) and ignores case
// beyond ASCII, so the key is the NFC form with each character replaced by
// the smallest member of its Unicode simple case-folding orbit (the
// equivalence of strings.EqualFold): "Factuur.PDF", "factuur.pdf", and
// "café.pdf" in NFC and in NFD share keys, so two local files that Dropbox
// would see as one both get a path of their own.
func FoldKey(p string) string {
	ascii := true
	for i := 0; i < len(p); i++ {
		if p[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(p) // the smallest of {a, A} is A
	}
	var b strings.Builder
	b.Grow(len(p))
	for _, r := range norm.NFC.String(p) {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < m {
				m = f
			}
		}
		b.WriteRune(m)
	}
	// Folding can leave a sequence that composes further (a folded base before a
	// combining mark): normalize once more so equal paths get equal keys.
	return norm.NFC.String(b.String())
}
