package dropboxemu

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

func move(t testing.TB, c files.Client, from, to string, autorename bool) files.IsMetadata {
	t.Helper()
	arg := files.NewRelocationArg(from, to)
	arg.Autorename = autorename
	res, err := c.MoveV2(arg)
	if err != nil {
		t.Fatalf("move %s -> %s: %v", from, to, err)
	}
	return res.Metadata
}

// moveErrTag digs the RelocationError tag path out of a move error, e.g. "to/conflict/file".
func moveErrTag(t testing.TB, err error) string {
	t.Helper()
	var me files.MoveV2APIError
	if !errors.As(err, &me) || me.EndpointError == nil {
		t.Fatalf("want files.MoveV2APIError, got %T %v", err, err)
	}
	e := me.EndpointError
	switch e.Tag {
	case files.RelocationErrorFromLookup:
		return e.Tag + "/" + e.FromLookup.Tag
	case files.RelocationErrorFromWrite, files.RelocationErrorTo:
		w := e.FromWrite
		if e.Tag == files.RelocationErrorTo {
			w = e.To
		}
		if w.Tag == files.WriteErrorConflict {
			return e.Tag + "/conflict/" + w.Conflict.Tag
		}
		return e.Tag + "/" + w.Tag
	}
	return e.Tag
}

// changes lists what list_folder/continue reports since cursor: "-path_lower" for a
// deletion, "+path_display" for an entry.
func changes(t testing.TB, c files.Client, cursor string) string {
	t.Helper()
	res, err := c.ListFolderContinue(files.NewListFolderContinueArg(cursor))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range res.Entries {
		switch m := en.(type) {
		case *files.DeletedMetadata:
			got = append(got, "-"+m.PathLower)
		case *files.FileMetadata:
			got = append(got, "+"+m.PathDisplay)
		case *files.FolderMetadata:
			got = append(got, "+"+m.PathDisplay)
		}
	}
	return strings.Join(got, " ")
}

// recursiveCursor lists the whole account and returns the cursor for later changes.
func recursiveCursor(t testing.TB, c files.Client) string {
	t.Helper()
	arg := files.NewListFolderArg("")
	arg.Recursive = true
	res, err := c.ListFolder(arg)
	if err != nil || res.HasMore {
		t.Fatalf("%v %v", res, err)
	}
	return res.Cursor
}

// idsByPath maps every entry's path_display to its id and rev.
func idsByPath(s *Server, account string) map[string]string {
	out := map[string]string{}
	for _, en := range s.Entries(account) {
		out[en.PathDisplay] = en.ID + " " + en.Rev
	}
	return out
}

func TestMoveFile(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	data := []byte("%PDF-1.7 factuur")
	orig := upload(t, c, "/In/Factuur.pdf", data, "add")
	upload(t, c, "/In/ander.pdf", []byte("ander"), "add")
	cursor := recursiveCursor(t, c)
	usedBefore, _ := recomputedUsed(e.srv, e.account)

	m, ok := move(t, c, "/in/FACTUUR.pdf", "/Archief/2026/F2026-0042.pdf", false).(*files.FileMetadata)
	if !ok {
		t.Fatalf("metadata %#v", m)
	}
	if m.PathDisplay != "/Archief/2026/F2026-0042.pdf" || m.PathLower != "/archief/2026/f2026-0042.pdf" || m.Name != "F2026-0042.pdf" {
		t.Errorf("names %+v", m)
	}
	if m.Id != orig.Id || m.Rev != orig.Rev || m.ContentHash != orig.ContentHash || m.Size != orig.Size ||
		!time.Time(m.ServerModified).Equal(time.Time(orig.ServerModified)) {
		t.Errorf("moved %+v, was %+v", m, orig)
	}
	_, err := c.GetMetadata(files.NewGetMetadataArg("/In/Factuur.pdf"))
	var ge files.GetMetadataAPIError
	if !errors.As(err, &ge) || ge.EndpointError.Path.Tag != files.LookupErrorNotFound {
		t.Fatalf("old path: %v", err)
	}
	_, rc, err := c.Download(files.NewDownloadArg(orig.Id))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(data) {
		t.Errorf("content by id %q", got)
	}
	if usedAfter, walked := recomputedUsed(e.srv, e.account); usedAfter != usedBefore || walked != usedBefore {
		t.Errorf("used %d (files %d), was %d", usedAfter, walked, usedBefore)
	}
	if got := changes(t, c, cursor); got != "-/in/factuur.pdf +/Archief +/Archief/2026 +/Archief/2026/F2026-0042.pdf" {
		t.Errorf("changes %s", got)
	}
}

func TestMoveFolder(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	for _, p := range []string{"/Co/2025/a.pdf", "/Co/2025/b.xml", "/Co/c.pdf", "/Other/e.pdf"} {
		upload(t, c, p, []byte(p), "add")
	}
	before := idsByPath(e.srv, e.account)
	cursor := recursiveCursor(t, c)

	f, ok := move(t, c, "/co", "/Archive/Co 2025", false).(*files.FolderMetadata)
	if !ok || f.PathDisplay != "/Archive/Co 2025" || f.Id != strings.Fields(before["/Co"])[0] {
		t.Fatalf("metadata %#v", f)
	}
	after := idsByPath(e.srv, e.account)
	for old, newPath := range map[string]string{
		"/Co": "/Archive/Co 2025", "/Co/2025": "/Archive/Co 2025/2025", "/Co/2025/a.pdf": "/Archive/Co 2025/2025/a.pdf",
		"/Co/2025/b.xml": "/Archive/Co 2025/2025/b.xml", "/Co/c.pdf": "/Archive/Co 2025/c.pdf", "/Other/e.pdf": "/Other/e.pdf",
	} {
		if after[newPath] != before[old] {
			t.Errorf("%s -> %s: id and rev %q, were %q", old, newPath, after[newPath], before[old])
		}
	}
	if len(after) != len(before)+1 { // and /Archive, created
		t.Errorf("entries %v", after)
	}

	arg := files.NewListFolderArg("/archive")
	arg.Recursive = true
	res, err := c.ListFolder(arg)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, en := range res.Entries {
		switch m := en.(type) {
		case *files.FileMetadata:
			listed = append(listed, m.PathDisplay)
		case *files.FolderMetadata:
			listed = append(listed, m.PathDisplay)
		}
	}
	if got := strings.Join(listed, ","); got != "/Archive,/Archive/Co 2025,/Archive/Co 2025/2025,/Archive/Co 2025/2025/a.pdf,/Archive/Co 2025/2025/b.xml,/Archive/Co 2025/c.pdf" {
		t.Errorf("listed %s", got)
	}
	want := "-/co -/co/2025 -/co/2025/a.pdf -/co/2025/b.xml -/co/c.pdf " +
		"+/Archive +/Archive/Co 2025 +/Archive/Co 2025/2025 +/Archive/Co 2025/2025/a.pdf +/Archive/Co 2025/2025/b.xml +/Archive/Co 2025/c.pdf"
	if got := changes(t, c, cursor); got != want {
		t.Errorf("changes\n got %s\nwant %s", got, want)
	}
}

// TestMoveCaseOnly renames a file and a folder by case alone: one path to Dropbox, so the
// node stays where it is with its new spelling, and a cursor sees entries, no deletions.
func TestMoveCaseOnly(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	upload(t, c, "/Klanten/peeters/offerte.pdf", []byte("o"), "add")
	cursor := recursiveCursor(t, c)

	if m := move(t, c, "/Klanten/peeters/offerte.pdf", "/klanten/peeters/Offerte.PDF", false).(*files.FileMetadata); m.PathDisplay != "/Klanten/peeters/Offerte.PDF" {
		t.Errorf("file %s", m.PathDisplay)
	}
	if f := move(t, c, "/klanten/PEETERS", "/Klanten/Peeters", false).(*files.FolderMetadata); f.PathDisplay != "/Klanten/Peeters" {
		t.Errorf("folder %s", f.PathDisplay)
	}
	var got []string
	for _, en := range e.srv.Entries(e.account) {
		got = append(got, en.PathDisplay)
	}
	if strings.Join(got, ",") != "/Klanten,/Klanten/Peeters,/Klanten/Peeters/Offerte.PDF" {
		t.Errorf("entries %v", got)
	}
	if got := changes(t, c, cursor); got != "+/Klanten/Peeters +/Klanten/Peeters/Offerte.PDF" {
		t.Errorf("changes %s", got)
	}

	// The source named in NFD, stored in NFC: one path.
	upload(t, c, "/Café/x.pdf", []byte("x"), "add")
	nfd := "/Cafe\u0301"
	if f := move(t, c, nfd, "/CAFÉ", false).(*files.FolderMetadata); f.PathDisplay != "/CAFÉ" {
		t.Errorf("NFD source: %s", f.PathDisplay)
	}
}

func TestMoveAutorename(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	upload(t, c, "/a/doc.pdf", []byte("a"), "add")
	upload(t, c, "/b/doc.pdf", []byte("b"), "add")
	upload(t, c, "/b/sub/x", []byte("x"), "add")
	if m := move(t, c, "/a/doc.pdf", "/B/DOC.pdf", true).(*files.FileMetadata); m.PathDisplay != "/b/DOC (1).pdf" {
		t.Errorf("file %s", m.PathDisplay)
	}
	upload(t, c, "/c/sub/y", []byte("y"), "add")
	if f := move(t, c, "/c/sub", "/b/sub", true).(*files.FolderMetadata); f.PathDisplay != "/b/sub (1)" {
		t.Errorf("folder %s", f.PathDisplay)
	}
	if _, err := e.srv.ReadFile(e.account, "/b/sub (1)/y"); err != nil {
		t.Error(err)
	}
}

func TestMoveErrors(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	upload(t, c, "/a/doc.pdf", []byte("a"), "add")
	upload(t, c, "/a/sub/x.pdf", []byte("x"), "add")
	upload(t, c, "/b/doc.pdf", []byte("b"), "add")
	info, _ := e.srv.Account(e.account)
	ns := "ns:" + info.NamespaceID
	before := idsByPath(e.srv, e.account)

	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"source missing", "/a/none.pdf", "/b/none.pdf", "from_lookup/not_found"},
		{"source by unknown id", "id:AAAAAAAAAAAAAAAAAAAAAA", "/b/none.pdf", "from_lookup/not_found"},
		{"source malformed", "/a//doc.pdf", "/b/x.pdf", "from_lookup/malformed_path"},
		{"the root", ns, "/b/root", "from_write/malformed_path"},
		{"file at destination", "/a/doc.pdf", "/B/DOC.PDF", "to/conflict/file"},
		{"folder at destination", "/a/doc.pdf", "/a/sub", "to/conflict/folder"},
		{"onto itself", "/a/doc.pdf", "/a/doc.pdf", "to/conflict/file"},
		{"below a file", "/b/doc.pdf", "/a/doc.pdf/x.pdf", "to/conflict/file_ancestor"},
		{"into itself", "/a", "/A/sub/a", "cant_move_folder_into_itself"},
		{"to the root", "/a/doc.pdf", ns, "to/malformed_path"},
		{"disallowed name", "/a/doc.pdf", "/b/desktop.ini", "to/disallowed_name"},
		{"trailing dot", "/a/doc.pdf", "/b/doc.", "to/disallowed_name"},
		{"malformed destination", "/a/doc.pdf", "/b/../doc.pdf", "to/malformed_path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.MoveV2(files.NewRelocationArg(tc.from, tc.to))
			if got := moveErrTag(t, err); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("paths the validator refuses", func(t *testing.T) {
		for _, arg := range []*files.RelocationArg{
			files.NewRelocationArg("", "/b/x"), files.NewRelocationArg("a/doc.pdf", "/b/x"), files.NewRelocationArg("/a/doc.pdf", ""),
		} {
			_, err := c.MoveV2(arg)
			var br auth.BadRequest
			if !errors.As(err, &br) {
				t.Errorf("%+v: %T %v", arg.RelocationPath, err, err)
			}
		}
	})
	if after := idsByPath(e.srv, e.account); !reflect.DeepEqual(after, before) {
		t.Errorf("a refused move changed the tree:\n%v\n%v", before, after)
	}
}

// TestMoveReplayed checks that moves are journalled: a restarted emulator has the same tree,
// ids and revs, the same running total and the same change sequence.
func TestMoveReplayed(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Options{DataDir: dir})
	c := e.files()
	upload(t, c, "/Co/2025/a.pdf", []byte("aaa"), "add")
	upload(t, c, "/Co/b.pdf", []byte("bb"), "add")
	upload(t, c, "/x.pdf", []byte("x"), "add")
	move(t, c, "/co", "/Archief/Oud/Co", false)
	move(t, c, "/archief/oud/co/b.pdf", "/Archief/Oud/Co/B.pdf", false)
	move(t, c, "/x.pdf", "/Archief/b.pdf", false)
	upload(t, c, "/Archief/b.pdf", []byte("x"), "add") // identical: journals nothing
	move(t, c, "/Archief/b.pdf", "/archief/oud/co/B.pdf", true)
	want := e.srv.Entries(e.account)
	e.srv.mu.Lock()
	wantSeq, wantTombs, wantUsed := e.srv.accounts[e.account].seq, len(e.srv.accounts[e.account].tombs), e.srv.accounts[e.account].used
	e.srv.mu.Unlock()

	e.ts.Close()
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := New(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := again.Entries(e.account); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed\n%+v\nwant\n%+v", got, want)
	}
	a := again.accounts[e.account]
	if a.seq != wantSeq || len(a.tombs) != wantTombs || a.used != wantUsed {
		t.Errorf("seq %d tombs %d used %d, want %d %d %d", a.seq, len(a.tombs), a.used, wantSeq, wantTombs, wantUsed)
	}
	var paths []string
	for _, en := range want {
		paths = append(paths, en.PathDisplay)
	}
	if strings.Join(paths, ",") != "/Archief,/Archief/Oud,/Archief/Oud/Co,/Archief/Oud/Co/2025,/Archief/Oud/Co/2025/a.pdf,/Archief/Oud/Co/B (1).pdf,/Archief/Oud/Co/B.pdf" {
		t.Errorf("tree %v", paths)
	}
}
