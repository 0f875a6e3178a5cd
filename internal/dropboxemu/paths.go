package dropboxemu

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The path patterns of the public API spec (files.stone). A path that fails its pattern is a
// 400 from the argument validator, before the route runs.
var (
	patReadPath      = regexp.MustCompile(`^(?s:(/.*|id:.*)|(rev:[0-9a-f]{9,})|(ns:[0-9]+(/.*)?))$`)
	patListPath      = regexp.MustCompile(`^(?s:(/.*)?|id:.*|(ns:[0-9]+(/.*)?))$`)
	patWritePath     = regexp.MustCompile(`^(?s:(/.*)|(ns:[0-9]+(/.*)?))$`)
	patWritePathOrID = regexp.MustCompile(`^(?s:(/.*)|(ns:[0-9]+(/.*)?)|(id:.*))$`)
)

// maxNameBytes is Dropbox's limit on one path component.
const maxNameBytes = 255

// pathProblem says why a syntactically valid path cannot be used.
type pathProblem int

const (
	pathOK pathProblem = iota
	// pathMalformed: the path itself is wrong (empty components, "..", trailing slash or
	// whitespace, invalid UTF-8, characters Dropbox cannot store, names that are too long).
	pathMalformed
	// pathDisallowed: a valid path whose name Dropbox refuses to create (trailing space or
	// dot, or one of the names Dropbox ignores such as desktop.ini).
	pathDisallowed
)

// ignoredNames are names the Dropbox clients never sync and the API refuses to create.
var ignoredNames = map[string]bool{
	"desktop.ini": true, "thumbs.db": true, ".ds_store": true, "icon\r": true,
	".dropbox": true, ".dropbox.attr": true,
}

// splitPath checks an absolute path ("" is the root) and returns its components. forWrite
// adds the checks that only apply to names being created.
func splitPath(p string, forWrite bool) ([]string, pathProblem) {
	if p == "" {
		return nil, pathOK
	}
	if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || !utf8.ValidString(p) {
		return nil, pathMalformed
	}
	if last, _ := utf8.DecodeLastRuneInString(p); isSpace(last) {
		return nil, pathMalformed
	}
	parts := strings.Split(p[1:], "/")
	problem := pathOK
	for _, name := range parts {
		if name == "" || name == "." || name == ".." || len(name) > maxNameBytes {
			return nil, pathMalformed
		}
		for _, r := range name {
			if r == 0 || r == '\\' || r == 0x7f || r > 0xffff {
				return nil, pathMalformed
			}
		}
		if forWrite {
			// Any trailing whitespace, not only a space: a folder "a\n" created as an
			// ancestor could never be named again, as a path ending in it is malformed.
			last, _ := utf8.DecodeLastRuneInString(name)
			if isSpace(last) || strings.HasSuffix(name, ".") || ignoredNames[strings.ToLower(name)] {
				problem = pathDisallowed
			}
		}
	}
	return parts, problem
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// lowerPath is the key Dropbox compares paths by, also sent as path_lower: Dropbox treats the
// NFC and NFD spellings of a name as one path (macOS writes NFD, Windows and Linux NFC) and
// ignores case beyond ASCII, so "Café.pdf" in either form and "CAFÉ.PDF" are one file. The
// key is the NFC form with every rune replaced by its Unicode simple case folding, so "ß"
// and "ss" stay two names (full folding would merge them; what Dropbox does there is
// unconfirmed) and so do "ı" and "i".
func lowerPath(p string) string {
	ascii := true
	for i := 0; i < len(p); i++ {
		if p[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(p)
	}
	return norm.NFC.String(strings.Map(simpleFold, norm.NFC.String(p)))
}

// simpleFold maps r to the lower-case member of its simple case-folding orbit (K, k and the
// Kelvin sign all become k; ς, σ and Σ become σ). A rune whose lower(upper(r)) lies outside
// its orbit has no simple folding (ı, İ) and is kept.
func simpleFold(r rune) rune {
	c := unicode.ToLower(unicode.ToUpper(r))
	if c == r {
		return r
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f == c {
			return c
		}
	}
	return r
}

// parentOf returns the parent of an absolute lower- or display-case path ("" for top level).
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return ""
	}
	return p[:i]
}

// baseName returns the last component of an absolute path.
func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }
