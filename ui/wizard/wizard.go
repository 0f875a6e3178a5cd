// Package wizard is the "add a Dropbox" wizard and the reconnect dialog.
//
// The wizard holds no rules: what the user typed is checked, connected and added by the
// app's use case (app.Connector), which the CLI and the demo use too; the wizard says its
// answers in words and previews where the documents will go with the layout package. Everything it starts in the background (previews,
// the browser connect, the progress feed) reports back through fyne.Do, so widgets are only
// touched on the UI goroutine.
package wizard

import (
	"context"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// Controller is what the wizard needs from the running app; *app.App provides it.
// The wizard calls it on the UI goroutine, except Subscribe's channel, which it reads on
// its own goroutine, and the Connector's connect and add, which it calls on its own
// goroutines (the Connector is safe for concurrent use).
type Controller interface {
	Connector() *app.Connector
	Subscribe() (<-chan []engine.Status, func())
}

// folderSuggester is a Controller that knows a likely export folder (the demo's); the
// wizard fills it in.
type folderSuggester interface {
	SuggestedFolder() string
}

// openURL opens the authorize page in the browser. It is called on its own goroutine and
// may block; tests replace it with an HTTP client that plays the browser. It is the auth
// package's opener rather than Fyne's OpenURL because that one only starts xdg-open and
// never hears that no browser opened, and then the demo could not approve by itself.
var openURL = func(ctx context.Context, _ fyne.App, u *url.URL) error { return auth.OpenBrowser(ctx, u.String()) }

// tuneOptions lets tests adjust a connect attempt (a short timeout, other ports).
var tuneOptions = func(*auth.Options) {}

// The steps of the wizard, in order.
const (
	stepName = iota
	stepFolder
	stepStructure
	stepConnect
	stepDone
	stepCount
)

// wizard is one open wizard or reconnect dialog. Its fields belong to the UI goroutine.
type wizard struct {
	app fyne.App
	ctl Controller
	win fyne.Window
	// do runs f on the UI goroutine: fyne.Do, or a queue the tests drain.
	do func(f func())

	reconnect *config.Connection // set for ShowReconnect

	step     int
	heading  *widget.Label
	stepInfo *widget.Label
	body     *fyne.Container
	pages    []fyne.CanvasObject
	msg      *widget.Label
	back     *widget.Button
	next     *widget.Button
	cancel   *widget.Button
	close    *widget.Button
	buttons  *fyne.Container
	bottom   *fyne.Container // the message and the buttons

	// Step 1.
	name, company *widget.Entry

	// Step 2.
	folder     *widget.Entry
	folderInfo *widget.Label
	folderGen  int

	// Step 3.
	structure     *widget.RadioGroup
	custom        *widget.Entry
	customErr     *widget.Label
	customBox     *fyne.Container
	accountant    *widget.Check
	preview       *widget.Label
	previewGen    int
	previewCancel context.CancelFunc

	// Step 4.
	connectBox *fyne.Container
	flowGen    int
	flowCancel context.CancelFunc
	loop       *auth.LoopbackFlow
	paste      *auth.PasteFlow
	code       *widget.Entry
	confirm    *widget.Button

	// Step 5.
	conn         config.Connection
	account      *widget.Label
	progress     *widget.ProgressBar
	progressText *widget.Label
	stopFeed     func()

	closed bool // the window was closed
}

// Show opens the wizard that adds a Dropbox. Call it on the UI goroutine. The wizard adds
// the connection through ctl.Connector() once Dropbox is connected, then shows the first
// copy's progress until the window is closed.
func Show(a fyne.App, ctl Controller) fyne.Window {
	w := newWizard(a, ctl)
	w.win.Show()
	return w.win
}

// ShowReconnect opens the connect step alone, to reconnect conn to the same account through
// ctl.Connector(): another account is refused; on success the connection runs again with
// the new token. Call it on the UI goroutine.
func ShowReconnect(a fyne.App, ctl Controller, conn config.Connection) fyne.Window {
	w := newReconnect(a, ctl, conn)
	w.win.Show()
	return w.win
}

func newBase(a fyne.App, ctl Controller, title string) *wizard {
	w := &wizard{app: a, ctl: ctl, do: fyne.Do}
	w.win = a.NewWindow(title)
	w.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.stepInfo = widget.NewLabel("")
	w.msg = widget.NewLabel("")
	w.msg.Importance = widget.DangerImportance
	w.msg.Wrapping = fyne.TextWrapWord
	w.msg.Hide()
	w.cancel = widget.NewButton(i18n.T("wizard.cancel"), func() { w.win.Close() })
	w.close = widget.NewButton(i18n.T("wizard.close"), func() { w.win.Close() })
	w.close.Importance = widget.HighImportance
	w.close.Hide()
	w.win.SetOnClosed(w.stop)
	w.win.Resize(fyne.NewSize(640, 560))
	return w
}

func newWizard(a fyne.App, ctl Controller) *wizard {
	w := newBase(a, ctl, i18n.T("wizard.title"))
	w.back = widget.NewButton(i18n.T("wizard.back"), w.goBack)
	w.next = widget.NewButton(i18n.T("wizard.next"), w.goNext)
	w.next.Importance = widget.HighImportance
	w.pages = []fyne.CanvasObject{w.namePage(), w.folderPage(), w.structurePage(), w.connectPage(), w.donePage()}
	w.body = container.NewStack()
	w.buttons = container.NewHBox(w.cancel, layout.NewSpacer(), w.back, w.next, w.close)
	w.bottom = container.NewVBox(w.msg, w.buttons)
	w.win.SetContent(container.NewBorder(
		container.NewVBox(w.heading, w.stepInfo, widget.NewSeparator()),
		w.bottom, nil, nil,
		container.NewVScroll(container.NewPadded(w.body))))
	w.win.Canvas().SetOnTypedKey(w.typedKey)
	w.show(stepName)
	return w
}

// typedKey makes the wizard work from the keyboard: Enter does what the step's main button
// does, Escape cancels. Entries take their own Enter (OnSubmitted); this handler gets the
// keys when no entry has the focus.
func (w *wizard) typedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		if w.step != stepDone {
			w.win.Close()
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		switch w.step {
		case stepConnect:
			if w.loop == nil && w.paste == nil { // the start view, not a connect in progress
				w.startBrowser()
			}
		case stepDone:
			w.win.Close()
		default:
			w.goNext()
		}
	}
}

func newReconnect(a fyne.App, ctl Controller, conn config.Connection) *wizard {
	w := newBase(a, ctl, i18n.T("wizard.reconnect.title"))
	c := conn
	w.reconnect = &c
	w.heading.SetText(i18n.T("wizard.reconnect.heading", "Name", conn.Name))
	who := conn.AccountEmail
	if who == "" {
		who = conn.AccountName
	}
	w.stepInfo.SetText(i18n.T("wizard.reconnect.intro", "Account", who))
	w.stepInfo.Wrapping = fyne.TextWrapWord
	w.body = container.NewStack(w.connectPage())
	w.buttons = container.NewHBox(w.cancel, layout.NewSpacer(), w.close)
	w.bottom = container.NewVBox(w.msg, w.buttons)
	w.win.SetContent(container.NewBorder(
		container.NewVBox(w.heading, w.stepInfo, widget.NewSeparator()),
		w.bottom, nil, nil,
		container.NewVScroll(container.NewPadded(w.body))))
	w.enterConnect()
	return w
}

// show switches to step s, keeping what was entered in every step.
func (w *wizard) show(s int) {
	w.step = s
	w.setMsg("")
	w.heading.SetText(i18n.T(stepHeadings[s]))
	w.stepInfo.SetText(i18n.T("wizard.step", "Step", s+1, "Steps", stepCount))
	w.body.Objects = []fyne.CanvasObject{w.pages[s]}
	w.body.Refresh()
	if s == stepName {
		w.back.Disable()
	} else {
		w.back.Enable()
	}
	if s == stepConnect || s == stepDone {
		w.next.Hide()
	} else {
		w.next.Show()
	}
	if s == stepDone {
		w.back.Hide()
		w.cancel.Hide()
		w.close.Show()
	}
	w.relayout()
	// The step's first field has the focus; elsewhere nothing does, so Enter reaches typedKey.
	switch s {
	case stepName:
		w.win.Canvas().Focus(w.name)
	case stepFolder:
		w.win.Canvas().Focus(w.folder)
	default:
		w.win.Canvas().Unfocus()
	}
	switch s {
	case stepFolder:
		w.countDocuments()
	case stepStructure:
		w.refreshPreview()
	case stepConnect:
		w.enterConnect()
	}
}

var stepHeadings = [...]string{"wizard.name.heading", "wizard.folder.heading", "wizard.structure.heading",
	"wizard.connect.heading", "wizard.done.heading"}

func (w *wizard) goNext() {
	var problem string
	switch w.step {
	case stepName:
		problem = w.checkName()
	case stepFolder:
		problem = w.checkFolder()
	case stepStructure:
		problem = w.checkStructure()
	}
	if problem != "" {
		w.setMsg(problem)
		return
	}
	if w.step+1 < stepCount {
		w.show(w.step + 1)
	}
}

func (w *wizard) goBack() {
	if w.step == stepConnect {
		w.stopFlow()
	}
	if w.step > stepName && w.step < stepDone {
		w.show(w.step - 1)
	}
}

// setMsg shows a plain message under the step, or hides it when empty.
func (w *wizard) setMsg(s string) {
	if s == w.msg.Text && w.msg.Visible() == (s != "") {
		return
	}
	w.msg.SetText(s)
	if s == "" {
		w.msg.Hide()
	} else {
		w.msg.Show()
	}
	w.relayout()
}

// stop ends whatever runs in the background; the window is closing.
func (w *wizard) stop() {
	w.closed = true
	w.stopFlow()
	if w.previewCancel != nil {
		w.previewCancel()
	}
	w.previewGen++
	w.folderGen++
	if w.stopFeed != nil {
		w.stopFeed()
		w.stopFeed = nil
	}
}

// relayout lays the window out again. Fyne's desktop driver notices a widget that was
// shown, hidden or grew by itself, but the test driver does not, and the snapshots should
// look like the screen.
func (w *wizard) relayout() {
	if c := w.win.Content(); c != nil {
		c.Refresh()
	}
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// trimmed is an entry's text without surrounding spaces.
func trimmed(e *widget.Entry) string { return strings.TrimSpace(e.Text) }
