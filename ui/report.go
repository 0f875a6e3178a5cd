package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// reportName is the file name the save dialog offers for the check report of the day t.
func reportName(t time.Time) string {
	return "onfact-dropbox-check-" + t.Format("2006-01-02") + ".csv"
}

// exportReport asks where to save the check report of every connection (for the
// accountant), then writes it there.
func (w *MainWindow) exportReport() {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			w.reportFailed(err)
			return
		}
		if wc != nil { // nil: the user cancelled
			w.writeReport(wc)
		}
	}, w.Window)
	d.SetFileName(reportName(w.now()))
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
	d.Show()
}

// writeReport writes the check report into wc and closes it. The report reads the store, so
// it is written off the UI goroutine; a failure is told on it, and the half-written file is
// removed so it is never taken for the whole report.
func (w *MainWindow) writeReport(wc fyne.URIWriteCloser) {
	w.background(func() {
		err := w.ctl.WriteCheckReport(wc)
		if cerr := wc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = storage.Delete(wc.URI()) // best effort: what is said is that it was not saved
			w.do(func() { w.reportFailed(err) })
		}
	})
}

// reportFailed says in plain words that the report was not saved, and why.
func (w *MainWindow) reportFailed(err error) {
	dialog.ShowInformation(i18n.T("window.export.failed"),
		i18n.T("window.export.failed.body", "Reason", err.Error()), w.Window)
}
