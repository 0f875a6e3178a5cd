package dropboxemu

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

type rawResult struct {
	status int
	header http.Header
	body   string
}

// raw sends one request the way a hand-written client would: upload and download routes
// get arg in Dropbox-API-Arg and body as content; RPC routes get arg as the JSON body.
func (e *env) raw(t testing.TB, route, arg, body string) rawResult {
	t.Helper()
	rt, ok := routes[route]
	var req *http.Request
	var err error
	if ok && rt.style != "rpc" {
		req, err = http.NewRequest(http.MethodPost, e.ts.URL+"/2/"+route, strings.NewReader(body))
		if err == nil {
			req.Header.Set("Dropbox-API-Arg", arg)
			req.Header.Set("Content-Type", "application/octet-stream")
		}
	} else {
		req, err = http.NewRequest(http.MethodPost, e.ts.URL+"/2/"+route, strings.NewReader(arg))
		if err == nil && arg != "" {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResult{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestWireFormat(t *testing.T) {
	e := newEnv(t, Options{})

	t.Run("JSON answers are exactly application/json", func(t *testing.T) {
		r := e.raw(t, "files/upload", `{"path":"/a.pdf","mode":"add"}`, "a")
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
	})
	t.Run("void union members in both encodings", func(t *testing.T) {
		for _, mode := range []string{`"overwrite"`, `{".tag":"overwrite"}`} {
			if r := e.raw(t, "files/upload", `{"path":"/b.pdf","mode":`+mode+`}`, "b"); r.status != 200 {
				t.Fatalf("%s: %d %s", mode, r.status, r.body)
			}
		}
	})
	t.Run("Dropbox-API-Arg with \\u escapes", func(t *testing.T) {
		r := e.raw(t, "files/upload", `{"path":"/caf\u00e9 \u20ac.pdf"}`, "c")
		var m struct {
			PathDisplay string `json:"path_display"`
		}
		if r.status != 200 || json.Unmarshal([]byte(r.body), &m) != nil || m.PathDisplay != "/café €.pdf" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("chunked upload body without Content-Length", func(t *testing.T) {
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte("chunk one, "))
			pw.Write([]byte("chunk two"))
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/2/files/upload", pr)
		req.Header.Set("Dropbox-API-Arg", `{"path":"/chunked.txt"}`)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got, _ := e.srv.ReadFile(e.account, "/chunked.txt")
		if resp.StatusCode != 200 || string(got) != "chunk one, chunk two" {
			t.Fatalf("%d %q", resp.StatusCode, got)
		}
	})
	t.Run("400s are plain text naming the function", func(t *testing.T) {
		r := e.raw(t, "files/get_metadata", `{"path":"/"}`, "")
		if r.status != 400 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") ||
			!strings.HasPrefix(r.body, `Error in call to API function "files/get_metadata"`) {
			t.Fatalf("%d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
	})
	t.Run("RPC with the wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/2/files/list_folder", strings.NewReader(`{"path":""}`))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "text/plain")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("409 body shape", func(t *testing.T) {
		r := e.raw(t, "files/get_metadata", `{"path":"/nope"}`, "")
		var body struct {
			Summary string         `json:"error_summary"`
			Error   map[string]any `json:"error"`
		}
		if r.status != 409 || json.Unmarshal([]byte(r.body), &body) != nil ||
			!strings.HasPrefix(body.Summary, "path/not_found/") || body.Error[".tag"] != "path" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("missing Authorization is a 400", func(t *testing.T) {
		resp, err := http.Post(e.ts.URL+"/2/users/get_current_account", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("wrong JSON types are a 400", func(t *testing.T) {
		if r := e.raw(t, "files/list_folder", `{"path":12}`, ""); r.status != 400 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("unknown route", func(t *testing.T) {
		if r := e.raw(t, "files/nope", `{}`, ""); r.status != 400 {
			t.Fatalf("%d", r.status)
		}
	})
}
