package present

import (
	"errors"
	"io"
	"io/fs"
	"os"

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

// FolderProblem says in plain words why dir cannot be the export folder ("" if it can).
// Unlike the rest of this package it looks at the disk: whether dir exists, is a folder
// and can be read.
func FolderProblem(dir string) string {
	if dir == "" {
		return i18n.T("folder.err.empty")
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return i18n.T("folder.err.missing")
	case err != nil:
		return i18n.T("folder.err.unreadable")
	case !info.IsDir():
		return i18n.T("folder.err.file")
	}
	f, err := os.Open(dir)
	if err == nil {
		_, err = f.ReadDir(1)
		f.Close()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return i18n.T("folder.err.unreadable")
	}
	return ""
}
