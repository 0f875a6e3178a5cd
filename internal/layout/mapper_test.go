package layout

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func invoice(y, m, d int, customer string) Document {
	return Document{Type: Invoice, TypeSource: SourceUBL, IssueDate: day(y, m, d), DateSource: SourceUBL,
		Customer: customer, CustomerSource: SourceUBL}
}

func TestMap(t *testing.T) {
	doc := invoice(2026, 3, 15, "Acme NV")
	cn := Document{Type: CreditNote, IssueDate: day(2025, 11, 2), Customer: "Beta"}
	tests := []struct {
		name   string
		layout Layout
		file   File
		want   string
	}{
		{"year", Layout{Structure: MustParseStructure("year"), Company: "Ons Bedrijf"}, File{"F1.pdf", doc}, "/Ons Bedrijf/2026/F1.pdf"},
		{"year-type nl", Layout{Structure: MustParseStructure("year-type"), Company: "Ons Bedrijf"}, File{"F1.pdf", doc}, "/Ons Bedrijf/2026/Facturen/F1.pdf"},
		{"zero structure is year-type", Layout{Company: "Ons Bedrijf"}, File{"F1.pdf", doc}, "/Ons Bedrijf/2026/Facturen/F1.pdf"},
		{"type-year fr", Layout{Structure: MustParseStructure("type-year"), Language: French, Company: "Notre Société"}, File{"C1.pdf", cn}, "/Notre Société/Notes de crédit/2025/C1.pdf"},
		{"year-type en", Layout{Language: English, Company: "Us"}, File{"C1.pdf", cn}, "/Us/2025/Credit notes/C1.pdf"},
		{"nl credit note", Layout{Company: "Wij"}, File{"C1.pdf", cn}, "/Wij/2025/Creditnota's/C1.pdf"},
		{"subfolders do not count", Layout{Company: "Wij"}, File{"export/2019/oud/F1.pdf", doc}, "/Wij/2026/Facturen/F1.pdf"},
		{"accountant", Layout{Company: "Kantoor", Accountant: true}, File{"Klant BV/2026/F1.pdf", doc}, "/Klant BV/2026/Facturen/F1.pdf"},
		{"accountant top-level file", Layout{Company: "Kantoor", Accountant: true}, File{"F1.pdf", doc}, "/Kantoor/2026/Facturen/F1.pdf"},
		{"accountant hostile folder", Layout{Company: "Kantoor", Accountant: true}, File{"../x/F1.pdf", doc}, "/_/2026/Facturen/F1.pdf"},
		{"custom month quarter", Layout{Structure: MustParseStructure("{company}/{year}-{month}/{quarter}"), Company: "C"}, File{"a.pdf", doc}, "/C/2026-03/Q1/a.pdf"},
		{"custom Q4", Layout{Structure: MustParseStructure("{company}/{year}/{quarter}/{month}"), Company: "C"}, File{"a.pdf", cn}, "/C/2025/Q4/11/a.pdf"},
		{"customer", Layout{Structure: MustParseStructure("{company}/{customer}/{year}"), Company: "C"}, File{"a.pdf", doc}, "/C/Acme NV/2026/a.pdf"},
		{"customer escape attempt", Layout{Structure: MustParseStructure("{company}/{customer}"), Company: "C"}, File{"a.pdf", invoice(2026, 1, 1, "../../etc")}, "/C/.._.._etc/a.pdf"},
		{"customer dot dot", Layout{Structure: MustParseStructure("{company}/{customer}"), Company: "C"}, File{"a.pdf", invoice(2026, 1, 1, "..")}, "/C/_/a.pdf"},
		{"customer unknown nl", Layout{Structure: MustParseStructure("{company}/{customer}"), Company: "C"}, File{"a.pdf", invoice(2026, 1, 1, "  ")}, "/C/Onbekend/a.pdf"},
		{"customer unknown fr", Layout{Structure: MustParseStructure("{company}/{customer}"), Language: French, Company: "C"}, File{"a.pdf", invoice(2026, 1, 1, "")}, "/C/Inconnu/a.pdf"},
		{"customer emoji and reserved", Layout{Structure: MustParseStructure("{company}/{customer}"), Company: "C"}, File{"a.pdf", invoice(2026, 1, 1, "nul")}, "/C/nul_/a.pdf"},
		{"customer with literal", Layout{Structure: MustParseStructure("{company}/Klant {customer}"), Company: "C"}, File{"a.pdf", invoice(2026, 1, 1, "X / Y.")}, "/C/Klant X _ Y/a.pdf"},
		{"company needs sanitizing", Layout{Company: " A/B: C. "}, File{"a.pdf", doc}, "/A_B_ C/2026/Facturen/a.pdf"},
		{"blank company", Layout{}, File{"a.pdf", doc}, "/_/2026/Facturen/a.pdf"},
		{"other", Layout{Company: "C"}, File{"scan.pdf", Document{IssueDate: day(2024, 2, 29)}}, "/C/2024/Overige/scan.pdf"},
		{"prepayment with invoices", Layout{Company: "C"}, File{"v.pdf", Document{Type: Prepayment, IssueDate: day(2024, 2, 29)}}, "/C/2024/Facturen/v.pdf"},
		{"no date", Layout{Company: "C"}, File{"v.pdf", Document{Type: Quote}}, "/C/Onbekend/Offertes/v.pdf"},
		{"file CON", Layout{Company: "C"}, File{"CON.pdf", doc}, "/C/2026/Facturen/CON_.pdf"},
		{"file emoji", Layout{Company: "C"}, File{"Factuur 😀.pdf", doc}, "/C/2026/Facturen/Factuur _.pdf"},
		{"file trailing dot", Layout{Company: "C"}, File{"factuur.pdf.", doc}, "/C/2026/Facturen/factuur.pdf"},
		{"file 300 chars", Layout{Company: "C"}, File{strings.Repeat("x", 300) + ".pdf", doc}, "/C/2026/Facturen/" + strings.Repeat("x", 251) + ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.layout.Map(tt.file)
			if got != tt.want {
				t.Errorf("Map = %q, want %q", got, tt.want)
			}
			if err := ValidPath(got); err != nil {
				t.Error(err)
			}
			if first := strings.Split(got, "/")[1]; first != tt.layout.CompanyFolder(tt.file.Path) {
				t.Errorf("first segment %q, CompanyFolder %q", first, tt.layout.CompanyFolder(tt.file.Path))
			}
		})
	}
}

func hash8(local string) string {
	sum := sha256.Sum256([]byte(local))
	return hex.EncodeToString(sum[:])[:8]
}

func remotes(ms []Mapping) map[string]string {
	m := make(map[string]string)
	for _, x := range ms {
		m[x.Path] = x.Remote
	}
	return m
}

func TestMapAllCollisions(t *testing.T) {
	l := Layout{Structure: MustParseStructure("year"), Company: "C"}
	doc := invoice(2026, 1, 2, "")
	files := []File{
		{"b/Factuur.pdf", doc},
		{"a/factuur.pdf", doc},
		{"c/FACTUUR.PDF", doc},
		{"d/other.pdf", doc},
		{"e/a:b.pdf", doc}, // sanitizes onto the next one
		{"f/a_b.pdf", doc},
	}
	got := l.MapAll(files)
	want := map[string]string{
		"a/factuur.pdf": "/C/2026/factuur.pdf",
		"b/Factuur.pdf": "/C/2026/Factuur (" + hash8("b/Factuur.pdf") + ").pdf",
		"c/FACTUUR.PDF": "/C/2026/FACTUUR (" + hash8("c/FACTUUR.PDF") + ").PDF",
		"d/other.pdf":   "/C/2026/other.pdf",
		"e/a:b.pdf":     "/C/2026/a_b.pdf",
		"f/a_b.pdf":     "/C/2026/a_b (" + hash8("f/a_b.pdf") + ").pdf",
	}
	for i, m := range got {
		if m.Path != files[i].Path {
			t.Fatalf("MapAll changed the order: %d is %s", i, m.Path)
		}
		if m.Remote != want[m.Path] {
			t.Errorf("%s -> %q, want %q", m.Path, m.Remote, want[m.Path])
		}
		if m.Suffixed != strings.Contains(m.Remote, " (") {
			t.Errorf("%s: Suffixed = %v", m.Path, m.Suffixed)
		}
	}
	checkUnique(t, got)

	t.Run("an unrelated file changes nothing", func(t *testing.T) {
		more := append(append([]File{}, files...), File{"0/zzz.pdf", doc}, File{"0/Unrelated.pdf", doc})
		after := remotes(l.MapAll(more))
		for p, r := range want {
			if after[p] != r {
				t.Errorf("%s moved from %q to %q", p, r, after[p])
			}
		}
	})
	t.Run("a colliding file that sorts first takes the plain name", func(t *testing.T) {
		more := append(append([]File{}, files...), File{"0/Factuur.pdf", doc})
		after := remotes(l.MapAll(more))
		if after["0/Factuur.pdf"] != "/C/2026/Factuur.pdf" {
			t.Errorf("newcomer -> %q", after["0/Factuur.pdf"])
		}
		if after["a/factuur.pdf"] != "/C/2026/factuur ("+hash8("a/factuur.pdf")+").pdf" {
			t.Errorf("old holder -> %q", after["a/factuur.pdf"])
		}
		if after["b/Factuur.pdf"] != want["b/Factuur.pdf"] {
			t.Errorf("suffixed file moved: %q", after["b/Factuur.pdf"])
		}
	})
	t.Run("MapAllKeeping keeps earlier choices", func(t *testing.T) {
		more := append(append([]File{}, files...), File{"0/Factuur.pdf", doc})
		got := l.MapAllKeeping(more, want)
		after := remotes(got)
		for p, r := range want {
			if after[p] != r {
				t.Errorf("%s moved from %q to %q", p, r, after[p])
			}
		}
		if after["0/Factuur.pdf"] != "/C/2026/Factuur ("+hash8("0/Factuur.pdf")+").pdf" {
			t.Errorf("newcomer -> %q", after["0/Factuur.pdf"])
		}
		checkUnique(t, got)
	})
	t.Run("MapAllKeeping lets changed files move", func(t *testing.T) {
		prev := map[string]string{"d/other.pdf": "/C/2025/other.pdf", "a/factuur.pdf": "/C/2026/somewhere else.pdf"}
		after := remotes(l.MapAllKeeping(files, prev))
		if after["d/other.pdf"] != want["d/other.pdf"] || after["a/factuur.pdf"] != want["a/factuur.pdf"] {
			t.Errorf("stale previous paths were kept: %v", after)
		}
	})
	t.Run("duplicate local paths still get distinct paths", func(t *testing.T) {
		dup := []File{{"x.pdf", doc}, {"x.pdf", doc}, {"x.pdf", doc}}
		checkUnique(t, l.MapAll(dup))
	})
	t.Run("long names keep the suffix within 255 bytes", func(t *testing.T) {
		long := strings.Repeat("é", 200) + ".pdf"
		ms := l.MapAll([]File{{"a/" + long, doc}, {"b/" + long, doc}})
		checkUnique(t, ms)
		for _, m := range ms {
			if err := ValidPath(m.Remote); err != nil {
				t.Error(err)
			}
		}
		if !strings.HasSuffix(ms[1].Remote, " ("+hash8("b/"+long)+").pdf") {
			t.Errorf("suffix lost: %q", ms[1].Remote)
		}
	})
	t.Run("unicode case", func(t *testing.T) {
		ms := l.MapAll([]File{{"a/ÉTÉ.pdf", doc}, {"b/été.pdf", doc}, {"c/ΣΊΣΥΦΟΣ.pdf", doc}, {"d/σίσυφος.pdf", doc}, {"e/σίσυφοσ.pdf", doc}})
		checkUnique(t, ms)
		if !ms[1].Suffixed || !ms[3].Suffixed || !ms[4].Suffixed {
			t.Errorf("case variants not detected: %+v", ms)
		}
	})
}

func checkUnique(t *testing.T, ms []Mapping) {
	t.Helper()
	seen := make(map[string]string)
	for _, m := range ms {
		k := FoldKey(m.Remote)
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s both map to %q", other, m.Path, m.Remote)
		}
		seen[k] = m.Path
		if err := ValidPath(m.Remote); err != nil {
			t.Error(err)
		}
	}
}

func TestFoldKey(t *testing.T) {
	same := [][2]string{
		{"/A/Factuur.PDF", "/a/factuur.pdf"},
		{"/Été", "/éTÉ"},
		{"/K", "/\u212a"}, // Kelvin sign
		{"/ς", "/Σ"},
		{"/ß", "/ẞ"},
		{"/caf\u00e9.pdf", "/cafe\u0301.pdf"}, // NFC and NFD
		{"/CAF\u00c9.PDF", "/cafe\u0301.pdf"},
	}
	for _, p := range same {
		if FoldKey(p[0]) != FoldKey(p[1]) {
			t.Errorf("FoldKey(%q) != FoldKey(%q)", p[0], p[1])
		}
	}
	if FoldKey("/a/b") == FoldKey("/a/c") || FoldKey("/é") == FoldKey("/e") {
		t.Error("FoldKey merges different paths")
	}
}

func TestLayoutValidate(t *testing.T) {
	if err := (Layout{Company: " "}).Validate(); err != ErrNoCompany {
		t.Errorf("blank company: %v", err)
	}
	if err := (Layout{Company: "C", Language: "de"}).Validate(); err == nil {
		t.Error("language de accepted")
	}
	if err := (Layout{Company: "C", Language: French}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestMapGolden pins a table of mappings under every preset and language in
// testdata/map.golden; run with -update after an intended change.
func TestMapGolden(t *testing.T) {
	files := []File{
		{"F2026-0042.pdf", invoice(2026, 3, 15, "Acme NV")},
		{"F2026-0042.xml", invoice(2026, 3, 15, "Acme NV")},
		{"C2026-0001.pdf", Document{Type: CreditNote, IssueDate: day(2026, 4, 1), Customer: "Beta BV"}},
		{"Offerte 12.pdf", Document{Type: Quote, IssueDate: day(2025, 12, 31)}},
		{"Bestelbon 3.pdf", Document{Type: OrderForm, IssueDate: day(2025, 7, 1)}},
		{"Leveringsbon 4.pdf", Document{Type: DeliveryNote, IssueDate: day(2025, 7, 2)}},
		{"PF-1.pdf", Document{Type: ProForma, IssueDate: day(2025, 7, 3)}},
		{"Aankoop 9.pdf", Document{Type: PurchaseInvoice, IssueDate: day(2025, 7, 4), Customer: "Leverancier"}},
		{"V-1.pdf", Document{Type: Prepayment, IssueDate: day(2025, 7, 5)}},
		{"scan.pdf", Document{IssueDate: day(2024, 1, 1)}},
		{"sub/F2026-0042.PDF", invoice(2026, 3, 15, "Acme NV")},
	}
	var b strings.Builder
	for _, st := range []string{"year", "year-type", "type-year", "{company}/{year}/{quarter}/{customer}"} {
		for _, lang := range []Language{Dutch, French, English} {
			for _, acc := range []bool{false, true} {
				l := Layout{Structure: MustParseStructure(st), Language: lang, Company: "Ons Bedrijf", Accountant: acc}
				fmt.Fprintf(&b, "# %s %s accountant=%v\n", st, lang, acc)
				for _, m := range l.MapAll(files) {
					fmt.Fprintf(&b, "%s\t%s\n", m.Path, m.Remote)
				}
			}
		}
	}
	golden := filepath.Join("testdata", "map.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("mappings differ from %s (run go test -update if intended):\n%s", golden, b.String())
	}
}

func TestResolveMatchesMapAllKeeping(t *testing.T) {
	l := Layout{Structure: MustParseStructure(PresetYear), Company: "Acme"}
	doc := Document{Type: Invoice, IssueDate: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}
	old := File{Path: "b/Factuur.pdf", Doc: doc}
	newcomer := File{Path: "a/FACTUUR.pdf", Doc: doc}
	held := map[string]bool{FoldKey(l.Map(old)): true}
	got, suffixed := l.Resolve(newcomer, func(k string) bool { return held[k] })
	want := l.MapAllKeeping([]File{old, newcomer}, map[string]string{old.Path: l.Map(old)})[1]
	if got != want.Remote || !suffixed || !want.Suffixed {
		t.Fatalf("Resolve = %q, MapAllKeeping = %q", got, want.Remote)
	}
	if free, s := l.Resolve(newcomer, func(string) bool { return false }); free != l.Map(newcomer) || s {
		t.Fatalf("free path: %q", free)
	}
}
