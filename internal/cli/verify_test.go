package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// dropboxFiles is the account's files (no folders) by path, with their content hashes.
func (e *cliEnv) dropboxFiles() map[string]string {
	got := map[string]string{}
	for _, en := range e.srv.Entries(e.account) {
		if !en.Folder {
			got[en.PathDisplay] = en.ContentHash
		}
	}
	return got
}

// TestVerifySendsAgainWhatWasDeleted syncs three documents, deletes one in Dropbox as a
// colleague would, and checks that verify sends it again, says so, and writes a report
// with a row per document; a second verify finds everything present.
func TestVerifySendsAgainWhatWasDeleted(t *testing.T) {
	e := newCLIEnv(t)
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{"factuur 2026-03-01.pdf", "factuur 2026-03-02.pdf", "creditnota 2026-04-01.pdf"} {
		p := filepath.Join(e.export, name)
		if err := os.WriteFile(p, []byte("%PDF-1.7 "+name+"\n%%EOF\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	e.add(t)
	conn := e.config(t).Connections[0]
	var out, errOut bytes.Buffer
	if code := Sync(context.Background(), []string{"--once"}, &out, &errOut); code != ExitOK {
		t.Fatalf("sync: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	before := e.dropboxFiles()
	if len(before) != 3 {
		t.Fatalf("synced %v, want 3 files", before)
	}
	var deleted string
	for p := range before {
		deleted = p
		break
	}
	c := files.New(sdk.Config{Token: storedToken(t, conn.ID).AccessToken, URLGenerator: dropboxemu.URLGenerator(e.ts.URL)})
	if _, err := c.DeleteV2(files.NewDeleteArg(deleted)); err != nil {
		t.Fatalf("delete %s: %v", deleted, err)
	}
	// A file someone else put in the connection's folder: counted, left alone.
	if err := e.srv.PutFile(e.account, path.Dir(deleted)+"/notes.txt", []byte("ours"), old); err != nil {
		t.Fatal(err)
	}

	reportFile := filepath.Join(t.TempDir(), "check.csv")
	out.Reset()
	errOut.Reset()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code := Verify(ctx, []string{"--report", reportFile}, &out, &errOut); code != ExitOK {
		t.Fatalf("verify: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	t.Logf("verify:\n%s%s", out.String(), errOut.String())
	after := e.dropboxFiles()
	if after[deleted] != before[deleted] {
		t.Errorf("%s in Dropbox has hash %q after verify, want %q", deleted, after[deleted], before[deleted])
	}
	for _, want := range []string{
		"Acme onFact: 3 documents checked: 1 was missing or changed in Dropbox and was sent again; all are in Dropbox now",
		"1 other file in Dropbox was left alone",
		"Dropbox was listed in full, in 1 request",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify printed:\n%s\nwant %q", out.String(), want)
		}
	}
	if _, ok := after[path.Dir(deleted)+"/notes.txt"]; !ok {
		t.Error("verify touched a file it did not send")
	}

	f, err := os.Open(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := "connection,document,dropbox_path,content_hash,status,detail"; len(rows) == 0 || strings.Join(rows[0], ",") != want {
		t.Fatalf("report header %v, want %s", rows, want)
	}
	statuses := map[string]string{}
	for _, r := range rows[1:] {
		if r[0] != "Acme onFact" {
			t.Errorf("row %v: connection %q", r, r[0])
		}
		statuses[r[2]] = r[4]
		if r[1] != "" && r[3] != before[r[2]] {
			t.Errorf("row %v: hash, want %s", r, before[r[2]])
		}
	}
	for p := range before {
		want := engine.RowPresent
		if p == deleted {
			want = engine.RowRepaired
		}
		if statuses[p] != want {
			t.Errorf("report says %s is %q, want %q\n%v", p, statuses[p], want, rows)
		}
	}
	if got := statuses[path.Dir(deleted)+"/notes.txt"]; got != engine.RowExtra {
		t.Errorf("report says notes.txt is %q, want %q", got, engine.RowExtra)
	}
	if len(rows) != 1+3+1 {
		t.Errorf("report has %d rows, want a header, 3 documents and 1 other file:\n%v", len(rows), rows)
	}

	// Again: nothing is missing, and only the changes are listed.
	out.Reset()
	errOut.Reset()
	if code := Verify(ctx, []string{"--connection", "Acme onFact", "--report", "-"}, &out, &errOut); code != ExitOK {
		t.Fatalf("verify again: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"Acme onFact: 3 documents checked: all present in Dropbox", "only what changed in Dropbox since the last check was listed"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("verify again printed on stderr:\n%s\nwant %q", errOut.String(), want)
		}
	}
	if !strings.HasPrefix(out.String(), "connection,document,") || strings.Count(out.String(), ","+engine.RowPresent+",") != 3 {
		t.Errorf("report on stdout:\n%s", out.String())
	}

	// A connection that does not exist is a bad argument.
	out.Reset()
	errOut.Reset()
	if code := Verify(ctx, []string{"--connection", "Nobody"}, &out, &errOut); code != ExitUsage {
		t.Errorf("verify --connection Nobody: exit %d, want %d\n%s", code, ExitUsage, errOut.String())
	}
}

// TestVerifyBadArguments: flags it does not know, and arguments, are refused before
// anything is opened.
func TestVerifyBadArguments(t *testing.T) {
	t.Setenv("ONFACT_DROPBOX_HOME", t.TempDir())
	for _, args := range [][]string{{"--nope"}, {"extra"}, {"--report"}, {"--full=maybe"}} {
		var out, errOut bytes.Buffer
		if code := Verify(context.Background(), args, &out, &errOut); code != ExitUsage {
			t.Errorf("verify %v: exit %d, want %d", args, code, ExitUsage)
		}
		if out.Len() != 0 {
			t.Errorf("verify %v printed on stdout: %s", args, out.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := Verify(context.Background(), []string{"-h"}, &out, &errOut); code != ExitOK || !strings.Contains(errOut.String(), "Usage: onfact-dropbox verify") {
		t.Errorf("verify -h: exit %d\n%s", code, errOut.String())
	}
}

func TestCheckSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  store.CheckReport
		t    tally
		want []string
	}{
		{"all present", store.CheckReport{Documents: 12345, Full: true, Requests: 7}, tally{present: 12345},
			[]string{"12,345 documents checked: all present in Dropbox", "Dropbox was listed in full, in 7 requests"}},
		{"sent again", store.CheckReport{Documents: 10, Extra: 12, Requests: 1}, tally{present: 7, repaired: 3, extra: 12},
			[]string{"10 documents checked: 3 were missing or changed in Dropbox and were sent again; all are in Dropbox now",
				"12 other files in Dropbox were left alone",
				"only what changed in Dropbox since the last check was listed, in 1 request"}},
		{"refused", store.CheckReport{Documents: 1000, Requests: 2}, tally{present: 997, repaired: 1, problems: 2},
			[]string{"1,000 documents checked: 1 was missing or changed in Dropbox and was sent again; 2 could not be sent: see 'onfact-dropbox status'",
				"only what changed in Dropbox since the last check was listed, in 2 requests"}},
		{"waiting", store.CheckReport{Documents: 1, Requests: 1, Full: true}, tally{waiting: 1},
			[]string{"1 document checked: 1 is waiting to be sent: it stays queued for the next run", "Dropbox was listed in full, in 1 request"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkSummary(tc.rep, tc.t)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
