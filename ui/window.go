package ui

import (
	"context"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
	"github.com/onfact/onfact-dropbox/ui/wizard"
)

// dropboxHome is where "open Dropbox" goes: the app folder's name is not known here.
const dropboxHome = "https://www.dropbox.com/home"

// activityPerConnection is how many recent entries of each connection the feed shows.
const activityPerConnection = 100

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

	last []engine.Status
	rows map[string]*connRow

	tabs        *container.AppTabs
	settingsTab *container.TabItem
	connList    *fyne.Container
	actList     *fyne.Container
	problems    *widget.Check
	actLoaded   time.Time
	notify      bool
}

// connRow is one connection's card in the Connections tab.
type connRow struct {
	conn                                              config.Connection
	card                                              *widget.Card
	account, folder, structure, lastSync, counts, eta *widget.Label
	warning                                           *widget.Label
	syncNow, pause, reconnect, edit, remove           *widget.Button
	paused                                            bool
}

// NewMainWindow builds the main window of ctl on fa, hidden; Update fills it in. It is
// separate from Run so tests can build it on Fyne's test app.
func NewMainWindow(fa fyne.App, ctl Controller, opts Options) *MainWindow {
	w := &MainWindow{Window: fa.NewWindow(Title), fa: fa, ctl: ctl, opts: opts, now: time.Now, do: fyne.Do,
		openURL: fa.OpenURL, notify: ctl.Settings().Notifications}
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
	connections := container.NewBorder(container.NewHBox(layout.NewSpacer(), add), nil, nil, nil,
		container.NewVScroll(w.connList))

	w.actList = container.NewVBox()
	w.problems = widget.NewCheck(i18n.T("window.activity.problems"), func(bool) { w.loadActivity() })
	activity := container.NewBorder(w.problems, nil, nil, nil, container.NewVScroll(w.actList))

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
		r.show(c, present.ConnectionRow(s, w.now()))
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

func (w *MainWindow) newRow(c config.Connection) *connRow {
	r := &connRow{conn: c}
	label := func() *widget.Label {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	r.account, r.folder, r.structure, r.lastSync, r.counts, r.eta = label(), label(), label(), label(), label(), label()
	r.warning = widget.NewLabel("")
	r.warning.Wrapping = fyne.TextWrapWord
	r.warning.Importance = widget.WarningImportance
	id := c.ID
	r.syncNow = widget.NewButtonWithIcon(i18n.T("window.syncnow"), theme.ViewRefreshIcon(), func() { w.ctl.SyncNow(id) })
	r.pause = widget.NewButton("", func() {
		if err := w.ctl.SetPaused(id, !r.paused); err != nil {
			dialog.ShowError(err, w.Window)
		}
		w.Update(w.ctl.Status())
	})
	r.reconnect = widget.NewButtonWithIcon(i18n.T("window.reconnect"), theme.LoginIcon(), func() {
		wizard.ShowReconnect(w.fa, w.ctl, r.conn)
	})
	r.edit = widget.NewButtonWithIcon(i18n.T("window.edit"), theme.DocumentCreateIcon(), func() { w.showEdit(r.conn) })
	r.remove = widget.NewButtonWithIcon(i18n.T("window.remove"), theme.DeleteIcon(), func() { w.confirmRemove(r.conn) })
	details := container.NewVBox(r.account, r.folder, r.structure, r.lastSync, r.counts, r.eta, r.warning,
		container.NewHBox(r.reconnect, r.syncNow, r.pause, layout.NewSpacer(), r.edit, r.remove))
	r.card = widget.NewCard(c.Name, "", details)
	return r
}

// show fills the card in; labels without text are hidden so the card stays short.
func (r *connRow) show(c config.Connection, v present.Row) {
	r.conn = c
	r.card.SetTitle(c.Name)
	r.card.SetSubTitle(v.State)
	set := func(l *widget.Label, text string) {
		l.SetText(text)
		if text == "" {
			l.Hide()
		} else {
			l.Show()
		}
	}
	set(r.account, accountText(c))
	set(r.folder, i18n.T("window.folder", "Folder", c.Folder))
	set(r.structure, i18n.T("window.structure", "Structure", structureText(c.Structure)))
	set(r.lastSync, v.LastSync)
	set(r.counts, v.Counts)
	set(r.eta, v.ETA)
	set(r.warning, v.Warning)
	r.paused = v.Paused
	if v.Paused {
		r.pause.SetText(i18n.T("window.resume"))
		r.pause.SetIcon(theme.MediaPlayIcon())
	} else {
		r.pause.SetText(i18n.T("window.pause"))
		r.pause.SetIcon(theme.MediaPauseIcon())
	}
	if v.NeedsReconnect || v.Attention {
		r.reconnect.Show()
	} else {
		r.reconnect.Hide()
	}
	if v.NeedsReconnect {
		r.reconnect.Importance = widget.HighImportance
	} else {
		r.reconnect.Importance = widget.MediumImportance
	}
	r.reconnect.Refresh()
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

// feedEntry is one activity entry with the connection it belongs to.
type feedEntry struct {
	conn config.Connection
	act  store.Activity
}

// loadActivity reads every connection's recent activity and shows it, newest first:
// connections needing the user on top, then the entries (only refusals when the problems
// filter is on).
func (w *MainWindow) loadActivity() {
	w.actLoaded = time.Now()
	now := w.now()
	problemsOnly := w.problems.Checked
	var objs []fyne.CanvasObject
	conns := w.ctl.Connections()
	byID := map[string]engine.Status{}
	for _, s := range w.last {
		byID[s.ID] = s
	}
	var feed []feedEntry
	for _, c := range conns {
		if s, ok := byID[c.ID]; ok && (s.State.Attention() || s.Failed > 0) {
			l := widget.NewLabel(c.Name + ": " + present.StateText(s))
			if s.State.Attention() {
				l.Importance = widget.DangerImportance
			} else {
				l.SetText(c.Name + ": " + present.ConnectionRow(s, now).Counts)
				l.Importance = widget.WarningImportance
			}
			l.Wrapping = fyne.TextWrapWord
			objs = append(objs, l)
		}
		acts, err := w.ctl.Activity(c.ID, activityPerConnection)
		if err != nil {
			continue // the feed is a convenience; a store error shows in the log
		}
		for _, a := range acts {
			feed = append(feed, feedEntry{c, a})
		}
	}
	sort.SliceStable(feed, func(i, j int) bool { return feed[i].act.Time.After(feed[j].act.Time) })
	for _, e := range feed {
		v := present.ActivityEntry(e.act, now)
		if problemsOnly && !v.Problem {
			continue
		}
		objs = append(objs, w.entry(e, v))
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel(i18n.T("window.activity.empty")))
	}
	w.actList.Objects = objs
	w.actList.Refresh()
}

func (w *MainWindow) entry(e feedEntry, v present.Entry) fyne.CanvasObject {
	text := widget.NewLabel(v.Text)
	text.Wrapping = fyne.TextWrapWord
	if v.Problem {
		text.Importance = widget.DangerImportance
	}
	when := widget.NewLabel(v.When + " · " + e.conn.Name)
	when.Importance = widget.LowImportance
	local := fileURL(filepath.Join(e.conn.Folder, filepath.FromSlash(e.act.Path)))
	openFile := widget.NewButtonWithIcon(i18n.T("window.activity.openfile"), theme.FileIcon(), func() { _ = w.fa.OpenURL(local) })
	openDropbox := widget.NewButtonWithIcon(i18n.T("window.activity.opendropbox"), theme.ComputerIcon(), func() {
		u, _ := url.Parse(dropboxHome)
		_ = w.fa.OpenURL(u)
	})
	return container.NewVBox(text, container.NewHBox(when, layout.NewSpacer(), openFile, openDropbox), widget.NewSeparator())
}

// fileURL is the file:// URL of a local path, on Windows too ("C:\x" -> "file:///C:/x").
func fileURL(p string) *url.URL {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return &url.URL{Scheme: "file", Path: p}
}
