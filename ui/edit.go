package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/ui/i18n"
	"github.com/onfact/onfact-dropbox/ui/present"
)

// connEditor is the dialog that changes a connection: its name, company, export folder,
// folder structure (the wizard's choices, from present) and the accountant choice.
type connEditor struct {
	w    *MainWindow
	conn config.Connection
	dlg  *dialog.CustomDialog

	name, company, folder, custom *widget.Entry
	structure                     *widget.RadioGroup
	accountant                    *widget.Check
	warning, problem              *widget.Label
	save                          *widget.Button
}

// showEdit opens the edit dialog of c.
func (w *MainWindow) showEdit(c config.Connection) {
	e := &connEditor{w: w, conn: c}
	entry := func(text string) *widget.Entry {
		en := widget.NewEntry()
		en.SetText(text)
		en.OnSubmitted = func(string) { e.submit() }
		return en
	}
	e.name = entry(c.Name)
	company := c.Company
	if company == "" {
		company = c.Name // what the engine uses for an empty company
	}
	e.company = entry(company)
	e.folder = entry(c.Folder)
	choose := widget.NewButton(i18n.T("window.edit.choose"), func() {
		dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				e.folder.SetText(u.Path())
			}
		}, w.Window).Show()
	})
	e.structure = widget.NewRadioGroup(present.PresetLabels(), nil)
	e.custom = entry("")
	e.custom.SetPlaceHolder("/{company}/{year}/{month}/{file}")
	if l := present.PresetLabel(c.Structure); l != "" {
		e.structure.SetSelected(l)
	} else {
		e.custom.SetText(c.Structure)
	}
	e.accountant = widget.NewCheck(i18n.T("window.edit.accountant"), nil)
	e.accountant.SetChecked(c.Accountant)

	e.warning = widget.NewLabel(i18n.T("window.edit.warning"))
	e.warning.Wrapping = fyne.TextWrapWord
	e.warning.Importance = widget.WarningImportance
	e.problem = widget.NewLabel("")
	e.problem.Wrapping = fyne.TextWrapWord
	e.problem.Importance = widget.DangerImportance
	e.problem.Hide()
	customHelp := widget.NewLabel(i18n.T("window.edit.custom.help"))
	customHelp.Wrapping = fyne.TextWrapWord
	customHelp.Importance = widget.LowImportance
	content := container.NewVBox(
		widget.NewForm(
			widget.NewFormItem(i18n.T("window.edit.name"), e.name),
			widget.NewFormItem(i18n.T("window.edit.company"), e.company),
			widget.NewFormItem(i18n.T("window.edit.folder"), container.NewBorder(nil, nil, nil, choose, e.folder)),
			widget.NewFormItem(i18n.T("window.edit.structure"), e.structure),
			widget.NewFormItem(i18n.T("window.edit.custom"), container.NewVBox(e.custom, customHelp)),
			widget.NewFormItem("", e.accountant),
		),
		e.warning,
		e.problem,
	)
	e.dlg = dialog.NewCustomWithoutButtons(i18n.T("window.edit.title", "Name", c.Name), content, w.Window)
	e.save = widget.NewButtonWithIcon(i18n.T("window.edit.save"), theme.DocumentSaveIcon(), e.submit)
	e.save.Importance = widget.HighImportance
	e.dlg.SetButtons([]fyne.CanvasObject{
		widget.NewButtonWithIcon(i18n.T("window.edit.cancel"), theme.CancelIcon(), e.dlg.Hide), e.save,
	})
	e.dlg.Resize(fyne.NewSize(600, content.MinSize().Height))
	w.editor = e
	e.dlg.Show()
}

// submit checks the choices and saves them through the controller, which restarts the
// connection; a problem shows in the dialog in plain words and the dialog stays open.
func (e *connEditor) submit() {
	c := e.conn
	c.Name = strings.TrimSpace(e.name.Text)
	c.Company = strings.TrimSpace(e.company.Text)
	if c.Company == "" {
		c.Company = c.Name
	}
	c.Folder = strings.TrimSpace(e.folder.Text)
	c.Accountant = e.accountant.Checked
	structure, _, err := present.ChosenStructure(e.structure.Selected, strings.TrimSpace(e.custom.Text))
	c.Structure = structure
	problem := ""
	switch {
	case c.Name == "":
		problem = i18n.T("window.edit.name.empty")
	case e.nameTaken(c.Name):
		problem = i18n.T("window.edit.name.taken", "Name", c.Name)
	case present.FolderProblem(c.Folder) != "":
		problem = present.FolderProblem(c.Folder)
	case err != nil:
		problem = present.StructureProblem(err)
	default:
		if err := e.w.ctl.Edit(c); err != nil {
			problem = i18n.T("window.edit.failed", "Reason", err.Error())
		}
	}
	if problem != "" {
		e.problem.SetText(problem)
		e.problem.Show()
		e.dlg.Resize(fyne.NewSize(600, e.dlg.MinSize().Height))
		return
	}
	e.dlg.Hide()
	e.w.Update(e.w.ctl.Status())
}

// nameTaken reports another connection with the same name.
func (e *connEditor) nameTaken(name string) bool {
	for _, o := range e.w.ctl.Connections() {
		if o.ID != e.conn.ID && strings.EqualFold(strings.TrimSpace(o.Name), name) {
			return true
		}
	}
	return false
}
