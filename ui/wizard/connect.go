package wizard

import (
	"context"
	"errors"
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
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
	if err := w.ctl.Connector().Ready(); err != nil {
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

// options are the connect options: the UI's language (the use case adds the account on a
// reconnect).
func (w *wizard) options() auth.Options {
	o := auth.Options{Language: i18n.Language()}
	tuneOptions(&o)
	return o
}

// reconnectID is the ID of the connection being reconnected, "" when adding one.
func (w *wizard) reconnectID() string {
	if w.reconnect == nil {
		return ""
	}
	return w.reconnect.ID
}

// startBrowser starts the browser connect: a listener for Dropbox's answer, the browser on
// the authorize page, and a wait in the background.
func (w *wizard) startBrowser() {
	w.beginFlow()
	conn := w.ctl.Connector()
	f, err := conn.Listen(w.reconnectID(), w.options())
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
	fa, open := w.app, openURL
	go func() {
		// In demo mode the use case approves by itself when no browser opens.
		err := conn.Open(ctx, link, func(ctx context.Context, link string) error {
			u, err := url.Parse(link)
			if err != nil {
				return err
			}
			return open(ctx, fa, u)
		})
		if err != nil && ctx.Err() == nil {
			w.do(func() {
				if gen == w.flowGen {
					w.setMsg(i18n.T("wizard.err.browser"))
				}
			})
		}
	}()
	go func() {
		res, err := f.Wait(ctx)
		w.keep(ctx, gen, res, err, false)
	}()
}

// startPaste shows the paste-the-code form; why, if set, says why the browser flow is not
// used.
func (w *wizard) startPaste(why string) {
	w.beginFlow()
	f, err := w.ctl.Connector().NoRedirect(w.reconnectID(), w.options())
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
			w.keep(ctx, gen, res, err, true)
		}()
	}
	fa, open := w.app, openURL
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
					go open(ctx, fa, u)
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

// beginFlow ends a connect in progress and clears the message before another starts.
func (w *wizard) beginFlow() {
	w.stopFlow()
	w.setMsg("")
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

// keep hands a finished connect attempt to the use case, on the attempt's goroutine (adding
// saves to the keychain and the settings, which may block), and shows the outcome.
func (w *wizard) keep(ctx context.Context, gen int, res auth.Result, err error, pasting bool) {
	var conn config.Connection
	if err == nil {
		// What the user chose is read on the UI goroutine; the window is theirs.
		var ch app.Choice
		var stale bool
		done := make(chan struct{})
		w.do(func() {
			defer close(done)
			stale = gen != w.flowGen
			if !stale && w.reconnect == nil {
				ch = w.choice()
			}
		})
		select {
		case <-done:
		case <-ctx.Done():
			stale = true
		}
		c := w.ctl.Connector()
		switch {
		case stale:
			err = context.Canceled
			c.Discard(res)
		case w.reconnect != nil:
			conn, err = c.Reconnect(ctx, w.reconnect.ID, res)
		default:
			conn, err = c.Add(ctx, ch, res)
		}
	}
	w.do(func() {
		if gen != w.flowGen {
			return
		}
		if pasting {
			w.confirm.Enable()
		} else {
			w.stopFlow()
		}
		w.finish(conn, res.Account, err, pasting)
	})
}

// finish shows the end of a connect attempt: the connection kept, or why not.
func (w *wizard) finish(conn config.Connection, acc auth.Account, err error, pasting bool) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if err != nil {
		msg := ""
		if w.reconnect == nil {
			msg = present.ChoiceProblem(err, trimmed(w.name))
		}
		if msg == "" {
			msg = plainError(err)
		}
		if msg == i18n.T("wizard.err.other") && errors.Is(err, app.ErrNotKept) {
			msg = i18n.T("wizard.err.save") // Dropbox was fine; the settings were not
		}
		w.setMsg(msg)
		if !pasting {
			w.enterConnect()
		}
		return
	}
	w.stopFlow()
	if w.reconnect != nil {
		w.reconnected(acc)
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
	w.setConnect(wrapped(i18n.T("wizard.reconnect.done", "Name", w.reconnect.Name, "Account", acc.Label())))
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
		return i18n.T("wizard.err.different", "Account", diff.Got.Label())
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

func accountOf(name, email string) auth.Account { return auth.Account{Name: name, Email: email} }
