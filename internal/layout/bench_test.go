package layout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeBenchCorpus writes n documents: n/2 UBL invoices and credit notes of
// a realistic size (parties, 5 lines) and n/2 PDFs beside them.
func writeBenchCorpus(b *testing.B, dir string, n int) {
	b.Helper()
	pdf := make([]byte, 2048)
	for i := 0; i < n/2; i++ {
		u := ubl{code: "380", id: fmt.Sprintf("F2026-%05d", i), date: fmt.Sprintf("2026-%02d-%02d", i%12+1, i%28+1),
			customer: fmt.Sprintf("Klant %d NV", i%300), supplier: "Ons Bedrijf BV", legal: "Klant NV", lines: 5}
		if i%5 == 0 {
			u.root, u.code = "CreditNote", "381"
		}
		base := filepath.Join(dir, fmt.Sprintf("F2026-%05d", i))
		if err := os.WriteFile(base+".xml", []byte(u.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(base+".pdf", pdf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClassify10k classifies 10,000 documents in one folder (5,000 UBL
// files and 5,000 PDFs with a UBL sibling) with ClassifyDir, as the initial
// full scan does. One op is the whole folder.
func BenchmarkClassify10k(b *testing.B) {
	dir := b.TempDir()
	writeBenchCorpus(b, dir, 10_000)
	fsys := os.DirFS(dir)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := ClassifyDir(context.Background(), fsys, ".")
		if err != nil {
			b.Fatal(err)
		}
		if len(res) != 10_000 || res[1].Doc.DateSource != SourceUBL {
			b.Fatalf("got %d results, %+v", len(res), res[1])
		}
	}
}

// BenchmarkClassifyEach10k is the same folder through Classify, file by
// file, as the watcher would for single changes: each PDF re-reads its
// sibling.
func BenchmarkClassifyEach10k(b *testing.B) {
	dir := b.TempDir()
	writeBenchCorpus(b, dir, 10_000)
	fsys := os.DirFS(dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, e := range entries {
			if _, err := Classify(fsys, e.Name()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMapAll10k maps 10,000 classified files with collision checks.
func BenchmarkMapAll10k(b *testing.B) {
	files := make([]File, 10_000)
	for i := range files {
		files[i] = File{Path: fmt.Sprintf("sub%d/F2026-%05d.pdf", i%3, i/3), Doc: invoice(2026, i%12+1, 1, fmt.Sprintf("Klant %d", i%300))}
	}
	l := Layout{Structure: MustParseStructure("{company}/{year}/{customer}/{type}"), Company: "Ons Bedrijf"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.MapAll(files)
	}
}

// BenchmarkPreview100k previews an accountant's export folder of 100,000 documents (100
// client folders of 500 UBL files and their PDFs) as `onfact-dropbox preview` does:
// classify and map every file. One op is the whole folder.
// Run with: go test -run '^$' -bench Preview100k -benchtime 1x -benchmem ./internal/layout/
func BenchmarkPreview100k(b *testing.B) {
	dir := b.TempDir()
	for i := range 100 {
		sub := filepath.Join(dir, fmt.Sprintf("klant %03d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		writeBenchCorpus(b, sub, 1000)
	}
	l := Layout{Structure: MustParseStructure(PresetYearType), Company: "Acme", Accountant: true}
	b.ResetTimer()
	for range b.N {
		res, err := Preview(context.Background(), dir, l, 0)
		if err != nil {
			b.Fatal(err)
		}
		if res.Mapped != 100_000 {
			b.Fatalf("%d documents mapped, want 100,000", res.Mapped)
		}
	}
}
