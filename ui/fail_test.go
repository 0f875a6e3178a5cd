package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
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

// TestFailReasonIsPlain: the failures people can act on are said in their language, not
// as Go's errors ("unexpected end of JSON input", "no space left on device").
func TestFailReasonIsPlain(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ONFACT_DROPBOX_HOME", dir)
	os.WriteFile(config.Path(dir), []byte(`{"version": 1, "settings": {`), 0o600)
	_, damaged := config.Load(config.Path(dir))
	full := fmt.Errorf("record outcomes: %w", &fs.PathError{Op: "write", Path: filepath.Join(dir, "state.db"), Err: syscall.ENOSPC})
	denied := fmt.Errorf("open state store: %w", &fs.PathError{Op: "open", Path: filepath.Join(dir, "state.db"), Err: syscall.EACCES})
	for _, tc := range []struct {
		lang string
		err  error
		want string
	}{
		{"nl", damaged, "Het instellingenbestand " + config.Path(dir) + " is beschadigd"},
		{"fr", damaged, "Le fichier de réglages " + config.Path(dir) + " est endommagé"},
		{"en", damaged, "The settings file " + config.Path(dir) + " is damaged"},
		{"nl", full, "De schijf van deze computer is vol"},
		{"en", denied, "may not write in its folder " + dir},
		{"nl", errors.New("config.json was written by a newer version"), "config.json was written by a newer version"},
	} {
		i18n.SetLanguage(tc.lang)
		got := failReason(tc.err)
		if !strings.Contains(got, tc.want) || strings.Contains(got, "JSON") || strings.Contains(got, "no space left") {
			t.Errorf("%s, %v: %q", tc.lang, tc.err, got)
		}
	}
	i18n.SetLanguage("")
}
