package engine

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox"
	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/files"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// colleague is another Dropbox client of the same account, touching the connection's
// files as people do.
type colleague struct {
	t *testing.T
	c files.Client
}

func (h *harness) colleague(t *testing.T) colleague {
	return colleague{t, files.New(sdk.Config{Token: h.token, URLGenerator: dropboxemu.URLGenerator(h.url)})}
}

func (c colleague) delete(path string) {
	c.t.Helper()
	if _, err := c.c.DeleteV2(files.NewDeleteArg(path)); err != nil {
		c.t.Fatalf("delete %s: %v", path, err)
	}
}

func (c colleague) put(path, content string) {
	c.t.Helper()
	arg := files.NewUploadArg(path)
	arg.Mode = &files.WriteMode{Tagged: sdk.Tagged{Tag: files.WriteModeOverwrite}}
	if _, err := c.c.Upload(arg, bytes.NewReader([]byte(content))); err != nil {
		c.t.Fatalf("upload %s: %v", path, err)
	}
}

func (c colleague) move(from, to string) {
	c.t.Helper()
	if _, err := c.c.MoveV2(files.NewRelocationArg(from, to)); err != nil {
		c.t.Fatalf("move %s: %v", from, err)
	}
}

// lastCheck is the report the store keeps of a connection's last check.
func (h *harness) lastCheck(id string) store.CheckReport {
	h.t.Helper()
	cs, err := h.st.Conn(id).CheckState()
	if err != nil || cs.Last == nil {
		h.t.Fatalf("no check recorded: %v", err)
	}
	return *cs.Last
}

// repairs counts the feed's "sent again" entries by reason.
func (h *harness) repairs(id string) map[string]int {
	acts, err := h.st.Conn(id).Activities(store.MaxActivity)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range acts {
		if a.Kind == ActRepaired {
			out[a.Message]++
		}
	}
	return out
}

// TestCheckRepairsWhatPeopleChanged: documents deleted, edited and moved in Dropbox by
// another client are found by the next check and sent again where they were; files the
// connection never sent are left alone; a check with nothing changed takes only the
// changes since its cursor; a cursor Dropbox reset falls back to a full listing.
func TestCheckRepairsWhatPeopleChanged(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(10)
	if err := h.runOnce(h.conn("c1", "Acme"), testOptions()); err != nil {
		t.Fatal(err)
	}
	verify := testOptions()
	verify.CheckAtStart = true
	check := func() store.CheckReport {
		t.Helper()
		h.srv.ResetStats()
		if err := h.runOnce(h.conn("c1", "Acme"), verify); err != nil {
			t.Fatal(err)
		}
		return h.lastCheck("c1")
	}

	// Nothing touched yet: all present, in one full listing.
	rep := check()
	if !rep.Full || rep.Documents != len(want) || rep.Present != len(want) || rep.Repaired+rep.Extra+rep.Pending+rep.Problems != 0 {
		t.Fatalf("first check: %+v", rep)
	}

	people := h.colleague(t)
	people.delete("/Acme/2025/Facturen/F2025-0001.pdf")
	people.delete("/Acme/2026/Offertes")
	people.put("/Acme/2025/Facturen/F2025-0002.xml", "edited in Dropbox")
	people.move("/Acme/2025/Facturen/F2025-0003.pdf", "/Archief/F2025-0003.pdf")
	people.put("/Acme/notities.txt", "not ours")
	extra := map[string]string{
		"/Archief/F2025-0003.pdf": want["/Acme/2025/Facturen/F2025-0003.pdf"],
		"/Acme/notities.txt":      hashOf("not ours"),
	}

	rep = check()
	if rep.Full || rep.Repaired != 4 || rep.Present != len(want)-4 || rep.Extra != 2 {
		t.Errorf("check after people's changes: %+v", rep)
	}
	if n := h.srv.Calls("files/list_folder"); n != 0 {
		t.Errorf("%d full listings, want only the changes since the last check", n)
	}
	all := map[string]string{}
	for k, v := range want {
		all[k] = v
	}
	for k, v := range extra {
		all[k] = v
	}
	equalMaps(t, h.remoteFiles(), all)
	if got := h.repairs("c1"); got[store.CheckMissing] != 3 || got[store.CheckDifferent] != 1 {
		t.Errorf("feed says sent again: %v, want 3 missing and 1 different", got)
	}

	// Nothing touched since: the changes since the cursor, nothing sent.
	rep = check()
	if rep.Full || rep.Repaired != 0 || rep.Present != len(want) || rep.Extra != 2 {
		t.Errorf("check with nothing changed: %+v", rep)
	}
	if n := h.srv.Calls("files/list_folder"); n != 0 || rep.Requests != 1 || h.srv.Calls("files/list_folder/continue") != 1 {
		t.Errorf("check with nothing changed: %d full listings, %d continue requests: %v", n, rep.Requests, h.srv.Stats())
	}
	if n := h.contentCalls() + h.srv.Calls("files/upload_session/finish_batch_v2"); n != 0 {
		t.Errorf("check with nothing changed sent %d requests with content or commits", n)
	}
	if got := h.repairs("c1"); got[store.CheckMissing] != 3 {
		t.Errorf("feed: %v", got)
	}

	// Dropbox reset the cursor: a full listing, and still nothing to repair.
	if err := h.srv.ResetCursors(h.account); err != nil {
		t.Fatal(err)
	}
	rep = check()
	if !rep.Full || rep.Repaired != 0 || rep.Present != len(want) || rep.Extra != 2 {
		t.Errorf("check after a cursor reset: %+v", rep)
	}
	if n := h.srv.Calls("files/list_folder"); n != 1 {
		t.Errorf("%d full listings after a cursor reset, want 1", n)
	}
	equalMaps(t, h.remoteFiles(), all)
}

// TestScheduledCheck: a running connection checks Dropbox on its schedule, sends again
// what it finds missing, and says so in its status and feed.
func TestScheduledCheck(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	want := h.corpus(3)
	opts := testOptions()
	opts.CheckEvery = 300 * time.Millisecond
	e, waitFor := h.live(t, opts)
	waitFor("the first scheduled check", func() bool { s := statusOf(e, "c1"); return s.Check != nil })
	h.colleague(t).delete("/Acme/2025/Facturen/F2025-0001.xml")
	waitFor("the deleted document sent again", func() bool {
		s := statusOf(e, "c1")
		return s.Check != nil && s.Check.Repaired == 1 && s.State == StateIdle
	})
	equalMaps(t, h.remoteFiles(), want)
	if got := h.repairs("c1"); got[store.CheckMissing] != 1 {
		t.Errorf("feed: %v", got)
	}
}

// brokenLister is Dropbox whose listing fails with something other than the network.
type brokenLister struct {
	*dropbox.Client
	calls atomic.Int32
}

func (b *brokenLister) List(context.Context, string, string, func([]dropbox.Entry) error) (string, error) {
	b.calls.Add(1)
	return "", errors.New("the listing broke")
}

// TestCheckThatFails: a check that cannot finish says why, keeps the connection syncing,
// and is not tried again at once.
func TestCheckThatFails(t *testing.T) {
	h := newHarness(t, dropboxemu.Faults{})
	h.corpus(2)
	remote := &brokenLister{Client: h.client(h.token)}
	opts := testOptions()
	opts.Watch = true
	e := New(h.st, opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); e.Wait() }()
	c := h.conn("c1", "Acme")
	c.Remote = remote
	if err := e.Start(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, ok func(Status) bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !ok(statusOf(e, "c1")); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s: %+v", what, statusOf(e, "c1"))
			}
		}
	}
	wait("the initial copy", func(s Status) bool { return s.InitialCopyDone && s.State == StateIdle })
	e.Send("c1", CmdCheck)
	wait("the check's failure", func(s Status) bool { return s.CheckError != "" && !s.Checking })
	time.Sleep(300 * time.Millisecond)
	if n := remote.calls.Load(); n != 1 {
		t.Fatalf("a failed check was tried %d times at once", n)
	}
	if s := statusOf(e, "c1"); s.State != StateIdle || s.CheckError != "the listing broke" {
		t.Fatalf("after a failed check: %+v", s)
	}
	h.write("nieuw 2026-05-01.pdf", "%PDF-1.7 nieuw\n%%EOF\n")
	e.Send("c1", CmdSyncNow)
	wait("syncing on", func(s Status) bool { return h.remoteFiles()["/Acme/2026/Overige/nieuw 2026-05-01.pdf"] != "" })
}
