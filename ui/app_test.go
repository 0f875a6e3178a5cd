package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestMainWindowShowsTitle(t *testing.T) {
	a := test.NewTempApp(t)
	w := NewMainWindow(a)
	if w.Title() != Title {
		t.Fatalf("title = %q, want %q", w.Title(), Title)
	}
	var found bool
	for _, o := range test.LaidOutObjects(w.Content()) {
		if l, ok := o.(*widget.Label); ok && l.Text == Title {
			found = true
		}
	}
	if !found {
		t.Fatal("main window does not show the product name")
	}
}
