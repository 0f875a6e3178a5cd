package wizard

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/internal/keychaintest"
)

// TestWizardCompanyLeftEmpty: a company left empty shows the name as a suggestion, previews
// and is saved as the name.
func TestWizardCompanyLeftEmpty(t *testing.T) {
	e := newEnv(t)
	setOpener(t, func(u *url.URL) error { return demo.Browse(context.Background(), u.String()) })
	h := open(t, e.a)
	w := h.w
	h.typeText("Bakkerij Janssens")
	h.press(fyne.KeyTab)
	if w.company.Text != "" || w.company.PlaceHolder != "Bakkerij Janssens" {
		t.Fatalf("company %q, placeholder %q", w.company.Text, w.company.PlaceHolder)
	}
	h.press(fyne.KeyReturn)
	w.folder.SetText(e.d.Export)
	h.next(stepStructure)
	h.pump("the preview", func() bool { return strings.HasPrefix(w.preview.Text, "Dropbox/Bakkerij Janssens/") })
	h.next(stepConnect)
	h.tap("Dropbox openen in de browser")
	h.pump("the done step", func() bool { return w.step == stepDone })
	if c := e.a.Connections(); len(c) != 1 || c[0].Name != "Bakkerij Janssens" || c[0].Company != "Bakkerij Janssens" {
		t.Fatalf("connections %+v", c)
	}
}

// TestWizardRollsBackTheToken: while the user is in the browser, another connection of the
// same name is added (by another wizard, or the command line). The token this wizard got
// is saved, the connection refused: the token must be gone from the real keychain and
// revoked at Dropbox, and the user told why.
func TestWizardRollsBackTheToken(t *testing.T) {
	keys := keychaintest.New(t)
	e := newEnvWith(t, func(o *app.Options) { o.Tokens = keys })
	var other error
	var otherID string
	setOpener(t, func(u *url.URL) error {
		c, err := e.a.Connector().AddNew(context.Background(),
			app.Choice{Name: "BAKKERIJ", Folder: e.d.Export, Structure: "year"}, auth.Options{}, demo.Browse)
		other, otherID = err, c.ID
		return demo.Browse(context.Background(), u.String())
	})
	h := open(t, e.a)
	h.toConnect("Bakkerij", e.d.Export)
	h.tap("Dropbox openen in de browser")
	h.wantMsg(`Er is al een koppeling met de naam "Bakkerij"`)
	if other != nil {
		t.Fatalf("the other add: %v", other)
	}
	if h.w.step != stepConnect || h.button("Dropbox openen in de browser") == nil {
		t.Fatalf("step %d; shown:\n%s", h.w.step+1, h.text())
	}
	if ids := keychaintest.Entries(t, keys.Service); len(ids) != 1 || ids[0] != otherID {
		t.Fatalf("keychain holds %q, want only the other connection's %s", ids, otherID)
	}
	if st := e.d.Emulator.Stats()["auth/token/revoke"]; st.Calls != 1 || st.Status[200] != 1 {
		t.Fatalf("revoke at Dropbox: %+v, want one that succeeded", st)
	}
	if c := e.a.Connections(); len(c) != 1 || c[0].ID != otherID {
		t.Fatalf("connections %+v", c)
	}
}

// TestDemoWizardWithoutBrowser: in demo mode, a browser that does not open does not stop
// the wizard: the app approves at the emulated Dropbox by itself.
func TestDemoWizardWithoutBrowser(t *testing.T) {
	e := newEnvWith(t, func(o *app.Options) { o.SelfApprove = demo.Browse })
	setOpener(t, func(*url.URL) error { return errors.New("xdg-open: no method available for opening the address") })
	h := open(t, e.a)
	h.toConnect("Demo zonder browser", e.d.Export)
	h.tap("Dropbox openen in de browser")
	h.pump("the done step", func() bool { return h.w.step == stepDone })
	if h.w.msg.Visible() {
		t.Fatalf("message %q", h.w.msg.Text)
	}
	if c := e.a.Connections(); len(c) != 1 || c[0].AccountEmail != demo.Email {
		t.Fatalf("connections %+v", c)
	}
}
