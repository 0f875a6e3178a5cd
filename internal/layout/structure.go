package layout

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The preset names accepted by ParseStructure.
const (
	PresetYear     = "year"      // /{company}/{year}/{file}
	PresetYearType = "year-type" // /{company}/{year}/{type}/{file}
	PresetTypeYear = "type-year" // /{company}/{type}/{year}/{file}
)

var presets = map[string]string{
	PresetYear:     "/{company}/{year}/{file}",
	PresetYearType: "/{company}/{year}/{type}/{file}",
	PresetTypeYear: "/{company}/{type}/{year}/{file}",
}

// placeholder is one of the values a template can use.
type placeholder int

const (
	phNone placeholder = iota // a literal part
	phCompany
	phYear
	phQuarter
	phMonth
	phType
	phCustomer
	phFile
)

var placeholderNames = map[string]placeholder{
	"company": phCompany, "year": phYear, "quarter": phQuarter,
	"month": phMonth, "type": phType, "customer": phCustomer, "file": phFile,
}

var placeholderText = [...]string{
	phCompany: "{company}", phYear: "{year}", phQuarter: "{quarter}",
	phMonth: "{month}", phType: "{type}", phCustomer: "{customer}", phFile: "{file}",
}

// part is a literal or a placeholder within one segment.
type part struct {
	lit string
	ph  placeholder
}

// Structure is a folder structure: the folders a file goes into below the
// app folder, ending in the file's own name. Make one with ParseStructure.
// The zero Structure is the year-type preset, the product's default.
// A Structure is immutable and safe for concurrent use.
type Structure struct {
	preset string   // the preset name, or "" for a custom template
	segs   [][]part // folder segments, the first being {company}; the file is implied
}

// Limits on templates, generous for any real use; they bound the work and
// the path length.
const (
	maxTemplateBytes    = 512
	maxTemplateSegments = 8
)

// The reasons a template is refused. A *StructureError wraps exactly one of
// them, so the GUI can test with errors.Is and show its own translation.
var (
	ErrEmptyStructure     = errors.New("the folder structure is empty")
	ErrUnknownPlaceholder = errors.New("unknown placeholder")
	ErrUnbalancedBraces   = errors.New("unbalanced braces")
	ErrCompanyNotFirst    = errors.New("the first folder must be {company}")
	ErrEmptySegment       = errors.New("empty folder name")
	ErrDotSegment         = errors.New(`folder name "." or ".."`)
	ErrFileNotLast        = errors.New("{file} must be the whole last part")
	ErrInvalidCharacter   = errors.New("character not allowed in a folder name")
	ErrInvalidLiteral     = errors.New("folder name not allowed")
	ErrStructureTooLong   = errors.New("folder structure too long")
	ErrTooManySegments    = errors.New("too many folders")
)

// StructureError explains why ParseStructure refused a template, in plain
// English. Err is one of the Err* reasons above; Detail is the offending
// placeholder, character or folder name, for a translated message.
type StructureError struct {
	Template string
	Err      error
	Detail   string
}

// Error reads, for example:
// folder structure "{company}/{yeer}": unknown placeholder {yeer}; use {company}, {year}, ...
func (e *StructureError) Error() string {
	msg := e.Err.Error()
	switch e.Err {
	case ErrUnknownPlaceholder:
		msg = fmt.Sprintf("unknown placeholder %s; use {company}, {year}, {quarter}, {month}, {type}, {customer} or {file}", e.Detail)
	case ErrEmptyStructure:
		msg += `; use year, year-type, type-year or a template such as {company}/{year}/{type}`
	case ErrCompanyNotFirst:
		msg += fmt.Sprintf(", not %q", e.Detail)
	case ErrInvalidCharacter:
		msg = fmt.Sprintf("the character %s is not allowed in a folder name", e.Detail)
	case ErrUnbalancedBraces:
		msg += fmt.Sprintf(" in %q", e.Detail)
	case ErrDotSegment:
		msg = fmt.Sprintf("the folder name %q is not allowed", e.Detail)
	case ErrInvalidLiteral:
		msg = fmt.Sprintf("the folder name %q is not allowed: a folder name may not start with a space, "+
			"end with a space or a dot, be a reserved name such as CON or desktop.ini, or be longer than 255 bytes", e.Detail)
	case ErrEmptySegment:
		msg += ` (two "/" in a row)`
	case ErrFileNotLast, ErrStructureTooLong, ErrTooManySegments:
		if e.Detail != "" {
			msg += ": " + e.Detail
		}
	}
	return fmt.Sprintf("folder structure %q: %s", e.Template, msg)
}

// Unwrap returns the reason, one of the Err* values.
func (e *StructureError) Unwrap() error { return e.Err }

// ParseStructure accepts a preset name (year, year-type, type-year) or a
// template such as "/{company}/{year}/{month}/{type}/{file}".
//
// A template is "/"-separated folder names; the leading "/", a trailing "/"
// and a final "{file}" are optional, since the file name always comes last.
// A folder name mixes literal text and placeholders: {company}, {year}
// (2026), {quarter} (Q1), {month} (03; write {year}-{month} for 2026-03),
// {type} (the localized type folder), {customer}.
//
// It is refused, with a *StructureError, when: it is empty; a placeholder
// is unknown or braces do not pair up; the first folder is not exactly
// {company} (each company must stay in its own folder, whatever the other
// folders contain); a folder name is empty, "." or ".."; {file} is not the
// whole last part; literal text has a character Dropbox or Windows refuses
// (\ < > : " | ? *, control characters, emoji), or a folder name starts with
// a space or ends with a space or dot; a folder is only a reserved name
// such as CON; or it is longer than 512 bytes or 8 folders.
func ParseStructure(s string) (Structure, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if t, ok := presets[name]; ok {
		st, err := parseTemplate(t)
		if err != nil {
			panic("layout: bad preset " + name + ": " + err.Error())
		}
		st.preset = name
		return st, nil
	}
	return parseTemplate(strings.TrimSpace(s))
}

// MustParseStructure is ParseStructure for constants; it panics on error.
func MustParseStructure(s string) Structure {
	st, err := ParseStructure(s)
	if err != nil {
		panic(err)
	}
	return st
}

func parseTemplate(t string) (Structure, error) {
	fail := func(err error, detail string) (Structure, error) {
		return Structure{}, &StructureError{Template: t, Err: err, Detail: detail}
	}
	if t == "" {
		return fail(ErrEmptyStructure, "")
	}
	if len(t) > maxTemplateBytes {
		return fail(ErrStructureTooLong, fmt.Sprintf("%d bytes, at most %d", len(t), maxTemplateBytes))
	}
	if !utf8.ValidString(t) {
		return fail(ErrInvalidCharacter, "(invalid UTF-8)")
	}
	body := strings.TrimPrefix(t, "/")
	body = strings.TrimSuffix(body, "/")
	if body == "" {
		return fail(ErrEmptyStructure, "")
	}
	raw := strings.Split(body, "/")
	var segs [][]part
	for i, seg := range raw {
		if seg == "" {
			return fail(ErrEmptySegment, "")
		}
		parts, err := parseSegment(seg)
		if err != nil {
			var se *StructureError
			if errors.As(err, &se) {
				se.Template = t
			}
			return Structure{}, err
		}
		hasFile := false
		for _, p := range parts {
			hasFile = hasFile || p.ph == phFile
		}
		if hasFile {
			if i != len(raw)-1 || len(parts) != 1 {
				return fail(ErrFileNotLast, seg)
			}
			continue // the file name is implied
		}
		segs = append(segs, parts)
	}
	if len(segs) == 0 || len(segs[0]) != 1 || segs[0][0].ph != phCompany {
		return fail(ErrCompanyNotFirst, raw[0])
	}
	if len(segs) > maxTemplateSegments {
		return fail(ErrTooManySegments, fmt.Sprintf("%d, at most %d", len(segs), maxTemplateSegments))
	}
	return Structure{segs: segs}, nil
}

// parseSegment splits one folder name of a template into parts and checks
// its literal text.
func parseSegment(seg string) ([]part, error) {
	fail := func(err error, detail string) ([]part, error) {
		return nil, &StructureError{Err: err, Detail: detail}
	}
	if seg == "." || seg == ".." {
		return fail(ErrDotSegment, seg)
	}
	var parts []part
	rest := seg
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		cl := strings.IndexByte(rest, '}')
		switch {
		case open < 0 && cl < 0:
			parts = append(parts, part{lit: rest})
			rest = ""
		case cl >= 0 && (open < 0 || cl < open):
			return fail(ErrUnbalancedBraces, seg)
		default: // a '{' comes first
			if open > 0 {
				parts = append(parts, part{lit: rest[:open]})
			}
			end := strings.IndexByte(rest[open+1:], '}')
			if end < 0 {
				return fail(ErrUnbalancedBraces, seg)
			}
			inner := rest[open+1 : open+1+end]
			if strings.IndexByte(inner, '{') >= 0 {
				return fail(ErrUnbalancedBraces, seg)
			}
			ph, ok := placeholderNames[strings.ToLower(strings.TrimSpace(inner))]
			if !ok {
				return fail(ErrUnknownPlaceholder, "{"+inner+"}")
			}
			parts = append(parts, part{ph: ph})
			rest = rest[open+1+end+1:]
		}
	}
	for _, p := range parts {
		if p.ph != phNone {
			continue
		}
		for _, r := range p.lit {
			if badRune(r) || r == '\t' || r == '\n' || r == '\r' {
				return fail(ErrInvalidCharacter, fmt.Sprintf("%q", r))
			}
		}
	}
	first, last := parts[0], parts[len(parts)-1]
	if first.ph == phNone && strings.TrimLeftFunc(first.lit, unicode.IsSpace) != first.lit {
		return fail(ErrInvalidLiteral, seg)
	}
	if last.ph == phNone && strings.TrimRightFunc(last.lit, func(r rune) bool { return r == '.' || unicode.IsSpace(r) }) != last.lit {
		return fail(ErrInvalidLiteral, seg)
	}
	if len(parts) == 1 && first.ph == phNone {
		if err := ValidSegment(first.lit); err != nil {
			return fail(ErrInvalidLiteral, seg)
		}
	}
	return parts, nil
}

// String returns the preset name, or the canonical template of a custom
// structure, such as "/{company}/{year}/{month}/{file}". ParseStructure
// accepts it back.
func (s Structure) String() string {
	if s.segs == nil {
		return PresetYearType
	}
	if s.preset != "" {
		return s.preset
	}
	return s.Template()
}

// Template returns the canonical template, for presets too.
func (s Structure) Template() string {
	var b strings.Builder
	for _, seg := range s.segments() {
		b.WriteByte('/')
		for _, p := range seg {
			if p.ph == phNone {
				b.WriteString(p.lit)
			} else {
				b.WriteString(placeholderText[p.ph])
			}
		}
	}
	b.WriteString("/{file}")
	return b.String()
}

// MarshalText stores a Structure as its String.
func (s Structure) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a stored Structure with ParseStructure.
func (s *Structure) UnmarshalText(b []byte) error {
	st, err := ParseStructure(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

var defaultSegments = func() [][]part {
	st, err := parseTemplate(presets[PresetYearType])
	if err != nil {
		panic(err)
	}
	return st.segs
}()

func (s Structure) segments() [][]part {
	if s.segs == nil {
		return defaultSegments
	}
	return s.segs
}
