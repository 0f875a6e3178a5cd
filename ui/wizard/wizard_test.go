package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// TestWizardAddsADropbox walks the wizard from the first step to the end of the first
// copy against the real app and the emulated Dropbox, with a snapshot of every step.
func TestWizardAddsADropbox(t *testing.T) {
	e := newEnv(t)
	// Documents of a fixed date under a fixed relative path, so the snapshots are stable.
	root := t.TempDir()
	t.Chdir(root)
	if err := demo.Documents("export", 12, time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	setOpener(t, func(u *url.URL) error { return demo.Browse(context.Background(), u.String()) })
	h := open(t, e.a)
	w := h.w

	assertMarkup(t, "step1_name.xml", w.win.Canvas())
	// As a person types: the name, Tab, the company.
	h.typeText("Bakkerij Peeters onFact")
	h.press(fyne.KeyTab)
	if w.win.Canvas().Focused() != w.company || w.company.Text != "" || w.company.PlaceHolder != "Bakkerij Peeters onFact" {
		t.Fatalf("after Tab: focus %v, company %q, placeholder %q", w.win.Canvas().Focused(), w.company.Text, w.company.PlaceHolder)
	}
	h.typeText("Bakkerij Peeters BV")
	if w.company.Text != "Bakkerij Peeters BV" || w.name.Text != "Bakkerij Peeters onFact" {
		t.Fatalf("typed name %q, company %q", w.name.Text, w.company.Text)
	}
	h.next(stepFolder)
	w.folder.SetText("export")
	h.pump("the document count", func() bool { return strings.Contains(w.folderInfo.Text, "documenten gevonden") })
	assertMarkup(t, "step2_folder.xml", w.win.Canvas())

	// Back keeps what was entered.
	test.Tap(w.back)
	if w.step != stepName || w.name.Text != "Bakkerij Peeters onFact" || w.company.Text != "Bakkerij Peeters BV" {
		t.Fatalf("Back: step %d, name %q, company %q", w.step+1, w.name.Text, w.company.Text)
	}
	h.next(stepFolder)
	if w.folder.Text != "export" {
		t.Fatalf("folder %q after Back", w.folder.Text)
	}
	h.next(stepStructure)
	h.pump("the preview", func() bool { return strings.Contains(w.preview.Text, "Dropbox/Bakkerij Peeters BV/2025/Creditnota's/") })
	assertMarkup(t, "step3_structure.xml", w.win.Canvas())
	test.Tap(w.back)
	h.next(stepStructure)
	if w.structure.Selected != "Per jaar en documenttype" {
		t.Fatalf("structure %q after Back", w.structure.Selected)
	}

	h.next(stepConnect)
	assertMarkup(t, "step4_connect.xml", w.win.Canvas())
	h.tap("Dropbox openen in de browser")
	if !strings.Contains(h.text(), "Wacht op je toestemming in de browser…") {
		t.Fatalf("the wait says nothing:\n%s", h.text())
	}
	h.pump("the done step", func() bool { return w.step == stepDone })
	if got := w.heading.Text; got != "Je Dropbox is gekoppeld" {
		t.Fatalf("heading %q", got)
	}
	if !strings.Contains(w.account.Text, "demo@onfact.be") || !strings.Contains(w.account.Text, "Demo Gebruiker") {
		t.Fatalf("account %q", w.account.Text)
	}
	h.pump("all documents sent", func() bool { return w.progressText.Text == "Alle documenten zijn verzonden." })
	if w.progress.Value != 1 {
		t.Fatalf("progress %v", w.progress.Value)
	}
	assertMarkup(t, "step5_done.xml", w.win.Canvas())

	conns := e.a.Connections()
	if len(conns) != 1 {
		t.Fatalf("%d connections", len(conns))
	}
	c := conns[0]
	abs, _ := filepath.Abs("export")
	if c.Name != "Bakkerij Peeters onFact" || c.Company != "Bakkerij Peeters BV" || c.Folder != abs ||
		c.Structure != "year-type" || c.Language != "nl" || c.AccountID != e.d.Account ||
		c.AccountEmail != "demo@onfact.be" || c.CreatedAt.IsZero() {
		t.Fatalf("saved %+v", c)
	}
	if _, err := e.tokens.Load(c.ID); err != nil {
		t.Fatalf("token: %v", err)
	}
	found := false
	for _, en := range e.d.Emulator.Entries(e.d.Account) {
		if !en.Folder && strings.HasPrefix(strings.ToLower(en.PathDisplay), "/bakkerij peeters bv/2025/facturen/") {
			found = true
		}
	}
	if !found {
		t.Fatal("no invoice in Dropbox")
	}
	h.tap("Sluiten")
}

// TestWizardRefusesBadAnswers checks each step's plain message, and that the preview shows
// the user's own files for each structure.
func TestWizardRefusesBadAnswers(t *testing.T) {
	e := newEnv(t)
	e.connected(t, "Demo onFact")
	h := open(t, e.a)
	w := h.w

	h.refuse("Vul een naam in voor de koppeling.")
	w.name.SetText("   ")
	h.refuse("Vul een naam in voor de koppeling.")
	w.name.SetText("demo ONFACT ")
	h.refuse(`Er is al een koppeling met de naam "demo ONFACT"`)
	w.name.SetText("Tweede onFact")
	h.next(stepFolder)
	if w.msg.Visible() {
		t.Fatal("the message stays after moving on")
	}

	h.refuse("Kies de map met je onFact-documenten.")
	w.folder.SetText(filepath.Join(e.d.Export, "bestaat-niet"))
	h.refuse("Deze map bestaat niet.")
	file := filepath.Join(t.TempDir(), "factuur.pdf")
	if err := os.WriteFile(file, []byte("%PDF"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.folder.SetText(file)
	h.refuse("Dit is een bestand, geen map.")
	empty := t.TempDir()
	w.folder.SetText(empty)
	h.pump("no documents", func() bool { return strings.Contains(w.folderInfo.Text, "nog geen documenten") })
	w.folder.SetText(e.d.Export)
	h.pump("the count", func() bool { return regexp.MustCompile(`^\d+ documenten gevonden\.$`).MatchString(w.folderInfo.Text) })
	h.next(stepStructure)

	// Every preset previews real files of the export folder.
	typeDirs := `(Facturen|Creditnota's|Offertes|Bestelbonnen|Leveringsbonnen|Overige)`
	for label, pattern := range map[string]string{
		"Per jaar":                 `^Dropbox/Tweede onFact/(\d{4})/([^/]+)$`,
		"Per jaar en documenttype": `^Dropbox/Tweede onFact/(\d{4})/` + typeDirs + `/([^/]+)$`,
		"Per documenttype en jaar": `^Dropbox/Tweede onFact/` + typeDirs + `/(\d{4})/([^/]+)$`,
	} {
		w.structure.SetSelected(label)
		re := regexp.MustCompile(pattern)
		h.pump("the preview of "+label, func() bool {
			lines := strings.Split(w.preview.Text, "\n")
			return len(lines) == previewLimit+1 && re.MatchString(lines[0])
		})
		for _, line := range strings.Split(w.preview.Text, "\n")[:previewLimit] {
			m := re.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s: preview line %q", label, line)
			}
			name := m[len(m)-1]
			if _, err := os.Stat(filepath.Join(e.d.Export, yearOf(m), name)); err != nil {
				t.Errorf("%s: %q is not one of the user's files: %v", label, line, err)
			}
		}
	}

	// A custom template is checked and explained.
	for tmpl, want := range map[string]string{
		"{company}/{yeer}":       "{yeer} kennen we niet.",
		"{year}/{company}":       "De eerste map moet {company} zijn",
		"{company}//{year}":      "Er staan twee / na elkaar",
		"{company}/{year":        "Elke { moet een } hebben",
		"{company}/jaar:{year}/": "Het teken ':' mag niet in een mapnaam.",
	} {
		w.custom.SetText(tmpl)
		if !w.customErr.Visible() || !strings.Contains(w.customErr.Text, want) {
			t.Errorf("%s: shown %q, want %q", tmpl, w.customErr.Text, want)
		}
		h.refuse(want)
	}
	w.custom.SetText("{company}/{year}/{month}")
	h.pump("the custom preview", func() bool {
		return regexp.MustCompile(`^Dropbox/Tweede onFact/\d{4}/\d{2}/[^/]+$`).MatchString(strings.Split(w.preview.Text, "\n")[0])
	})
	w.accountant.SetChecked(true)
	h.pump("the accountant preview", func() bool { return strings.HasPrefix(w.preview.Text, "Dropbox/") })
	h.next(stepConnect)
}

// yearOf finds the year in a preview line's submatches: the demo keeps a folder per year.
func yearOf(m []string) string {
	for _, s := range m[1:] {
		if regexp.MustCompile(`^\d{4}$`).MatchString(s) {
			return s
		}
	}
	return ""
}

// TestConnectDenied: the user clicks Deny in the browser.
func TestConnectDenied(t *testing.T) {
	e := newEnv(t)
	setOpener(t, deny)
	h := open(t, e.a)
	h.toConnect("Geweigerd", e.d.Export)
	h.tap("Dropbox openen in de browser")
	h.wantMsg("Je hebt in de browser geen toestemming gegeven")
	if h.button("Dropbox openen in de browser") == nil {
		t.Fatal("no way to try again")
	}
	if len(e.a.Connections()) != 0 {
		t.Fatal("a connection was saved")
	}
}

// noAppKey opens the app without a Dropbox app key.
func noAppKey(o *app.Options) { o.Auth.AppKey = "" }

func TestConnectWithoutAppKey(t *testing.T) {
	e := newEnvWith(t, noAppKey)
	h := open(t, e.a)
	h.toConnect("Zonder sleutel", e.d.Export)
	if !strings.Contains(h.text(), "kan nog geen verbinding maken met Dropbox") {
		t.Fatalf("shown:\n%s", h.text())
	}
	if h.button("Dropbox openen in de browser") != nil || h.button("Lukt het niet met de browser? Gebruik een code") != nil {
		t.Fatal("a connect button without an app key")
	}
}

// TestConnectCancelWhileWaiting: Stop, Back and Cancel end the wait and free the port; a
// browser that never answers times out with a plain message.
func TestConnectCancelWhileWaiting(t *testing.T) {
	e := newEnv(t)
	setOpener(t, func(*url.URL) error { return nil }) // the user never comes back
	h := open(t, e.a)
	h.toConnect("Wachten", e.d.Export)

	free := func(port int) {
		t.Helper()
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatalf("port %d still taken: %v", port, err)
		}
		ln.Close()
	}
	wait := func() int {
		t.Helper()
		h.tap("Dropbox openen in de browser")
		if h.w.loop == nil || !strings.Contains(h.text(), "Wacht op je toestemming") {
			t.Fatalf("not waiting:\n%s", h.text())
		}
		return h.w.loop.Port()
	}

	port := wait()
	h.tap("Stoppen met wachten")
	free(port)
	h.settle()
	if h.w.msg.Visible() {
		t.Fatalf("a stop shows %q", h.w.msg.Text)
	}

	port = wait()
	test.Tap(h.w.back)
	if h.w.step != stepStructure {
		t.Fatalf("Back went to step %d", h.w.step+1)
	}
	free(port)
	h.next(stepConnect)

	old := tuneOptions
	tuneOptions = func(o *auth.Options) { o.Timeout = 200 * time.Millisecond }
	t.Cleanup(func() { tuneOptions = old })
	wait()
	h.wantMsg("Er kwam te lang geen antwoord uit de browser.")
	tuneOptions = old

	port = wait()
	test.Tap(h.w.cancel)
	free(port)
	if len(e.a.Connections()) != 0 {
		t.Fatal("a connection was saved")
	}
}

// TestConnectByPastingTheCode: the fallback without a loopback listener.
func TestConnectByPastingTheCode(t *testing.T) {
	e := newEnv(t)
	codes := make(chan string, 1)
	setOpener(t, func(u *url.URL) error {
		resp, err := http.Get(u.String())
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := codeElement.FindSubmatch(b)
		if m == nil {
			return errors.New("no code on the page")
		}
		codes <- string(m[1])
		return nil
	})
	h := open(t, e.a)
	h.toConnect("Met code", e.d.Export)
	h.tap("Lukt het niet met de browser? Gebruik een code")
	h.tap("Bevestigen")
	h.wantMsg("Plak eerst de code die Dropbox toont.")
	h.w.code.SetText("verkeerd")
	h.tap("Bevestigen")
	h.wantMsg("Dropbox heeft de code niet aanvaard")
	h.tap("Openen in de browser")
	var code string
	select {
	case code = <-codes:
	case <-time.After(30 * time.Second):
		t.Fatal("no code")
	}
	h.w.code.SetText(code)
	h.tap("Bevestigen")
	h.pump("the done step", func() bool { return h.w.step == stepDone })
	if len(e.a.Connections()) != 1 {
		t.Fatal("not saved")
	}
}

// TestReconnect: the same account reconnects; another account is refused.
func TestReconnect(t *testing.T) {
	e := newEnv(t)
	conn := e.connected(t, "Demo onFact")
	before, _ := e.tokens.Load(conn.ID)
	setOpener(t, func(u *url.URL) error { return demo.Browse(context.Background(), u.String()) })

	other, err := e.d.Emulator.AddAccount(dropboxemu.AccountInfo{Email: "ander@voorbeeld.be", GivenName: "Andere", Surname: "Persoon"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.d.Emulator.SetBrowserAccount(other); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(a fyne.App) *wizard { return newReconnect(a, e.a, conn) })
	assertMarkup(t, "reconnect.xml", h.w.win.Canvas())
	h.tap("Dropbox openen in de browser")
	h.wantMsg("Je bent aangemeld als Andere Persoon (ander@voorbeeld.be), maar dit is een ander Dropbox-account")
	if after, _ := e.tokens.Load(conn.ID); after.AccessToken != before.AccessToken {
		t.Fatal("the other account's token was saved")
	}

	if err := e.d.Emulator.SetBrowserAccount(e.d.Account); err != nil {
		t.Fatal(err)
	}
	h.tap("Dropbox openen in de browser")
	h.pump("reconnected", func() bool {
		return strings.Contains(h.text(), "Demo onFact is opnieuw gekoppeld met Demo Gebruiker (demo@onfact.be).")
	})
	if after, _ := e.tokens.Load(conn.ID); after.AccessToken == before.AccessToken {
		t.Fatal("the new token was not saved")
	}
	if h.button("Sluiten") == nil {
		t.Fatal("no Close button")
	}
	// It runs again with the new token.
	h.pump("the connection running again", func() bool {
		for _, s := range e.a.Status() {
			if s.ID == conn.ID && s.State == engine.StateIdle && s.InitialCopyDone {
				return true
			}
		}
		return false
	})
}

// brokenKeychain is a token store on a computer whose keychain cannot be used.
type brokenKeychain struct{}

func (brokenKeychain) Load(id string) (*oauth2.Token, error) {
	return nil, fmt.Errorf("load token of connection %s: %w", id, auth.ErrNoKeychain)
}

func (brokenKeychain) Save(id string, _ *oauth2.Token) error {
	return fmt.Errorf("save token of connection %s: %w", id, auth.ErrNoKeychain)
}

func (brokenKeychain) Delete(id string) error {
	return fmt.Errorf("delete token of connection %s: %w", id, auth.ErrNoKeychain)
}

// checkedKeychain also has Keychain's Check, which finds the problem before the browser.
type checkedKeychain struct{ brokenKeychain }

func (checkedKeychain) Check() error { return fmt.Errorf("check the keychain: %w", auth.ErrNoKeychain) }

// TestConnectWithoutKeychain: the token cannot be kept, so nothing is saved, and the user
// is told what to do; with Check, before going through the browser.
func TestConnectWithoutKeychain(t *testing.T) {
	var opened atomic.Int32
	setOpener(t, func(u *url.URL) error { opened.Add(1); return demo.Browse(context.Background(), u.String()) })
	for _, tc := range []struct {
		name   string
		tokens auth.TokenStore
		opened int32
	}{
		{"on save", brokenKeychain{}, 1},
		{"checked first", checkedKeychain{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opened.Store(0)
			e := newEnvWith(t, func(o *app.Options) { o.Tokens = tc.tokens })
			h := open(t, e.a)
			h.toConnect("Zonder sleutelbos", e.d.Export)
			h.tap("Dropbox openen in de browser")
			h.wantMsg("De beveiligde opslag van deze computer is niet beschikbaar")
			if n := opened.Load(); n != tc.opened {
				t.Fatalf("browser opened %d times, want %d", n, tc.opened)
			}
			if h.w.step != stepConnect || len(e.a.Connections()) != 0 {
				t.Fatalf("step %d, %d connections", h.w.step+1, len(e.a.Connections()))
			}
		})
	}
}

// TestProgressInPlainWords checks the done step's progress line for each state.
func TestProgressInPlainWords(t *testing.T) {
	i18n.SetLanguage("nl")
	defer i18n.SetLanguage("")
	h := open(t, nil)
	w := h.w
	for _, tc := range []struct {
		s    engine.Status
		want string
		bar  float64
	}{
		{engine.Status{State: engine.StateScanning}, "Bezig met nakijken van de documenten…", 0},
		{engine.Status{State: engine.StateUploading, Done: 12, Total: 39, BytesDone: 1_234_000, BytesTotal: 3_400_000,
			ETA: 90 * time.Second}, "12 van 39 documenten verzonden\n1,2 MB van 3,4 MB\nNog ongeveer 2 minuten", 12.0 / 39},
		{engine.Status{State: engine.StateUploading, Done: 0, Total: 1, BytesTotal: 800, ETA: time.Second},
			"0 van 1 document verzonden\n0 B van 800 B\nNog minder dan een minuut", 0},
		{engine.Status{State: engine.StateIdle, InitialCopyDone: true}, "Alle documenten zijn verzonden.", 1},
		{engine.Status{State: engine.StateNeedsReconnect}, "Er is een probleem met deze koppeling.", 1},
	} {
		w.showProgress(tc.s)
		if !strings.HasPrefix(w.progressText.Text, tc.want) || w.progress.Value != tc.bar {
			t.Errorf("%+v: %q at %v, want %q at %v", tc.s, w.progressText.Text, w.progress.Value, tc.want, tc.bar)
		}
	}
}

// TestWizardSpeaksFrench: the wizard follows the app's language.
func TestWizardSpeaksFrench(t *testing.T) {
	e := newEnv(t)
	i18n.SetLanguage("fr")
	h := open(t, e.a)
	if h.w.heading.Text != "Donnez un nom à la liaison" || h.w.next.Text != "Suivant" {
		t.Fatalf("heading %q, next %q", h.w.heading.Text, h.w.next.Text)
	}
	h.refuse("Indiquez un nom pour la liaison.")
}

// TestConnectWithoutFreePort: every loopback port is taken, so the wizard offers the code.
func TestConnectWithoutFreePort(t *testing.T) {
	e := newEnv(t)
	for _, p := range auth.LoopbackPorts() {
		if ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			t.Cleanup(func() { ln.Close() })
		}
	}
	h := open(t, e.a)
	h.toConnect("Zonder poort", e.d.Export)
	h.tap("Dropbox openen in de browser")
	if !strings.Contains(h.text(), "Deze computer kan het antwoord van Dropbox niet rechtstreeks ontvangen. Gebruik daarom de code.") ||
		h.button("Bevestigen") == nil {
		t.Fatalf("no paste flow offered:\n%s", h.text())
	}
}

// TestShowOpensWindows checks the exported entry points.
func TestShowOpensWindows(t *testing.T) {
	i18n.SetLanguage("nl")
	defer i18n.SetLanguage("")
	fa := test.NewTempApp(t)
	w := Show(fa, nil)
	if w.Title() != "Dropbox toevoegen" || w.Content() == nil {
		t.Fatalf("wizard window %q", w.Title())
	}
	w.Close()
	r := ShowReconnect(fa, newEnvWith(t, noAppKey).a, config.Connection{ID: "c1", Name: "Demo onFact", AccountEmail: "demo@onfact.be"})
	if r.Title() != "Dropbox opnieuw koppelen" {
		t.Fatalf("reconnect window %q", r.Title())
	}
	r.Close()
}

// suggesting is the app with a suggested export folder, as in demo mode.
type suggesting struct {
	*app.App
	folder string
}

func (s suggesting) SuggestedFolder() string { return s.folder }

// press sends a key as the desktop driver does: Tab moves the focus unless the focused
// widget takes tabs, other keys go to the focused widget, else to the window.
func (h *harness) press(key fyne.KeyName) {
	c := h.w.win.Canvas()
	ev := &fyne.KeyEvent{Name: key}
	if key == fyne.KeyTab {
		if tb, ok := c.Focused().(fyne.Tabbable); !ok || !tb.AcceptsTab() {
			c.FocusNext()
			return
		}
	}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
	} else if on := c.OnTypedKey(); on != nil {
		on(ev)
	}
}

// TestWizardByKeyboard adds a Dropbox with the keyboard alone: typing the name and Enter
// on every step, with the folder the app suggests filled in.
func TestWizardByKeyboard(t *testing.T) {
	e := newEnv(t)
	setOpener(t, func(u *url.URL) error { return demo.Browse(context.Background(), u.String()) })
	h := open(t, suggesting{e.a, e.d.Export})
	w := h.w

	if w.win.Canvas().Focused() != w.name {
		t.Fatal("the name field does not have the focus")
	}
	h.typeText("Demo")
	h.press(fyne.KeyReturn)
	if w.step != stepFolder || w.folder.Text != e.d.Export || w.win.Canvas().Focused() != w.folder {
		t.Fatalf("step %d, folder %q", w.step+1, w.folder.Text)
	}
	h.press(fyne.KeyReturn)
	if w.step != stepStructure || w.win.Canvas().Focused() != nil {
		t.Fatalf("step %d, message %q", w.step+1, w.msg.Text)
	}
	h.press(fyne.KeyReturn)
	if w.step != stepConnect {
		t.Fatalf("step %d", w.step+1)
	}
	h.press(fyne.KeyReturn)
	h.pump("the done step", func() bool { return w.step == stepDone })
	h.press(fyne.KeyReturn)
	if !w.closed {
		t.Fatal("Enter on the last step did not close the wizard")
	}
	if c := e.a.Connections(); len(c) != 1 || c[0].Name != "Demo" || c[0].Folder != e.d.Export {
		t.Fatalf("connections %+v", c)
	}
}

// TestWizardEscapeCancels closes the wizard with Escape and adds nothing.
func TestWizardEscapeCancels(t *testing.T) {
	e := newEnv(t)
	h := open(t, e.a)
	h.w.win.Canvas().Unfocus()
	h.press(fyne.KeyEscape)
	if !h.w.closed || len(e.a.Connections()) != 0 {
		t.Fatalf("closed %v, connections %d", h.w.closed, len(e.a.Connections()))
	}
}
