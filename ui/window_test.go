package ui

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

var update = flag.Bool("update", false, "rewrite the markup snapshots in testdata/")

// assertMarkup compares the canvas with testdata/name, or rewrites it with -update.
func assertMarkup(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	if *update {
		p := filepath.Join("testdata", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(test.RenderToMarkup(c)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertRendersToMarkup(t, name, c)
}

// demoApp runs the real app over the demo environment with one connection, connected
// through the emulated Dropbox's OAuth, and waits for its first full copy.
func demoApp(t *testing.T) (*app.App, config.Connection) {
	t.Helper()
	d, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tokens := &auth.MemoryStore{}
	a, err := app.Open(app.Options{Dir: d.Dir, Auth: d.Auth, Tokens: tokens,
		Engine: engine.Options{Settle: 10 * time.Millisecond}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	res, err := d.Auth.Connect(context.Background(), auth.Options{Language: "nl", OpenBrowser: func(ctx context.Context, u string) error {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	conn := config.Connection{ID: config.NewID(), Name: "Demo onFact", Folder: d.Export, Structure: "year-type",
		Company: "Demo BV", Language: "nl", AccountID: res.Account.ID, AccountEmail: res.Account.Email}
	if err := tokens.Save(conn.ID, res.Token); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(conn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the initial copy", func() bool {
		for _, s := range a.Status() {
			if s.ID == conn.ID && s.State == engine.StateIdle && s.InitialCopyDone {
				return true
			}
		}
		return false
	})
	return a, conn
}

// waitFor polls ok on the test goroutine (which owns the widgets) until it holds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cardOf(w *MainWindow, name string) *widget.Card {
	for _, o := range test.LaidOutObjects(w.Window.Content()) {
		if c, ok := o.(*widget.Card); ok && c.Title == name {
			return c
		}
	}
	return nil
}

// button finds a visible button by its text under o.
func button(o fyne.CanvasObject, text string) *widget.Button {
	for _, x := range test.LaidOutObjects(o) {
		if b, ok := x.(*widget.Button); ok && b.Text == text && b.Visible() {
			return b
		}
	}
	return nil
}

func labels(o fyne.CanvasObject) []string {
	var out []string
	for _, x := range test.LaidOutObjects(o) {
		if l, ok := x.(*widget.Label); ok && l.Visible() {
			out = append(out, l.Text)
		}
	}
	return out
}

// TestMainWindowFollowsTheRealApp drives the main window and the tray menu against the real
// app over the demo's emulated Dropbox: the state in plain Dutch, Pause and Resume from the
// window and the tray, and Remove after a confirmation.
func TestMainWindowFollowsTheRealApp(t *testing.T) {
	i18n.SetLanguage("nl")
	a, conn := demoApp(t)
	fa := test.NewTempApp(t)
	w := NewMainWindow(fa, a, Options{})
	queued := make(chan func(), 10)
	w.do = func(f func()) { queued <- f }
	w.Window.Show()
	w.Update(a.Status())

	card := cardOf(w, "Demo onFact")
	if card == nil {
		t.Fatalf("no card for the connection: %q", labels(w.Window.Content()))
	}
	if card.Subtitle != "Alles gesynchroniseerd" {
		t.Fatalf("state %q", card.Subtitle)
	}
	got := strings.Join(labels(card), "\n")
	for _, want := range []string{"Exportmap: " + conn.Folder, "Mappen in Dropbox: per jaar en soort document",
		"Dropbox-account: " + conn.AccountEmail, "Laatst gesynchroniseerd: zonet"} {
		if !strings.Contains(got, want) {
			t.Errorf("card lacks %q:\n%s", want, got)
		}
	}

	tray := NewTray(fa, a, w.Show, fa.Quit)
	tray.Update(a.Status())
	checkTray(t, tray, "Alles gesynchroniseerd", "Pauzeren")

	pause := button(card, "Pauzeren")
	if pause == nil {
		t.Fatal("no Pause button")
	}
	test.Tap(pause)
	waitFor(t, "the card to show paused", func() bool {
		st := a.Status()
		w.Update(st)
		tray.Update(st)
		return card.Subtitle == "Gepauzeerd" && button(card, "Hervatten") != nil && tray.View().Status == "Gepauzeerd"
	})
	checkTray(t, tray, "Gepauzeerd", "Hervatten")

	tray.pause.Action() // Resume from the tray
	waitFor(t, "the tray to show resumed", func() bool {
		st := a.Status()
		w.Update(st)
		tray.Update(st)
		return card.Subtitle == "Alles gesynchroniseerd" && tray.View().Status == "Alles gesynchroniseerd"
	})
	checkTray(t, tray, "Alles gesynchroniseerd", "Pauzeren")

	test.Tap(button(card, "Verwijderen"))
	overlay := w.Window.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("Remove asks nothing")
	}
	text := strings.Join(labels(overlay), "\n")
	for _, want := range []string{"Dropbox Demo onFact verwijderen?", "geen toegang meer", "blijven daar staan"} {
		if !strings.Contains(text, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, text)
		}
	}
	test.Tap(button(overlay, "Verwijderen"))
	select {
	case f := <-queued:
		f()
	case <-time.After(30 * time.Second):
		t.Fatal("Remove does not report back")
	}
	if cardOf(w, "Demo onFact") != nil {
		t.Fatal("the removed connection is still shown")
	}
	if !strings.Contains(strings.Join(labels(w.Window.Content()), "\n"), "Nog geen Dropbox gekoppeld") {
		t.Fatalf("no empty state: %q", labels(w.Window.Content()))
	}
	if len(a.Connections()) != 0 {
		t.Fatal("the app kept the connection")
	}
	tray.Update(a.Status())
	checkTray(t, tray, "Nog geen Dropbox gekoppeld", "Pauzeren")
}

// checkTray checks the tray menu: status line first and disabled, the Pause/Resume label,
// and our own Quit last, marked so Fyne adds none.
func checkTray(t *testing.T, tray *Tray, status, pause string) {
	t.Helper()
	items := tray.Menu().Items
	var got []string
	for _, it := range items {
		if it.IsSeparator {
			got = append(got, "---")
			continue
		}
		got = append(got, it.Label)
	}
	want := []string{status, "---", "Openen", "Nu synchroniseren", pause, "Dropbox toevoegen…", "---", "Afsluiten"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("tray menu %q, want %q", got, want)
	}
	if !items[0].Disabled {
		t.Error("the status line can be clicked")
	}
	if last := items[len(items)-1]; !last.IsQuit || last.Action == nil {
		t.Error("Quit is not our own last item")
	}
}

func TestTrayIconFollowsState(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	fa := test.NewTempApp(t)
	quit := false
	tray := NewTray(fa, f, func() {}, func() { quit = true })
	var published []string
	var tip string
	tray.tooltip = func(s string) { tip = s }
	tray.publish = func(m *fyne.Menu, icon fyne.Resource) {
		if m != tray.Menu() {
			t.Error("another menu published")
		}
		published = append(published, icon.Name()+" "+tip)
	}
	tray.Update(f.status)
	tray.Update(f.status) // unchanged: not published again
	f.status = f.status[:1]
	tray.Update(f.status)
	f.SetPaused("", true)
	tray.Update(f.status)
	checkTray(t, tray, "Gepauzeerd", "Hervatten")
	tray.Menu().Items[len(tray.Menu().Items)-1].Action()
	want := []string{
		"tray-attention.png onFact Dropbox Sync\nDropbox Bakkerij Janssens moet opnieuw gekoppeld worden\nAcme onFact: Alles gesynchroniseerd\nBakkerij Janssens: Moet opnieuw gekoppeld worden",
		"tray-synced.png onFact Dropbox Sync\nAlles gesynchroniseerd",
		"tray-paused.png onFact Dropbox Sync\nGepauzeerd",
	}
	if strings.Join(published, "|") != strings.Join(want, "|") || !quit {
		t.Fatalf("published %q (quit %v), want %q", published, quit, want)
	}
}

// TestConnectionsMarkup snapshots the Connections tab: one connection in sync, one that
// must be linked again (its Reconnect button shown), in Dutch at a fixed size and clock.
func TestConnectionsMarkup(t *testing.T) {
	i18n.SetLanguage("nl")
	fa := test.NewTempApp(t)
	w := NewMainWindow(fa, twoConnections(), Options{})
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.Update(w.ctl.Status())
	assertMarkup(t, "connections.xml", w.Window.Canvas())
	if b := button(cardOf(w, "Bakkerij Janssens"), "Opnieuw koppelen"); b == nil || b.Importance != widget.HighImportance {
		t.Error("no prominent Reconnect for the connection that needs it")
	}
	if button(cardOf(w, "Acme onFact"), "Opnieuw koppelen") != nil {
		t.Error("Reconnect offered for a connection in sync")
	}
	test.Tap(button(cardOf(w, "Acme onFact"), "Nu synchroniseren"))
	if f := w.ctl.(*fixedController); len(f.synced) != 1 || f.synced[0] != "a" {
		t.Errorf("sync now sent %q", f.synced)
	}
}

// TestActivityMarkup snapshots the Activity tab, then filters it down to the problems.
func TestActivityMarkup(t *testing.T) {
	i18n.SetLanguage("nl")
	fa := test.NewTempApp(t)
	w := NewMainWindow(fa, twoConnections(), Options{})
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.Update(w.ctl.Status())
	w.tabs.SelectIndex(1)
	assertMarkup(t, "activity.xml", w.Window.Canvas())
	all := strings.Join(labels(w.actList), "\n")
	for _, want := range []string{"F2026-0042.pdf verzonden naar /Acme onFact/2026/Facturen", "5 minuten geleden · Acme onFact",
		"CN2026-0003.pdf geweigerd: de naam is te lang voor Dropbox", "Bakkerij Janssens: Moet opnieuw gekoppeld worden"} {
		if !strings.Contains(all, want) {
			t.Errorf("feed lacks %q:\n%s", want, all)
		}
	}
	test.Tap(w.problems)
	only := strings.Join(labels(w.actList), "\n")
	if strings.Contains(only, "verzonden naar") || !strings.Contains(only, "geweigerd") || !strings.Contains(only, "Bakkerij Janssens: Moet") {
		t.Errorf("problems filter shows:\n%s", only)
	}
}

// TestLanguageSetting switches to French and back: the texts follow at once.
func TestLanguageSetting(t *testing.T) {
	i18n.SetLanguage("nl")
	defer i18n.SetLanguage("nl")
	fa := test.NewTempApp(t)
	w := NewMainWindow(fa, twoConnections(), Options{})
	w.Update(w.ctl.Status())
	changed := 0
	w.onLanguage = func() { changed++ }
	w.tabs.SelectIndex(2)
	var sel *widget.Select
	for _, o := range test.LaidOutObjects(w.Window.Content()) {
		if s, ok := o.(*widget.Select); ok {
			sel = s
		}
	}
	if sel == nil || sel.Selected != "Nederlands" {
		t.Fatalf("language choice %+v", sel)
	}
	sel.SetSelected("Français")
	if i18n.Language() != "fr" || changed != 1 || w.tabs.Items[0].Text != "Liaisons" || w.tabs.SelectedIndex() != 2 {
		t.Fatalf("language %s, tabs %q, selected %d", i18n.Language(), w.tabs.Items[0].Text, w.tabs.SelectedIndex())
	}
	if r := w.rows["a"]; r == nil || r.card.Subtitle != "Tout est synchronisé" || r.pause.Text != "Mettre en pause" {
		t.Fatalf("card not in French: %+v", r)
	}
}

func TestFileURL(t *testing.T) {
	if got := fileURL("/home/x/F 1.pdf").String(); got != "file:///home/x/F%201.pdf" {
		t.Fatalf("got %s", got)
	}
}

func TestNotificationsFollowTheSetting(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	fa := test.NewTempApp(t)
	w := NewMainWindow(fa, f, Options{})
	if w.Window.Title() != Title {
		t.Fatalf("title %q", w.Window.Title())
	}
	full := append([]engine.Status(nil), f.status...)
	full[0].State = engine.StateDropboxFull
	test.AssertNotificationSent(t, fyne.NewNotification("Dropbox Acme onFact is vol",
		"Maak ruimte vrij in je Dropbox. Daarna gaat het verzenden vanzelf verder."), func() {
		w.SendNotifications(f.status, full)
	})
	w.notify = false
	test.AssertNotificationSent(t, nil, func() { w.SendNotifications(f.status, full) })
}

func TestFollowShowsEverySnapshot(t *testing.T) {
	f := twoConnections()
	done := make(chan struct{})
	got := make(chan []engine.Status, 1)
	go func() {
		<-got
		close(done)
	}()
	follow(context.Background(), done, nil, nil, f, nil, func(prev, cur []engine.Status) {
		if prev != nil || len(cur) != 2 {
			t.Errorf("prev %v cur %v", prev, cur)
		}
		got <- cur
	})
}
