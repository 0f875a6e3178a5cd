package ui

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/assets"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// Fail shows, in a window of its own, that the app cannot start and why, and returns when
// the user closed it. The language is the OS's: the settings may be what failed to load.
func Fail(err error) {
	i18n.SetLanguage("")
	fa := fyneapp.NewWithID(AppID)
	fa.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	failWindow(fa, err).ShowAndRun()
}

// failWindow is Fail's window on fa.
func failWindow(fa fyne.App, err error) fyne.Window {
	w := fa.NewWindow(Title)
	heading := widget.NewLabelWithStyle(i18n.T("app.failed.heading"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	reason := widget.NewLabel(failReason(err))
	reason.Wrapping = fyne.TextWrapWord
	reason.Importance = widget.DangerImportance
	help := widget.NewLabel(i18n.T("app.failed.help"))
	help.Wrapping = fyne.TextWrapWord
	closeButton := widget.NewButton(i18n.T("app.failed.close"), w.Close)
	closeButton.Importance = widget.HighImportance
	w.SetContent(container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), closeButton), nil, nil,
		container.NewVBox(heading, reason, help)))
	w.SetMaster()
	w.Resize(fyne.NewSize(520, 240))
	return w
}

// failReason says why the app cannot start in the user's language for the failures they
// can act on (app.Classify); any other error is shown as it is. The technical detail is in
// the log (gui.go logs err before showing this).
func failReason(err error) string {
	dir, _ := config.Dir()
	switch app.Classify(err, dir) {
	case app.TroubleDiskFull:
		return i18n.T("app.failed.disk_full")
	case app.TroubleNotWritable:
		return i18n.T("app.failed.not_writable", "Folder", dir)
	case app.TroubleSettingsDamaged:
		return i18n.T("app.failed.settings_damaged", "File", config.Path(dir))
	case app.TroubleStoreDamaged:
		return i18n.T("app.failed.store_damaged")
	case app.TroubleRunning:
		return i18n.T("app.failed.running")
	}
	return err.Error()
}
