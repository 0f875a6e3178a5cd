package ui

import (
	"context"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/autostart"
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
		Engine: engine.Options{Settle: 10 * time.Millisecond}, Logf: t.Logf,
		Autostart: autostart.Entry{Dir: t.TempDir()}}) // never the user's own autostart folder
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	conn, err := a.Connector().AddNew(context.Background(),
		app.Choice{Name: "Demo onFact", Company: "Demo BV", Folder: d.Export, Structure: "year-type", Language: "nl"},
		auth.Options{Language: "nl"}, demo.Browse)
	if err != nil {
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

// headline is the state line at the top of a connection's card.
func headline(w *MainWindow, name string) string {
	for _, r := range w.rows {
		if r.card.Title == name {
			return r.headline.Text
		}
	}
	return ""
}

// syncWindow runs w's background work and its hand-back to the UI goroutine at once, on
// the test's goroutine.
func syncWindow(w *MainWindow) {
	w.do = func(f func()) { f() }
	w.background = func(f func()) { f() }
}

func cardOf(w *MainWindow, name string) *widget.Card {
	return find(w.Window.Content(), func(c *widget.Card) bool { return c.Title == name })
}

// find returns the first widget of type T under o for which ok holds (nil if none).
func find[T fyne.CanvasObject](o fyne.CanvasObject, ok func(T) bool) T {
	for _, x := range test.LaidOutObjects(o) {
		if w, is := x.(T); is && ok(w) {
			return w
		}
	}
	var none T
	return none
}

// button finds a visible button by its text under o.
func button(o fyne.CanvasObject, text string) *widget.Button {
	return find(o, func(b *widget.Button) bool { return b.Text == text && b.Visible() })
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
	w.SetInDropbox(a.InDropbox(a.Status())) // Run counts on its own goroutine
	w.Update(a.Status())

	card := cardOf(w, "Demo onFact")
	if card == nil {
		t.Fatalf("no card for the connection: %q", labels(w.Window.Content()))
	}
	if h := headline(w, "Demo onFact"); h != "Alles staat veilig in Dropbox" {
		t.Fatalf("state %q", h)
	}
	got := strings.Join(labels(card), "\n")
	for _, want := range []string{"Exportmap: " + conn.Folder, "Mappen in Dropbox: Per jaar en documenttype",
		"Dropbox-account: Demo Gebruiker (" + conn.AccountEmail + ")", "Laatst gesynchroniseerd: zonet",
		"39 documenten in Dropbox", "In Dropbox: Apps/onFact/Demo BV/" + strconv.Itoa(time.Now().Year()) + "/Facturen"} {
		if !strings.Contains(got, want) {
			t.Errorf("card lacks %q:\n%s", want, got)
		}
	}

	tray := NewTray(fa, a, w.Show, fa.Quit)
	tray.Update(a.Status())
	checkTray(t, tray, "Alles staat veilig in Dropbox", "Pauzeren")

	pause := button(card, "Pauzeren")
	if pause == nil {
		t.Fatal("no Pause button")
	}
	test.Tap(pause)
	waitFor(t, "the card to show paused", func() bool {
		st := a.Status()
		w.Update(st)
		tray.Update(st)
		return headline(w, "Demo onFact") == "Gepauzeerd" && button(card, "Hervatten") != nil && tray.View().Status == "Gepauzeerd"
	})
	checkTray(t, tray, "Gepauzeerd", "Hervatten")

	tray.pause.Action() // Resume from the tray
	waitFor(t, "the tray to show resumed", func() bool {
		st := a.Status()
		w.Update(st)
		tray.Update(st)
		return headline(w, "Demo onFact") == "Alles staat veilig in Dropbox" && tray.View().Status == "Alles staat veilig in Dropbox"
	})
	checkTray(t, tray, "Alles staat veilig in Dropbox", "Pauzeren")

	// Check now: the engine lists the emulated Dropbox and finds every document.
	test.Tap(button(card, "Dropbox nakijken"))
	waitFor(t, "the card to show the check", func() bool {
		st := a.Status()
		w.Update(st)
		return strings.HasPrefix(w.rows[conn.ID].check.Text, "Laatste controle: 39 documenten, alle aanwezig (")
	})
	report := filepath.Join(t.TempDir(), "report.csv")
	wc, err := storage.Writer(storage.NewFileURI(report))
	if err != nil {
		t.Fatal(err)
	}
	w.background = func(f func()) { f() }
	w.writeReport(wc)
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "Demo onFact") {
		t.Fatalf("the report holds %q (%v)", b, err)
	}

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
	want := []string{status, "---", "Openen", "Nu synchroniseren", "Dropbox nu nakijken", pause, "Dropbox toevoegen…", "---", "Afsluiten"}
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
		"tray-synced.png onFact Dropbox Sync\nAlles staat veilig in Dropbox",
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
	sel := selectWith(w.Window.Content(), "Nederlands")
	if sel == nil || sel.Selected != "Nederlands" {
		t.Fatalf("language choice %+v", sel)
	}
	sel.SetSelected("Français")
	if i18n.Language() != "fr" || changed != 1 || w.tabs.Items[0].Text != "Liaisons" || w.tabs.SelectedIndex() != 2 {
		t.Fatalf("language %s, tabs %q, selected %d", i18n.Language(), w.tabs.Items[0].Text, w.tabs.SelectedIndex())
	}
	if r := w.rows["a"]; r == nil || r.headline.Text != "Tout est en sécurité dans Dropbox" || r.pause.Text != "Mettre en pause" {
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
	follow(done, nil, nil, f, nil, func(prev, cur []engine.Status) {
		if prev != nil || len(cur) != 2 {
			t.Errorf("prev %v cur %v", prev, cur)
		}
		got <- cur
	})
}

// selectWith finds a visible Select offering option under o.
func selectWith(o fyne.CanvasObject, option string) *widget.Select {
	return find(o, func(s *widget.Select) bool { return s.Visible() && slices.Contains(s.Options, option) })
}

// check finds a visible check box by its text under o.
func check(o fyne.CanvasObject, text string) *widget.Check {
	return find(o, func(c *widget.Check) bool { return c.Text == text && c.Visible() })
}

// TestSettingsAreSaved snapshots the Settings tab with its About section, then changes
// every setting: each is saved through the controller at once. When saving fails the
// user is told in plain words and the control shows the saved choice again.
func TestSettingsAreSaved(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	fa := test.NewTempApp(t)
	w := NewMainWindow(fa, f, Options{Version: "1.4.0", Commit: "abc1234", LogDir: "/home/kantoor/.local/state/onfact-dropbox"})
	var opened []string
	w.openURL = func(u *url.URL) error { opened = append(opened, u.String()); return nil }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.Update(f.status)
	w.tabs.SelectIndex(2)
	assertMarkup(t, "settings.xml", w.Window.Canvas())
	tab := w.Window.Content()
	text := strings.Join(labels(tab), "\n")
	for _, want := range []string{"Over deze app", "onFact Dropbox Sync · Versie 1.4.0", "Build abc1234", "Mbit/s"} {
		if !strings.Contains(text, want) {
			t.Errorf("settings lack %q:\n%s", want, text)
		}
	}

	test.Tap(check(tab, "Starten wanneer ik me aanmeld op deze computer"))
	selectWith(tab, "Standaard").SetSelected("4")
	selectWith(tab, "Geen limiet").SetSelected("5 Mbit/s")
	test.Tap(check(tab, "Meldingen tonen als er iets nodig is"))
	want := config.Settings{StartAtLogin: true, Concurrency: 4, BandwidthLimit: 625_000}
	if f.settings == nil || *f.settings != want || w.Notify() {
		t.Fatalf("saved %+v (notify %v), want %+v", f.settings, w.Notify(), want)
	}
	test.Tap(button(tab, "Logbestanden tonen"))
	if len(opened) != 1 || opened[0] != "file:///home/kantoor/.local/state/onfact-dropbox" {
		t.Fatalf("opened %q", opened)
	}

	f.failSettings = errors.New("toegang geweigerd")
	test.Tap(check(tab, "Starten wanneer ik me aanmeld op deze computer"))
	overlay := w.Window.Canvas().Overlays().Top()
	if overlay == nil {
		t.Fatal("a failed save says nothing")
	}
	if got := strings.Join(labels(overlay), "\n"); !strings.Contains(got, "Instelling niet bewaard") || !strings.Contains(got, "toegang geweigerd") {
		t.Fatalf("dialog says:\n%s", got)
	}
	tab = w.settingsTab.Content
	if c := check(tab, "Starten wanneer ik me aanmeld op deze computer"); c == nil || !c.Checked {
		t.Fatal("start at login does not show the saved choice again")
	}
	selectWith(tab, "Geen limiet").SetSelected("1 Mbit/s")
	if s := selectWith(w.settingsTab.Content, "Geen limiet"); s.Selected != "5 Mbit/s" || f.settings.BandwidthLimit != 625_000 {
		t.Fatalf("limit shows %q, saved %d", s.Selected, f.settings.BandwidthLimit)
	}
}

func TestAboutWithoutLogs(t *testing.T) {
	i18n.SetLanguage("nl")
	w := NewMainWindow(test.NewTempApp(t), twoConnections(), Options{})
	w.tabs.SelectIndex(2)
	if button(w.Window.Content(), "Logbestanden tonen") != nil {
		t.Fatal("Show logs without a log folder")
	}
	if !slices.Contains(labels(w.Window.Content()), "onFact Dropbox Sync · Versie ontwikkelversie") {
		t.Fatalf("no version: %q", labels(w.Window.Content()))
	}
}

func TestBandwidthText(t *testing.T) {
	i18n.SetLanguage("nl")
	for in, want := range map[int64]string{0: "Geen limiet", 125_000: "1 Mbit/s", 2_500_000: "20 Mbit/s", 100_000: "0.8 Mbit/s"} {
		if got := bandwidthText(in); got != want {
			t.Errorf("bandwidthText(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestEditDialog edits a connection: the dialog warns that only new documents follow a
// new structure, explains every problem in plain words and stays open, and saves through
// the controller once everything is right.
func TestEditDialog(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	fa := test.NewTempApp(t)
	w := NewMainWindow(fa, f, Options{})
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.Update(f.status)
	test.Tap(button(cardOf(w, "Acme onFact"), "Wijzigen"))
	e := w.editor
	if e == nil || w.Window.Canvas().Overlays().Top() == nil {
		t.Fatal("no edit dialog")
	}
	assertMarkup(t, "edit.xml", w.Window.Canvas())
	if !e.warning.Visible() || !strings.Contains(e.warning.Text, "Documenten die al in Dropbox staan, blijven waar ze zijn") {
		t.Fatalf("warning %q", e.warning.Text)
	}
	// The fixed connection has no company: the name is its suggestion, not its text.
	if e.structure.Selected != "Per jaar en documenttype" || e.custom.Text != "" || e.company.Text != "" ||
		e.company.PlaceHolder != "Acme onFact" {
		t.Fatalf("structure %q, custom %q, company %q (placeholder %q)", e.structure.Selected, e.custom.Text,
			e.company.Text, e.company.PlaceHolder)
	}

	problem := func(want string) {
		t.Helper()
		test.Tap(e.save)
		if !e.problem.Visible() || !strings.Contains(e.problem.Text, want) {
			t.Fatalf("problem %q, want %q", e.problem.Text, want)
		}
		if len(f.edits) != 0 {
			t.Fatalf("saved %+v", f.edits)
		}
	}
	problem("Deze map bestaat niet") // the fixed folder is not on this computer
	dir := t.TempDir()
	e.folder.SetText(dir)
	e.name.SetText("bakkerij janssens")
	problem(`Er is al een koppeling met de naam "bakkerij janssens"`)
	e.name.SetText(" Acme boekhouding ")
	e.custom.SetText("/{year}/{company}")
	problem("De eerste map moet {company} zijn")
	f.failEdit = errors.New("config.json kan niet geschreven worden")
	e.custom.SetText("")
	e.structure.SetSelected("Per jaar")
	problem("Bewaren is niet gelukt: config.json kan niet geschreven worden")

	f.failEdit = nil
	test.Tap(e.accountant)
	test.Tap(e.save)
	if len(f.edits) != 1 {
		t.Fatalf("edits %+v (problem %q)", f.edits, e.problem.Text)
	}
	got := f.edits[0]
	if got.ID != "a" || got.Name != "Acme boekhouding" || got.Company != "Acme boekhouding" || got.Folder != dir ||
		got.Structure != "year" || !got.Accountant || got.AccountEmail != "anna@acme.be" {
		t.Fatalf("saved %+v", got)
	}
	if w.Window.Canvas().Overlays().Top() != nil {
		t.Fatal("the dialog stays open after saving")
	}
	card := cardOf(w, "Acme boekhouding")
	if card == nil || !slices.Contains(labels(card), "Mappen in Dropbox: Per jaar") {
		t.Fatalf("card not updated: %q", labels(w.Window.Content()))
	}

	// A custom template is shown as typed.
	test.Tap(button(cardOf(w, "Bakkerij Janssens"), "Wijzigen"))
	if w.editor.custom.Text != "/{company}/{customer}/{year}" || w.editor.structure.Selected != "" {
		t.Fatalf("custom %q, preset %q", w.editor.custom.Text, w.editor.structure.Selected)
	}
}

// TestEditAndSettingsOnTheRealApp changes the structure of a synced connection from its
// card and two settings from the Settings tab, against the real app over the emulated
// Dropbox: the app saves them and the connection runs on.
func TestEditAndSettingsOnTheRealApp(t *testing.T) {
	i18n.SetLanguage("nl")
	a, conn := demoApp(t)
	w := NewMainWindow(test.NewTempApp(t), a, Options{})
	w.Window.Show()
	w.Update(a.Status())

	test.Tap(button(cardOf(w, "Demo onFact"), "Wijzigen"))
	w.editor.structure.SetSelected("Per jaar")
	test.Tap(w.editor.save)
	if w.editor.problem.Visible() {
		t.Fatalf("problem: %s", w.editor.problem.Text)
	}
	if c := a.Connections()[0]; c.Structure != "year" || c.Folder != conn.Folder || c.AccountID != conn.AccountID {
		t.Fatalf("stored %+v", c)
	}
	waitFor(t, "the connection to run again", func() bool {
		w.Update(a.Status())
		return headline(w, "Demo onFact") == "Alles staat veilig in Dropbox" &&
			slices.Contains(labels(cardOf(w, "Demo onFact")), "Mappen in Dropbox: Per jaar")
	})

	w.tabs.SelectIndex(2)
	tab := w.settingsTab.Content
	selectWith(tab, "Geen limiet").SetSelected("2 Mbit/s")
	test.Tap(check(tab, "Starten wanneer ik me aanmeld op deze computer"))
	selectWith(tab, "Standaard").SetSelected("2")
	if s := a.Settings(); s.BandwidthLimit != 250_000 || !s.StartAtLogin || s.Concurrency != 2 {
		t.Fatalf("settings %+v", s)
	}
	if w.Window.Canvas().Overlays().Top() != nil {
		t.Fatal("a dialog opened")
	}
	waitFor(t, "the connection to run again", func() bool {
		for _, s := range a.Status() {
			if s.ID == conn.ID && s.State == engine.StateIdle {
				return true
			}
		}
		return false
	})
}
