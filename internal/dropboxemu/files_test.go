package dropboxemu

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/auth"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/contenthash"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

var revPattern = regexp.MustCompile(`^[0-9a-f]{9,}$`)

func hashString(t testing.TB, data []byte) string {
	t.Helper()
	h, err := contenthash.Compute(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func upload(t testing.TB, c files.Client, path string, data []byte, mode string) *files.FileMetadata {
	t.Helper()
	m, err := uploadErr(c, path, data, mode)
	if err != nil {
		t.Fatalf("upload %s: %v", path, err)
	}
	return m
}

func uploadErr(c files.Client, path string, data []byte, mode string) (*files.FileMetadata, error) {
	arg := files.NewUploadArg(path)
	arg.Mode = &files.WriteMode{Tagged: dropbox.Tagged{Tag: mode}}
	return c.Upload(arg, bytes.NewReader(data))
}

// writeErrTag digs the WriteError tag path out of an upload error, e.g. "conflict/file".
func writeErrTag(t testing.TB, err error) string {
	t.Helper()
	var ue files.UploadAPIError
	if !errors.As(err, &ue) || ue.EndpointError == nil {
		t.Fatalf("want files.UploadAPIError, got %T %v", err, err)
	}
	e := ue.EndpointError
	if e.Tag != files.UploadErrorPath {
		return e.Tag
	}
	w := e.Path.Reason
	if w.Tag == files.WriteErrorConflict {
		return "conflict/" + w.Conflict.Tag
	}
	return w.Tag
}

func TestUploadMetadataShape(t *testing.T) {
	e := newEnv(t, Options{})
	data := []byte("%PDF-1.7 factuur")
	m := upload(t, e.files(), "/Acme BV/2026/Facturen/Factuur F2026-0042.pdf", data, "add")

	if m.Name != "Factuur F2026-0042.pdf" || m.PathDisplay != "/Acme BV/2026/Facturen/Factuur F2026-0042.pdf" ||
		m.PathLower != "/acme bv/2026/facturen/factuur f2026-0042.pdf" {
		t.Errorf("names: %+v", m)
	}
	if !strings.HasPrefix(m.Id, "id:") || !revPattern.MatchString(m.Rev) {
		t.Errorf("id %q rev %q", m.Id, m.Rev)
	}
	if m.ContentHash != hashString(t, data) || m.Size != uint64(len(data)) {
		t.Errorf("hash %s size %d", m.ContentHash, m.Size)
	}
	if !time.Time(m.ServerModified).Equal(e.clock.Now()) || !time.Time(m.ClientModified).Equal(e.clock.Now()) {
		t.Errorf("times %v %v", m.ServerModified, m.ClientModified)
	}

	// Case-insensitive lookup, case preserved; the parent folder is a FolderMetadata.
	got, err := e.files().GetMetadata(files.NewGetMetadataArg("/ACME bv/2026/facturen/FACTUUR f2026-0042.PDF"))
	if err != nil {
		t.Fatal(err)
	}
	fm, ok := got.(*files.FileMetadata)
	if !ok || fm.PathDisplay != m.PathDisplay || fm.Rev != m.Rev {
		t.Fatalf("get_metadata = %#v", got)
	}
	folder, err := e.files().GetMetadata(files.NewGetMetadataArg("/acme bv"))
	if err != nil {
		t.Fatal(err)
	}
	if fo, ok := folder.(*files.FolderMetadata); !ok || fo.PathDisplay != "/Acme BV" {
		t.Fatalf("folder = %#v", folder)
	}
	// A new file under an existing folder takes the folder's casing.
	m2 := upload(t, e.files(), "/ACME BV/2026/x.xml", []byte("<x/>"), "add")
	if m2.PathDisplay != "/Acme BV/2026/x.xml" {
		t.Errorf("path_display = %q", m2.PathDisplay)
	}
	// By id.
	byID, err := e.files().GetMetadata(files.NewGetMetadataArg(m.Id))
	if err != nil || byID.(*files.FileMetadata).PathDisplay != m.PathDisplay {
		t.Fatalf("by id: %v %v", byID, err)
	}
}

func TestWriteModes(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	orig := upload(t, c, "/a/doc.pdf", []byte("v1"), "add")
	upload(t, c, "/a/folder/x", []byte("x"), "add")

	t.Run("identical add is a no-op that keeps rev", func(t *testing.T) {
		m := upload(t, c, "/A/DOC.pdf", []byte("v1"), "add")
		if m.Rev != orig.Rev || m.PathDisplay != "/a/doc.pdf" {
			t.Fatalf("rev %s -> %s, path %s", orig.Rev, m.Rev, m.PathDisplay)
		}
	})
	t.Run("identical overwrite is a no-op", func(t *testing.T) {
		if m := upload(t, c, "/a/doc.pdf", []byte("v1"), "overwrite"); m.Rev != orig.Rev {
			t.Fatalf("rev changed")
		}
	})
	t.Run("add of different content conflicts", func(t *testing.T) {
		_, err := uploadErr(c, "/a/doc.pdf", []byte("v2"), "add")
		if tag := writeErrTag(t, err); tag != "conflict/file" {
			t.Fatalf("tag %s", tag)
		}
		var ue files.UploadAPIError
		errors.As(err, &ue)
		if !strings.HasPrefix(ue.ErrorSummary, "path/conflict/file/") {
			t.Errorf("summary %q", ue.ErrorSummary)
		}
		if ue.EndpointError.Path.UploadSessionId == "" {
			t.Errorf("no upload_session_id to retry the commit with")
		}
	})
	t.Run("autorename", func(t *testing.T) {
		arg := files.NewUploadArg("/a/doc.pdf")
		arg.Autorename = true
		m, err := c.Upload(arg, bytes.NewReader([]byte("v3")))
		if err != nil || m.PathDisplay != "/a/doc (1).pdf" {
			t.Fatalf("%v %v", m, err)
		}
	})
	t.Run("overwrite makes a new rev", func(t *testing.T) {
		m := upload(t, c, "/a/doc.pdf", []byte("v2"), "overwrite")
		if m.Rev == orig.Rev || m.Id != orig.Id {
			t.Fatalf("rev %s id %s", m.Rev, m.Id)
		}
		orig = m
	})
	t.Run("update with the current rev", func(t *testing.T) {
		arg := files.NewUploadArg("/a/doc.pdf")
		arg.Mode = &files.WriteMode{Tagged: dropbox.Tagged{Tag: files.WriteModeUpdate}, Update: orig.Rev}
		m, err := c.Upload(arg, bytes.NewReader([]byte("v4")))
		if err != nil || m.Rev == orig.Rev {
			t.Fatalf("%v %v", m, err)
		}
	})
	t.Run("update with a stale rev conflicts", func(t *testing.T) {
		arg := files.NewUploadArg("/a/doc.pdf")
		arg.Mode = &files.WriteMode{Tagged: dropbox.Tagged{Tag: files.WriteModeUpdate}, Update: orig.Rev}
		_, err := c.Upload(arg, bytes.NewReader([]byte("v5")))
		if tag := writeErrTag(t, err); tag != "conflict/file" {
			t.Fatalf("tag %s", tag)
		}
	})
	t.Run("a folder in the way", func(t *testing.T) {
		_, err := uploadErr(c, "/a/folder", []byte("x"), "overwrite")
		if tag := writeErrTag(t, err); tag != "conflict/folder" {
			t.Fatalf("tag %s", tag)
		}
	})
	t.Run("a file as ancestor", func(t *testing.T) {
		_, err := uploadErr(c, "/a/doc.pdf/inside.pdf", []byte("x"), "add")
		if tag := writeErrTag(t, err); tag != "conflict/file_ancestor" {
			t.Fatalf("tag %s", tag)
		}
	})
}

func TestPathValidation(t *testing.T) {
	e := newEnv(t, Options{})
	long := "/" + strings.Repeat("é", 128) + ".pdf" // 256+ bytes
	tests := []struct {
		path string
		want string // WriteError tag, or "400"
	}{
		{"/ok/name.pdf", ""},
		{"/trailing slash/", "malformed_path"},
		{"//double", "malformed_path"},
		{"/a/../b", "malformed_path"},
		{"/emoji 😀.pdf", "malformed_path"},
		{long, "malformed_path"},
		{"/back\\slash", "malformed_path"},
		{"/trailing dot.", "disallowed_name"},
		{"/trailing space /x.pdf", "disallowed_name"},
		{"/sub/desktop.ini", "disallowed_name"},
		{"/sub/Thumbs.db", "disallowed_name"},
		{"relative.pdf", "400"},
		{"", "400"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, err := uploadErr(e.files(), tc.path, []byte("x"), "add")
			switch tc.want {
			case "":
				if err != nil {
					t.Fatal(err)
				}
			case "400":
				var br auth.BadRequest
				if !errors.As(err, &br) {
					t.Fatalf("want 400, got %T %v", err, err)
				}
			default:
				if tag := writeErrTag(t, err); tag != tc.want {
					t.Fatalf("tag %s, want %s", tag, tc.want)
				}
			}
		})
	}
	t.Run("get_metadata of the root is a 400", func(t *testing.T) {
		for _, p := range []string{"/", ""} {
			_, err := e.files().GetMetadata(files.NewGetMetadataArg(p))
			var br auth.BadRequest
			if !errors.As(err, &br) {
				t.Fatalf("%q: %T %v", p, err, err)
			}
		}
	})
}

func TestClientModified(t *testing.T) {
	e := newEnv(t, Options{})
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	arg := files.NewUploadArg("/f.pdf")
	arg.ClientModified = (*dropbox.DBXTime)(&when)
	m, err := e.files().Upload(arg, bytes.NewReader([]byte("x")))
	if err != nil || !time.Time(m.ClientModified).Equal(when) {
		t.Fatalf("%v %v", m, err)
	}
	// Dropbox takes whole seconds in UTC only; a client that sends Go's default encoding of
	// a time with nanoseconds gets a 400, as from real Dropbox.
	res := e.raw(t, "files/upload", `{"path":"/g.pdf","client_modified":"2026-01-02T03:04:05.123+01:00"}`, "x")
	if res.status != 400 || !strings.Contains(res.body, "client_modified") {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

func TestContentHashChecked(t *testing.T) {
	e := newEnv(t, Options{})
	arg := files.NewUploadArg("/f.pdf")
	arg.ContentHash = hashString(t, []byte("something else"))
	_, err := e.files().Upload(arg, files.WithoutAutoContentHash(bytes.NewReader([]byte("data"))))
	if tag := writeErrTag(t, err); tag != "content_hash_mismatch" {
		t.Fatalf("tag %s", tag)
	}
	// The SDK attaches the right hash itself for seekable bodies.
	if _, err := e.files().Upload(files.NewUploadArg("/f.pdf"), bytes.NewReader([]byte("data"))); err != nil {
		t.Fatal(err)
	}
}

func TestPayloadTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 150 MiB")
	}
	e := newEnv(t, Options{})
	big := io.LimitReader(zeroReader{}, MaxUploadRequest+1)
	_, err := e.files().Upload(files.NewUploadArg("/big.bin"), big)
	if tag := writeErrTag(t, err); tag != "payload_too_large" {
		t.Fatalf("tag %s", tag)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestQuota(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.srv.SetQuota(e.account, 10); err != nil {
		t.Fatal(err)
	}
	upload(t, e.files(), "/a", []byte("123456"), "add")
	_, err := uploadErr(e.files(), "/b", []byte("123456"), "add")
	if tag := writeErrTag(t, err); tag != "insufficient_space" {
		t.Fatalf("tag %s", tag)
	}
	// Replacing a file counts only the difference.
	upload(t, e.files(), "/a", []byte("1234567890"), "overwrite")

	u, err := e.users().GetSpaceUsage()
	if err != nil {
		t.Fatal(err)
	}
	if u.Used != 10 || u.Allocation.Tag != "individual" || u.Allocation.Individual.Allocated != 10 {
		t.Fatalf("usage %+v %+v", u, u.Allocation.Individual)
	}
}

func TestListFolder(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	var want []string
	for _, p := range []string{"/Co/2025/a.pdf", "/Co/2025/b.xml", "/Co/2026/c.pdf", "/Co/d.pdf", "/Other/e.pdf"} {
		upload(t, c, p, []byte(p), "add")
		want = append(want, p)
	}

	list := func(arg *files.ListFolderArg) ([]files.IsMetadata, string) {
		t.Helper()
		res, err := c.ListFolder(arg)
		if err != nil {
			t.Fatal(err)
		}
		all := res.Entries
		for res.HasMore {
			if res, err = c.ListFolderContinue(files.NewListFolderContinueArg(res.Cursor)); err != nil {
				t.Fatal(err)
			}
			all = append(all, res.Entries...)
		}
		return all, res.Cursor
	}

	t.Run("recursive root in pages", func(t *testing.T) {
		arg := files.NewListFolderArg("")
		arg.Recursive = true
		arg.Limit = 2
		entries, _ := list(arg)
		var gotFiles, gotFolders []string
		for _, en := range entries {
			switch m := en.(type) {
			case *files.FileMetadata:
				gotFiles = append(gotFiles, m.PathDisplay)
			case *files.FolderMetadata:
				gotFolders = append(gotFolders, m.PathDisplay)
			}
		}
		if strings.Join(gotFiles, ",") != "/Co/2025/a.pdf,/Co/2025/b.xml,/Co/2026/c.pdf,/Co/d.pdf,/Other/e.pdf" {
			t.Errorf("files %v", gotFiles)
		}
		if strings.Join(gotFolders, ",") != "/Co,/Co/2025,/Co/2026,/Other" {
			t.Errorf("folders %v", gotFolders)
		}
	})
	t.Run("non-recursive", func(t *testing.T) {
		entries, _ := list(files.NewListFolderArg("/co"))
		if len(entries) != 3 {
			t.Fatalf("%d entries", len(entries))
		}
	})
	t.Run("recursive subfolder includes itself first", func(t *testing.T) {
		arg := files.NewListFolderArg("/Co/2025")
		arg.Recursive = true
		entries, _ := list(arg)
		if f, ok := entries[0].(*files.FolderMetadata); !ok || f.PathLower != "/co/2025" || len(entries) != 3 {
			t.Fatalf("%#v", entries)
		}
	})
	t.Run("changes since a cursor", func(t *testing.T) {
		arg := files.NewListFolderArg("")
		arg.Recursive = true
		_, cursor := list(arg)
		upload(t, c, "/Co/2026/new.pdf", []byte("n"), "add")
		if _, err := c.DeleteV2(files.NewDeleteArg("/Other")); err != nil {
			t.Fatal(err)
		}
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
				got = append(got, "+"+m.PathLower)
			}
		}
		if strings.Join(got, " ") != "-/other -/other/e.pdf +/co/2026/new.pdf" {
			t.Fatalf("changes %v", got)
		}
		// Nothing changed since: an empty page.
		res, err = c.ListFolderContinue(files.NewListFolderContinueArg(res.Cursor))
		if err != nil || len(res.Entries) != 0 || res.HasMore {
			t.Fatalf("%v %v", res, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, err := c.ListFolder(files.NewListFolderArg("/missing"))
		var le files.ListFolderAPIError
		if !errors.As(err, &le) || le.EndpointError.Path.Tag != files.LookupErrorNotFound {
			t.Fatalf("missing: %v", err)
		}
		_, err = c.ListFolder(files.NewListFolderArg("/Co/d.pdf"))
		if !errors.As(err, &le) || le.EndpointError.Path.Tag != files.LookupErrorNotFolder {
			t.Fatalf("file: %v", err)
		}
		_, err = c.ListFolder(files.NewListFolderArg("/"))
		var br auth.BadRequest
		if !errors.As(err, &br) || !strings.Contains(br.ErrorSummary, "empty string") {
			t.Fatalf("slash: %v", err)
		}
		_, err = c.ListFolderContinue(files.NewListFolderContinueArg(cursorToken(e.account, "999999")))
		var ce files.ListFolderContinueAPIError
		if !errors.As(err, &ce) || ce.EndpointError.Tag != files.ListFolderContinueErrorReset {
			t.Fatalf("reset: %v", err)
		}
	})
}

func TestCreateFolderAndDelete(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.files()
	res, err := c.CreateFolderV2(files.NewCreateFolderArg("/Klanten/Peeters"))
	if err != nil || res.Metadata.PathDisplay != "/Klanten/Peeters" {
		t.Fatalf("%v %v", res, err)
	}
	_, err = c.CreateFolderV2(files.NewCreateFolderArg("/klanten/peeters"))
	var ce files.CreateFolderV2APIError
	if !errors.As(err, &ce) || ce.EndpointError.Path.Tag != files.WriteErrorConflict || ce.EndpointError.Path.Conflict.Tag != "folder" {
		t.Fatalf("conflict: %v", err)
	}
	upload(t, c, "/Klanten/Peeters/f.pdf", []byte("f"), "add")

	del, err := c.DeleteV2(files.NewDeleteArg("/KLANTEN"))
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := del.Metadata.(*files.FolderMetadata); !ok || f.PathDisplay != "/Klanten" {
		t.Fatalf("deleted %#v", del.Metadata)
	}
	if got := e.srv.Entries(e.account); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
	_, err = c.DeleteV2(files.NewDeleteArg("/Klanten"))
	var de files.DeleteV2APIError
	if !errors.As(err, &de) || de.EndpointError.Tag != files.DeleteErrorPathLookup || de.EndpointError.PathLookup.Tag != files.LookupErrorNotFound {
		t.Fatalf("delete missing: %v", err)
	}
	_, err = c.GetMetadata(files.NewGetMetadataArg("/Klanten/Peeters/f.pdf"))
	var ge files.GetMetadataAPIError
	if !errors.As(err, &ge) || ge.EndpointError.Path.Tag != files.LookupErrorNotFound {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestDownload(t *testing.T) {
	e := newEnv(t, Options{})
	data := []byte("offerte voor Société Générale — €")
	up := upload(t, e.files(), "/Offertes/Société Générale €.pdf", data, "add")
	m, body, err := e.files().Download(files.NewDownloadArg("/offertes/société générale €.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(body)
	body.Close()
	if !bytes.Equal(got, data) || m.PathDisplay != up.PathDisplay || m.ContentHash != up.ContentHash {
		t.Fatalf("download: %q %+v", got, m)
	}
	_, _, err = e.files().Download(files.NewDownloadArg("/Offertes"))
	var de files.DownloadAPIError
	if !errors.As(err, &de) || de.EndpointError.Path.Tag != files.LookupErrorNotFile {
		t.Fatalf("folder: %v", err)
	}
}

func TestAccount(t *testing.T) {
	e := newEnv(t, Options{})
	acc, err := e.users().GetCurrentAccount()
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.AccountId) != 40 || !strings.HasPrefix(acc.AccountId, "dbid:") || acc.AccountId != e.account {
		t.Errorf("account_id %q", acc.AccountId)
	}
	if acc.Email != "an@example.be" || acc.Name.DisplayName != "An Peeters" || acc.AccountType.Tag != "basic" {
		t.Errorf("account %+v name %+v", acc, acc.Name)
	}
	if acc.RootInfo == nil {
		t.Fatal("no root_info")
	}
}

func TestAuthErrors(t *testing.T) {
	e := newEnv(t, Options{})
	authTag := func(err error) string {
		var ae auth.AuthAPIError
		if !errors.As(err, &ae) {
			t.Fatalf("want auth.AuthAPIError, got %T %v", err, err)
		}
		return ae.AuthError.Tag
	}
	_, err := filesWith(e, "not-a-token").ListFolder(files.NewListFolderArg(""))
	if tag := authTag(err); tag != auth.AuthErrorInvalidAccessToken {
		t.Errorf("bad token: %s", tag)
	}

	e.srv.mu.Lock()
	e.srv.tokens["narrow"] = &accessToken{Token: "narrow", Account: e.account, Scopes: []string{scopeMeta}, Expiry: e.clock.Now().Add(time.Hour), Family: "narrow"}
	e.srv.mu.Unlock()
	_, err = filesWith(e, "narrow").Upload(files.NewUploadArg("/x"), bytes.NewReader(nil))
	var ae auth.AuthAPIError
	if tag := authTag(err); tag != auth.AuthErrorMissingScope || !errors.As(err, &ae) || ae.AuthError.MissingScope.RequiredScope != scopeWrite {
		t.Errorf("scope: %v", err)
	}

	e.clock.Advance(DefaultTokenLifetime)
	_, err = e.files().ListFolder(files.NewListFolderArg(""))
	if tag := authTag(err); tag != auth.AuthErrorExpiredAccessToken {
		t.Errorf("expired: %s", tag)
	}
}

func filesWith(e *env, token string) files.Client { return files.New(e.config(token)) }
