package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"syscall"
	"testing"

	"github.com/onfact/onfact-dropbox/assets"
	"github.com/onfact/onfact-dropbox/internal/dropbox"
)

// TestReasonsRoundTrip: every reason the engine gives is found again from its text, with
// its values, so that the window can say it in the user's language.
func TestReasonsRoundTrip(t *testing.T) {
	for key, tmpl := range reasons {
		var values []string
		for _, m := range placeholder.FindAllStringSubmatch(tmpl, -1) {
			values = append(values, m[1], "12.4 MB ("+m[1]+")")
		}
		text := reasonText(key, values...)
		got, gotValues, ok := Reason(text)
		if !ok || got != key || !slices.Equal(gotValues, values) {
			t.Errorf("Reason(%q) = %q %q %v, want %q %q", text, got, gotValues, ok, key, values)
		}
	}
	made := []string{readReason(fs.ErrPermission), readReason(syscall.EIO), readReason(errors.New("open x: invalid argument")),
		noRoomReason(12<<20, 3<<20), reasonText("room.full")}
	for _, code := range []string{"path/disallowed_name", "bad_request/path", "path/conflict/file", "too_large",
		"encryption_not_supported", "path/unknown/x", "insufficient_quota"} {
		made = append(made, reasonFor(&dropbox.Error{Kind: dropbox.KindFile, Code: code, Err: errors.New(code)}))
	}
	made = append(made, reasonFor(&readError{"a.pdf", fs.ErrPermission}))
	for _, text := range made {
		if _, _, ok := Reason(text); !ok {
			t.Errorf("the engine's reason %q is not in the catalog", text)
		}
	}
	if key, _, ok := Reason(fmt.Sprint(errors.New("record outcomes: disk full"))); ok {
		t.Errorf("an error's own words were taken for reason %q", key)
	}
}

// TestReasonsTranslated: the window has every reason in English as the engine writes it
// (ui/i18n's TestTranslationsComplete then holds Dutch and French to the same keys).
func TestReasonsTranslated(t *testing.T) {
	b, err := assets.Translations.ReadFile("translations/window/en.json")
	if err != nil {
		t.Fatal(err)
	}
	var words map[string]any
	if err := json.Unmarshal(b, &words); err != nil {
		t.Fatal(err)
	}
	for key, tmpl := range reasons {
		want := placeholder.ReplaceAllString(tmpl, "{{.$1}}")
		if got, _ := words["reason."+key].(string); got != want {
			t.Errorf("window/en.json: reason.%s is %q, want %q", key, got, want)
		}
	}
}
