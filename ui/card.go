package ui

import (
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
	"github.com/onfact/onfact-dropbox/ui/wizard"
)

// dropboxAppFolder is the name of the app folder in the user's Dropbox (Apps/onFact): the
// name the app key was registered under at Dropbox (README, "Registering a Dropbox app
// key"). Dropbox's API does not tell it.
const dropboxAppFolder = "onFact"

// stateIconSize is the size of the icon that tells a connection's state at a glance.
var stateIconSize = fyne.NewSize(40, 40)

// connRow is one connection's card in the Connections tab: at its top the state (icon,
// colour, words, progress and the one fix), the documents in Dropbox and the problems, what
// the last check of Dropbox found (with Check now), then where the documents are, then the
// connection's settings and its commands.
type connRow struct {
	conn config.Connection
	card *widget.Card

	icon             *widget.Icon
	headline, detail *widget.Label
	check            *widget.Label
	progress         *widget.ProgressBar
	fix              *widget.Button
	fixKind          present.Fix
	inDropbox        *widget.Label
	problems         *widget.Hyperlink
	waiting          *widget.Label
	where            *widget.Label
	open             *widget.Button
	account, folder  *widget.Label
	structure        *widget.Label
	warning          *widget.Label
	syncNow, pause   *widget.Button
	checkNow         *widget.Button
	edit, remove     *widget.Button
	paused           bool
}

func (w *MainWindow) newRow(c config.Connection) *connRow {
	r := &connRow{conn: c}
	label := func() *widget.Label {
		l := widget.NewLabel("")
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	wrapped := func() *widget.Label {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	r.icon = widget.NewIcon(theme.ConfirmIcon())
	r.headline = wrapped()
	r.headline.TextStyle = fyne.TextStyle{Bold: true}
	r.detail = wrapped()
	r.check = wrapped()
	r.progress = widget.NewProgressBar()
	r.inDropbox, r.waiting, r.where = widget.NewLabel(""), widget.NewLabel(""), label()
	r.account, r.folder, r.structure = label(), label(), label()
	r.warning = wrapped()
	r.warning.Importance = widget.WarningImportance
	r.problems = widget.NewHyperlink("", nil)
	r.problems.OnTapped = w.showProblems
	id := c.ID
	r.fix = widget.NewButton("", func() { w.applyFix(r) })
	r.fix.Importance = widget.HighImportance
	r.open = widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() { w.openLocation(r.conn) })
	r.syncNow = widget.NewButtonWithIcon(i18n.T("window.syncnow"), theme.ViewRefreshIcon(), func() { w.ctl.SyncNow(id) })
	r.checkNow = widget.NewButtonWithIcon(i18n.T("window.checknow"), theme.SearchIcon(), func() { w.ctl.CheckNow(id) })
	r.pause = widget.NewButton("", func() {
		if err := w.ctl.SetPaused(id, !r.paused); err != nil {
			dialog.ShowError(err, w.Window)
		}
		w.Update(w.ctl.Status())
	})
	r.edit = widget.NewButtonWithIcon(i18n.T("window.edit"), theme.DocumentCreateIcon(), func() { w.showEdit(r.conn) })
	r.remove = widget.NewButtonWithIcon(i18n.T("window.remove"), theme.DeleteIcon(), func() { w.confirmRemove(r.conn) })

	state := container.NewBorder(nil, nil,
		container.NewCenter(container.NewGridWrap(stateIconSize, r.icon)),
		container.NewCenter(r.fix),
		container.NewVBox(r.headline, r.detail))
	counts := container.NewHBox(r.inDropbox, r.problems, r.waiting)
	check := container.NewBorder(nil, nil, nil, r.checkNow, r.check)
	where := container.NewBorder(nil, nil, nil, r.open, r.where)
	details := container.NewVBox(state, r.progress, counts, check, where, widget.NewSeparator(),
		r.account, r.folder, r.structure, r.warning,
		container.NewHBox(r.syncNow, r.pause, layout.NewSpacer(), r.edit, r.remove))
	r.card = widget.NewCard(c.Name, "", details)
	return r
}

// stateIcon is the icon of a kind of card, in its colour. Made when drawn, not at package
// init: theme icons ask the running Fyne app, which headless commands never start.
func stateIcon(k present.CardKind) fyne.Resource {
	switch k {
	case present.CardSafe:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case present.CardBusy:
		return theme.NewPrimaryThemedResource(theme.UploadIcon())
	case present.CardPaused:
		return theme.MediaPauseIcon()
	case present.CardOffline, present.CardProblems:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	}
	return theme.NewErrorThemedResource(theme.ErrorIcon())
}

// headlineImportance colours the headline of a card that needs the user; the others keep
// the text colour, and their icon carries the colour: Fyne's green and orange are too
// light to read as text on the light theme.
var headlineImportance = map[present.CardKind]widget.Importance{
	present.CardNeedsYou: widget.DangerImportance,
}

// show fills the card in; labels without text are hidden so the card stays short.
func (r *connRow) show(c config.Connection, v present.Card, where string, website bool) {
	r.conn = c
	r.card.SetTitle(c.Name)
	set := func(l *widget.Label, text string) {
		l.SetText(text)
		l.Hidden = text == ""
		l.Refresh()
	}
	r.icon.SetResource(stateIcon(v.Kind))
	r.headline.Importance = headlineImportance[v.Kind]
	set(r.headline, v.Headline)
	set(r.detail, v.Detail)
	set(r.check, v.Check)
	if v.Checking {
		r.checkNow.Disable()
	} else {
		r.checkNow.Enable()
	}
	if v.Progress >= 0 {
		r.progress.SetValue(v.Progress)
		r.progress.Show()
	} else {
		r.progress.Hide()
	}
	r.fixKind = v.Fix
	if v.Fix == present.FixNone {
		r.fix.Hide()
	} else {
		r.fix.SetText(v.FixText)
		r.fix.SetIcon(fixIcon(v.Fix))
		r.fix.Show()
	}
	set(r.inDropbox, v.InDropbox)
	r.problems.SetText(v.Problems)
	r.problems.Hidden = v.Problems == ""
	set(r.waiting, v.Waiting)
	set(r.where, i18n.T("card.where", "Location", where))
	if website {
		r.open.SetText(i18n.T("card.open"))
		r.open.SetIcon(theme.ComputerIcon())
	} else {
		r.open.SetText(i18n.T("card.open.folder"))
		r.open.SetIcon(theme.FolderOpenIcon())
	}
	set(r.account, accountText(c))
	set(r.folder, i18n.T("window.folder", "Folder", c.Folder))
	set(r.structure, i18n.T("window.structure", "Structure", structureText(c.Structure)))
	set(r.warning, v.Warning)
	r.paused = v.Paused
	if v.Paused {
		r.pause.SetText(i18n.T("window.resume"))
		r.pause.SetIcon(theme.MediaPlayIcon())
	} else {
		r.pause.SetText(i18n.T("window.pause"))
		r.pause.SetIcon(theme.MediaPauseIcon())
	}
}

// fixIcon is the icon of a fix's button (made when drawn, as stateIcon).
func fixIcon(f present.Fix) fyne.Resource {
	switch f {
	case present.FixReconnect:
		return theme.LoginIcon()
	case present.FixFreeSpace:
		return theme.ComputerIcon()
	case present.FixFolder:
		return theme.FolderOpenIcon()
	case present.FixRetry:
		return theme.ViewRefreshIcon()
	case present.FixProblems:
		return theme.ListIcon()
	}
	return nil
}

// applyFix does what the fix of r's card says.
func (w *MainWindow) applyFix(r *connRow) {
	switch r.fixKind {
	case present.FixReconnect:
		wizard.ShowReconnect(w.fa, w.ctl, r.conn)
	case present.FixFreeSpace:
		u, _ := url.Parse(dropboxHome)
		_ = w.openURL(u)
	case present.FixFolder:
		w.showEdit(r.conn)
	case present.FixRetry:
		w.ctl.SyncNow(r.conn.ID)
	case present.FixProblems:
		w.showProblems()
	}
}

// showProblems shows the activity feed, only its problems.
func (w *MainWindow) showProblems() {
	w.problems.Checked = true // the tab's selection reloads the feed, once
	w.problems.Refresh()
	if w.tabs.SelectedIndex() == 1 {
		w.loadActivity()
		return
	}
	w.tabs.SelectIndex(1)
}

// location is where c's documents are in Dropbox, e.g. "Apps/onFact/Bakkerij Janssens
// BV/2026/Facturen" (this year's invoices, the main type).
func (w *MainWindow) location(c config.Connection) string {
	l, err := app.LayoutOf(c)
	if err != nil {
		return present.InDropbox(dropboxAppFolder, "/")
	}
	return present.Location(dropboxAppFolder, l, w.now())
}

// companyFolder is the folder of c's company in its app folder ("/Bakkerij Janssens BV").
func companyFolder(c config.Connection) string {
	l, err := app.LayoutOf(c)
	if err != nil {
		return "/"
	}
	return "/" + l.CompanyFolder("")
}

// openLocation opens c's folder on dropbox.com; an emulated Dropbox has no web pages, so
// the export folder opens instead (the button says so).
func (w *MainWindow) openLocation(c config.Connection) {
	if !w.ctl.DropboxWebsite() {
		_ = w.openURL(fileURL(c.Folder))
		return
	}
	u, err := url.Parse(present.WebAddress(dropboxAppFolder, companyFolder(c)))
	if err == nil {
		_ = w.openURL(u)
	}
}
