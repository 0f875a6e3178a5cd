package wizard

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// Step 5: done, with the first copy's progress.

func (w *wizard) donePage() fyne.CanvasObject {
	w.account = wrapped("")
	w.progress = widget.NewProgressBar()
	w.progressText = wrapped("")
	return container.NewVBox(
		w.account,
		wrapped(i18n.T("wizard.done.intro")),
		w.progress,
		w.progressText,
	)
}

// startFeed shows the new connection's progress from the engine until the window closes.
func (w *wizard) startFeed() {
	w.account.SetText(i18n.T("wizard.done.account", "Name", w.conn.Name,
		"Account", accountOf(w.conn.AccountName, w.conn.AccountEmail).Label()))
	w.progressText.SetText(i18n.T("wizard.done.starting"))
	ch, unsubscribe := w.ctl.Subscribe()
	quit := make(chan struct{})
	w.stopFeed = func() { close(quit); unsubscribe() }
	id := w.conn.ID
	go func() {
		for {
			select {
			case <-quit:
				return
			case all := <-ch:
				for _, s := range all {
					if s.ID == id {
						w.do(func() { w.showProgress(s) })
					}
				}
			}
		}
	}()
}

// showProgress shows where the first copy stands.
func (w *wizard) showProgress(s engine.Status) {
	defer w.relayout()
	if s.State.Attention() {
		w.progressText.SetText(i18n.T("wizard.done.attention"))
		return
	}
	if s.InitialCopyDone && s.Queued == 0 {
		w.progress.SetValue(1)
		w.progressText.SetText(i18n.T("wizard.done.complete"))
		return
	}
	if s.Total == 0 {
		w.progressText.SetText(i18n.T("wizard.done.scanning"))
		return
	}
	w.progress.SetValue(float64(s.Done) / float64(s.Total))
	lines := []string{i18n.N("wizard.done.progress", s.Total, "Done", s.Done)}
	if s.BytesTotal > 0 {
		lines = append(lines, i18n.T("wizard.done.bytes", "Done", formatBytes(s.BytesDone), "Total", formatBytes(s.BytesTotal)))
	}
	if s.ETA > 0 {
		lines = append(lines, eta(s.ETA))
	}
	w.progressText.SetText(strings.Join(lines, "\n"))
}

// eta is the time left in plain words.
func eta(d time.Duration) string {
	if d < time.Minute {
		return i18n.T("wizard.done.eta.soon")
	}
	return i18n.N("wizard.done.eta.minutes", int((d+time.Minute-1)/time.Minute))
}

// formatBytes writes a size for people: "850 kB", "12,4 MB" (a decimal comma in Dutch and
// French).
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "kB"
	for _, s := range []string{"MB", "GB", "TB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	text := fmt.Sprintf("%.1f %s", v, suffix)
	if i18n.Language() != "en" {
		text = strings.Replace(text, ".", ",", 1)
	}
	return text
}
