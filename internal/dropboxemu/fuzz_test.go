package dropboxemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The fuzz targets call ServeHTTP directly with a recorder: no network, so a run does
// hundreds of thousands of requests, and every iteration starts from a fresh server so a
// crasher found by `go test -fuzz` replays the same way as a seed.

// fuzzServer is a fresh in-memory emulator with one account and a token.
type fuzzServer struct {
	srv     *Server
	account string
	token   string
	ns      string
}

func newFuzzServer(t testing.TB) *fuzzServer {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)}
	srv, err := New(Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.RegisterApp(App{Key: testAppKey})
	id, err := srv.AddAccount(AccountInfo{Email: "fuzz@example.be"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := srv.IssueToken(id, testAppKey, false)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := srv.Account(id)
	return &fuzzServer{srv: srv, account: id, token: tok, ns: info.NamespaceID}
}

// do sends one API request in the route's style: the argument in Dropbox-API-Arg for upload
// and download routes (with body as content), as the JSON body for RPC routes.
func (f *fuzzServer) do(route, arg string, body []byte) *httptest.ResponseRecorder {
	var req *http.Request
	if routes[route].style == "rpc" {
		req = httptest.NewRequest(http.MethodPost, "/2/"+route, strings.NewReader(arg))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(http.MethodPost, "/2/"+route, bytes.NewReader(body))
		req.Header["Dropbox-Api-Arg"] = []string{arg} // raw, canonical key: the fuzzer may send any bytes
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// mustDo is do for set-up requests that have to succeed, returning the decoded result.
func (f *fuzzServer) mustDo(t testing.TB, route, arg string, body []byte) map[string]any {
	t.Helper()
	rec := f.do(route, arg, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("set-up %s %s: %d %s", route, arg, rec.Code, rec.Body)
	}
	res := rec.Body.Bytes()
	if h := rec.Header().Get("Dropbox-API-Result"); h != "" {
		res = []byte(h)
	}
	var out map[string]any
	_ = json.Unmarshal(res, &out) // null for void results
	return out
}

// checkReplyShape asserts the answer is one Dropbox could give to a bad or good argument: 200
// with valid JSON, 400 plain text naming the function, or 409 with error_summary and a
// tagged error. Anything else (a 500, a panic, a 200 with broken JSON) is an emulator bug.
func checkReplyShape(t testing.TB, route string, rec *httptest.ResponseRecorder) {
	t.Helper()
	ct := rec.Header().Get("Content-Type")
	body := rec.Body.Bytes()
	switch rec.Code {
	case http.StatusOK:
		if routes[route].style == "download" {
			res := rec.Header().Get("Dropbox-API-Result")
			if !json.Valid([]byte(res)) {
				t.Fatalf("%s: Dropbox-API-Result is not JSON: %q", route, res)
			}
			for i := 0; i < len(res); i++ {
				if res[i] < 0x20 || res[i] >= 0x7f {
					t.Fatalf("%s: Dropbox-API-Result is not header-safe ASCII: %q", route, res)
				}
			}
			return
		}
		if ct != "application/json" || !json.Valid(body) {
			t.Fatalf("%s: 200 with %q %q", route, ct, body)
		}
	case http.StatusBadRequest:
		if !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("%s: 400 with Content-Type %q: %s", route, ct, body)
		}
		if want := `Error in call to API function "` + route + `": `; !strings.HasPrefix(string(body), want) {
			t.Fatalf("%s: 400 body %q does not start with %q", route, body, want)
		}
	case http.StatusConflict:
		if ct != "application/json" {
			t.Fatalf("%s: 409 with Content-Type %q", route, ct)
		}
		var e struct {
			Summary *string         `json:"error_summary"`
			Error   *map[string]any `json:"error"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.Summary == nil || e.Error == nil {
			t.Fatalf("%s: 409 body lacks error_summary or error: %s", route, body)
		}
		tag, _ := (*e.Error)[".tag"].(string)
		if tag == "" || !strings.HasPrefix(*e.Summary, tag+"/") {
			t.Fatalf("%s: error_summary %q does not start with the error's tag %q", route, *e.Summary, tag)
		}
	default:
		t.Fatalf("%s: status %d (want 200, 400 or 409): %s", route, rec.Code, body)
	}
}

// fuzzRoutes are the routes FuzzArgDecoding picks from by index. Append only: existing
// corpus entries refer to routes by position.
var fuzzRoutes = []string{
	"files/upload",
	"files/upload_session/append_v2",
	"files/upload_session/finish",
	"files/list_folder",
	"files/get_metadata",
	"files/upload_session/finish_batch_v2",
	"files/create_folder_v2",
	"files/download",
	"files/upload_session/start",
	"files/upload_session/start_batch",
	"files/list_folder/continue",
	"files/delete_v2",
	"files/upload_session/finish_batch",
	"files/upload_session/finish_batch/check",
	"users/get_current_account",
	"users/get_space_usage",
	"files/upload_session/append_batch",
	"files/move_v2",
}

// argSeed is a starting argument for one route. Placeholders ($SID ...) are replaced with
// ids of the state FuzzArgDecoding sets up, so mutations explore real sessions and files
// rather than only "not_found".
type argSeed struct {
	route string
	arg   string
	body  string
}

var argSeeds = []argSeed{
	{"files/upload", `{"path":"/Map/a.txt","mode":"add","autorename":false,"mute":false,"strict_conflict":false}`, "abc"},
	{"files/upload", `{"path":"/Map/b.txt","mode":{".tag":"update","update":"$REV"},"client_modified":"2026-01-02T03:04:05Z"}`, "new"},
	{"files/upload", `{"path":"ns:$NS/Map/c.txt","mode":"overwrite","content_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}`, ""},
	{"files/upload", `{"path":"/Map/a.txt","autorename":true}`, "other"},
	{"files/upload", `{"path":"/Map/a.txt/onder.txt"}`, "x"},
	{"files/upload", `{"path":"/\u00c9\u00e9n/caf\u00e9.txt"}`, "u"},
	{"files/upload", `{"path":"/` + strings.Repeat("x", 250) + `.pdf","autorename":true}`, "long"},
	{"files/upload", `{"path":"$ID","mode":"overwrite"}`, "by id"},
	{"files/upload", `{"path":"/Leeg","mode":"add","autorename":true}`, "on a folder"},
	{"files/upload", `{"path":"/x","client_modified":"2026-01-02 03:04:05"}`, ""},
	{"files/upload", `{"path":"/x","mode":"sideways"}`, ""},
	{"files/upload", `{"path":"/x","mode":{".tag":"update"}}`, ""},
	{"files/upload", `{"path":5}`, ""},
	{"files/upload", `{"path":"/"}`, ""},
	{"files/upload", `not json`, ""},
	{"files/upload", ``, ""},
	{"files/upload_session/append_v2", `{"cursor":{"session_id":"$SID","offset":3},"close":false}`, "more"},
	{"files/upload_session/append_batch", `{"entries":[{"cursor":{"session_id":"$SID","offset":3},"length":4,"close":true}]}`, "more"},
	{"files/upload_session/append_batch", `{"entries":[{"cursor":{"session_id":"$SID","offset":3},"length":9}]}`, "more"},
	{"files/upload_session/append_batch", `{"entries":[]}`, ""},
	{"files/upload_session/append_v2", `{"cursor":{"session_id":"$SID","offset":0}}`, "again"},
	{"files/upload_session/append_v2", `{"cursor":{"session_id":"$CID","offset":3},"close":true}`, ""},
	{"files/upload_session/append_v2", `{"cursor":{"session_id":"$CCID","offset":4194304},"close":true}`, "tail"},
	{"files/upload_session/append_v2", `{"cursor":{"session_id":"$CCID","offset":-4194304},"close":true}`, "neg"},
	{"files/upload_session/append_v2", `{"cursor":{"session_id":"$CCID","offset":9223372036850581504},"close":true}`, "far"},
	{"files/upload_session/append_v2", `{"cursor":{"session_id":"nope","offset":0}}`, ""},
	{"files/upload_session/append_v2", `{"close":true}`, ""},
	{"files/upload_session/finish", `{"cursor":{"session_id":"$SID","offset":3},"commit":{"path":"/sessie.bin","mode":"add"}}`, "end"},
	{"files/upload_session/finish", `{"cursor":{"session_id":"$CID","offset":3},"commit":{"path":"/Map/a.txt","autorename":true}}`, ""},
	{"files/upload_session/finish", `{"cursor":{"session_id":"$CCID","offset":0},"commit":{"path":"/c.bin"}}`, ""},
	{"files/upload_session/finish", `{"cursor":{"session_id":"$SID","offset":-1},"commit":{"path":"/d.bin"}}`, ""},
	{"files/upload_session/finish", `{"cursor":{"session_id":"$SID","offset":3}}`, ""},
	{"files/list_folder", `{"path":"","recursive":true,"limit":2}`, ""},
	{"files/list_folder", `{"path":"/map","recursive":false}`, ""},
	{"files/list_folder", `{"path":"/Map/a.txt"}`, ""},
	{"files/list_folder", `{"path":"ns:$NS"}`, ""},
	{"files/list_folder", `{"path":"$ID"}`, ""},
	{"files/list_folder", `{"path":"/","limit":0}`, ""},
	{"files/list_folder", `{"path":"","limit":4294967296}`, ""},
	{"files/list_folder", `{"path":"","limit":-1}`, ""},
	{"files/list_folder", ``, ""},
	{"files/get_metadata", `{"path":"/MAP/A.TXT"}`, ""},
	{"files/get_metadata", `{"path":"rev:$REV"}`, ""},
	{"files/get_metadata", `{"path":"$ID","include_deleted":true}`, ""},
	{"files/get_metadata", `{"path":"/weg.txt","include_deleted":true}`, ""},
	{"files/get_metadata", `{"path":"/"}`, ""},
	{"files/get_metadata", `{"path":"/a/"}`, ""},
	{"files/get_metadata", `{"path":null}`, ""},
	{"files/upload_session/finish_batch_v2", `{"entries":[{"cursor":{"session_id":"$CID","offset":3},"commit":{"path":"/batch/1.txt"}},{"cursor":{"session_id":"$SID","offset":3},"commit":{"path":"/batch/2.txt"}}]}`, ""},
	{"files/upload_session/finish_batch_v2", `{"entries":[{"cursor":{"session_id":"$CID","offset":3},"commit":{"path":"/Leeg"}}]}`, ""},
	{"files/upload_session/finish_batch_v2", `{"entries":[]}`, ""},
	{"files/upload_session/finish_batch_v2", `{"entries":[{}]}`, ""},
	{"files/upload_session/finish_batch_v2", `{"entries":null}`, ""},
	{"files/create_folder_v2", `{"path":"/Nieuw/Map","autorename":false}`, ""},
	{"files/create_folder_v2", `{"path":"/Leeg","autorename":true}`, ""},
	{"files/create_folder_v2", `{"path":"/Map/a.txt/sub"}`, ""},
	{"files/create_folder_v2", `{"path":"ns:$NS"}`, ""},
	{"files/create_folder_v2", `{"path":"/desktop.ini"}`, ""},
	{"files/download", `{"path":"/Map/a.txt"}`, ""},
	{"files/download", `{"path":"/Map/a.txt","rev":"$REV"}`, ""},
	{"files/download", `{"path":"/Leeg"}`, ""},
	{"files/download", `{"path":"ns:$NS"}`, ""},
	{"files/download", `{"path":"/\u00e9\u0000"}`, ""},
	{"files/upload_session/start", `{"close":false,"session_type":"concurrent"}`, ""},
	{"files/upload_session/start", `{"close":true,"session_type":{".tag":"sequential"}}`, "data"},
	{"files/upload_session/start", `{"session_type":"concurrent"}`, "data"},
	{"files/upload_session/start_batch", `{"num_sessions":3,"session_type":"concurrent"}`, ""},
	{"files/upload_session/start_batch", `{"num_sessions":0}`, ""},
	{"files/upload_session/start_batch", `{"num_sessions":1001}`, ""},
	{"files/list_folder/continue", `{"cursor":"$CURSOR"}`, ""},
	{"files/list_folder/continue", `{"cursor":"ZGJpZDp4fDE"}`, ""},
	{"files/list_folder/continue", `{"cursor":"%%%"}`, ""},
	{"files/delete_v2", `{"path":"/Map"}`, ""},
	{"files/delete_v2", `{"path":"/Map/a.txt","parent_rev":"000000000"}`, ""},
	{"files/delete_v2", `{"path":"ns:$NS"}`, ""},
	{"files/delete_v2", `{"path":"$ID"}`, ""},
	{"files/move_v2", `{"from_path":"/Map","to_path":"/Nieuw/Map"}`, ""},
	{"files/move_v2", `{"from_path":"$ID","to_path":"/MAP/A.TXT"}`, ""},
	{"files/move_v2", `{"from_path":"/map","to_path":"/Map/sub","autorename":true}`, ""},
	{"files/move_v2", `{"from_path":"/Map/a.txt","to_path":"/Leeg","autorename":true}`, ""},
	{"files/move_v2", `{"from_path":"ns:$NS","to_path":"/x"}`, ""},
	{"files/move_v2", `{"from_path":"/Map/b.txt","to_path":"ns:$NS/Leeg/b.txt","allow_shared_folder":true,"allow_ownership_transfer":true}`, ""},
	{"files/upload_session/finish_batch", `{"entries":[{"cursor":{"session_id":"$CID","offset":3},"commit":{"path":"/async.txt"}}]}`, ""},
	{"files/upload_session/finish_batch/check", `{"async_job_id":"$JOB"}`, ""},
	{"files/upload_session/finish_batch/check", `{"async_job_id":""}`, ""},
	{"users/get_current_account", ``, ""},
	{"users/get_current_account", `null`, ""},
	{"users/get_current_account", `{}`, ""},
	{"users/get_space_usage", ``, ""},
}

// hangTimeout is how long one fuzz input may take before it counts as a hang; generous,
// as -race and a busy CI machine slow everything down.
const hangTimeout = 20 * time.Second

func FuzzArgDecoding(f *testing.F) {
	index := map[string]uint8{}
	for i, r := range fuzzRoutes {
		if _, ok := routes[r]; !ok {
			f.Fatalf("fuzzRoutes names unknown route %s", r)
		}
		index[r] = uint8(i)
	}
	for _, s := range argSeeds {
		f.Add(index[s.route], s.arg, []byte(s.body))
	}

	f.Fuzz(func(t *testing.T, routeIndex uint8, arg string, body []byte) {
		route := fuzzRoutes[int(routeIndex)%len(fuzzRoutes)]
		fs := newFuzzServer(t)
		// State for the placeholders: a file, an empty folder, a deleted file, an open and
		// a closed sequential session, a concurrent session, a cursor and a batch job.
		file := fs.mustDo(t, "files/upload", `{"path":"/Map/a.txt"}`, []byte("abc"))
		fs.mustDo(t, "files/upload", `{"path":"/Map/b.txt"}`, []byte("b"))
		fs.mustDo(t, "files/create_folder_v2", `{"path":"/Leeg"}`, nil)
		fs.mustDo(t, "files/upload", `{"path":"/weg.txt"}`, []byte("weg"))
		fs.mustDo(t, "files/delete_v2", `{"path":"/weg.txt"}`, nil)
		sid := fs.mustDo(t, "files/upload_session/start", `{}`, []byte("xyz"))["session_id"]
		cid := fs.mustDo(t, "files/upload_session/start", `{"close":true}`, []byte("xyz"))["session_id"]
		ccid := fs.mustDo(t, "files/upload_session/start", `{"session_type":"concurrent"}`, nil)["session_id"]
		closedForJob := fs.mustDo(t, "files/upload_session/start", `{"close":true}`, []byte("j"))["session_id"]
		cursor := fs.mustDo(t, "files/list_folder", `{"path":"","limit":1}`, nil)["cursor"]
		job := fs.mustDo(t, "files/upload_session/finish_batch",
			`{"entries":[{"cursor":{"session_id":"`+closedForJob.(string)+`","offset":1},"commit":{"path":"/job.txt"}}]}`, nil)["async_job_id"]
		arg = strings.NewReplacer(
			"$SID", sid.(string), "$CID", cid.(string), "$CCID", ccid.(string), "$NS", fs.ns,
			"$ID", file["id"].(string), "$REV", file["rev"].(string), "$CURSOR", cursor.(string), "$JOB", job.(string),
		).Replace(arg)

		// go test -fuzz has no per-input timeout: a hanging input would only show as execs
		// dropping to zero. Panicking from another goroutine kills the worker, and the
		// fuzzer then saves the input as a crasher.
		watchdog := time.AfterFunc(hangTimeout, func() {
			panic(fmt.Sprintf("%s hangs with argument %q and %d bytes of body", route, arg, len(body)))
		})
		defer watchdog.Stop()

		checkReplyShape(t, route, fs.do(route, arg, body))
		// Whatever the request did, the tree must still be one Dropbox could hold, and a
		// second identical request must not break it either (retries are normal).
		checkReplyShape(t, route, fs.do(route, arg, body))
		checkFuzzTree(t, fs)
	})
}

// checkFuzzTree asserts invariants of an account's tree: every path is a valid Dropbox path,
// unique case-insensitively, below a folder, and found again by get_metadata.
func checkFuzzTree(t testing.TB, fs *fuzzServer) {
	t.Helper()
	entries := fs.srv.Entries(fs.account)
	byLower := map[string]Entry{}
	for _, e := range entries {
		if _, problem := splitPath(e.PathDisplay, true); problem != pathOK {
			t.Fatalf("stored path %q is not valid for writing (problem %d)", e.PathDisplay, problem)
		}
		lower := lowerPath(e.PathDisplay)
		if prev, dup := byLower[lower]; dup {
			t.Fatalf("%q and %q differ only in case", prev.PathDisplay, e.PathDisplay)
		}
		byLower[lower] = e
	}
	for _, e := range entries {
		if dir := parentOf(e.PathDisplay); dir != "" {
			if p, ok := byLower[lowerPath(dir)]; !ok || !p.Folder {
				t.Fatalf("%q has no parent folder", e.PathDisplay)
			}
		}
		if got, code := fs.metadataOf(t, e.PathDisplay); code != http.StatusOK || got["id"] != e.ID {
			t.Fatalf("stored %q not found by get_metadata: %d %v", e.PathDisplay, code, got)
		}
	}
}

// metadataOf asks get_metadata for p and returns the decoded entry, or nil after checking
// the error's shape.
func (f *fuzzServer) metadataOf(t testing.TB, p string) (map[string]any, int) {
	t.Helper()
	arg, _ := json.Marshal(map[string]string{"path": p})
	rec := f.do("files/get_metadata", string(arg), nil)
	checkReplyShape(t, "files/get_metadata", rec)
	if rec.Code != http.StatusOK {
		return nil, rec.Code
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m, rec.Code
}

// decodedPath is what the emulator sees of a path the client sent: json.Marshal turns
// invalid UTF-8 into U+FFFD, as every real client's encoder does.
func decodedPath(p string) string {
	b, _ := json.Marshal(p)
	var q string
	_ = json.Unmarshal(b, &q)
	return q
}

// stripNS removes the account's own namespace prefix, giving the path in the app folder.
func (f *fuzzServer) stripNS(p string) string {
	if rest, ok := strings.CutPrefix(p, "ns:"+f.ns); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
		return rest
	}
	return p
}

func FuzzPaths(f *testing.F) {
	for _, s := range []struct {
		a, b  string
		flags uint8
	}{
		{"/Klanten/Acme BV/Factuur.pdf", "/klanten/ACME bv/factuur.PDF", 0},
		{"/a", "/a/b", 0},
		{"/a/b", "/A", 0},
		{"/a/b", "/A", 2},
		{"/Één/Ça/İstanbul", "/één/ça/i̇stanbul", 1},
		{"/ΣΊΣΥΦΟΣ/ß", "/σίσυφος/SS", 0},
		{"/\u212a", "/k", 0}, // Kelvin sign folds to k
		{"/emoji 😀.txt", "/tab\tin.txt", 1},
		{"/trailing ", "/trailing.", 0},
		{"/desktop.ini", "/Thumbs.db", 0},
		{"/a//b", "/a/./b", 0},
		{"/a/../b", "a", 0},
		{"", "/", 0},
		{"ns:1000000001/x", "ns:1000000001", 0},
		{"ns:999/x", "id:abc", 0},
		{"/" + strings.Repeat("é", 127), "/" + strings.Repeat("e", 256), 0},
		{"/" + strings.Repeat("n", 255), "/" + strings.Repeat("n", 255), 2},
		{"/" + strings.Repeat("n", 250) + ".pdf", "/" + strings.Repeat("N", 250) + ".pdf", 2},
		{"/.hidden", "/.HIDDEN", 2},
		{"/nul\x00byte", "/back\\slash", 0},
		{"/bad\xffutf8", "/del\x7f", 0},
		{"/icon\r", "/x\r", 0},
		{"/a/b/c/d/e/f/g", "/A/B/C/D/E/F/G/h", 4},
	} {
		f.Add(s.a, s.b, s.flags)
	}

	// flags: bit 0 escapes the argument to ASCII (\uXXXX, surrogate pairs beyond the BMP)
	// as some clients do; bit 1 asks for autorename; bit 2 uses mode overwrite.
	f.Fuzz(func(t *testing.T, a, b string, flags uint8) {
		fs := newFuzzServer(t)
		for i, p := range []string{a, b} {
			arg, _ := json.Marshal(map[string]any{"path": p, "autorename": flags&2 != 0,
				"mode": map[bool]string{false: "add", true: "overwrite"}[flags&4 != 0]})
			if flags&1 != 0 {
				arg = []byte(headerSafeJSON(arg))
			}
			content := []byte{byte(i)}
			rec := fs.do("files/upload", string(arg), content)
			checkReplyShape(t, "files/upload", rec)
			sent := decodedPath(p)
			pe := fs.stripNS(sent)

			switch rec.Code {
			case http.StatusBadRequest:
				if patWritePathOrID.MatchString(sent) {
					t.Fatalf("upload %q: 400 for a path the spec's pattern accepts: %s", p, rec.Body)
				}
				continue
			case http.StatusConflict:
				continue
			}

			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			display, _ := m["path_display"].(string)
			// Whatever autorename or an id did to the name, what is stored must be a path
			// Dropbox accepts, or the file can never be read, listed by path or deleted.
			if _, problem := splitPath(display, true); problem != pathOK {
				t.Fatalf("upload %q stored %q (%d bytes in its name), which is not a valid path (problem %d)",
					p, display, len(baseName(display)), problem)
			}
			if strings.HasPrefix(pe, "id:") {
				continue // wrote to whatever file has that id
			}
			if _, problem := splitPath(pe, true); problem != pathOK {
				t.Fatalf("upload %q succeeded though the path is not writable (problem %d): %v", p, problem, m)
			}
			if flags&2 == 0 && m["path_lower"] != lowerPath(pe) {
				t.Fatalf("upload %q: path_lower %q, want %q", p, m["path_lower"], lowerPath(pe))
			}
			if m["path_lower"] != lowerPath(display) || m["name"] != baseName(display) {
				t.Fatalf("upload %q: name %q path_lower %q do not match path_display %q", p, m["name"], m["path_lower"], display)
			}

			// Found again under its own name and under any spelling that folds to the same
			// path, always with the stored spelling.
			for _, q := range []string{display, strings.ToLower(display), strings.ToUpper(display)} {
				if lowerPath(q) != lowerPath(display) {
					continue // e.g. ı uppercases to I, which folds to i: another path
				}
				got, code := fs.metadataOf(t, q)
				if code != http.StatusOK || got["id"] != m["id"] || got["path_display"] != display {
					t.Fatalf("get_metadata %q after uploading %q: %d %v, want id %v path_display %q", q, p, code, got, m["id"], display)
				}
			}
			// And listed in its folder.
			dir := parentOf(display)
			listArg, _ := json.Marshal(map[string]any{"path": dir})
			lrec := fs.do("files/list_folder", string(listArg), nil)
			checkReplyShape(t, "files/list_folder", lrec)
			if lrec.Code != http.StatusOK {
				t.Fatalf("list_folder %q after uploading %q: %d %s", dir, p, lrec.Code, lrec.Body)
			}
			var l struct {
				Entries []map[string]any `json:"entries"`
			}
			if err := json.Unmarshal(lrec.Body.Bytes(), &l); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range l.Entries {
				found = found || e["path_display"] == display
			}
			if !found {
				t.Fatalf("list_folder %q lacks %q: %v", dir, display, l.Entries)
			}
		}
		checkFuzzTree(t, fs)
	})
}

// TestSplitPathWhitespace pins what FuzzPaths found: a component ending in any whitespace
// (not only a space) must be refused for writing wherever it sits, because a path ending
// in it is malformed; otherwise "/0\n/0" created a folder "/0\n" nothing could name again.
func TestSplitPathWhitespace(t *testing.T) {
	for _, tc := range []struct {
		path           string
		read, forWrite pathProblem
	}{
		{"/a/b", pathOK, pathOK},
		{"/a\n", pathMalformed, pathMalformed},
		{"/a\n/b", pathOK, pathDisallowed},
		{"/a\t/b", pathOK, pathDisallowed},
		{"/a\r/b", pathOK, pathDisallowed},
		{"/a /b", pathOK, pathDisallowed},
		{"/a\nb/c", pathOK, pathOK}, // inside a name is not trailing
		{"/\ta/b", pathOK, pathOK},  // nor is leading
	} {
		t.Run(tc.path, func(t *testing.T) {
			if _, got := splitPath(tc.path, false); got != tc.read {
				t.Errorf("read: %d, want %d", got, tc.read)
			}
			if _, got := splitPath(tc.path, true); got != tc.forWrite {
				t.Errorf("write: %d, want %d", got, tc.forWrite)
			}
		})
	}
}
