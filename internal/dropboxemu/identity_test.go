package dropboxemu

import (
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
	"golang.org/x/text/unicode/norm"
)

func TestLowerPath(t *testing.T) {
	nfc, nfd := "/café.pdf", norm.NFD.String("/café.pdf")
	if nfc == nfd {
		t.Fatal("test needs two spellings")
	}
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"ASCII case", "/Facturen/A.PDF", "/facturen/a.pdf", true},
		{"NFC and NFD", nfc, nfd, true},
		{"NFD upper and NFC lower", norm.NFD.String("/CAFÉ.PDF"), nfc, true},
		{"accented capitals", "/Émile/Ærø", "/émile/ærø", true},
		{"final sigma", "/ΟΔΟΣ", "/οδος", true},
		{"Kelvin sign", "/\u212a", "/k", true},
		{"long s", "/\u017fa", "/sa", true},
		{"capital sharp s", "/STRAẞE", "/straße", true},
		{"sharp s is not ss", "/straße", "/strasse", false},
		{"dotless i is not i", "/ı", "/i", false},
		{"different letters", "/a", "/b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := lowerPath(tt.a), lowerPath(tt.b)
			if (ka == kb) != tt.same {
				t.Fatalf("lowerPath(%q)=%q, lowerPath(%q)=%q, same=%v", tt.a, ka, tt.b, kb, tt.same)
			}
			if lowerPath(ka) != ka {
				t.Fatalf("lowerPath is not idempotent on %q: %q", ka, lowerPath(ka))
			}
		})
	}
}

// TestNFCAndNFDAreOnePath uploads café.pdf spelled NFD (as macOS names it) and then NFC in
// overwrite mode: Dropbox keeps one file, under the first spelling, with the second content.
func TestNFCAndNFDAreOnePath(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	nfd, nfc := norm.NFD.String("/Facturen/café.pdf"), "/Facturen/café.pdf"
	first := upload(t, c, nfd, []byte("first"), "overwrite")
	second := upload(t, c, nfc, []byte("second"), "overwrite")
	if first.Id != second.Id || second.PathDisplay != nfd {
		t.Fatalf("second upload: id %s (first %s), path_display %q, want the NFD spelling", second.Id, first.Id, second.PathDisplay)
	}
	var n int
	for _, en := range e.srv.Entries(e.account) {
		if !en.Folder {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d files, want 1: %+v", n, e.srv.Entries(e.account))
	}
	got, err := e.srv.ReadFile(e.account, norm.NFD.String("/FACTUREN/CAFÉ.PDF"))
	if err != nil || string(got) != "second" {
		t.Fatalf("read back: %q %v", got, err)
	}
	// add mode with other content is a conflict: it is the same path.
	if _, err := uploadErr(c, "/facturen/CAFÉ.pdf", []byte("third"), "add"); writeErrTag(t, err) != "conflict/file" {
		t.Fatalf("add over the other spelling: %v", err)
	}
	md, err := c.GetMetadata(files.NewGetMetadataArg(nfc))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := md.(*files.FileMetadata); !ok || f.Id != first.Id {
		t.Fatalf("get_metadata by the NFC spelling: %#v", md)
	}
}
