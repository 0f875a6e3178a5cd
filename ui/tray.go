package ui

import (
	"fmt"

	"fyne.io/fyne/v2"

	"github.com/onfact/onfact-dropbox/assets"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
	"github.com/onfact/onfact-dropbox/ui/wizard"
)

// The tray icons, one per present.Kind.
var trayIcons = map[present.Kind]fyne.Resource{
	present.KindSynced:    fyne.NewStaticResource("tray-synced.png", assets.TraySynced),
	present.KindSyncing:   fyne.NewStaticResource("tray-syncing.png", assets.TraySyncing),
	present.KindPaused:    fyne.NewStaticResource("tray-paused.png", assets.TrayPaused),
	present.KindAttention: fyne.NewStaticResource("tray-attention.png", assets.TrayAttention),
}

// Tray is the system tray's menu and icon. Its methods run on the UI goroutine.
//
// The menu keeps its own Quit item last, marked IsQuit: Fyne 2.7 appends a Quit of its own
// to a tray menu whose last item is not one, and that item is lost again whenever the menu's
// items are refreshed.
type Tray struct {
	fa  fyne.App
	ctl Controller

	menu                                              *fyne.Menu
	status, open, syncNow, checkNow, pause, add, quit *fyne.MenuItem
	view                                              present.Tray
	// publish hands the menu and icon to the system tray when they changed; nil under test.
	publish func(m *fyne.Menu, icon fyne.Resource)
	// published is what publish last showed, so an unchanged menu is not sent again (a
	// refresh rebuilds the system's menu, which would flicker while it is open).
	published string
	// tooltip sets the tray's tooltip at every Update: on Windows the tray drops a tooltip
	// set before it is ready, so it is set again until it sticks; nil under test.
	tooltip func(string)
}

// NewTray builds the tray menu for ctl: a status line, Open (calls open), Sync now, Check
// Dropbox now, Pause/Resume, Add a Dropbox..., and Quit (calls quit) last. Call Update to
// fill it in.
func NewTray(fa fyne.App, ctl Controller, open, quit func()) *Tray {
	t := &Tray{fa: fa, ctl: ctl}
	t.status = fyne.NewMenuItem("", nil)
	t.status.Disabled = true
	t.open = fyne.NewMenuItem("", open)
	t.syncNow = fyne.NewMenuItem("", func() { ctl.SyncNow("") })
	t.checkNow = fyne.NewMenuItem("", func() { ctl.CheckNow("") })
	t.pause = fyne.NewMenuItem("", func() {
		_ = ctl.SetPaused("", !t.view.Paused) // a failed settings write still pauses for now
		t.Update(ctl.Status())
	})
	t.add = fyne.NewMenuItem("", func() { wizard.Show(fa, ctl) })
	t.quit = fyne.NewMenuItem("", quit)
	t.quit.IsQuit = true
	t.menu = fyne.NewMenu(Title, t.status, fyne.NewMenuItemSeparator(), t.open, t.syncNow, t.checkNow, t.pause, t.add,
		fyne.NewMenuItemSeparator(), t.quit)
	return t
}

// Menu is the tray menu.
func (t *Tray) Menu() *fyne.Menu { return t.menu }

// View is what the tray shows now.
func (t *Tray) View() present.Tray { return t.view }

// Icon is the tray icon for the current state.
func (t *Tray) Icon() fyne.Resource { return trayIcons[t.view.Kind] }

// Update shows a status snapshot (and the words of the current language) in the menu, the
// icon and the tooltip. Run calls it for every snapshot and every 30 seconds.
func (t *Tray) Update(st []engine.Status) {
	t.view = present.TrayView(st, t.ctl.Paused())
	t.status.Label = t.view.Status
	t.open.Label = i18n.T("tray.menu.open")
	t.syncNow.Label = i18n.T("tray.menu.syncnow")
	t.syncNow.Disabled = t.view.Empty
	t.checkNow.Label = i18n.T("tray.menu.check")
	t.checkNow.Disabled = t.view.Empty
	t.pause.Label = i18n.T("tray.menu.pause")
	if t.view.Paused {
		t.pause.Label = i18n.T("tray.menu.resume")
	}
	t.pause.Disabled = t.view.Empty
	t.add.Label = i18n.T("tray.menu.add")
	t.quit.Label = i18n.T("tray.menu.quit")
	if t.tooltip != nil {
		t.tooltip(t.view.Tooltip)
	}
	sig := fmt.Sprint(t.view.Kind)
	for _, it := range t.menu.Items {
		sig += fmt.Sprint("|", it.Label, it.Disabled)
	}
	if t.publish != nil && sig != t.published {
		t.published = sig
		t.publish(t.menu, t.Icon())
	}
}
