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
	// As in the wizard: the name is a suggestion, and an empty company means the name
	// (app.Validate decides).
	e.company = entry(c.Company)
	e.company.SetPlaceHolder(c.Name)
	e.name.OnChanged = func(s string) { e.company.SetPlaceHolder(strings.TrimSpace(s)) }
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
	customHelp.SizeName = theme.SizeNameCaptionText // smaller, in the text colour: Fyne's disabled colour is unreadable on dark
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

// submit saves the choices through the controller, which checks them (app.Validate) and
// restarts the connection; a problem shows in the dialog in plain words and the dialog
// stays open.
func (e *connEditor) submit() {
	c := e.conn
	c.Name = e.name.Text
	c.Company = e.company.Text
	c.Folder = e.folder.Text
	c.Accountant = e.accountant.Checked
	structure, _, err := present.ChosenStructure(e.structure.Selected, strings.TrimSpace(e.custom.Text))
	c.Structure = structure
	problem := ""
	if err == nil {
		err = e.w.ctl.Edit(c)
	}
	if err != nil {
		if problem = present.ChoiceProblem(err, strings.TrimSpace(c.Name)); problem == "" {
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
