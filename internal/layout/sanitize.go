package layout

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSegmentBytes is the longest path segment we produce. Dropbox allows 255
// characters; 255 bytes also fits every local file system a user may sync to.
const maxSegmentBytes = 255

// maxExtBytes is the longest extension kept whole when a file name is
// shortened; a longer "extension" is just part of the name.
const maxExtBytes = 16

// replacement stands in for every character we cannot keep.
const replacement = '_'

// SanitizeSegment makes s a valid folder name for Dropbox and for Windows,
// macOS and Linux clients of the same Dropbox. It never returns "", "." or
// "..", and never a name containing "/" or "\", so no input can climb out of
// the folder the segment is placed in.
//
// It replaces with "_": invalid UTF-8, control characters (tabs and line
// breaks become spaces), characters outside the Basic Multilingual Plane
// (most emoji, which Dropbox refuses), and / \ < > : " | ? * (refused by
// Windows). It trims white space at both ends and dots at the end, cuts the
// result to 255 bytes at a character boundary, appends "_" to a name Windows
// reserves (CON, NUL, COM1, LPT1, also as CON.pdf), prefixes "_" to a name
// Dropbox refuses (desktop.ini, thumbs.db, .ds_store, .dropbox,
// .dropbox.attr), and turns an empty result into "_".
func SanitizeSegment(s string) string {
	return sanitize(s, false)
}

// SanitizeFileName is SanitizeSegment for a file name: when it must shorten
// the name, it keeps the extension (up to 16 bytes) and cuts the stem.
func SanitizeFileName(name string) string {
	return sanitize(name, true)
}

func sanitize(s string, file bool) string {
	s = cleanRunes(s)
	s = trimSegment(s)
	if file {
		stem, ext := splitExt(s)
		s = fitName(stem, ext, "")
	} else {
		s = trimSegment(truncateUTF8(s, maxSegmentBytes))
	}
	if s == "" {
		return string(replacement)
	}
	return makeSafeName(s)
}

// cleanRunes replaces every character we cannot keep.
func cleanRunes(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7F || c >= utf8.RuneSelf || strings.IndexByte(forbiddenASCII, c) >= 0 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			// Not UTF-8: a name from an old share or program in Windows-1252 (Latin-1),
			// "Factuur \xe9t\xe9.pdf". Read the byte as that, so the name in Dropbox is
			// what the office sees, the same one every time.
			b.WriteRune(fromCP1252(s[i-1]))
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			b.WriteByte(' ')
		case badRune(r):
			b.WriteRune(replacement)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fromCP1252 is the character byte c stands for in Windows-1252 (ISO-8859-1 with
// printable characters where it has C1 controls); c is 0x80 or more. A byte that
// Windows-1252 leaves unassigned becomes the replacement.
func fromCP1252(c byte) rune {
	r := rune(c)
	if c >= 0x80 && c < 0xA0 {
		r = cp1252High[c-0x80]
	}
	if badRune(r) {
		return replacement
	}
	return r
}

// forbiddenASCII are printable characters refused by Dropbox or Windows.
const forbiddenASCII = `/\<>:"|?*`

// badRune reports whether r may not appear in a segment at all.
func badRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7F, r >= 0x80 && r < 0xA0: // C0, DEL, C1 controls
		return true
	case r > 0xFFFF: // outside the BMP: refused by Dropbox
		return true
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return true
	case r < utf8.RuneSelf:
		return strings.IndexByte(forbiddenASCII, byte(r)) >= 0
	}
	return false
}

// trimSegment trims white space at both ends and dots at the end: Dropbox
// refuses trailing spaces and Windows drops trailing dots and spaces, which
// would turn "a." into "a" on one computer only. Trimming trailing dots also
// rules out "." and "..".
func trimSegment(s string) string {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	return strings.TrimRightFunc(s, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
}

// splitExt splits a sanitized name into stem and extension. A leading dot
// does not start an extension, and a long or spaced "extension" is kept in
// the stem.
func splitExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i > maxExtBytes || strings.ContainsRune(name[i:], ' ') {
		return name, ""
	}
	return name[:i], name[i:]
}

// fitName joins stem, suffix and ext, cutting the stem so the result fits in
// maxSegmentBytes. The stem is cut at a character boundary and re-trimmed.
func fitName(stem, ext, suffix string) string {
	room := maxSegmentBytes - len(ext) - len(suffix)
	if len(stem) > room {
		stem = truncateUTF8(stem, room)
		stem = strings.TrimRightFunc(stem, unicode.IsSpace)
	}
	if stem == "" && ext != "" {
		stem = string(replacement)
	}
	return trimSegment(stem + suffix + ext)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// makeSafeName renames names that Windows reserves or Dropbox refuses.
// The result is at most one byte longer; both kinds of name are short.
func makeSafeName(s string) string {
	if dropboxRefused(s) {
		return string(replacement) + s
	}
	if windowsReserved(s) {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			i = len(s)
		}
		stem := strings.TrimRight(s[:i], " ")
		return stem + string(replacement) + s[i:]
	}
	return s
}

// dropboxRefused reports names Dropbox will not store (disallowed_name).
func dropboxRefused(s string) bool {
	switch strings.ToLower(s) {
	case "desktop.ini", "thumbs.db", ".ds_store", "icon\r", ".dropbox", ".dropbox.attr":
		return true
	}
	return false
}

// windowsReserved reports device names Windows reserves, with or without an
// extension and with trailing spaces before it ("CON .pdf").
func windowsReserved(s string) bool {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToUpper(strings.TrimRight(s, " "))
	switch s {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(s) >= 4 && (s[:3] == "COM" || s[:3] == "LPT") {
		switch s[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// ErrInvalidPath is wrapped by the errors of ValidPath and ValidSegment.
var ErrInvalidPath = errors.New("invalid Dropbox path")

// ValidPath checks that p is a path this package may produce: it starts
// with "/", and every segment passes ValidSegment. It is the contract the
// mapping functions are tested (and fuzzed) against.
func ValidPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w %q: does not start with /", ErrInvalidPath, p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if err := ValidSegment(seg); err != nil {
			return fmt.Errorf("path %q: %w", p, err)
		}
	}
	return nil
}

// ValidSegment checks one path segment against the rules SanitizeSegment
// enforces.
func ValidSegment(s string) error {
	bad := func(why string) error { return fmt.Errorf("%w: segment %q %s", ErrInvalidPath, s, why) }
	switch {
	case s == "":
		return bad("is empty")
	case s == "." || s == "..":
		return bad("is a dot segment")
	case len(s) > maxSegmentBytes:
		return bad(fmt.Sprintf("is %d bytes long", len(s)))
	case !utf8.ValidString(s):
		return bad("is not valid UTF-8")
	case trimSegment(s) != s:
		return bad("has white space at an end or a trailing dot")
	case dropboxRefused(s):
		return bad("is a name Dropbox refuses")
	case windowsReserved(s):
		return bad("is a name Windows reserves")
	}
	for _, r := range s {
		if badRune(r) {
			return bad(fmt.Sprintf("contains %U", r))
		}
	}
	return nil
}
