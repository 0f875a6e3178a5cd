package present

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

func TestChosenStructure(t *testing.T) {
	i18n.SetLanguage("nl")
	for _, tc := range []struct {
		name, selected, custom, want, problem string
	}{
		{"preset", "Per jaar", "", layout.PresetYear, ""},
		{"nothing chosen", "", "", layout.PresetYearType, ""},
		{"custom wins", "Per jaar", "/{company}/{customer}", "/{company}/{customer}", ""},
		{"company not first", "", "/{year}/{company}", "/{year}/{company}", "De eerste map moet {company} zijn, zodat elk bedrijf zijn eigen map heeft."},
		{"unknown placeholder", "", "/{company}/{jaar}", "/{company}/{jaar}", "{jaar} kennen we niet. Gebruik {company}, {year}, {quarter}, {month}, {type}, {customer} of {file}."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ChosenStructure(tc.selected, tc.custom)
			problem := ""
			if err != nil {
				problem = StructureProblem(err)
			}
			if got != tc.want || problem != tc.problem {
				t.Fatalf("got %q, problem %q; want %q, %q", got, problem, tc.want, tc.problem)
			}
		})
	}
	for _, p := range StructurePresets {
		if got, _, _ := ChosenStructure(PresetLabel(p.Preset), ""); got != p.Preset {
			t.Errorf("%s: label %q chooses %q", p.Preset, PresetLabel(p.Preset), got)
		}
	}
	if PresetLabel("/{company}/{year}") != "" || len(PresetLabels()) != 3 {
		t.Error("a template counts as a preset")
	}
}

func TestFolderProblem(t *testing.T) {
	i18n.SetLanguage("nl")
	dir := t.TempDir()
	file := filepath.Join(dir, "f.pdf")
	os.WriteFile(file, []byte("x"), 0o600)
	for in, want := range map[string]string{
		dir:                           "",
		"":                            "Kies de map met je onFact-documenten.",
		filepath.Join(dir, "missing"): "Deze map bestaat niet. Kijk het pad na of kies de map met de knop.",
		file:                          "Dit is een bestand, geen map. Kies de map waarin het bestand staat.",
	} {
		if got := FolderProblem(in); got != want {
			t.Errorf("FolderProblem(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestChoiceProblem: each of the app's refusals of a choice is said in words; anything
// else is left to the caller.
func TestChoiceProblem(t *testing.T) {
	i18n.SetLanguage("nl")
	defer i18n.SetLanguage("")
	kept := []config.Connection{{ID: "a", Name: "Acme onFact"}}
	_, taken := app.CheckName(kept, "", " acme ONFACT ")
	_, missing := app.CheckFolder(filepath.Join(t.TempDir(), "weg"))
	_, _, structure := app.CheckStructure("/{year}/{company}")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{app.ErrNoName, "Vul een naam in voor de koppeling."},
		{fmt.Errorf("edit: %w", taken), `Er is al een koppeling met de naam "acme ONFACT". Kies een andere naam.`},
		{missing, "Deze map bestaat niet."},
		{structure, "De eerste map moet {company} zijn"},
		{errors.New("config.json kan niet geschreven worden"), ""},
	} {
		if got := ChoiceProblem(tc.err, "acme ONFACT"); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}
