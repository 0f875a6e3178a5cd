package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/layout"
)

// This file holds the rules of a connection's choices: its name, company, export folder,
// structure and language. The wizard, the edit dialog, the CLI and the demo all ask these
// functions, so a rule is written once.

// Choice is what a person chose for a connection, as typed: the functions here trim it.
type Choice struct {
	Name string
	// Company is the {company} folder; empty means the name (see Company).
	Company    string
	Folder     string
	Structure  string // a preset (year, year-type, type-year) or a custom template
	Language   string // of the {type} folders: nl, fr, en; empty means nl
	Accountant bool
}

// Problems with a choice. Each is wrapped with the value it concerns; test with errors.Is
// and say it in the caller's own words.
var (
	ErrNoName          = errors.New("the connection needs a name")
	ErrNameControl     = errors.New("a connection's name may not contain tabs, line breaks or other control characters")
	ErrNameTaken       = errors.New("there is already a connection with this name")
	ErrNoFolder        = errors.New("choose the onFact export folder")
	ErrFolderMissing   = errors.New("the export folder does not exist")
	ErrNotAFolder      = errors.New("the export folder is a file, not a folder")
	ErrFolderUnusable  = errors.New("the export folder cannot be read")
	ErrUnknownLanguage = errors.New("unknown language: use nl, fr or en")
)

// NameTakenError is ErrNameTaken with the name of the connection that has it, as that one
// spells it.
type NameTakenError struct{ Name string }

// Error names the connection and says what to do.
func (e *NameTakenError) Error() string {
	return fmt.Sprintf("a connection named %q already exists; choose another name or remove it first", e.Name)
}

// Is makes errors.Is(err, ErrNameTaken) true.
func (e *NameTakenError) Is(target error) bool { return target == ErrNameTaken }

// FolderError is a problem with the export folder Dir.
type FolderError struct {
	Dir string
	Err error // ErrNoFolder, ErrFolderMissing, ErrNotAFolder or ErrFolderUnusable
	// Cause is the file system's own error, if any.
	Cause error
}

// Error says what is wrong with which folder.
func (e *FolderError) Error() string {
	switch {
	case errors.Is(e.Err, ErrNoFolder):
		return e.Err.Error()
	case errors.Is(e.Err, ErrFolderMissing):
		return fmt.Sprintf("the folder %s does not exist", e.Dir)
	case errors.Is(e.Err, ErrNotAFolder):
		return fmt.Sprintf("%s is a file, not a folder", e.Dir)
	}
	return fmt.Sprintf("cannot use the folder %s: %v", e.Dir, e.Cause)
}

// Unwrap returns the kind of problem and the file system's error.
func (e *FolderError) Unwrap() []error { return []error{e.Err, e.Cause} }

// Company is the {company} folder of a connection: the company typed, else its name. A
// company left empty is saved as the name, so the folder does not move when the
// connection is renamed later.
func Company(name, company string) string {
	if c := strings.TrimSpace(company); c != "" {
		return c
	}
	return strings.TrimSpace(name)
}

// CheckName checks a connection's name against the connections kept, other than the one
// with ID self (the one being edited; "" for a new one): it must not be empty or hold
// control characters, and no other connection may have it, whatever the case or the
// surrounding spaces. It returns the name trimmed.
func CheckName(kept []config.Connection, self, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", ErrNoName
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return "", fmt.Errorf("name %q: %w", name, ErrNameControl)
	}
	for _, c := range kept {
		if c.ID != self && strings.EqualFold(strings.TrimSpace(c.Name), name) {
			return "", &NameTakenError{Name: c.Name}
		}
	}
	return name, nil
}

// CheckFolder checks that dir is a folder that can be read, and returns it absolute: a
// relative path means nothing once the app runs from elsewhere. Unlike the other checks it
// looks at the disk.
func CheckFolder(dir string) (string, error) {
	dir = strings.TrimSpace(dir)
	if dir == "" {
		return "", &FolderError{Err: ErrNoFolder}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", &FolderError{Dir: dir, Err: ErrFolderUnusable, Cause: err}
	}
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &FolderError{Dir: abs, Err: ErrFolderMissing, Cause: err}
	case err != nil:
		return "", &FolderError{Dir: abs, Err: ErrFolderUnusable, Cause: err}
	case !info.IsDir():
		return "", &FolderError{Dir: abs, Err: ErrNotAFolder}
	}
	f, err := os.Open(abs)
	if err == nil {
		_, err = f.ReadDir(1)
		f.Close()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", &FolderError{Dir: abs, Err: ErrFolderUnusable, Cause: err}
	}
	return abs, nil
}

// CheckStructure checks a folder structure (a preset or a template) and returns it trimmed
// and parsed. Its error wraps the layout package's *layout.StructureError.
func CheckStructure(s string) (string, layout.Structure, error) {
	s = strings.TrimSpace(s)
	st, err := layout.ParseStructure(s)
	if err != nil {
		return "", layout.Structure{}, fmt.Errorf("folder structure %q: %w", s, err)
	}
	return s, st, nil
}

// checkLanguage checks the language of the {type} folders; empty means Dutch, the
// product's first language.
func checkLanguage(s string) (layout.Language, error) {
	if strings.TrimSpace(s) == "" {
		return layout.Dutch, nil
	}
	l, err := layout.ParseLanguage(s)
	if err != nil {
		return "", fmt.Errorf("language %q: %w", s, ErrUnknownLanguage)
	}
	return l, nil
}

// Validate checks a choice for the connection with ID self ("" for a new one) against the
// connections kept, and returns the connection it describes, without an ID or an account:
// name, company and structure trimmed, the company defaulting to the name, the folder
// absolute. The first problem found is returned, in the order the wizard asks: name,
// folder, structure, language.
func Validate(kept []config.Connection, self string, ch Choice) (config.Connection, error) {
	name, err := CheckName(kept, self, ch.Name)
	if err != nil {
		return config.Connection{}, err
	}
	folder, err := CheckFolder(ch.Folder)
	if err != nil {
		return config.Connection{}, err
	}
	structure, _, err := CheckStructure(ch.Structure)
	if err != nil {
		return config.Connection{}, err
	}
	lang, err := checkLanguage(ch.Language)
	if err != nil {
		return config.Connection{}, err
	}
	return config.Connection{Name: name, Company: Company(name, ch.Company), Folder: folder,
		Structure: structure, Language: string(lang), Accountant: ch.Accountant}, nil
}

// ChoiceOf is the choice a connection stands for, to validate an edit of it.
func ChoiceOf(c config.Connection) Choice {
	return Choice{Name: c.Name, Company: c.Company, Folder: c.Folder, Structure: c.Structure,
		Language: c.Language, Accountant: c.Accountant}
}

// IsChoiceProblem reports whether err is a problem with what was chosen (one of the errors
// above, or a structure the layout package refuses) rather than a failure to check it.
func IsChoiceProblem(err error) bool {
	var se *layout.StructureError
	for _, e := range []error{ErrNoName, ErrNameControl, ErrNameTaken, ErrNoFolder, ErrFolderMissing,
		ErrNotAFolder, ErrFolderUnusable, ErrUnknownLanguage} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.As(err, &se)
}
