package i18n

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onfact/onfact-dropbox/assets"
)

// messageKeys lists a message file's IDs, with ".one"/".other" for plural forms.
func messageKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, v := range m {
		if forms, ok := v.(map[string]any); ok {
			for f := range forms {
				keys = append(keys, k+"."+f)
			}
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestTranslationsComplete fails on a message missing in one of the languages.
func TestTranslationsComplete(t *testing.T) {
	areas, _ := fs.ReadDir(assets.Translations, "translations")
	for _, area := range areas {
		if area.Name() == "fyne" {
			continue
		}
		var ref []string
		for _, l := range Languages {
			b, err := assets.Translations.ReadFile(path.Join("translations", area.Name(), l+".json"))
			if err != nil {
				t.Errorf("%s: no %s translation", area.Name(), l)
				continue
			}
			keys := messageKeys(t, b)
			if ref == nil {
				ref = keys
				continue
			}
			for _, k := range ref {
				if !slices.Contains(keys, k) {
					t.Errorf("%s/%s.json lacks %q", area.Name(), l, k)
				}
			}
			for _, k := range keys {
				if !slices.Contains(ref, k) {
					t.Errorf("%s/%s.json has %q, which %s lacks", area.Name(), l, k, Languages[0])
				}
			}
		}
	}
}

// TestFyneWordsInDutch checks that our Dutch covers every word Fyne itself shows.
func TestFyneWordsInDutch(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "fyne.io/fyne/v2").Output()
	if err != nil {
		t.Fatalf("find Fyne's module: %v", err)
	}
	base, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "lang", "translations", "base.en.json"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := assets.Translations.ReadFile("translations/fyne/nl.json")
	if err != nil {
		t.Fatal(err)
	}
	have := messageKeys(t, ours)
	for _, k := range messageKeys(t, base) {
		if !slices.Contains(have, k) {
			t.Errorf("fyne/nl.json lacks Fyne's %q", k)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ setting, system, want string }{
		{"", "fr-BE", "fr"}, {"", "nl_NL.UTF-8", "nl"}, {"", "de-DE", "nl"}, {"", "", "nl"},
		{"en", "fr-BE", "en"}, {"", "EN-us", "en"}, {"xx", "fr", "fr"},
	} {
		if got := Resolve(tc.setting, tc.system); got != tc.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", tc.setting, tc.system, got, tc.want)
		}
	}
}

func TestT(t *testing.T) {
	SetLanguage("fr")
	defer SetLanguage("")
	if got := T("app.title"); got != "onFact Dropbox Sync" {
		t.Fatalf("T = %q", got)
	}
	if got := T("no.such.message"); got != "no.such.message" {
		t.Fatalf("missing message = %q", got)
	}
	if Language() != "fr" {
		t.Fatal(Language())
	}
}

func TestN(t *testing.T) {
	SetLanguage("nl")
	defer SetLanguage("")
	if got := N("app.documents", 1); got != "1 document" {
		t.Fatalf("one: %q", got)
	}
	if got := N("app.documents", 12); got != "12 documenten" {
		t.Fatalf("other: %q", got)
	}
}
