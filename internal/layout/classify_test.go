package layout

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/winetest"
)

// fixedMtime is the modification time of every corpus file: noon keeps the
// local calendar date the same in every time zone's test run.
var fixedMtime = time.Date(2025, 6, 7, 12, 0, 0, 0, time.Local)

// writeCorpus creates files (slash paths -> content) under dir with
// fixedMtime. A content of nil creates a sparse 50 MiB file after a UBL
// header.
func writeCorpus(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, fixedMtime, fixedMtime); err != nil {
			t.Fatal(err)
		}
	}
}

// writeSparse writes head and extends the file to size with a hole, so a
// 50 MiB file costs no disk and no memory.
func writeSparse(t testing.TB, p string, head string, size int64) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(head); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fixedMtime, fixedMtime); err != nil {
		t.Fatal(err)
	}
}

// want is the expected classification of one corpus file.
type want struct {
	typ      Type
	date     string // YYYY-MM-DD
	dateSrc  Source
	customer string
	number   string
}

func TestClassifyCorpus(t *testing.T) {
	dir := t.TempDir()
	inv := func(code, id, date, customer string) []byte {
		return []byte(ubl{code: code, id: id, date: date, customer: customer, supplier: "Ons BV", lines: 3}.String())
	}
	cn := func(code, id, date, customer string) []byte {
		return []byte(ubl{root: "CreditNote", code: code, id: id, date: date, customer: customer, lines: 2}.String())
	}
	pdf := []byte("%PDF-1.7\n%fake\n%%EOF\n")
	long := "Factuur 2026-03-15 " + strings.Repeat("é", 116) // 255 bytes with ".pdf", the most Linux allows
	deep := `<?xml version="1.0"?><Invoice xmlns="` + nsInvoice + `">` + strings.Repeat("<a>", 100_000) + strings.Repeat("</a>", 100_000) + `</Invoice>`
	std := ubl{id: "F2026-0042", date: "2026-03-15", customer: "Acme NV"}

	files := map[string][]byte{
		// UBL of each type code, each with its PDF.
		"ubl/380.xml": inv("380", "F2026-0380", "2026-03-15", "Acme NV"), "ubl/380.pdf": pdf,
		"ubl/383.xml": inv("383", "F2026-0383", "2026-01-02", "Acme NV"), "ubl/383.pdf": pdf,
		"ubl/384.xml": inv("384", "F2026-0384", "2026-01-03", "Acme NV"), "ubl/384.pdf": pdf,
		"ubl/386.xml": inv("386", "F2026-0386", "2026-01-04", "Acme NV"), "ubl/386.pdf": pdf,
		"ubl/389.xml": inv("389", "F2026-0389", "2026-01-05", "Acme NV"), "ubl/389.pdf": pdf,
		"ubl/751.xml": inv("751", "F2026-0751", "2026-01-06", "Acme NV"), "ubl/751.pdf": pdf,
		"ubl/325.xml": inv("325", "PF2026-1", "2026-01-07", "Acme NV"), "ubl/325.pdf": pdf,
		"ubl/381.xml": cn("381", "C2026-0381", "2026-02-01", "Beta BV"), "ubl/381.PDF": pdf,
		"ubl/261.xml": cn("261", "C2026-0261", "2026-02-02", "Beta BV"), "ubl/261.pdf": pdf,
		"ubl/396.xml": cn("396", "C2026-0396", "2026-02-03", "Beta BV"), "ubl/396.pdf": pdf,
		"ubl/Upper.XML": inv("380", "F2026-9", "2026-05-05", "Gamma"), "ubl/Upper.pdf": pdf,
		"ubl/Aankoopfactuur 7.xml": inv("380", "INK-7", "2026-03-01", "Ons BV"), "ubl/Aankoopfactuur 7.pdf": pdf,
		// A name that lies: the UBL beside it wins.
		"ubl/Offerte 2020-01-01.xml": inv("380", "F2026-0001", "2026-04-04", "Delta"), "ubl/Offerte 2020-01-01.pdf": pdf,

		// PDFs without UBL: names in nl, fr, en.
		"names/Factuur F2026-0042.pdf":          pdf,
		"names/Creditnota 15-03-2026.pdf":       pdf,
		"names/Offerte.pdf":                     pdf,
		"names/Bestelbon 20260315.pdf":          pdf,
		"names/Leveringsbon 15.03.2026.pdf":     pdf,
		"names/Pro forma 2026-03-15.pdf":        pdf,
		"names/Aankoopfactuur 2026-03-15.pdf":   pdf,
		"names/Facture F2024-0042.pdf":          pdf,
		"names/Note de crédit 2026-03-15.pdf":   pdf,
		"names/Devis 2026-03-15.pdf":            pdf,
		"names/Bon de commande.pdf":             pdf,
		"names/Bon de livraison 2026-03-15.pdf": pdf,
		"names/Facture d'achat 2026-03-15.pdf":  pdf,
		"names/Invoice INV2025-7.pdf":           pdf,
		"names/Credit note.pdf":                 pdf,
		"names/Quote 2026-03-15.pdf":            pdf,
		"names/Delivery note.pdf":               pdf,
		"names/scan.pdf":                        pdf,
		"names/2026-03-15.pdf":                  pdf,

		// Odd names.
		"odd/Factuur 😀 2026-03-15.pdf": pdf,
		"odd/CON.pdf":                  pdf,
		"odd/con.xml":                  inv("380", "F-CON", "2026-07-08", "Con Inc"),
		"odd/" + long + ".pdf":         pdf,
		"odd/factuur 2026-03-15.":      pdf,
		"odd/Offerte.pdf ":             pdf,
		"odd/ Devis ":                  pdf,
		"odd/noext":                    pdf,
		"odd/.hidden.pdf":              pdf,
		"odd/~$lock.xml":               inv("380", "X", "2026-01-01", "X"),

		// Hostile or broken XML: each "other" by mtime, and so is its PDF.
		"bad/billion.xml":   []byte(billionLaughs),
		"bad/billion.pdf":   pdf,
		"bad/deep.xml":      []byte(deep),
		"bad/deep.pdf":      pdf,
		"bad/nonubl.xml":    []byte(`<?xml version="1.0"?><note><to>Tove</to></note>`),
		"bad/nonubl.pdf":    pdf,
		"bad/truncated.xml": []byte(std.String()[:150]),
		"bad/truncated.pdf": pdf,
		"bad/wrongns.xml":   []byte(ubl{ns: "urn:example", id: "1", date: "2026-03-15"}.String()),
		"bad/wrongns.pdf":   pdf,
		"bad/empty.xml":     {},
		"bad/pdf.xml":       pdf,
		// Hostile with a telling name: the name still counts.
		"bad/Factuur 2026-03-15.xml": []byte(billionLaughs),
		"bad/Factuur 2026-03-15.pdf": pdf,
	}
	// Win32 paths cannot make or open the names NTFS treats specially (CON is the console,
	// trailing dots and spaces are stripped), and os.DirFS reads through them. Their
	// classification is the same code everywhere and is checked where they can exist; the
	// engine's Windows tests read such names from an export folder.
	ntfsSpecial := []string{"odd/CON.pdf", "odd/con.xml", "odd/factuur 2026-03-15.", "odd/Offerte.pdf ", "odd/ Devis "}
	if runtime.GOOS == "windows" {
		for _, n := range ntfsSpecial {
			delete(files, n)
		}
	}
	writeCorpus(t, dir, files)
	writeSparse(t, filepath.Join(dir, "bad", "garbage.xml"), `<?xml version="1.0"?><Invoice xmlns="`+nsInvoice+`">`, 50<<20)
	writeCorpus(t, dir, map[string][]byte{"bad/garbage.pdf": pdf})

	mt := "2025-06-07"
	tests := map[string]want{
		"ubl/380.xml":                {Invoice, "2026-03-15", SourceUBL, "Acme NV", "F2026-0380"},
		"ubl/380.pdf":                {Invoice, "2026-03-15", SourceSiblingUBL, "Acme NV", "F2026-0380"},
		"ubl/383.pdf":                {Invoice, "2026-01-02", SourceSiblingUBL, "Acme NV", "F2026-0383"},
		"ubl/384.pdf":                {Invoice, "2026-01-03", SourceSiblingUBL, "Acme NV", "F2026-0384"},
		"ubl/386.xml":                {Prepayment, "2026-01-04", SourceUBL, "Acme NV", "F2026-0386"},
		"ubl/386.pdf":                {Prepayment, "2026-01-04", SourceSiblingUBL, "Acme NV", "F2026-0386"},
		"ubl/389.pdf":                {Invoice, "2026-01-05", SourceSiblingUBL, "Acme NV", "F2026-0389"},
		"ubl/751.pdf":                {Invoice, "2026-01-06", SourceSiblingUBL, "Acme NV", "F2026-0751"},
		"ubl/325.xml":                {ProForma, "2026-01-07", SourceUBL, "Acme NV", "PF2026-1"},
		"ubl/325.pdf":                {ProForma, "2026-01-07", SourceSiblingUBL, "Acme NV", "PF2026-1"},
		"ubl/381.xml":                {CreditNote, "2026-02-01", SourceUBL, "Beta BV", "C2026-0381"},
		"ubl/381.PDF":                {CreditNote, "2026-02-01", SourceSiblingUBL, "Beta BV", "C2026-0381"},
		"ubl/261.pdf":                {CreditNote, "2026-02-02", SourceSiblingUBL, "Beta BV", "C2026-0261"},
		"ubl/396.pdf":                {CreditNote, "2026-02-03", SourceSiblingUBL, "Beta BV", "C2026-0396"},
		"ubl/Upper.XML":              {Invoice, "2026-05-05", SourceUBL, "Gamma", "F2026-9"},
		"ubl/Upper.pdf":              {Invoice, "2026-05-05", SourceSiblingUBL, "Gamma", "F2026-9"},
		"ubl/Aankoopfactuur 7.xml":   {PurchaseInvoice, "2026-03-01", SourceUBL, "Ons BV", "INK-7"},
		"ubl/Aankoopfactuur 7.pdf":   {PurchaseInvoice, "2026-03-01", SourceSiblingUBL, "Ons BV", "INK-7"},
		"ubl/Offerte 2020-01-01.pdf": {Invoice, "2026-04-04", SourceSiblingUBL, "Delta", "F2026-0001"},

		"names/Factuur F2026-0042.pdf":          {Invoice, "2026-01-01", SourceFileName, "", ""}, // mtime is in 2025
		"names/Creditnota 15-03-2026.pdf":       {CreditNote, "2026-03-15", SourceFileName, "", ""},
		"names/Offerte.pdf":                     {Quote, mt, SourceModTime, "", ""},
		"names/Bestelbon 20260315.pdf":          {OrderForm, "2026-03-15", SourceFileName, "", ""},
		"names/Leveringsbon 15.03.2026.pdf":     {DeliveryNote, "2026-03-15", SourceFileName, "", ""},
		"names/Pro forma 2026-03-15.pdf":        {ProForma, "2026-03-15", SourceFileName, "", ""},
		"names/Aankoopfactuur 2026-03-15.pdf":   {PurchaseInvoice, "2026-03-15", SourceFileName, "", ""},
		"names/Facture F2024-0042.pdf":          {Invoice, "2024-01-01", SourceFileName, "", ""},
		"names/Note de crédit 2026-03-15.pdf":   {CreditNote, "2026-03-15", SourceFileName, "", ""},
		"names/Devis 2026-03-15.pdf":            {Quote, "2026-03-15", SourceFileName, "", ""},
		"names/Bon de commande.pdf":             {OrderForm, mt, SourceModTime, "", ""},
		"names/Bon de livraison 2026-03-15.pdf": {DeliveryNote, "2026-03-15", SourceFileName, "", ""},
		"names/Facture d'achat 2026-03-15.pdf":  {PurchaseInvoice, "2026-03-15", SourceFileName, "", ""},
		"names/Invoice INV2025-7.pdf":           {Invoice, "2025-06-07", SourceFileName, "", ""}, // year from the name, day from mtime
		"names/Credit note.pdf":                 {CreditNote, mt, SourceModTime, "", ""},
		"names/Quote 2026-03-15.pdf":            {Quote, "2026-03-15", SourceFileName, "", ""},
		"names/Delivery note.pdf":               {DeliveryNote, mt, SourceModTime, "", ""},
		"names/scan.pdf":                        {Other, mt, SourceModTime, "", ""},
		"names/2026-03-15.pdf":                  {Other, "2026-03-15", SourceFileName, "", ""},

		"odd/Factuur 😀 2026-03-15.pdf": {Invoice, "2026-03-15", SourceFileName, "", ""},
		"odd/CON.pdf":                  {Other, mt, SourceModTime, "", ""},
		"odd/con.xml":                  {Invoice, "2026-07-08", SourceUBL, "Con Inc", "F-CON"},
		"odd/" + long + ".pdf":         {Invoice, "2026-03-15", SourceFileName, "", ""},
		"odd/factuur 2026-03-15.":      {Invoice, "2026-03-15", SourceFileName, "", ""},
		"odd/Offerte.pdf ":             {Quote, mt, SourceModTime, "", ""},
		"odd/ Devis ":                  {Quote, mt, SourceModTime, "", ""},
		"odd/noext":                    {Other, mt, SourceModTime, "", ""},

		"bad/billion.xml":            {Other, mt, SourceModTime, "", ""},
		"bad/billion.pdf":            {Other, mt, SourceModTime, "", ""},
		"bad/deep.xml":               {Other, mt, SourceModTime, "", ""},
		"bad/deep.pdf":               {Other, mt, SourceModTime, "", ""},
		"bad/nonubl.xml":             {Other, mt, SourceModTime, "", ""},
		"bad/nonubl.pdf":             {Other, mt, SourceModTime, "", ""},
		"bad/truncated.xml":          {Other, mt, SourceModTime, "", ""},
		"bad/truncated.pdf":          {Other, mt, SourceModTime, "", ""},
		"bad/wrongns.xml":            {Other, mt, SourceModTime, "", ""},
		"bad/wrongns.pdf":            {Other, mt, SourceModTime, "", ""},
		"bad/empty.xml":              {Other, mt, SourceModTime, "", ""},
		"bad/pdf.xml":                {Other, mt, SourceModTime, "", ""},
		"bad/garbage.xml":            {Other, mt, SourceModTime, "", ""},
		"bad/garbage.pdf":            {Other, mt, SourceModTime, "", ""},
		"bad/Factuur 2026-03-15.xml": {Invoice, "2026-03-15", SourceFileName, "", ""},
		"bad/Factuur 2026-03-15.pdf": {Invoice, "2026-03-15", SourceFileName, "", ""},
	}
	if runtime.GOOS == "windows" {
		for _, n := range ntfsSpecial {
			delete(tests, n)
		}
	}

	fsys := os.DirFS(dir)
	names := make([]string, 0, len(tests))
	for name := range tests {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w := tests[name]
		t.Run(name, func(t *testing.T) {
			doc, err := Classify(fsys, name)
			if err != nil {
				t.Fatalf("Classify: %v", err)
			}
			checkDoc(t, doc, w)
		})
	}

	// ClassifyDir gives the same answers, leaves ignored files out and
	// classifies every other file.
	for _, sub := range []string{"ubl", "names", "odd", "bad"} {
		t.Run("ClassifyDir "+sub, func(t *testing.T) {
			results, err := ClassifyDir(context.Background(), fsys, sub)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range results {
				if r.Err != nil {
					t.Errorf("%s: %v", r.Path, r.Err)
					continue
				}
				got = append(got, r.Path)
				single, err := Classify(fsys, r.Path)
				if err != nil {
					t.Fatal(err)
				}
				if single != r.Doc {
					t.Errorf("%s: ClassifyDir =\n %+v\nClassify =\n %+v", r.Path, r.Doc, single)
				}
			}
			var wantNames []string
			for name := range files {
				if path.Dir(name) == sub && !Ignored(path.Base(name)) {
					wantNames = append(wantNames, name)
				}
			}
			if sub == "bad" {
				wantNames = append(wantNames, "bad/garbage.xml", "bad/garbage.pdf")
			}
			sort.Strings(wantNames)
			if strings.Join(got, "\n") != strings.Join(wantNames, "\n") {
				t.Errorf("ClassifyDir files:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantNames, "\n"))
			}
		})
	}
}

func checkDoc(t *testing.T, doc Document, w want) {
	t.Helper()
	if doc.Type != w.typ || doc.IssueDate.Format(time.DateOnly) != w.date || doc.DateSource != w.dateSrc ||
		doc.Customer != w.customer || doc.Number != w.number {
		t.Errorf("got  %v %s (%v) customer=%q number=%q\nwant %v %s (%v) customer=%q number=%q",
			doc.Type, doc.IssueDate.Format(time.DateOnly), doc.DateSource, doc.Customer, doc.Number,
			w.typ, w.date, w.dateSrc, w.customer, w.number)
	}
}

func TestClassifyErrors(t *testing.T) {
	dir := t.TempDir()
	writeCorpus(t, dir, map[string][]byte{"sub/a.pdf": []byte("x")})
	fsys := os.DirFS(dir)
	if _, err := Classify(fsys, "missing.pdf"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Classify(missing) = %v, want ErrNotExist", err)
	}
	if _, err := Classify(fsys, "sub"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Classify(dir) = %v, want ErrNotRegular", err)
	}
	if _, err := ClassifyDir(context.Background(), fsys, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ClassifyDir(missing) = %v, want ErrNotExist", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ClassifyDir(ctx, fsys, "sub"); !errors.Is(err, context.Canceled) {
		t.Errorf("ClassifyDir(cancelled) = %v, want context.Canceled", err)
	}
}

// TestClassifyLinks checks that links and folders are never siblings nor
// followed, the same way in Classify and ClassifyDir.
func TestClassifyLinks(t *testing.T) {
	dir := t.TempDir()
	xml := []byte(ubl{code: "380", id: "F1", date: "2026-03-15", customer: "Acme"}.String())
	writeCorpus(t, dir, map[string][]byte{
		"real.xml":      xml,
		"linked.pdf":    []byte("%PDF"),
		"dirsib.pdf":    []byte("%PDF"),
		"dirsib.xml/x":  []byte("x"),
		"outside/o.xml": xml,
	})
	winetest.Skip(t, "Wine 8 makes no symbolic link that Windows programs see as one (no reparse point)")
	if err := os.Symlink("real.xml", filepath.Join(dir, "linked.xml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.xml", filepath.Join(dir, "alias.xml")); err != nil {
		t.Fatal(err)
	}
	fsys := os.DirFS(dir)
	for _, name := range []string{"linked.pdf", "dirsib.pdf"} {
		doc, err := Classify(fsys, name)
		if err != nil {
			t.Fatalf("Classify(%s): %v", name, err)
		}
		checkDoc(t, doc, want{Other, "2025-06-07", SourceModTime, "", ""})
	}
	if _, err := Classify(fsys, "alias.xml"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Classify(link) = %v, want ErrNotRegular", err)
	}
	results, err := ClassifyDir(context.Background(), fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, r.Path+"="+r.Doc.Type.String())
	}
	if s := strings.Join(got, " "); s != "dirsib.pdf=other linked.pdf=other real.xml=invoice" {
		t.Errorf("ClassifyDir: %s", s)
	}
}
