package watcher

import (
	"strings"
	"testing"
)

func TestIgnored(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		want  bool
	}{
		{"invoice-2024-001.pdf", nil, false},
		{"Factuur 12.xml", nil, false},
		{"~$report.docx", nil, true},
		{".~lock.report.odt#", nil, true},
		{"~WRL0001.tmp", nil, true},
		{"REPORT.TMP", nil, true},
		{"movie.part", nil, true},
		{"setup.crdownload", nil, true},
		{"photo.jpg.partial", nil, true},
		{"desktop.ini", nil, true},
		{"Desktop.ini", nil, true},
		{"Thumbs.db", nil, true},
		{"ehthumbs.db", nil, true},
		{".DS_Store", nil, true},
		{"Icon\r", nil, true},
		{"$RECYCLE.BIN", nil, true},
		{"System Volume Information", nil, true},
		{".git", nil, true},
		{".hidden.pdf", nil, true},
		{"tmp", nil, false},           // only the extension counts
		{"template.tmpl", nil, false}, // not .tmp
		{"a~$b.docx", nil, false},     // the lock prefix must lead
		{"x.bak", []string{"*.bak"}, true},
		{"X.BAK", []string{"*.bak"}, true},
		{"x.bak", []string{"*.old"}, false},
		{"Archive", []string{"arch?ve"}, true},
		{"x.bak", []string{"[a-"}, false}, // malformed: matches nothing
		{"", nil, false},
		{".", nil, false},
		{"..", nil, false},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.name, "\r", `\r`), func(t *testing.T) {
			if got := Ignored(tt.name, tt.extra); got != tt.want {
				t.Errorf("Ignored(%q, %q) = %v, want %v", tt.name, tt.extra, got, tt.want)
			}
		})
	}
}

func TestIgnoredPath(t *testing.T) {
	tests := []struct {
		rel  string
		want bool
	}{
		{"2024/01/invoice.pdf", false},
		{".git/HEAD", true},
		{"2024/.cache/x.pdf", true},
		{"2024/~$x.docx", true},
		{"2024/desktop.ini", true},
		{".", false},
	}
	for _, tt := range tests {
		if got := ignoredPath(tt.rel, nil); got != tt.want {
			t.Errorf("ignoredPath(%q) = %v, want %v", tt.rel, got, tt.want)
		}
	}
}

func TestNewRejectsBadPatterns(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"[a-", `x\`, "sub/*.pdf"} {
		if _, err := New(root, Options{Ignore: []string{p}}); err == nil {
			t.Errorf("New with pattern %q: no error", p)
		}
	}
	if _, err := New(root, Options{Ignore: []string{"*.bak", "Archive"}}); err != nil {
		t.Errorf("New with good patterns: %v", err)
	}
	if _, err := New("", Options{}); err == nil {
		t.Error("New with empty root: no error")
	}
}
