package ui

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// fixedController is a Controller with fixed connections, status and activity, for
// markup snapshots that must not depend on temp folders or the clock. Commands are recorded.
type fixedController struct {
	conns    []config.Connection
	status   []engine.Status
	activity map[string][]store.Activity
	// inDropbox is what InDropbox answers; website what DropboxWebsite does.
	inDropbox map[string]int
	website   bool
	// onActivity, if set, is called at each Activity.
	onActivity func()
	synced     []string
	// checked records CheckNow; report is what WriteCheckReport writes, failReport what it
	// returns.
	checked    []string
	report     string
	failReport error
	settings   *config.Settings // nil: the defaults
	edits      []config.Connection
	// failSettings and failEdit, when set, are what SetSettings and Edit return.
	failSettings, failEdit error
}

var _ Controller = (*fixedController)(nil)

// Connector is the use case over a settings folder that does not exist, without an app
// key: the wizard opens and says it cannot connect.
func (f *fixedController) Connector() *app.Connector {
	return app.NewFileConnector(filepath.Join(os.TempDir(), "onfact-fixed-controller-never-written"),
		func() (auth.Config, error) { return auth.Config{}, auth.ErrNoAppKey }, &auth.MemoryStore{})
}
func (f *fixedController) Connections() []config.Connection { return f.conns }
func (f *fixedController) Subscribe() (<-chan []engine.Status, func()) {
	ch := make(chan []engine.Status, 1)
	ch <- f.status
	return ch, func() {}
}
func (f *fixedController) Status() []engine.Status { return f.status }
func (f *fixedController) Settings() config.Settings {
	if f.settings == nil {
		return config.Settings{Notifications: true}
	}
	return *f.settings
}
func (f *fixedController) SetSettings(s config.Settings) error {
	if f.failSettings != nil {
		return f.failSettings
	}
	f.settings = &s
	return nil
}
func (f *fixedController) Edit(c config.Connection) error {
	// The app's own rules, so the dialog is tested against what the app refuses.
	v, err := app.Validate(f.conns, c.ID, app.ChoiceOf(c))
	if err != nil {
		return err
	}
	c.Name, c.Company, c.Folder, c.Structure = v.Name, v.Company, v.Folder, v.Structure
	if f.failEdit != nil {
		return f.failEdit
	}
	f.edits = append(f.edits, c)
	for i := range f.conns {
		if f.conns[i].ID == c.ID {
			f.conns[i] = c
		}
	}
	return nil
}
func (f *fixedController) Activity(id string, n int) ([]store.Activity, error) {
	if f.onActivity != nil {
		f.onActivity()
	}
	return f.activity[id], nil
}
func (f *fixedController) InDropbox([]engine.Status) map[string]int { return f.inDropbox }
func (f *fixedController) DropboxWebsite() bool                     { return f.website }
func (f *fixedController) SyncNow(id string)                        { f.synced = append(f.synced, id) }
func (f *fixedController) CheckNow(id string)                       { f.checked = append(f.checked, id) }
func (f *fixedController) WriteCheckReport(w io.Writer) error {
	if _, err := io.WriteString(w, f.report); err != nil {
		return err
	}
	return f.failReport
}
func (f *fixedController) SetPaused(id string, paused bool) error {
	for i := range f.status {
		if id == "" || f.status[i].ID == id {
			f.status[i].State = engine.StateIdle
			if paused {
				f.status[i].State = engine.StatePaused
			}
		}
	}
	return nil
}
func (f *fixedController) Paused() bool {
	for _, s := range f.status {
		if s.State != engine.StatePaused {
			return false
		}
	}
	return len(f.status) > 0
}
func (f *fixedController) Remove(ctx context.Context, id string) error { return nil }

// clock is the fixed "now" of the snapshots.
var clock = time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)

func twoConnections() *fixedController {
	return &fixedController{
		conns: []config.Connection{
			{ID: "a", Name: "Acme onFact", Folder: "/home/kantoor/onFact/export", Structure: "year-type",
				AccountName: "Anna Peeters", AccountEmail: "anna@acme.be"},
			{ID: "b", Name: "Bakkerij Janssens", Folder: `C:\onFact\Janssens`, Structure: "/{company}/{customer}/{year}",
				AccountEmail: "boekhouding@janssens.be"},
		},
		status: []engine.Status{
			{ID: "a", Name: "Acme onFact", State: engine.StateIdle, InitialCopyDone: true, LastSync: clock.Add(-2 * time.Minute)},
			{ID: "b", Name: "Bakkerij Janssens", State: engine.StateNeedsReconnect, InitialCopyDone: true,
				LastSync: clock.Add(-3 * 24 * time.Hour), Queued: 4, Failed: 1},
		},
		activity: map[string][]store.Activity{
			"a": {{Time: clock.Add(-5 * time.Minute), Kind: engine.ActUploaded, Path: "2026/F2026-0042.pdf",
				RemotePath: "/Acme onFact/2026/Facturen/F2026-0042.pdf"}},
			"b": {{Time: clock.Add(-time.Hour), Kind: engine.ActFailed, Path: "CN2026-0003.pdf",
				Message: "de naam is te lang voor Dropbox"}},
		},
	}
}
