// Package ui is everything the user sees: the tray, the wizard and the windows. It holds no
// sync logic; it shows what the engine publishes and sends it commands.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/assets"
)

// AppID is the reverse-DNS application ID; Fyne keys preferences and storage by it, so it
// must never change once released.
const AppID = "be.onfact.dropboxsync"

// Title is the product name shown in window titles and the tray.
const Title = "onFact Dropbox Sync"

// Run starts the GUI and blocks until the user quits.
func Run() {
	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	w := NewMainWindow(a)
	w.ShowAndRun()
}

// NewMainWindow builds the main window. It is separate from Run so tests can build it on
// Fyne's test app.
func NewMainWindow(a fyne.App) fyne.Window {
	w := a.NewWindow(Title)
	w.SetContent(container.NewVBox(
		widget.NewLabelWithStyle(Title, fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
		widget.NewLabel("Nog geen Dropbox gekoppeld."),
	))
	w.Resize(fyne.NewSize(480, 320))
	return w
}
