package present

import (
	"errors"

	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// This file holds the choices of a connection that both the wizard and the main window's
// edit dialog offer: the folder structure and the export folder, with their problems in
// plain words, so the two ask and explain them alike.

// StructurePreset is a ready-made folder structure and the message ID of its label.
type StructurePreset struct {
	Preset string // layout.PresetYear ...
	Label  string
}

// StructurePresets are the ready-made structures in the order offered.
var StructurePresets = []StructurePreset{
	{layout.PresetYear, "choice.structure.year"},
	{layout.PresetYearType, "choice.structure.yeartype"},
	{layout.PresetTypeYear, "choice.structure.typeyear"},
}

// PresetLabels are the presets' labels in the current language, in order.
func PresetLabels() []string {
	out := make([]string, len(StructurePresets))
	for i, p := range StructurePresets {
		out[i] = i18n.T(p.Label)
	}
	return out
}

// PresetLabel is the label of structure if it is a preset, else "" (a custom template).
func PresetLabel(structure string) string {
	for _, p := range StructurePresets {
		if p.Preset == structure {
			return i18n.T(p.Label)
		}
	}
	return ""
}

// ChosenStructure is the structure the user chose: the custom template when one is typed
// (custom, trimmed by the caller), else the preset whose label is selected, else year-type,
// the product's default. It returns the setting to save and the parsed structure, or the
// template's error (see StructureProblem).
func ChosenStructure(selected, custom string) (string, layout.Structure, error) {
	choice := layout.PresetYearType
	if custom != "" {
		choice = custom
	} else {
		for _, p := range StructurePresets {
			if i18n.T(p.Label) == selected {
				choice = p.Preset
			}
		}
	}
	st, err := layout.ParseStructure(choice)
	return choice, st, err
}

// structureProblems maps the layout package's template errors to their explanations.
var structureProblems = map[error]string{
	layout.ErrEmptyStructure:     "structure.err.empty",
	layout.ErrUnknownPlaceholder: "structure.err.placeholder",
	layout.ErrUnbalancedBraces:   "structure.err.braces",
	layout.ErrCompanyNotFirst:    "structure.err.company",
	layout.ErrEmptySegment:       "structure.err.emptyfolder",
	layout.ErrDotSegment:         "structure.err.folder",
	layout.ErrFileNotLast:        "structure.err.file",
	layout.ErrInvalidCharacter:   "structure.err.character",
	layout.ErrInvalidLiteral:     "structure.err.folder",
	layout.ErrStructureTooLong:   "structure.err.long",
	layout.ErrTooManySegments:    "structure.err.long",
}

// StructureProblem explains a refused template in plain words.
func StructureProblem(err error) string {
	var se *layout.StructureError
	if !errors.As(err, &se) {
		return i18n.T("structure.err.other")
	}
	key, ok := structureProblems[se.Err]
	if !ok {
		key = "structure.err.other"
	}
	return i18n.T(key, "Detail", se.Detail)
}

// FolderProblem says in plain words why dir cannot be the export folder ("" if it can),
// as app.CheckFolder finds it. Unlike the rest of this package it looks at the disk.
func FolderProblem(dir string) string {
	_, err := app.CheckFolder(dir)
	return ChoiceProblem(err, "")
}

// ChoiceProblem says in plain words what the app's checks of a connection's choices
// (app.Validate, app.CheckName, app.CheckFolder, app.CheckStructure) refused: "" for nil,
// and for an error that is not about a choice (then the caller says it its own way). name
// is the name as the user typed it, for "already taken".
func ChoiceProblem(err error, name string) string {
	var se *layout.StructureError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, app.ErrNoName):
		return i18n.T("wizard.name.empty")
	case errors.Is(err, app.ErrNameTaken):
		return i18n.T("wizard.name.taken", "Name", name)
	case errors.Is(err, app.ErrNameControl):
		return i18n.T("wizard.name.empty")
	case errors.Is(err, app.ErrNoFolder):
		return i18n.T("folder.err.empty")
	case errors.Is(err, app.ErrFolderMissing):
		return i18n.T("folder.err.missing")
	case errors.Is(err, app.ErrNotAFolder):
		return i18n.T("folder.err.file")
	case errors.Is(err, app.ErrFolderUnusable):
		return i18n.T("folder.err.unreadable")
	case errors.As(err, &se):
		return StructureProblem(err)
	}
	return ""
}
