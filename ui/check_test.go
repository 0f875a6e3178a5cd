package ui

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// TestCardCheck: the card tells the last check of Dropbox under the state, and its Check
// now asks the app to check this connection, except while a check runs.
func TestCardCheck(t *testing.T) {
	i18n.SetLanguage("nl")
	f := janssens(engine.Status{State: engine.StateIdle, InitialCopyDone: true,
		Check: &engine.Check{At: clock.Add(-26 * time.Hour), Documents: 1234, Present: 1231, Repaired: 3, Extra: 2}})
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	syncWindow(w)
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 560))
	w.SetInDropbox(f.InDropbox(f.status))
	w.Update(f.status)
	want := "Laatste controle: 1.234 documenten, 3 opnieuw verzonden (ontbraken of gewijzigd in Dropbox) (vr 13 mrt 08:30); 2 andere bestanden in Dropbox ongemoeid gelaten"
	if got := w.rows["j"].check; !got.Visible() || got.Text != want {
		t.Fatalf("check line %q (shown %v)", got.Text, got.Visible())
	}
	assertMarkup(t, "card_checked.xml", w.Window.Canvas())
	b := button(cardOf(w, "Bakkerij Janssens"), "Dropbox nakijken")
	if b == nil || b.Disabled() {
		t.Fatal("no Check now to tap")
	}
	test.Tap(b)
	if len(f.checked) != 1 || f.checked[0] != "j" {
		t.Fatalf("Check now asked %q", f.checked)
	}

	f.status[0].Checking = true
	w.Update(f.status)
	if got := w.rows["j"].check.Text; got != "Dropbox wordt nagekeken…" {
		t.Fatalf("while checking: %q", got)
	}
	if !b.Disabled() {
		t.Fatal("Check now can be tapped while a check runs")
	}
	test.Tap(b)
	if len(f.checked) != 1 {
		t.Fatalf("a disabled Check now asked %q", f.checked)
	}
	f.status[0].Checking, f.status[0].CheckError = false, "Dropbox could not be reached."
	w.Update(f.status)
	if got := w.rows["j"].check.Text; got != "De laatste controle kon niet afgerond worden: Dropbox could not be reached; ze wordt later opnieuw geprobeerd" || b.Disabled() {
		t.Fatalf("after a failed check: %q (disabled %v)", got, b.Disabled())
	}
}

// TestTrayCheck: the tray's Check Dropbox now checks every connection, and its status says
// when the last check sent documents again.
func TestTrayCheck(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	f.status = f.status[:1]
	f.status[0].Check = &engine.Check{At: clock, Documents: 10, Present: 8, Repaired: 2}
	tray := NewTray(test.NewTempApp(t), f, func() {}, func() {})
	var tip string
	tray.tooltip = func(s string) { tip = s }
	tray.Update(f.status)
	checkTray(t, tray, "Alles staat veilig in Dropbox · Laatste controle: 2 documenten opnieuw verzonden", "Pauzeren")
	if !strings.Contains(tip, "\nLaatste controle: 2 documenten opnieuw verzonden") {
		t.Errorf("tooltip %q", tip)
	}
	item := tray.Menu().Items[4]
	if item.Disabled {
		t.Fatal("Check Dropbox now is disabled")
	}
	item.Action()
	if len(f.checked) != 1 || f.checked[0] != "" {
		t.Fatalf("the tray asked %q", f.checked)
	}
}

// TestFeedRepaired: a document the check sent again reads as such in the feed.
func TestFeedRepaired(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	f.activity["a"] = []store.Activity{
		{Time: clock.Add(-time.Minute), Kind: engine.ActRepaired, Path: "2026/F2026-0042.pdf",
			RemotePath: "/Acme onFact/2026/Facturen/F2026-0042.pdf", Message: store.CheckMissing},
		{Time: clock.Add(-2 * time.Minute), Kind: engine.ActRepaired, Path: "2026/F2026-0041.pdf",
			RemotePath: "/Acme onFact/2026/Facturen/F2026-0041.pdf", Message: store.CheckDifferent},
	}
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	syncWindow(w)
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.Update(f.status)
	w.tabs.SelectIndex(1)
	all := strings.Join(labels(w.feedList), "\n")
	for _, want := range []string{"opnieuw verzonden: het ontbrak in Dropbox · Acme onFact",
		"opnieuw verzonden: het was gewijzigd in Dropbox · Acme onFact"} {
		if !strings.Contains(all, want) {
			t.Errorf("feed lacks %q:\n%s", want, all)
		}
	}
}

// TestCheckSetting: how often Dropbox is checked is saved as CheckDays at once; a number
// of days set by hand is shown and kept.
func TestCheckSetting(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	f.settings = &config.Settings{CheckDays: 14}
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	w.tabs.SelectIndex(2)
	sel := selectWith(w.Window.Content(), "Elke week")
	if sel == nil {
		t.Fatal("no choice of how often to check")
	}
	if want := []string{"Elke dag", "Elke week", "Elke maand", "Nooit", "Om de 14 dagen"}; !slices.Equal(sel.Options, want) || sel.Selected != "Om de 14 dagen" {
		t.Fatalf("options %q, selected %q", sel.Options, sel.Selected)
	}
	for _, tc := range []struct {
		choice string
		days   int
	}{{"Elke maand", 30}, {"Nooit", -1}, {"Elke dag", 1}, {"Elke week", 0}} {
		sel.SetSelected(tc.choice)
		if f.settings.CheckDays != tc.days {
			t.Errorf("%s saved CheckDays %d, want %d", tc.choice, f.settings.CheckDays, tc.days)
		}
	}
}

// TestExportReport: Export check report… offers a save dialog named after the day; what
// the app's report gives lands in the chosen file; a report that cannot be written is told
// in plain words and leaves no half file behind.
func TestExportReport(t *testing.T) {
	i18n.SetLanguage("nl")
	f := twoConnections()
	f.report = "connection,checked_at,documents\nAcme onFact,2026-03-14T10:00:00Z,12\n"
	w := NewMainWindow(test.NewTempApp(t), f, Options{})
	syncWindow(w)
	w.now = func() time.Time { return clock }
	w.Window.Resize(fyne.NewSize(720, 600))
	w.Update(f.status)

	test.Tap(button(w.Window.Content(), "Controlerapport exporteren…"))
	top := w.Window.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no save dialog")
	}
	if e := find(top, func(e *widget.Entry) bool { return e.Text == "onfact-dropbox-check-2026-03-14.csv" }); e == nil {
		t.Error("the save dialog does not offer onfact-dropbox-check-2026-03-14.csv")
	}
	top.Hide()
	w.Window.Canvas().Overlays().Remove(top)

	save := func(name string) string {
		p := filepath.Join(t.TempDir(), name)
		wc, err := storage.Writer(storage.NewFileURI(p))
		if err != nil {
			t.Fatal(err)
		}
		w.writeReport(wc)
		return p
	}
	p := save("report.csv")
	if b, err := os.ReadFile(p); err != nil || string(b) != f.report {
		t.Fatalf("file holds %q (%v), want %q", b, err, f.report)
	}
	if w.Window.Canvas().Overlays().Top() != nil {
		t.Fatal("a saved report shows a dialog")
	}

	f.failReport = errors.New("de opslag van de app is niet leesbaar")
	p = save("half.csv")
	top = w.Window.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("a failed report says nothing")
	}
	if got := strings.Join(labels(top), "\n"); !strings.Contains(got, "Rapport niet bewaard") || !strings.Contains(got, "de opslag van de app is niet leesbaar") {
		t.Fatalf("dialog says:\n%s", got)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("the half report is left: %v", err)
	}
}
