package wizard

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
)

// Step 4: connect Dropbox. The step shows one of: the start (a button that opens the
// browser), the wait for the browser, or the paste-the-code form.

func (w *wizard) connectPage() fyne.CanvasObject {
	w.connectBox = container.NewVBox()
	return w.connectBox
}

func (w *wizard) setConnect(objs ...fyne.CanvasObject) {
	w.connectBox.Objects = objs
	w.relayout()
}

// enterConnect shows the start of the connect step, or why connecting is impossible.
func (w *wizard) enterConnect() {
	w.stopFlow()
	if _, err := w.ctl.Auth(); err != nil {
		l := wrapped(plainError(err))
		l.Importance = widget.DangerImportance
		w.setConnect(l)
		return
	}
	open := widget.NewButton(i18n.T("wizard.connect.open"), w.startBrowser)
	open.Importance = widget.HighImportance
	w.setConnect(
		wrapped(i18n.T("wizard.connect.intro")),
		open,
		widget.NewButton(i18n.T("wizard.connect.pastelink"), func() { w.startPaste("") }),
	)
}

// options are the connect options: the UI's language, and on a reconnect the account.
func (w *wizard) options() auth.Options {
	o := auth.Options{Language: i18n.Language()}
	if w.reconnect != nil {
		o.ExpectedAccountID = w.reconnect.AccountID
	}
	tuneOptions(&o)
	return o
}

// authConfig checks that connecting is possible at all: an app key, and a usable keychain
// (checked before the browser, so the user does not sign in for nothing).
func (w *wizard) authConfig() (auth.Config, bool) {
	cfg, err := w.ctl.Auth()
	if err == nil {
		if k, ok := w.ctl.Tokens().(interface{ Check() error }); ok {
			err = k.Check()
		}
	}
	if err != nil {
		w.setMsg(plainError(err))
		return auth.Config{}, false
	}
	return cfg, true
}

// startBrowser starts the browser connect: a listener for Dropbox's answer, the browser on
// the authorize page, and a wait in the background.
func (w *wizard) startBrowser() {
	cfg, ok := w.beginFlow()
	if !ok {
		return
	}
	f, err := cfg.Listen(w.options())
	if errors.Is(err, auth.ErrNoFreePort) {
		w.startPaste(i18n.T("wizard.err.noport"))
		return
	}
	if err != nil {
		w.setMsg(plainError(err))
		return
	}
	ctx, gen := w.flowContext()
	w.loop = f

	link := f.URL()
	stop := widget.NewButton(i18n.T("wizard.connect.stop"), w.enterConnect)
	w.setConnect(
		wrapped(i18n.T("wizard.connect.waiting")),
		wrapped(i18n.T("wizard.connect.nobrowser")),
		urlLabel(link),
		widget.NewButton(i18n.T("wizard.connect.copy"), func() { w.app.Clipboard().SetContent(link) }),
		stop,
		widget.NewButton(i18n.T("wizard.connect.pastelink"), func() { w.startPaste("") }),
	)
	app, open := w.app, openURL
	go func() {
		u, err := url.Parse(link)
		if err == nil {
			err = open(app, u)
		}
		if err != nil {
			w.do(func() {
				if gen == w.flowGen {
					w.setMsg(i18n.T("wizard.err.browser"))
				}
			})
		}
	}()
	go func() {
		res, err := f.Wait(ctx)
		w.do(func() {
			if gen != w.flowGen {
				return
			}
			w.stopFlow()
			w.finish(res, err, false)
		})
	}()
}

// startPaste shows the paste-the-code form; why, if set, says why the browser flow is not
// used.
func (w *wizard) startPaste(why string) {
	cfg, ok := w.beginFlow()
	if !ok {
		return
	}
	f, err := cfg.NoRedirect(w.options())
	if err != nil {
		w.setMsg(plainError(err))
		return
	}
	ctx, gen := w.flowContext()
	w.paste = f
	link := f.URL()
	w.code = widget.NewEntry()
	w.code.SetPlaceHolder(i18n.T("wizard.paste.placeholder"))
	w.confirm = widget.NewButton(i18n.T("wizard.paste.confirm"), nil)
	w.confirm.Importance = widget.HighImportance
	w.confirm.OnTapped = func() {
		code := trimmed(w.code)
		if code == "" {
			w.setMsg(i18n.T("wizard.paste.empty"))
			return
		}
		w.setMsg("")
		w.confirm.Disable()
		go func() {
			res, err := f.ExchangeCode(ctx, code)
			w.do(func() {
				if gen != w.flowGen {
					return
				}
				w.confirm.Enable()
				w.finish(res, err, true)
			})
		}()
	}
	app, open := w.app, openURL
	objs := []fyne.CanvasObject{}
	if why != "" {
		objs = append(objs, wrapped(why))
	}
	objs = append(objs,
		wrapped(i18n.T("wizard.paste.intro")),
		urlLabel(link),
		container.NewHBox(
			widget.NewButton(i18n.T("wizard.paste.open"), func() {
				if u, err := url.Parse(link); err == nil {
					go open(app, u)
				}
			}),
			widget.NewButton(i18n.T("wizard.connect.copy"), func() { w.app.Clipboard().SetContent(link) }),
		),
		widget.NewLabel(i18n.T("wizard.paste.label")),
		w.code,
		w.confirm,
		widget.NewButton(i18n.T("wizard.paste.back"), w.enterConnect),
	)
	w.setConnect(objs...)
}

// beginFlow ends a connect in progress and clears the message before another starts; it
// returns the config to connect with, or false when connecting is impossible (said).
func (w *wizard) beginFlow() (auth.Config, bool) {
	w.stopFlow()
	w.setMsg("")
	return w.authConfig()
}

// flowContext is the context of a new connect attempt, cancelled by stopFlow, and its
// generation: answers of an attempt that is no longer w.flowGen are dropped.
func (w *wizard) flowContext() (context.Context, int) {
	ctx, cancel := context.WithCancel(context.Background())
	w.flowGen++
	w.flowCancel = cancel
	return ctx, w.flowGen
}

// stopFlow cancels a connect in progress and releases its listener at once.
func (w *wizard) stopFlow() {
	w.flowGen++
	if w.flowCancel != nil {
		w.flowCancel()
		w.flowCancel = nil
	}
	if w.loop != nil {
		w.loop.Close()
		w.loop = nil
	}
	w.paste = nil
}

// finish handles the end of a connect attempt.
func (w *wizard) finish(res auth.Result, err error, pasting bool) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if err != nil {
		w.setMsg(plainError(err))
		if !pasting {
			w.enterConnect()
		}
		return
	}
	w.stopFlow()
	if err := w.ctl.Tokens().Save(w.id, res.Token); err != nil {
		w.setMsg(plainError(err))
		w.enterConnect()
		return
	}
	if w.reconnect != nil {
		w.ctl.Restart(w.id)
		w.reconnected(res.Account)
		return
	}
	folder, err := filepath.Abs(trimmed(w.folder)) // a pasted relative path means nothing later
	if err != nil {
		folder = trimmed(w.folder)
	}
	conn := config.Connection{
		ID: w.id, Name: trimmed(w.name), Folder: folder, Company: w.companyName(),
		Language: i18n.Language(), Accountant: w.accountant.Checked,
		AccountID: res.Account.ID, AccountName: res.Account.Name, AccountEmail: res.Account.Email,
		CreatedAt: time.Now().UTC(),
	}
	structure, _, err := w.chosenStructure()
	if err != nil { // checked before this step; a custom template cannot change here
		w.setMsg(present.StructureProblem(err))
		return
	}
	conn.Structure = structure
	if err := w.ctl.Add(conn); err != nil {
		w.setMsg(i18n.T("wizard.err.save"))
		return
	}
	w.conn = conn
	w.show(stepDone)
	w.startFeed()
}

// reconnected shows the end of a reconnect.
func (w *wizard) reconnected(acc auth.Account) {
	w.setMsg("")
	w.stepInfo.SetText("")
	w.setConnect(wrapped(i18n.T("wizard.reconnect.done", "Name", w.reconnect.Name, "Account", accountText(acc))))
	w.cancel.Hide()
	w.close.Show()
	w.relayout()
}

func urlLabel(link string) *widget.Label {
	// One line: the address is long and meant to be copied with the button, not read.
	l := widget.NewLabel(link)
	l.Truncation = fyne.TextTruncateEllipsis
	l.Selectable = true
	return l
}

// plainError says in plain words what went wrong and what to do.
func plainError(err error) string {
	var diff *auth.DifferentAccountError
	switch {
	case errors.As(err, &diff):
		return i18n.T("wizard.err.different", "Account", accountText(diff.Got))
	case errors.Is(err, auth.ErrNoAppKey):
		return i18n.T("wizard.err.noappkey")
	case errors.Is(err, auth.ErrAccessDenied):
		return i18n.T("wizard.err.denied")
	case errors.Is(err, auth.ErrTimeout):
		return i18n.T("wizard.err.timeout")
	case errors.Is(err, auth.ErrStateMismatch):
		return i18n.T("wizard.err.state")
	case errors.Is(err, auth.ErrCodeRejected):
		return i18n.T("wizard.err.code")
	case errors.Is(err, auth.ErrNoKeychain):
		return i18n.T("wizard.err.nokeychain")
	case errors.Is(err, auth.ErrNoFreePort):
		return i18n.T("wizard.err.noport")
	}
	return i18n.T("wizard.err.other")
}

// accountText names a Dropbox account: "Name (e-mail)".
func accountText(a auth.Account) string {
	switch {
	case a.Name != "" && a.Email != "":
		return a.Name + " (" + a.Email + ")"
	case a.Email != "":
		return a.Email
	}
	return a.Name
}

func accountOf(name, email string) auth.Account { return auth.Account{Name: name, Email: email} }
