package layout

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzSegment proves that sanitizing any string gives a valid segment, and
// that sanitizing is idempotent (a sanitized name maps to itself, so paths
// are stable when the engine re-maps what it uploaded).
func FuzzSegment(f *testing.F) {
	for _, s := range []string{
		"", ".", "..", "../..", "/", `\`, " ", "CON", "con.pdf", "COM¹.txt", "desktop.ini", "Icon\r",
		".DS_Store", "a. . .", "😀", "\xff\xfe", "a\x00b", strings.Repeat("é", 200) + ".pdf",
		strings.Repeat("a", 254) + " .pdf", "x." + strings.Repeat("y", 300), "\u00a0\u3000", "Factuur F2026-0042.pdf",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, file := range []bool{false, true} {
			got := sanitize(s, file)
			if err := ValidSegment(got); err != nil {
				t.Fatalf("sanitize(%q, %v) = %q: %v", s, file, got, err)
			}
			if again := sanitize(got, file); again != got {
				t.Fatalf("sanitize not idempotent: %q -> %q -> %q", s, got, again)
			}
		}
	})
}

// FuzzMap proves that whatever a file name, customer, company folder or
// template contains, every path is valid for Dropbox, has the template's
// depth, and starts with the sanitized company folder.
func FuzzMap(f *testing.F) {
	type seed struct {
		local, customer, company, template string
		accountant                         bool
		typ, year, month                   int
	}
	for _, s := range []seed{
		{"F2026-0042.pdf", "Acme NV", "Ons Bedrijf", "year-type", false, 1, 2026, 3},
		{"../../etc/passwd", "../..", "..", "{company}/{customer}/{year}", true, 2, 2026, 12},
		{"Klant/../../x.pdf", "/", "/", "{company}/{customer}-{type}", true, 0, 1990, 1},
		{"CON.pdf", "NUL", "AUX", "{company}/{customer}", false, 3, 2100, 6},
		{"😀😀.pdf", "😀", "😀", "type-year", false, 4, 2000, 7},
		{strings.Repeat("x", 300) + ".pdf", strings.Repeat("é", 300), strings.Repeat("c", 300), "{company}/{customer}{customer}{customer}", false, 5, 2026, 3},
		{"a. .", " . ", " ", "{company}/{month}.{customer}", false, 6, 2026, 3},
		{"desktop.ini", "Thumbs.db", ".dropbox", "{company}/{customer}", false, 7, 2026, 3},
		{"x\x00y\\z", "a\r\nb", "c\x7f", "/{company}/{year}/{quarter}/{file}", true, 8, 2026, 3},
	} {
		f.Add(s.local, s.customer, s.company, s.template, s.accountant, s.typ, s.year, s.month)
	}
	f.Fuzz(func(t *testing.T, local, customer, company, template string, accountant bool, typ, year, month int) {
		st, err := ParseStructure(template)
		if err != nil {
			st = Structure{}
		}
		l := Layout{Structure: st, Company: company, Accountant: accountant, Language: []Language{Dutch, French, English}[uint(typ)%3]}
		doc := Document{Type: Type(typ % 12), Customer: customer}
		if year != 0 {
			doc.IssueDate = time.Date(year%3000, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
		}
		files := []File{{local, doc}, {strings.ToUpper(local), doc}, {local + "x", doc}}
		wantDepth := len(st.segments()) + 1
		for _, m := range l.MapAll(files) {
			if err := ValidPath(m.Remote); err != nil {
				t.Fatalf("%+v: %v", m, err)
			}
			segs := strings.Split(m.Remote[1:], "/")
			if len(segs) != wantDepth {
				t.Fatalf("%q has %d segments, want %d", m.Remote, len(segs), wantDepth)
			}
			if segs[0] != l.CompanyFolder(m.Path) {
				t.Fatalf("%q left the company folder %q", m.Remote, l.CompanyFolder(m.Path))
			}
		}
		checkUnique(t, l.MapAll(files))
	})
}

// FuzzParseUBL proves that no input makes the UBL reader panic, loop or
// return a half-filled result.
func FuzzParseUBL(f *testing.F) {
	f.Add([]byte(ubl{id: "F1", date: "2026-03-15", customer: "Acme", code: "380"}.String()))
	f.Add([]byte(ubl{root: "CreditNote", id: "C1", date: "2026-03-15", noPrefix: true}.String()))
	f.Add([]byte(billionLaughs))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><Invoice xmlns="` + nsInvoice + `"/>`))
	f.Add([]byte("\xef\xbb\xbf<a>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := parseUBL(bytes.NewReader(b))
		if err != nil {
			if info != (ublInfo{}) {
				t.Fatalf("error %v with a result %+v", err, info)
			}
			return
		}
		if info.Number == "" || info.IssueDate.IsZero() || !utf8.ValidString(info.Customer) {
			t.Fatalf("accepted without ID or IssueDate: %+v", info)
		}
	})
}

// FuzzParseName proves that any file name gives a sane type and date.
func FuzzParseName(f *testing.F) {
	for _, s := range []string{"Factuur F2026-0042.pdf", "15-03-2026", "20260315", "note de crédit", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info := parseName(s)
		if !info.HasType && info.Type != Other {
			t.Fatalf("type %v without HasType", info.Type)
		}
		if !info.Date.IsZero() && (info.Date.Year() < minYear || info.Date.Year() > maxYear) {
			t.Fatalf("date %v out of range", info.Date)
		}
	})
}
