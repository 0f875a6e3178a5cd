// Package ui is everything the user sees: the tray, the wizard and the windows. It holds no
// sync logic; it shows what the engine publishes and sends it commands.
//
// Threading: widgets are touched only on Fyne's UI goroutine. One goroutine started by Run
// reads the app's status snapshots and hands each to the tray, the main window and the
// notifications through fyne.Do; others hand over the end of the session and a tray host
// that turns up late the same way. Commands that may wait on the network (Remove) run in
// their own goroutine and report back through fyne.Do too.
package ui

import (
	"context"
	"io"
	"log"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/systray"

	"github.com/onfact/onfact-dropbox/assets"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/wizard"
)

// AppID is the reverse-DNS application ID; Fyne keys preferences and storage by it, so it
// must never change once released.
const AppID = "be.onfact.dropboxsync"

// Title is the product name shown in window titles and the tray.
const Title = "onFact Dropbox Sync"

// Controller is what the tray and the main window need from the running program;
// *app.App provides it. Its methods are called on the UI goroutine, except Remove, which
// may wait on the network, and Activity, InDropbox and WriteCheckReport, which read the
// store: those are called from a goroutine of their own. SetSettings and Edit
// save at once; they may restart connections, which takes a moment, not the network.
type Controller interface {
	wizard.Controller
	Connections() []config.Connection
	Status() []engine.Status
	Settings() config.Settings
	SetSettings(s config.Settings) error
	Edit(c config.Connection) error
	Activity(id string, n int) ([]store.Activity, error)
	InDropbox(st []engine.Status) map[string]int
	DropboxWebsite() bool
	SyncNow(id string)
	CheckNow(id string)
	WriteCheckReport(w io.Writer) error
	SetPaused(id string, paused bool) error
	Paused() bool
	Remove(ctx context.Context, id string) error
}

var _ Controller = (*app.App)(nil)

// Options are what Run needs besides the app.
type Options struct {
	// Version and Commit name the build in the About section.
	Version, Commit string
	// LogDir is the folder "Show logs" opens.
	LogDir string
	// Shows receives a value each time another launch asks this one to come to the front.
	Shows <-chan struct{}
}

// A desktop's tray host may come up after the app: at login the panel often starts after
// the apps started at login. An app started without one keeps looking for trayWait.
const (
	trayWait      = 2 * time.Minute
	trayWaitEvery = 2 * time.Second
)

// waitForTrayHost reports whether a tray host turned up within trayWait (false if done was
// closed first).
func waitForTrayHost(done <-chan struct{}) bool {
	tick := time.NewTicker(trayWaitEvery)
	defer tick.Stop()
	timeout := time.After(trayWait)
	for {
		select {
		case <-done:
			return false
		case <-timeout:
			return false
		case <-tick.C:
			if TrayHost() {
				return true
			}
		}
	}
}

// refreshEvery re-renders the last snapshot so relative times ("2 minuten geleden") stay true.
const refreshEvery = 30 * time.Second

// Run starts the GUI for a and blocks until the user quits or ctx ends (the session ends:
// SIGTERM at logout); the caller then closes a.
//
// With a tray (always on Windows and macOS; on Linux when a StatusNotifierWatcher owns its
// name on the session bus) the app lives in the tray: closing the main window hides it, and
// the first start without any Dropbox opens the wizard. Without a tray host the main window
// stays open as a normal window and closing it quits, so nobody loses the app; a tray host
// that turns up within trayWait (a panel starting after the app at login) gets the tray.
func Run(ctx context.Context, a *app.App, opts Options) error {
	i18n.SetLanguage(a.Settings().Language)
	fa := fyneapp.NewWithID(AppID)
	fa.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))

	mw := NewMainWindow(fa, a, opts)
	desk, isDesktop := fa.(desktop.App)
	var tray *Tray
	lookForTray := false
	if isDesktop {
		// Quit through the driver, as Fyne's own tray Quit does: fyne.App.Quit first closes
		// every window, and a mouse event still queued for one of them (a window just mapped
		// under the pointer) then crashes Fyne 2.7.1 in processMouseMoved (fyne-io/fyne#5981).
		tray = NewTray(fa, a, mw.Show, fa.Driver().Quit)
		tray.publish = func(m *fyne.Menu, icon fyne.Resource) {
			desk.SetSystemTrayMenu(m)
			desk.SetSystemTrayIcon(icon)
		}
		// Fyne 2.7 sets no tooltip; fyne.io/systray, which it drives, has one.
		tray.tooltip = systray.SetTooltip
		fa.Lifecycle().SetOnStarted(func() { tray.Update(mw.last) })
		mw.onLanguage = func() { tray.Update(mw.last) }
		// The tray item is offered even without a tray host: fyne.io/systray registers it
		// with a host that turns up later. Until then the window is the only way to the app.
		if TrayHost() {
			mw.Window.SetCloseIntercept(mw.Window.Hide)
		} else {
			mw.Window.SetMaster() // closing the only way to the app quits it
			lookForTray = true
		}
	} else {
		mw.Window.SetMaster()
	}

	first := a.Status()
	mw.Update(first)
	if tray != nil {
		tray.Update(first)
	}
	mw.SendNotifications(nil, first)
	if a.StoreReset() != nil {
		// Once, at the start that replaced the damaged store, whatever the notification
		// setting: it explains why the app lists Dropbox and checks every file again.
		fa.SendNotification(fyne.NewNotification(i18n.T("app.reset.title"), i18n.T("app.reset.body")))
	}
	if tray == nil || lookForTray {
		mw.Window.Show()
	}
	if len(a.Connections()) == 0 {
		wizard.Show(fa, a)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	if lookForTray {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if waitForTrayHost(done) {
				log.Print("a tray appeared: closing the window now hides it")
				fyne.Do(func() { mw.Window.SetCloseIntercept(mw.Window.Hide) })
			}
		}()
	}
	wg.Add(2)
	go func() {
		// The session ends (SIGTERM at logout): quit as the tray's Quit does.
		defer wg.Done()
		select {
		case <-ctx.Done():
			fyne.Do(fa.Driver().Quit)
		case <-done:
		}
	}()
	go func() {
		defer wg.Done()
		follow(done, opts.Shows, mw.Show, a, first, func(prev, cur []engine.Status) {
			counts := a.InDropbox(cur) // reads the store: here, never on the UI goroutine
			fyne.Do(func() {
				mw.SetInDropbox(counts)
				mw.Update(cur)
				if tray != nil {
					tray.Update(cur)
				}
				mw.SendNotifications(prev, cur)
			})
		})
	}()
	fa.Run()
	close(done)
	wg.Wait()
	return nil
}

// follow calls show (on follow's goroutine) with the previous and the current snapshot for
// every snapshot a publishes, and again every refreshEvery with the same snapshot, until
// done is closed. Each value on shows brings the main window to the front (front runs on
// the UI goroutine).
func follow(done <-chan struct{}, shows <-chan struct{}, front func(), a Controller, last []engine.Status, show func(prev, cur []engine.Status)) {
	ch, cancel := a.Subscribe()
	defer cancel()
	tick := time.NewTicker(refreshEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case cur := <-ch:
			show(last, cur)
			last = cur
		case <-tick.C:
			show(last, last)
		case <-shows:
			log.Print("another launch asked for the window")
			fyne.Do(front)
		}
	}
}
