package wizard

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
)

// previewLimit is how many example paths step 3 shows.
const previewLimit = 5

// Step 1: the link's name and the company name.

func (w *wizard) namePage() fyne.CanvasObject {
	w.name = widget.NewEntry()
	w.name.SetPlaceHolder(i18n.T("wizard.name.placeholder"))
	// The company suggests the name as a placeholder, never as text: the user types into
	// an empty field, and an empty company means the name (app.Company decides).
	w.company = widget.NewEntry()
	w.name.OnChanged = func(s string) { w.company.SetPlaceHolder(strings.TrimSpace(s)) }
	w.name.OnSubmitted = func(string) { w.goNext() }
	w.company.OnSubmitted = func(string) { w.goNext() }
	return container.NewVBox(
		wrapped(i18n.T("wizard.name.intro")),
		widget.NewLabel(i18n.T("wizard.name.label")), w.name,
		widget.NewLabel(i18n.T("wizard.company.label")), w.company,
		wrapped(i18n.T("wizard.company.help")),
	)
}

// companyName is the company folder's name, as the connection will have it.
func (w *wizard) companyName() string { return app.Company(w.name.Text, w.company.Text) }

func (w *wizard) checkName() string {
	_, err := w.ctl.Connector().CheckName(w.name.Text)
	if msg := present.ChoiceProblem(err, trimmed(w.name)); msg != "" || err == nil {
		return msg
	}
	return plainError(err) // the check itself failed: no moving on with it unchecked

}

// choice is what the user chose in steps 1 to 3, for the use case to check and keep.
func (w *wizard) choice() app.Choice {
	structure, _, _ := w.chosenStructure() // checked on step 3; the use case checks it again
	return app.Choice{Name: w.name.Text, Company: w.company.Text, Folder: w.folder.Text, Structure: structure,
		Language: i18n.Language(), Accountant: w.accountant.Checked}
}

// Step 2: the onFact export folder.

func (w *wizard) folderPage() fyne.CanvasObject {
	w.folder = widget.NewEntry()
	w.folder.SetPlaceHolder(i18n.T("wizard.folder.placeholder"))
	if s, ok := w.ctl.(folderSuggester); ok {
		w.folder.SetText(s.SuggestedFolder()) // before OnChanged: the count starts with step 2
	}
	w.folder.OnChanged = func(string) { w.countDocuments() }
	w.folder.OnSubmitted = func(string) { w.goNext() }
	w.folderInfo = wrapped("")
	choose := widget.NewButton(i18n.T("wizard.folder.choose"), func() {
		d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil || u == nil {
				return
			}
			w.folder.SetText(u.Path())
		}, w.win)
		d.Show()
	})
	return container.NewVBox(
		wrapped(i18n.T("wizard.folder.intro")),
		widget.NewLabel(i18n.T("wizard.folder.label")),
		container.NewBorder(nil, nil, nil, choose, w.folder),
		w.folderInfo,
	)
}

func (w *wizard) checkFolder() string { return present.FolderProblem(trimmed(w.folder)) }

// countDocuments shows, in the background, how many documents the folder holds.
func (w *wizard) countDocuments() {
	w.folderGen++
	gen := w.folderGen
	dir := trimmed(w.folder)
	if dir == "" || present.FolderProblem(dir) != "" {
		w.folderInfo.SetText("")
		return
	}
	w.folderInfo.SetText(i18n.T("wizard.folder.counting"))
	l := layout.Layout{Company: "-", Language: uiLanguage()}
	go func() {
		res, err := layout.Preview(context.Background(), dir, l, 1)
		w.do(func() {
			if gen != w.folderGen {
				return
			}
			switch {
			case err != nil:
				w.folderInfo.SetText(i18n.T("wizard.folder.unreadable"))
			case res.Mapped == 0:
				w.folderInfo.SetText(i18n.T("wizard.folder.none"))
			default:
				w.folderInfo.SetText(i18n.N("wizard.folder.found", res.Mapped))
			}
			w.relayout()
		})
	}()
}

// Step 3: the folder structure in Dropbox.

func (w *wizard) structurePage() fyne.CanvasObject {
	labels := present.PresetLabels()
	w.structure = widget.NewRadioGroup(labels, func(string) { w.refreshPreview() })
	w.structure.Required = true
	w.structure.SetSelected(present.PresetLabel(layout.PresetYearType)) // the product's default
	w.custom = widget.NewEntry()
	w.custom.SetPlaceHolder("/{company}/{year}/{month}/{file}")
	w.custom.OnChanged = func(string) { w.refreshPreview() }
	w.customErr = wrapped("")
	w.customErr.Importance = widget.DangerImportance
	w.customErr.Hide()
	w.customBox = container.NewVBox(wrapped(i18n.T("wizard.structure.custom.help")), w.custom, w.customErr)
	advanced := widget.NewAccordion(widget.NewAccordionItem(i18n.T("wizard.structure.advanced"), w.customBox))
	w.accountant = widget.NewCheck(i18n.T("wizard.accountant.label"), func(bool) { w.refreshPreview() })
	w.preview = widget.NewLabel("")
	w.preview.Wrapping = fyne.TextWrapBreak
	w.preview.TextStyle = fyne.TextStyle{Monospace: true}
	return container.NewVBox(
		wrapped(i18n.T("wizard.structure.intro")),
		w.structure,
		advanced,
		w.accountant,
		wrapped(i18n.T("wizard.accountant.help")),
		widget.NewLabelWithStyle(i18n.T("wizard.preview.heading"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		w.preview,
	)
}

// chosenStructure is the custom template when one is typed, else the chosen preset: the
// setting to save and the parsed structure.
func (w *wizard) chosenStructure() (string, layout.Structure, error) {
	return present.ChosenStructure(w.structure.Selected, trimmed(w.custom))
}

func (w *wizard) layout(st layout.Structure) layout.Layout {
	return layout.Layout{Structure: st, Language: uiLanguage(), Company: w.companyName(), Accountant: w.accountant.Checked}
}

func (w *wizard) checkStructure() string {
	if _, _, err := w.chosenStructure(); err != nil {
		return present.StructureProblem(err)
	}
	return ""
}

// refreshPreview maps the user's own files in the background and shows the first ones.
func (w *wizard) refreshPreview() {
	if w.preview == nil || w.step != stepStructure {
		return
	}
	if w.previewCancel != nil {
		w.previewCancel()
	}
	w.previewGen++
	gen := w.previewGen
	_, st, err := w.chosenStructure()
	if err != nil {
		w.previewCancel = nil
		w.customErr.SetText(present.StructureProblem(err))
		if !w.customErr.Visible() {
			w.customErr.Show()
			w.relayout()
		}
		w.preview.SetText("")
		return
	}
	if w.customErr.Visible() {
		w.customErr.Hide()
		w.relayout()
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.previewCancel = cancel
	l, dir := w.layout(st), trimmed(w.folder)
	w.preview.SetText(i18n.T("wizard.preview.loading"))
	go func() {
		res, err := layout.Preview(ctx, dir, l, previewLimit)
		w.do(func() {
			if gen != w.previewGen {
				return
			}
			w.preview.SetText(previewText(res, err))
			w.relayout()
		})
	}()
}

// previewText lists the Dropbox paths of the first mapped files.
func previewText(res layout.PreviewResult, err error) string {
	if err != nil {
		return i18n.T("wizard.folder.unreadable")
	}
	if res.Mapped == 0 {
		return i18n.T("wizard.preview.none")
	}
	var lines []string
	for _, r := range res.Rows {
		if r.Skip == layout.NotSkipped {
			lines = append(lines, "Dropbox"+r.Remote)
		}
	}
	if more := res.Mapped - len(lines); more > 0 {
		lines = append(lines, i18n.N("wizard.preview.more", more))
	}
	return strings.Join(lines, "\n")
}

// uiLanguage is the language of the {type} folders: the app's language at creation.
func uiLanguage() layout.Language { return layout.Language(i18n.Language()) }
