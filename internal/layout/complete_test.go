package layout

import (
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	pdf := "%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
	ubl := `<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>F1</ID></Invoice>
`
	tests := []struct {
		name, content string
		want          bool
	}{
		{"a.pdf", pdf, true},
		{"a.PDF", pdf + strings.Repeat("\x00", 512), true}, // padding after the marker
		{"a.pdf", pdf[:len(pdf)-8], false},                 // cut before the marker
		{"a.pdf", "", false},                               // a download's empty first file
		{"a.xml", ubl, true},
		{"a.xml", ubl[:len(ubl)-12], false},
		{"a.xml", "", false},
		{"a.xml", `<?xml version="1.0" encoding="ISO-8859-1"?><a>caf` + "\xe9" + `</a>`, true},
		{"a.docx", "", true}, // no known end: the settle time decides
	}
	for _, tt := range tests {
		got, err := Complete(tt.name, strings.NewReader(tt.content), int64(len(tt.content)))
		if err != nil || got != tt.want {
			t.Errorf("Complete(%s, %d bytes) = %v, %v; want %v", tt.name, len(tt.content), got, err, tt.want)
		}
	}
}
