package dropboxemu

import (
	"errors"
	"net/http"
	"testing"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"
)

// TestResetCursors expires an account's cursors, from a test and the way a script drives
// the standalone binary: list_folder/continue then answers reset, for the cursor of a
// finished listing and of one half way, while another account's cursors go on.
func TestResetCursors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reset func(e *env, account string) error
	}{
		{"ResetCursors", func(e *env, account string) error { return e.srv.ResetCursors(account) }},
		{"admin endpoint", func(e *env, account string) error {
			req, _ := http.NewRequest(http.MethodDelete, e.ts.URL+"/_emulator/cursors?account="+account, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return errors.New(resp.Status)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			c := e.files()
			for _, p := range []string{"/a.pdf", "/b.pdf", "/c.pdf"} {
				upload(t, c, p, []byte(p), "add")
			}
			otherID, err := e.srv.AddAccount(AccountInfo{Email: "jan@example.be"})
			if err != nil {
				t.Fatal(err)
			}
			otherTok, _, err := e.srv.IssueToken(otherID, testAppKey, false)
			if err != nil {
				t.Fatal(err)
			}
			other := files.New(e.config(otherTok))

			cursor := recursiveCursor(t, c)
			arg := files.NewListFolderArg("")
			arg.Limit = 1
			page, err := c.ListFolder(arg)
			if err != nil || !page.HasMore {
				t.Fatalf("%v %v", page, err)
			}
			otherCursor := recursiveCursor(t, other)

			if err := tc.reset(e, e.account); err != nil {
				t.Fatal(err)
			}
			for name, cur := range map[string]string{"changes": cursor, "half way": page.Cursor} {
				_, err := c.ListFolderContinue(files.NewListFolderContinueArg(cur))
				var ce files.ListFolderContinueAPIError
				if !errors.As(err, &ce) || ce.EndpointError.Tag != files.ListFolderContinueErrorReset {
					t.Errorf("%s: want reset, got %T %v", name, err, err)
				}
			}
			if _, err := other.ListFolderContinue(files.NewListFolderContinueArg(otherCursor)); err != nil {
				t.Errorf("another account's cursor: %v", err)
			}
			// Listing again gives a cursor that works.
			if got := changes(t, c, recursiveCursor(t, c)); got != "" {
				t.Errorf("changes after a new listing: %q", got)
			}

			if err := tc.reset(e, "dbid:nobody"); err == nil {
				t.Error("an unknown account was reset")
			}
		})
	}
}
