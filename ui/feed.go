package ui

import (
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
)

// activityPerConnection is how many recent entries of each connection the feed reads; the
// feed is a virtual list, so only the lines on screen are drawn.
const activityPerConnection = 500

// feedRow is one line of the feed as shown: a line of present.Feed, or one document of a
// burst the user opened (child).
type feedRow struct {
	line     present.Line
	child    bool
	expanded bool
}

// feedKey names a burst across reloads: its connection and its newest entry.
func feedKey(l present.Line) string {
	e := l.Entries[0]
	return e.ConnID + "/" + strconv.FormatUint(e.Seq, 10) + "/" + e.Time.String()
}

// loadActivity reloads the feed: the store is read, and the lines made, off the UI
// goroutine; the result is shown on it, unless a newer load started meanwhile.
func (w *MainWindow) loadActivity() {
	w.actLoaded = time.Now()
	w.feedSeq++
	seq := w.feedSeq
	conns := w.ctl.Connections()
	problemsOnly := w.problems.Checked
	now := w.now()
	w.showAttention(conns)
	w.background(func() {
		var entries []present.FeedEntry
		for _, c := range conns {
			acts, err := w.ctl.Activity(c.ID, activityPerConnection)
			if err != nil {
				continue // the feed is a convenience; a store error shows in the log
			}
			for _, a := range acts {
				entries = append(entries, present.FeedEntry{ConnID: c.ID, ConnName: c.Name, Activity: a})
			}
		}
		lines := present.Feed(entries, dropboxAppFolder, problemsOnly, now)
		w.do(func() {
			if seq != w.feedSeq {
				return
			}
			w.feedLines = lines
			w.showFeed()
		})
	})
}

// showAttention lists, above the feed, the connections that need the user or have
// problems.
func (w *MainWindow) showAttention(conns []config.Connection) {
	byID := map[string]engine.Status{}
	for _, s := range w.last {
		byID[s.ID] = s
	}
	var objs []fyne.CanvasObject
	for _, c := range conns {
		s, ok := byID[c.ID]
		if !ok || !(s.State.Attention() || s.Failed > 0) {
			continue
		}
		l := widget.NewLabel(c.Name + ": " + present.StateText(s))
		if s.State.Attention() {
			l.Importance = widget.DangerImportance
		} else {
			l.SetText(c.Name + ": " + present.ConnectionRow(s, w.now()).Counts)
			l.Importance = widget.WarningImportance
		}
		l.Wrapping = fyne.TextWrapWord
		objs = append(objs, l)
	}
	w.attention.Objects = objs
	w.attention.Refresh()
	w.activity.Refresh()
}

// showFeed shows feedLines, with the documents of the opened bursts below them.
func (w *MainWindow) showFeed() {
	rows := make([]feedRow, 0, len(w.feedLines))
	now := w.now()
	for _, l := range w.feedLines {
		open := l.Burst() && w.expanded[feedKey(l)]
		rows = append(rows, feedRow{line: l, expanded: open})
		if open {
			for _, e := range l.Entries {
				rows = append(rows, feedRow{line: present.Single(e, dropboxAppFolder, now), child: true})
			}
		}
	}
	w.feedRows = rows
	w.feedEmpty.Hidden = len(rows) > 0
	w.feedEmpty.Refresh()
	w.feedList.Refresh()
}

// toggle opens or closes the burst at row i.
func (w *MainWindow) toggle(i int) {
	if i < 0 || i >= len(w.feedRows) || !w.feedRows[i].line.Burst() || w.feedRows[i].child {
		return
	}
	k := feedKey(w.feedRows[i].line)
	w.expanded[k] = !w.expanded[k]
	w.showFeed()
}

// newFeedList is the feed's virtual list: only the lines on screen have widgets.
func (w *MainWindow) newFeedList() *widget.List {
	var list *widget.List
	list = widget.NewList(
		func() int { return len(w.feedRows) },
		func() fyne.CanvasObject { return newFeedLine(w) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(w.feedRows) {
				o.(*feedLine).set(id, w.feedRows[id])
			}
		})
	list.OnSelected = func(id widget.ListItemID) {
		list.Unselect(id)
		w.toggle(id)
	}
	return list
}

// lineIcon is the icon of a kind of line, in its colour (made when drawn, as stateIcon).
func lineIcon(k present.LineKind) fyne.Resource {
	switch k {
	case present.LineSent:
		return theme.NewSuccessThemedResource(theme.UploadIcon())
	case present.LineExisting:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case present.LineIncomplete:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	case present.LineRepaired: // in Dropbox again
		return theme.NewSuccessThemedResource(theme.ViewRefreshIcon())
	}
	return theme.NewErrorThemedResource(theme.ErrorIcon())
}

// feedLine draws one feed row on one compact line: icon, file name (or the burst), where it
// went (or why not) and when; its actions are in a menu, from the ⋮ button or a right
// click. Its text uses the foreground colour, legible on the dark and the light theme.
type feedLine struct {
	widget.BaseWidget
	w       *MainWindow
	id      int
	row     feedRow
	indent  *fyne.Container
	icon    *widget.Icon
	title   *widget.Label
	detail  *widget.Label
	when    *widget.Label
	chevron *widget.Button
	more    *widget.Button
	content fyne.CanvasObject
}

func newFeedLine(w *MainWindow) *feedLine {
	l := &feedLine{w: w, icon: widget.NewIcon(nil), title: widget.NewLabel(""), detail: widget.NewLabel(""),
		when: widget.NewLabel("")}
	l.chevron = widget.NewButtonWithIcon("", theme.MenuExpandIcon(), func() { w.toggle(l.id) })
	l.chevron.Importance = widget.LowImportance
	l.title.TextStyle = fyne.TextStyle{Bold: true}
	l.detail.Truncation = fyne.TextTruncateEllipsis
	l.more = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), func() {
		c := fyne.CurrentApp().Driver().CanvasForObject(l.more)
		if c == nil {
			return
		}
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(l.more)
		widget.ShowPopUpMenuAtPosition(l.menu(), c, pos.AddXY(0, l.more.Size().Height))
	})
	l.more.Importance = widget.LowImportance
	l.indent = container.NewGridWrap(fyne.NewSize(theme.IconInlineSize()*1.5, 1))
	l.content = container.NewBorder(nil, nil,
		container.NewHBox(l.indent, l.icon, l.title),
		container.NewHBox(l.when, l.chevron, l.more),
		l.detail)
	l.ExtendBaseWidget(l)
	return l
}

// CreateRenderer is Fyne's; the line is its content.
func (l *feedLine) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(l.content) }

func (l *feedLine) set(id int, r feedRow) {
	l.id, l.row = id, r
	l.indent.Hidden = !r.child
	l.icon.SetResource(lineIcon(r.line.Kind))
	l.title.Importance = widget.MediumImportance
	if r.line.Kind == present.LineFailed {
		l.title.Importance = widget.DangerImportance // the icon alone tells the rest: orange text is hard to read on light
	}
	l.title.SetText(r.line.Title)
	l.detail.SetText(r.line.Detail)
	l.when.SetText(r.line.When)
	if r.line.Burst() && !r.child {
		if r.expanded {
			l.chevron.SetIcon(theme.MenuDropDownIcon())
		} else {
			l.chevron.SetIcon(theme.MenuExpandIcon())
		}
		l.chevron.Show()
	} else {
		l.chevron.Hide()
	}
	l.Refresh()
}

// Tapped opens or closes a burst. The line takes the taps itself: a widget that takes right
// clicks also receives the left ones, so the list's own selection never sees them.
func (l *feedLine) Tapped(*fyne.PointEvent) { l.w.toggle(l.id) }

// TappedSecondary opens the line's menu where it was right-clicked.
func (l *feedLine) TappedSecondary(e *fyne.PointEvent) {
	c := fyne.CurrentApp().Driver().CanvasForObject(l)
	if c != nil {
		widget.ShowPopUpMenuAtPosition(l.menu(), c, e.AbsolutePosition)
	}
}

// menu is the line's actions: open the document or its folder in Dropbox; a burst opens or
// closes, and opens the folder that holds its documents.
func (l *feedLine) menu() *fyne.Menu {
	w, line := l.w, l.row.line
	e := line.Entries[0]
	conn, _ := w.connection(e.ConnID)
	var items []*fyne.MenuItem
	if line.Burst() && !l.row.child {
		text := i18n.T("feed.expand")
		if l.row.expanded {
			text = i18n.T("feed.collapse")
		}
		id := l.id
		items = append(items, fyne.NewMenuItem(text, func() { w.toggle(id) }))
	} else {
		local := fileURL(filepath.Join(conn.Folder, filepath.FromSlash(e.Path)))
		items = append(items, fyne.NewMenuItem(i18n.T("window.activity.openfile"), func() { _ = w.openURL(local) }))
	}
	if e.RemotePath != "" {
		folder := path.Dir(e.RemotePath)
		if line.Burst() && !l.row.child {
			folder = commonFolder(line.Entries)
		}
		items = append(items, fyne.NewMenuItem(i18n.T("feed.showfolder"), func() { w.openRemote(conn, folder) }))
	}
	return fyne.NewMenu("", items...)
}

// commonFolder is the deepest Dropbox folder that holds every entry.
func commonFolder(es []present.FeedEntry) string {
	dir := path.Dir(es[0].RemotePath)
	for _, e := range es[1:] {
		for !isIn(e.RemotePath, dir) {
			dir = path.Dir(dir)
		}
	}
	return dir
}

func isIn(p, dir string) bool {
	return dir == "/" || len(p) > len(dir) && p[:len(dir)] == dir && p[len(dir)] == '/'
}

// openRemote opens a folder of c's app folder on dropbox.com; for an emulated Dropbox,
// which has no web pages, c's export folder.
func (w *MainWindow) openRemote(c config.Connection, folder string) {
	if !w.ctl.DropboxWebsite() {
		_ = w.openURL(fileURL(c.Folder))
		return
	}
	if u, err := url.Parse(present.WebAddress(dropboxAppFolder, folder)); err == nil {
		_ = w.openURL(u)
	}
}

// connection is the configured connection with id.
func (w *MainWindow) connection(id string) (config.Connection, bool) {
	for _, c := range w.ctl.Connections() {
		if c.ID == id {
			return c, true
		}
	}
	return config.Connection{}, false
}
