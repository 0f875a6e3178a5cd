package service

import "testing"

func TestReportCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"factuur 2026-01-15.pdf", "factuur 2026-01-15.pdf"},
		{"2026/Facturen/F2026-001.pdf", "2026/Facturen/F2026-001.pdf"},
		{"/Acme/2026/Facturen/F2026-001.pdf", "/Acme/2026/Facturen/F2026-001.pdf"},
		{`=HYPERLINK("http://example.com","klik").pdf`, `'=HYPERLINK("http://example.com","klik").pdf`},
		{"+32 factuur.pdf", "'+32 factuur.pdf"},
		{"-korting.pdf", "'-korting.pdf"},
		{"@SUM(A1).pdf", "'@SUM(A1).pdf"},
		{"\tfactuur.pdf", "'\tfactuur.pdf"},
		{"\rfactuur.pdf", "'\rfactuur.pdf"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cell(tt.in); got != tt.want {
			t.Errorf("cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
