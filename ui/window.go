package ui

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
	"github.com/onfact/onfact-dropbox/ui/wizard"
)

// dropboxHome is where a full Dropbox is made room in.
const dropboxHome = "https://www.dropbox.com/home"

// removeTimeout bounds revoking access at Dropbox when a connection is removed.
const removeTimeout = 30 * time.Second

// languageNames are the languages offered in the settings, each in its own words.
var languageNames = map[string]string{"nl": "Nederlands", "fr": "Français", "en": "English"}

// concurrencyChoices are the numbers of documents sent at once offered in the settings; 0
// is the engine's default.
var concurrencyChoices = []int{0, 1, 2, 4, 8, 16}

// bandwidthChoices are the speed limits offered, in Mbit/s: the unit internet
// subscriptions state. 0 is no limit.
var bandwidthChoices = []int64{0, 1, 2, 5, 10, 20}

// checkChoices are how often Dropbox is checked, as config.Settings.CheckDays: every day,
// every week (0, the engine's default), every month, never (only when asked).
var checkChoices = []int{1, 0, 30, -1}

// bytesPerMbit turns Mbit/s into the setting's bytes per second.
const bytesPerMbit = 1_000_000 / 8

// MainWindow is the main window: the connections, the activity feed and the settings. Its
// methods run on the UI goroutine.
type MainWindow struct {
	Window fyne.Window

	fa   fyne.App
	ctl  Controller
	opts Options
	// now is the clock for relative times.
	now func() time.Time
	// do runs f on the UI goroutine; it is fyne.Do, and tests run the queued calls themselves.
	do func(f func())
	// onLanguage is called after the user picked another language.
	onLanguage func()
	// openURL opens a link or a folder; it is the app's OpenURL, and tests record it.
	openURL func(*url.URL) error
	// editor is the open (or last) edit dialog of a connection.
	editor *connEditor

	// background runs f off the UI goroutine (go f()); tests run it at once.
	background func(f func())

	last []engine.Status
	// inDropbox is the number of documents in Dropbox per connection (Controller.InDropbox),
	// counted off the UI goroutine; a connection not in it is being counted.
	inDropbox map[string]int
	rows      map[string]*connRow

	tabs        *container.AppTabs
	settingsTab *container.TabItem
	connList    *fyne.Container
	problems    *widget.Check
	actLoaded   time.Time
	notify      bool

	// The activity feed: the connections needing the user above a virtual list of lines.
	activity  *fyne.Container // the tab's content: laid out again when attention changes
	attention *fyne.Container
	feedList  *widget.List
	feedEmpty *widget.Label
	feedLines []present.Line
	feedRows  []feedRow
	// feedSeq numbers the loads, so an older one finishing late is dropped.
	feedSeq  int
	expanded map[string]bool
}

// NewMainWindow builds the main window of ctl on fa, hidden; Update fills it in. It is
// separate from Run so tests can build it on Fyne's test app.
func NewMainWindow(fa fyne.App, ctl Controller, opts Options) *MainWindow {
	w := &MainWindow{Window: fa.NewWindow(Title), fa: fa, ctl: ctl, opts: opts, now: time.Now, do: fyne.Do,
		openURL: fa.OpenURL, notify: ctl.Settings().Notifications, expanded: map[string]bool{},
		background: func(f func()) { go f() }}
	w.build()
	w.Window.Resize(fyne.NewSize(720, 520))
	return w
}

// Show shows the window and brings it to the front.
func (w *MainWindow) Show() {
	w.Window.Show()
	w.Window.RequestFocus()
}

// Notify reports whether the user wants notifications (the saved setting).
func (w *MainWindow) Notify() bool { return w.notify }

// SendNotifications sends the desktop notifications the change from prev to cur deserves
// (present.Notifications), unless the user turned notifications off.
func (w *MainWindow) SendNotifications(prev, cur []engine.Status) {
	if !w.notify {
		return
	}
	for _, n := range present.Notifications(prev, cur) {
		w.fa.SendNotification(fyne.NewNotification(n.Title, n.Body))
	}
}

// build makes the window's content in the current language.
func (w *MainWindow) build() {
	selected := 0
	if w.tabs != nil {
		selected = w.tabs.SelectedIndex()
	}
	w.rows = map[string]*connRow{}
	w.connList = container.NewVBox()
	add := widget.NewButtonWithIcon(i18n.T("window.add"), theme.ContentAddIcon(), func() { wizard.Show(w.fa, w.ctl) })
	add.Importance = widget.HighImportance
	export := widget.NewButtonWithIcon(i18n.T("window.export"), theme.DocumentSaveIcon(), w.exportReport)
	connections := container.NewBorder(container.NewHBox(export, layout.NewSpacer(), add), nil, nil, nil,
		container.NewVScroll(w.connList))

	w.attention = container.NewVBox()
	w.feedList = w.newFeedList()
	w.feedEmpty = widget.NewLabel(i18n.T("window.activity.empty"))
	w.feedEmpty.Hidden = len(w.feedRows) > 0
	w.problems = widget.NewCheck(i18n.T("window.activity.problems"), func(bool) { w.loadActivity() })
	activity := container.NewBorder(container.NewVBox(w.problems, w.attention), nil, nil, nil,
		container.NewStack(w.feedList, container.NewVBox(w.feedEmpty)))
	w.activity = activity

	w.settingsTab = container.NewTabItem(i18n.T("window.tab.settings"), w.settings())
	w.tabs = container.NewAppTabs(
		container.NewTabItem(i18n.T("window.tab.connections"), connections),
		container.NewTabItem(i18n.T("window.tab.activity"), activity),
		w.settingsTab,
	)
	w.tabs.OnSelected = func(*container.TabItem) {
		if w.tabs.SelectedIndex() == 1 {
			w.loadActivity()
		}
	}
	w.tabs.SelectIndex(selected)
	w.Window.SetContent(w.tabs)
	w.Update(w.last)
}

// SetInDropbox keeps the numbers of documents in Dropbox per connection for the next
// Update; Run counts them off the UI goroutine with Controller.InDropbox.
func (w *MainWindow) SetInDropbox(n map[string]int) { w.inDropbox = n }

// Update shows a status snapshot: the connection cards follow the configured connections
// and their state, and the activity feed reloads when it is showing.
func (w *MainWindow) Update(st []engine.Status) {
	w.last = st
	byID := map[string]engine.Status{}
	for _, s := range st {
		byID[s.ID] = s
	}
	conns := w.ctl.Connections()
	var cards []fyne.CanvasObject
	keep := map[string]bool{}
	for _, c := range conns {
		keep[c.ID] = true
		r := w.rows[c.ID]
		if r == nil {
			r = w.newRow(c)
			w.rows[c.ID] = r
		}
		s, ok := byID[c.ID]
		if !ok {
			s = engine.Status{ID: c.ID, Name: c.Name, State: engine.StateStarting}
		}
		n, known := w.inDropbox[c.ID]
		r.show(c, present.ConnectionCard(s, n, known, w.now()), w.location(c), w.ctl.DropboxWebsite())
		cards = append(cards, r.card)
	}
	for id := range w.rows {
		if !keep[id] {
			delete(w.rows, id)
		}
	}
	if len(cards) == 0 {
		empty := widget.NewLabel(i18n.T("window.empty"))
		empty.Wrapping = fyne.TextWrapWord
		cards = append(cards, empty)
	}
	w.connList.Objects = cards
	w.connList.Refresh()
	if w.tabs.SelectedIndex() == 1 && time.Since(w.actLoaded) > 2*time.Second {
		w.loadActivity()
	}
}

func accountText(c config.Connection) string {
	var who string
	switch {
	case c.AccountName != "" && c.AccountEmail != "":
		who = c.AccountName + " (" + c.AccountEmail + ")"
	case c.AccountName != "":
		who = c.AccountName
	default:
		who = c.AccountEmail
	}
	if who == "" {
		return ""
	}
	return i18n.T("window.account", "Account", who)
}

func structureText(s string) string {
	if label := present.PresetLabel(s); label != "" {
		return label
	}
	return i18n.T("structure.custom", "Template", s)
}

// confirmRemove asks before removing c; Remove revokes access at Dropbox, so it runs in
// its own goroutine and reports back on the UI goroutine.
func (w *MainWindow) confirmRemove(c config.Connection) {
	d := dialog.NewConfirm(i18n.T("window.remove.title", "Name", c.Name), i18n.T("window.remove.body"), func(ok bool) {
		if !ok {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
			defer cancel()
			err := w.ctl.Remove(ctx, c.ID)
			w.do(func() {
				if err != nil {
					dialog.ShowInformation(i18n.T("window.remove.failed"),
						i18n.T("window.remove.failed.body", "Reason", err.Error()), w.Window)
				}
				w.Update(w.ctl.Status())
			})
		}()
	}, w.Window)
	d.SetConfirmText(i18n.T("window.remove.confirm"))
	d.SetDismissText(i18n.T("window.remove.cancel"))
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

// fileURL is the file:// URL of a local path, on Windows too ("C:\x" -> "file:///C:/x").
func fileURL(p string) *url.URL {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return &url.URL{Scheme: "file", Path: p}
}
