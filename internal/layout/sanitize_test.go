package layout

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	long := strings.Repeat("a", 300)
	longE := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name       string
		in         string
		file       bool
		want       string
		wantPrefix string // when want is too long to write: a prefix, and the length 255
	}{
		{"plain", "Acme NV", false, "Acme NV", ""},
		{"empty", "", false, "_", ""},
		{"spaces only", "   ", false, "_", ""},
		{"dot", ".", false, "_", ""},
		{"dot dot", "..", false, "_", ""},
		{"dots", "...", false, "_", ""},
		{"dot dot slash", "../..", false, ".._", ""},
		{"slash", "A/B", false, "A_B", ""},
		{"backslash", `A\B`, false, "A_B", ""},
		{"windows characters", `a<b>c:d"e|f?g*h`, false, "a_b_c_d_e_f_g_h", ""},
		{"control characters", "a\x00b\x01c\x7fd\u0085e", false, "a_b_c_d_e", ""},
		{"line breaks become spaces", "Acme\nNV\tGent", false, "Acme NV Gent", ""},
		{"trailing space and dot", " Acme NV. . ", false, "Acme NV", ""},
		{"non-breaking spaces", "\u00a0Acme\u00a0", false, "Acme", ""},
		{"emoji", "Café 😀 BV", false, "Café _ BV", ""},
		{"invalid UTF-8 is read as Windows-1252", "Caf\xe9 BV \x80 \x81", false, "Café BV € _", ""},
		{"BMP kept", "Ωmega €uro ñ 中文", false, "Ωmega €uro ñ 中文", ""},
		{"reserved CON", "CON", false, "CON_", ""},
		{"reserved con", "con", false, "con_", ""},
		{"reserved COM1", "COM1", false, "COM1_", ""},
		{"reserved LPT9", "lpt9", false, "lpt9_", ""},
		{"reserved COM superscript", "COM¹", false, "COM¹_", ""},
		{"not reserved COM10", "COM10", false, "COM10", ""},
		{"not reserved CONS", "CONS", false, "CONS", ""},
		{"reserved with extension", "CON.pdf", true, "CON_.pdf", ""},
		{"reserved with two extensions", "nul.tar.gz", true, "nul_.tar.gz", ""},
		{"reserved with space", "AUX .pdf", true, "AUX_.pdf", ""},
		{"dropbox desktop.ini", "desktop.ini", true, "_desktop.ini", ""},
		{"dropbox Thumbs.db", "Thumbs.db", true, "_Thumbs.db", ""},
		{"dropbox .DS_Store", ".DS_Store", true, "_.DS_Store", ""},
		{"dropbox .dropbox", ".dropbox", false, "_.dropbox", ""},
		{"dropbox .dropbox.attr", ".dropbox.attr", true, "_.dropbox.attr", ""},
		{"dropbox icon\\r", "Icon\r", true, "Icon", ""},
		{"trailing dot file", "factuur.pdf.", true, "factuur.pdf", ""},
		{"trailing space file", "factuur.pdf ", true, "factuur.pdf", ""},
		{"dot file kept", ".profile", true, ".profile", ""},
		{"300 bytes", long, false, "", strings.Repeat("a", 255)},
		{"300 bytes file keeps extension", long + ".pdf", true, "", strings.Repeat("a", 251) + ".pdf"},
		{"400 bytes of é cut on a boundary", longE + ".pdf", true, "", strings.Repeat("é", 125) + ".pdf"},
		{"long extension is not kept", "a." + long, true, "", "a." + strings.Repeat("a", 253)},
		{"cut exposes a space", strings.Repeat("a", 250) + "     bbbbb.pdf", true, strings.Repeat("a", 250) + ".pdf", ""},
		{"cut segment exposes a dot", strings.Repeat("a", 254) + ".b", false, strings.Repeat("a", 254), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sanitize(tt.in, tt.file)
			if tt.wantPrefix != "" {
				if got != tt.wantPrefix && (len(got) != maxSegmentBytes || !strings.HasPrefix(got, tt.wantPrefix)) {
					t.Errorf("sanitize(%q) = %q (%d bytes), want %q", tt.in, got, len(got), tt.wantPrefix)
				}
			} else if got != tt.want {
				t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err := ValidSegment(got); err != nil {
				t.Errorf("result invalid: %v", err)
			}
			if sanitize(got, tt.file) != got {
				t.Errorf("sanitize is not idempotent on %q", got)
			}
		})
	}
}

func TestValidPath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"/Acme/2026/Facturen/F1.pdf", true},
		{"/Acme", true},
		{"Acme/2026", false},
		{"/", false},
		{"//x", false},
		{"/a/", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/a/b /c", false},
		{"/a/ b/c", false},
		{"/a/b./c", false},
		{"/a/b\\c", false},
		{"/a/b\x00c", false},
		{"/a/b\x7fc", false},
		{"/a/😀", false},
		{"/a/\xff", false},
		{"/a/CON", false},
		{"/a/con.pdf", false},
		{"/a/desktop.ini", false},
		{"/a/x:y", false},
		{"/" + strings.Repeat("x", 256), false},
		{"/" + strings.Repeat("x", 255), true},
	}
	for _, tt := range tests {
		name := tt.path
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			err := ValidPath(tt.path)
			if (err == nil) != tt.ok {
				t.Errorf("ValidPath(%q) = %v, want ok=%v", tt.path, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPath) {
				t.Errorf("error %v does not wrap ErrInvalidPath", err)
			}
		})
	}
}

func TestTruncateUTF8(t *testing.T) {
	s := "aé中😀"
	for n := 0; n <= len(s)+1; n++ {
		got := truncateUTF8(s, n)
		if len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(s, got) {
			t.Errorf("truncateUTF8(%q, %d) = %q", s, n, got)
		}
	}
}
