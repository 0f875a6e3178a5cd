package dropboxemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// A benchmark polls for one file in an account of 100,000 by path: the entries route
// with path answers that entry alone, or none, whatever the case of the path.
func TestAdminEntriesAtPath(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.srv.PutFile(e.account, "/Acme/2026/Factuur 1.pdf", []byte("%PDF-1.7\n%%EOF\n"), time.Now()); err != nil {
		t.Fatal(err)
	}
	at := func(path string) []Entry {
		t.Helper()
		q := url.Values{"account": {e.account}, "path": {path}}
		resp, err := http.Get(e.ts.URL + "/_emulator/entries?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []Entry
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := at("/acme/2026/factuur 1.pdf"); len(got) != 1 || got[0].PathDisplay != "/Acme/2026/Factuur 1.pdf" || got[0].ContentHash == "" {
		t.Errorf("entries at the file's path: %+v", got)
	}
	if got := at("/Acme/2026/Factuur 2.pdf"); got == nil || len(got) != 0 {
		t.Errorf("entries at a path with nothing: %#v, want an empty list", got)
	}
}
