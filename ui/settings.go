package ui

import (
	"slices"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// settings is the Settings tab, showing the saved settings; every change is saved at once
// (saveSettings). Below them: about this app, and its logs.
func (w *MainWindow) settings() fyne.CanvasObject {
	s := w.ctl.Settings()
	startup := widget.NewCheck(i18n.T("window.settings.startup"), nil)
	startup.SetChecked(s.StartAtLogin)
	startup.OnChanged = func(on bool) {
		w.saveSettings(func(s *config.Settings) { s.StartAtLogin = on })
	}

	var names []string
	for _, l := range i18n.Languages {
		names = append(names, languageNames[l])
	}
	lang := widget.NewSelect(names, nil)
	lang.SetSelected(languageNames[i18n.Language()])
	lang.OnChanged = func(name string) {
		for _, l := range i18n.Languages {
			if languageNames[l] != name || l == i18n.Language() {
				continue
			}
			if !w.saveSettings(func(s *config.Settings) { s.Language = l }) {
				return
			}
			i18n.SetLanguage(l)
			w.build()
			if w.onLanguage != nil {
				w.onLanguage()
			}
			return
		}
	}

	notify := widget.NewCheck(i18n.T("window.settings.notifications"), nil)
	notify.SetChecked(s.Notifications)
	notify.OnChanged = func(on bool) {
		if w.saveSettings(func(s *config.Settings) { s.Notifications = on }) {
			w.notify = on
		}
	}

	concs := slices.Clone(concurrencyChoices)
	if s.Concurrency > 0 && !slices.Contains(concs, s.Concurrency) {
		concs = append(concs, s.Concurrency) // set in config.json by hand
	}
	conc := widget.NewSelect(mapTexts(concs, concurrencyText), nil)
	conc.SetSelected(concurrencyText(s.Concurrency))
	conc.OnChanged = func(text string) {
		for _, n := range concs {
			if concurrencyText(n) == text {
				w.saveSettings(func(s *config.Settings) { s.Concurrency = n })
			}
		}
	}

	limits := make([]int64, len(bandwidthChoices))
	for i, mbit := range bandwidthChoices {
		limits[i] = mbit * bytesPerMbit
	}
	if s.BandwidthLimit > 0 && !slices.Contains(limits, s.BandwidthLimit) {
		limits = append(limits, s.BandwidthLimit)
	}
	limit := widget.NewSelect(mapTexts(limits, bandwidthText), nil)
	limit.SetSelected(bandwidthText(s.BandwidthLimit))
	limit.OnChanged = func(text string) {
		for _, b := range limits {
			if bandwidthText(b) == text {
				w.saveSettings(func(s *config.Settings) { s.BandwidthLimit = b })
			}
		}
	}

	days := slices.Clone(checkChoices)
	if !slices.Contains(days, max(s.CheckDays, -1)) {
		days = append(days, s.CheckDays) // set in config.json by hand
	}
	check := widget.NewSelect(mapTexts(days, checkText), nil)
	check.SetSelected(checkText(s.CheckDays))
	check.OnChanged = func(text string) {
		for _, d := range days {
			if checkText(d) == text {
				w.saveSettings(func(s *config.Settings) { s.CheckDays = d })
			}
		}
	}

	help := func(key string) *widget.Label {
		l := widget.NewLabel(i18n.T(key))
		l.Wrapping = fyne.TextWrapWord
		l.SizeName = theme.SizeNameCaptionText // smaller, in the text colour: Fyne's disabled colour is unreadable on dark
		return l
	}
	return container.NewVScroll(container.NewVBox(
		widget.NewForm(
			widget.NewFormItem("", startup),
			widget.NewFormItem("", notify),
			widget.NewFormItem(i18n.T("window.settings.language"), lang),
			widget.NewFormItem(i18n.T("window.settings.concurrency"), conc),
			widget.NewFormItem(i18n.T("window.settings.bandwidth"), limit),
			widget.NewFormItem(i18n.T("window.settings.check"), check),
		),
		help("window.settings.concurrency.help"),
		help("window.settings.bandwidth.help"),
		help("window.settings.check.help"),
		widget.NewSeparator(),
		w.about(),
	))
}

// saveSettings changes the saved settings through the controller and reports whether that
// worked. If it did not, it says why in a dialog and shows the saved settings again, so no
// control shows a choice that was not kept.
func (w *MainWindow) saveSettings(change func(*config.Settings)) bool {
	s := w.ctl.Settings()
	change(&s)
	err := w.ctl.SetSettings(s)
	if err == nil {
		return true
	}
	w.settingsTab.Content = w.settings()
	w.tabs.Refresh()
	dialog.ShowInformation(i18n.T("window.settings.failed"),
		i18n.T("window.settings.failed.body", "Reason", err.Error()), w.Window)
	return false
}

// about names the product and the build, and opens the log folder when there is one.
func (w *MainWindow) about() fyne.CanvasObject {
	version := w.opts.Version
	if version == "" {
		version = i18n.T("window.about.dev")
	}
	objs := []fyne.CanvasObject{
		widget.NewLabelWithStyle(i18n.T("window.about.heading"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		widget.NewLabel(Title + " · " + i18n.T("window.about.version", "Version", version)),
	}
	if w.opts.Commit != "" {
		objs = append(objs, widget.NewLabel(i18n.T("window.about.commit", "Commit", w.opts.Commit)))
	}
	if w.opts.LogDir != "" {
		logs := widget.NewButtonWithIcon(i18n.T("window.about.logs"), theme.FolderOpenIcon(), func() {
			_ = w.openURL(fileURL(w.opts.LogDir))
		})
		help := widget.NewLabel(i18n.T("window.about.logs.help"))
		help.SizeName = theme.SizeNameCaptionText
		objs = append(objs, container.NewHBox(logs, help))
	}
	return container.NewVBox(objs...)
}

func mapTexts[T any](vs []T, text func(T) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = text(v)
	}
	return out
}

// concurrencyText is a number of documents sent at once as the settings offer it.
func concurrencyText(n int) string {
	if n <= 0 {
		return i18n.T("window.settings.concurrency.default")
	}
	return strconv.Itoa(n)
}

// checkText is how often Dropbox is checked (config.Settings.CheckDays) as the settings
// offer it.
func checkText(days int) string {
	switch {
	case days < 0:
		return i18n.T("window.settings.check.never")
	case days == 0:
		return i18n.T("window.settings.check.weekly")
	case days == 30:
		return i18n.T("window.settings.check.monthly")
	}
	return i18n.N("window.settings.check.days", days)
}

// bandwidthText is a speed limit in Mbit/s, as internet subscriptions state speeds.
func bandwidthText(bytesPerSec int64) string {
	if bytesPerSec <= 0 {
		return i18n.T("window.settings.bandwidth.none")
	}
	mbit := strconv.FormatFloat(float64(bytesPerSec)/bytesPerMbit, 'f', -1, 64)
	if bytesPerSec%bytesPerMbit != 0 {
		mbit = strconv.FormatFloat(float64(bytesPerSec)/bytesPerMbit, 'f', 1, 64)
	}
	return i18n.T("window.settings.bandwidth.mbit", "Mbit", mbit)
}
