package ui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/ui/i18n"
)

func TestFailWindowSaysWhy(t *testing.T) {
	i18n.SetLanguage("nl")
	defer i18n.SetLanguage("")
	fa := test.NewTempApp(t)
	w := failWindow(fa, errors.New("config.json was written by a newer version"))
	closed := false
	w.SetOnClosed(func() { closed = true })
	w.Show()
	var text []string
	var closeButton *widget.Button
	for _, o := range test.LaidOutObjects(w.Content()) {
		switch o := o.(type) {
		case *widget.Label:
			text = append(text, o.Text)
		case *widget.Button:
			closeButton = o
		}
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"onFact Dropbox Sync kan niet starten", "config.json was written by a newer version", "Er is niets verloren"} {
		if !strings.Contains(all, want) {
			t.Errorf("the window does not say %q:\n%s", want, all)
		}
	}
	if closeButton == nil || closeButton.Text != "Sluiten" {
		t.Fatalf("close button %v", closeButton)
	}
	test.Tap(closeButton)
	if !closed {
		t.Fatal("Sluiten did not close the window")
	}
}
