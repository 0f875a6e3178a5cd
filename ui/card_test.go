package ui

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// janssens is one connection to dropbox.com in the given state, with 1,234 documents in
// Dropbox.
func janssens(s engine.Status) *fixedController {
	s.ID, s.Name = "j", "Bakkerij Janssens"
	if s.LastSync.IsZero() {
		s.LastSync = clock.Add(-2 * time.Minute)
	}
	return &fixedController{
		conns: []config.Connection{{ID: "j", Name: "Bakkerij Janssens", Company: "Bakkerij Janssens BV",
			Folder: "/home/kantoor/onFact/export", Structure: "year-type", AccountName: "Jan Janssens",
			AccountEmail: "jan@janssens.be"}},
		status:    []engine.Status{s},
		inDropbox: map[string]int{"j": 1234},
		website:   true,
	}
}

// TestCardStates snapshots the card of a connection in each state that matters at a
// glance, and checks its one fix does what it says.
func TestCardStates(t *testing.T) {
	i18n.SetLanguage("nl")
	for _, tc := range []struct {
		name     string
		status   engine.Status
		headline string
		fix      string
		// check runs after the fix was tapped (when fix is set).
		check func(t *testing.T, w *MainWindow, f *fixedController, opened []string)
	}{
		{name: "safe", status: engine.Status{State: engine.StateIdle, InitialCopyDone: true},
			headline: "Alles staat veilig in Dropbox"},
		{name: "sending", status: engine.Status{State: engine.StateUploading, Done: 120, Total: 340, Queued: 220, ETA: 3 * time.Minute},
			headline: "Bezig met verzenden: 120 van 340 documenten"},
		{name: "problems", status: engine.Status{State: engine.StateIdle, Failed: 2, InitialCopyDone: true,
			Problems: []engine.Problem{{Path: "CN2026-0003.pdf", Reason: "de naam is te lang voor Dropbox"}}},
			headline: "Bijgewerkt, behalve 2 documenten die niet in Dropbox staan", fix: "Problemen tonen",
			check: func(t *testing.T, w *MainWindow, _ *fixedController, _ []string) {
				if w.tabs.SelectedIndex() != 1 || !w.problems.Checked {
					t.Errorf("the fix shows tab %d, problems only %v", w.tabs.SelectedIndex(), w.problems.Checked)
				}
			}},
		{name: "reconnect", status: engine.Status{State: engine.StateNeedsReconnect, Queued: 4},
			headline: "Moet opnieuw gekoppeld worden", fix: "Opnieuw koppelen"},
		{name: "refused", status: engine.Status{State: engine.StateRefused, Detail: "the team's data transport limit is reached"},
			headline: i18n.T("state.refused"), fix: "Opnieuw proberen",
			check: func(t *testing.T, _ *MainWindow, f *fixedController, _ []string) {
				if len(f.synced) != 1 || f.synced[0] != "j" {
					t.Errorf("retry sent %q", f.synced)
				}
			}},
		{name: "full", status: engine.Status{State: engine.StateDropboxFull, Queued: 12},
			headline: "Dropbox is vol – maak ruimte vrij", fix: "Dropbox openen",
			check: func(t *testing.T, _ *MainWindow, _ *fixedController, opened []string) {
				if len(opened) != 1 || opened[0] != dropboxHome {
					t.Errorf("opened %q", opened)
				}
			}},
		{name: "folder", status: engine.Status{State: engine.StateFolderMissing},
			headline: "De exportmap is niet gevonden", fix: "Map kiezen",
			check: func(t *testing.T, w *MainWindow, _ *fixedController, _ []string) {
				if w.editor == nil || w.Window.Canvas().Overlays().Top() == nil {
					t.Error("choosing the folder opens no edit dialog")
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := janssens(tc.status)
			w := NewMainWindow(test.NewTempApp(t), f, Options{})
			syncWindow(w)
			var opened []string
			w.openURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
			w.now = func() time.Time { return clock }
			w.Window.Resize(fyne.NewSize(720, 560))
			w.SetInDropbox(f.InDropbox(f.status))
			w.Update(f.status)
			assertMarkup(t, "card_"+tc.name+".xml", w.Window.Canvas())
			card := cardOf(w, "Bakkerij Janssens")
			if h := headline(w, "Bakkerij Janssens"); h != tc.headline {
				t.Errorf("headline %q, want %q", h, tc.headline)
			}
			text := strings.Join(labels(card), "\n")
			for _, want := range []string{"1.234 documenten in Dropbox", "In Dropbox: Apps/onFact/Bakkerij Janssens BV/2026/Facturen"} {
				if !strings.Contains(text, want) {
					t.Errorf("card lacks %q:\n%s", want, text)
				}
			}
			if tc.status.State == engine.StateIdle && tc.status.Failed == 0 {
				if !strings.Contains(text, "Alles staat veilig") {
					t.Error("all safe not said")
				}
			} else if strings.Contains(text, "Alles staat veilig") {
				t.Errorf("all safe said while %s with %d failed", tc.status.State, tc.status.Failed)
			}
			fix := w.rows["j"].fix
			if tc.fix == "" {
				if fix.Visible() {
					t.Errorf("a fix %q is offered", fix.Text)
				}
			} else {
				if !fix.Visible() || fix.Text != tc.fix || fix.Importance != widget.HighImportance {
					t.Fatalf("fix %q (shown %v), want %q", fix.Text, fix.Visible(), tc.fix)
				}
				test.Tap(fix)
				if tc.check != nil {
					tc.check(t, w, f, opened)
				}
			}
			opened = nil
			test.Tap(button(card, "Openen in Dropbox"))
			if len(opened) != 1 || opened[0] != "https://www.dropbox.com/home/Apps/onFact/Bakkerij%20Janssens%20BV" {
				t.Errorf("Open in Dropbox opened %q", opened)
			}
		})
	}
}

// TestCardProblemsLink: the number of problems is a link to the feed, filtered on them.
func TestCardProblemsLink(t *testing.T) {
	i18n.SetLanguage("nl")
	f := janssens(engine.Status{State: engine.StateUploading, Done: 3, Total: 10, Failed: 1})
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	syncWindow(w)
	w.Window.Resize(fyne.NewSize(720, 560))
	w.Update(f.status)
	link := w.rows["j"].problems
	if !link.Visible() || link.Text != "1 probleem" {
		t.Fatalf("problems link %q (shown %v)", link.Text, link.Visible())
	}
	test.TapAt(link, fyne.NewPos(link.Size().Width/2, link.Size().Height/2))
	if w.tabs.SelectedIndex() != 1 || !w.problems.Checked {
		t.Fatalf("tab %d, problems only %v", w.tabs.SelectedIndex(), w.problems.Checked)
	}
}

// TestCardWithoutWebsite: an emulated Dropbox (the demo) has no web pages, so the card
// opens the export folder and says so; a count not made yet says it is being made.
func TestCardWithoutWebsite(t *testing.T) {
	i18n.SetLanguage("nl")
	f := janssens(engine.Status{State: engine.StateIdle})
	f.website = false
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	var opened []string
	w.openURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	w.Update(f.status)
	card := cardOf(w, "Bakkerij Janssens")
	if !strings.Contains(strings.Join(labels(card), "\n"), "Documenten in Dropbox tellen…") {
		t.Errorf("no counting: %q", labels(card))
	}
	test.Tap(button(card, "Exportmap openen"))
	if len(opened) != 1 || opened[0] != "file:///home/kantoor/onFact/export" {
		t.Fatalf("opened %q", opened)
	}
}

// feedController has two connections with a burst of 39 documents, single documents and
// problems in their feeds.
func feedController() *fixedController {
	f := twoConnections()
	var acme []store.Activity
	acme = append(acme,
		store.Activity{Seq: 100, Time: clock.Add(-5 * time.Minute), Kind: engine.ActUploaded, Path: "2026/F2026-0142.pdf",
			RemotePath: "/Acme onFact/2026/Facturen/F2026-0142.pdf"},
		store.Activity{Seq: 99, Time: clock.Add(-40 * time.Minute), Kind: engine.ActIncomplete, Path: "2026/F2026-0141.pdf",
			RemotePath: "/Acme onFact/2026/Facturen/F2026-0141.pdf"})
	for i := range 39 {
		folder := "Facturen"
		if i%13 == 0 {
			folder = "Creditnota's"
		}
		acme = append(acme, store.Activity{Seq: uint64(98 - i), Time: clock.Add(-3*time.Hour - time.Duration(i)*20*time.Second),
			Kind: engine.ActUploaded, Path: fmt.Sprintf("2026/F2026-%04d.pdf", 100-i),
			RemotePath: fmt.Sprintf("/Acme onFact/2026/%s/F2026-%04d.pdf", folder, 100-i)})
	}
	f.activity["a"] = acme
	f.website = true
	return f
}

// TestFeedMarkup snapshots the feed: single documents, a burst grouped on one line, the
// burst opened, then only the problems. The store is read off the UI goroutine.
func TestFeedMarkup(t *testing.T) {
	i18n.SetLanguage("nl")
	f := feedController()
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	syncWindow(w)
	inBackground := false
	w.background = func(fn func()) { inBackground = true; fn(); inBackground = false }
	f.onActivity = func() {
		if !inBackground {
			t.Error("the feed reads the store on the UI goroutine")
		}
	}
	var opened []string
	w.openURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.Update(f.status)
	w.tabs.SelectIndex(1)
	assertMarkup(t, "activity.xml", w.Window.Canvas())
	all := strings.Join(labels(w.feedList), "\n")
	for _, want := range []string{"F2026-0142.pdf", "naar Apps/onFact/Acme onFact/2026/Facturen · Acme onFact", "5 minuten geleden",
		"39 documenten verzonden", "naar 2 mappen in Apps/onFact/Acme onFact/2026 · Acme onFact",
		"CN2026-0003.pdf", "niet in Dropbox: de naam is te lang voor Dropbox · Bakkerij Janssens"} {
		if !strings.Contains(all, want) {
			t.Errorf("feed lacks %q:\n%s", want, all)
		}
	}
	if got := strings.Join(labels(w.attention), "\n"); !strings.Contains(got, "Bakkerij Janssens: Moet opnieuw gekoppeld worden") {
		t.Errorf("attention shows %q", got)
	}

	burst := -1
	for i, r := range w.feedRows {
		if r.line.Burst() {
			burst = i
		}
	}
	if burst < 0 || len(w.feedRows) != 4 {
		t.Fatalf("rows %+v", w.feedRows)
	}
	line := find(w.feedList, func(l *feedLine) bool { return l.row.line.Burst() })
	if line == nil {
		t.Fatal("no line for the burst")
	}
	test.Tap(line)
	if len(w.feedRows) != 4+39 || !w.feedRows[burst].expanded || !w.feedRows[burst+1].child {
		t.Fatalf("the burst did not open: %d rows", len(w.feedRows))
	}
	assertMarkup(t, "activity_burst.xml", w.Window.Canvas())

	// The actions are in the line's menu.
	line = find(w.feedList, func(l *feedLine) bool { return l.row.line.Title == "F2026-0142.pdf" })
	if line == nil {
		t.Fatal("no line for F2026-0142.pdf")
	}
	m := line.menu()
	if len(m.Items) != 2 || m.Items[0].Label != "Bestand openen" || m.Items[1].Label != "Map in Dropbox openen" {
		t.Fatalf("menu %+v", m.Items)
	}
	m.Items[0].Action()
	m.Items[1].Action()
	if len(opened) != 2 || opened[0] != "file:///home/kantoor/onFact/export/2026/F2026-0142.pdf" ||
		opened[1] != "https://www.dropbox.com/home/Apps/onFact/Acme%20onFact/2026/Facturen" {
		t.Fatalf("opened %q", opened)
	}
	test.TapSecondary(line)
	if w.Window.Canvas().Overlays().Top() == nil {
		t.Fatal("a right click opens no menu")
	}
	w.Window.Canvas().Overlays().Top().Hide()
	w.Window.Canvas().Overlays().Remove(w.Window.Canvas().Overlays().Top())

	test.Tap(w.problems)
	assertMarkup(t, "activity_problems.xml", w.Window.Canvas())
	if len(w.feedRows) != 2 || !w.feedRows[0].line.Problem || !w.feedRows[1].line.Problem {
		t.Fatalf("problems filter shows %+v", w.feedRows)
	}
}

// TestFeedAtScale: 100,000 documents in Dropbox and the store's full feed of every
// connection: the card shows the count from the store, and the feed draws only the lines
// on screen.
func TestFeedAtScale(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	f.inDropbox = map[string]int{"a": 100_000}
	for _, id := range []string{"a", "b"} {
		var acts []store.Activity
		for i := range store.MaxActivity {
			kind := engine.ActUploaded
			if i%7 == 0 {
				kind = engine.ActFailed
			}
			acts = append(acts, store.Activity{Seq: uint64(i), Time: clock.Add(-time.Duration(i) * 5 * time.Minute), Kind: kind,
				Path: fmt.Sprintf("2026/F%06d.pdf", i), RemotePath: fmt.Sprintf("/X/2026/Facturen/F%06d.pdf", i)})
		}
		f.activity[id] = acts
	}
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	syncWindow(w)
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.SetInDropbox(f.InDropbox(f.status))
	w.Update(f.status)
	if !strings.Contains(strings.Join(labels(cardOf(w, "Acme onFact")), "\n"), "100.000 documenten in Dropbox") {
		t.Errorf("card: %q", labels(cardOf(w, "Acme onFact")))
	}
	w.tabs.SelectIndex(1)
	if len(w.feedRows) < 2*store.MaxActivity/7 {
		t.Fatalf("%d rows", len(w.feedRows))
	}
	drawn := 0
	for _, o := range test.LaidOutObjects(w.feedList) {
		if _, ok := o.(*feedLine); ok {
			drawn++
		}
	}
	if drawn == 0 || drawn > 40 {
		t.Fatalf("%d lines drawn for %d rows", drawn, len(w.feedRows))
	}
}
