package wizard

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

var update = flag.Bool("update", false, "rewrite the markup snapshots in testdata/")

// testdata is the snapshots' folder, absolute: a test may change the working directory.
var testdata = func() string {
	p, err := filepath.Abs("testdata")
	if err != nil {
		panic(err)
	}
	return p
}()

// assertMarkup compares the canvas with testdata/name, or rewrites it with -update. On a
// difference it writes what it saw to testdata/failed/name, as Fyne's own assertion does.
func assertMarkup(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	got := test.RenderToMarkup(c)
	p := filepath.Join(testdata, name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("snapshot %s: %v (run with -update to write it)", name, err)
	}
	if string(want) != got {
		failed := filepath.Join(testdata, "failed", name)
		os.MkdirAll(filepath.Dir(failed), 0o755)
		os.WriteFile(failed, []byte(got), 0o644)
		t.Errorf("%s differs from its snapshot; see %s", name, failed)
	}
}

// env is the real app over the demo's emulated Dropbox.
type env struct {
	d      *demo.Demo
	a      *app.App
	tokens *auth.MemoryStore
}

func newEnv(t *testing.T) *env { t.Helper(); return newEnvWith(t, nil) }

// newEnvWith is newEnv with the app's options changed by change (nil: none).
func newEnvWith(t *testing.T, change func(*app.Options)) *env {
	t.Helper()
	i18n.SetLanguage("nl")
	t.Cleanup(func() { i18n.SetLanguage("") })
	d, err := demo.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	tokens := &auth.MemoryStore{}
	opts := app.Options{Dir: d.Dir, Auth: d.Auth, Tokens: tokens,
		Engine: engine.Options{Settle: 10 * time.Millisecond}, Logf: t.Logf}
	if change != nil {
		change(&opts)
	}
	a, err := app.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &env{d: d, a: a, tokens: tokens}
}

// connected adds a connection named name through the app's use case, connected through
// the emulated Dropbox.
func (e *env) connected(t *testing.T, name string) config.Connection {
	t.Helper()
	conn, err := e.a.Connector().AddNew(context.Background(),
		app.Choice{Name: name, Company: "Demo BV", Folder: e.d.Export, Structure: "year-type", Language: "nl"},
		auth.Options{Language: "nl"}, demo.Browse)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// setOpener replaces the browser for one test.
func setOpener(t *testing.T, open func(u *url.URL) error) {
	old := openURL
	openURL = func(_ context.Context, _ fyne.App, u *url.URL) error { return open(u) }
	t.Cleanup(func() { openURL = old })
}

// harness is a wizard on Fyne's test app whose background work reports to a queue the
// test goroutine drains, so widgets are only ever touched by the test goroutine.
type harness struct {
	t     *testing.T
	w     *wizard
	queue chan func()
}

func newHarness(t *testing.T, build func(fyne.App) *wizard) *harness {
	t.Helper()
	fa := test.NewTempApp(t)
	h := &harness{t: t, queue: make(chan func(), 10000)}
	h.w = build(fa)
	h.w.do = func(f func()) {
		select {
		case h.queue <- f:
		default: // the test ended; nobody reads any more
		}
	}
	h.w.win.Show()
	t.Cleanup(func() {
		if !h.w.closed {
			h.w.win.Close()
		}
	})
	return h
}

func open(t *testing.T, ctl Controller) *harness {
	return newHarness(t, func(a fyne.App) *wizard { return newWizard(a, ctl) })
}

// pump runs queued UI work until ok holds.
func (h *harness) pump(what string, ok func() bool) {
	h.t.Helper()
	deadline := time.After(60 * time.Second)
	for !ok() {
		select {
		case f := <-h.queue:
			f()
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; message %q; shown:\n%s", what, h.w.msg.Text, h.text())
		}
	}
}

// settle runs the queued UI work that is ready now.
func (h *harness) settle() {
	for {
		select {
		case f := <-h.queue:
			f()
		case <-time.After(50 * time.Millisecond):
			return
		}
	}
}

// text is every visible label of the window, one a line.
func (h *harness) text() string {
	var out []string
	for _, o := range test.LaidOutObjects(h.w.win.Content()) {
		if l, ok := o.(*widget.Label); ok && l.Visible() && l.Text != "" {
			out = append(out, l.Text)
		}
	}
	return strings.Join(out, "\n")
}

// button finds a visible button by its text.
func (h *harness) button(text string) *widget.Button {
	for _, o := range test.LaidOutObjects(h.w.win.Content()) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
			return b
		}
	}
	return nil
}

func (h *harness) tap(text string) {
	h.t.Helper()
	b := h.button(text)
	if b == nil {
		h.t.Fatalf("no button %q; shown:\n%s", text, h.text())
	}
	test.Tap(b)
}

// next taps Next and expects the step to become want.
func (h *harness) next(want int) {
	h.t.Helper()
	test.Tap(h.w.next)
	if h.w.step != want {
		h.t.Fatalf("Next: at step %d, want %d; message %q", h.w.step+1, want+1, h.w.msg.Text)
	}
}

// refuse taps Next and expects to stay with a message containing want.
func (h *harness) refuse(want string) {
	h.t.Helper()
	step := h.w.step
	test.Tap(h.w.next)
	if h.w.step != step {
		h.t.Fatalf("Next moved on to step %d", h.w.step+1)
	}
	if !h.w.msg.Visible() || !strings.Contains(h.w.msg.Text, want) {
		h.t.Fatalf("message %q (visible %v), want %q", h.w.msg.Text, h.w.msg.Visible(), want)
	}
}

// toConnect fills in steps 1-3 with valid answers and goes to the connect step.
func (h *harness) toConnect(name, folder string) {
	h.t.Helper()
	h.w.name.SetText(name)
	h.next(stepFolder)
	h.w.folder.SetText(folder)
	h.next(stepStructure)
	h.next(stepConnect)
}

// wantMsg waits until the message contains want.
func (h *harness) wantMsg(want string) {
	h.t.Helper()
	h.pump("message "+want, func() bool { return h.w.msg.Visible() && strings.Contains(h.w.msg.Text, want) })
}

var codeElement = regexp.MustCompile(`<code id="code">([^<]*)</code>`)

// deny plays a browser whose user clicks Deny on the consent page.
func deny(u *url.URL) error {
	form := u.Query()
	form.Set("decision", "deny")
	target := *u
	target.RawQuery = ""
	resp, err := http.PostForm(target.String(), form)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// typeText types into the focused widget, one rune at a time where its cursor is, as the
// desktop driver delivers a person's keys.
func (h *harness) typeText(s string) {
	h.t.Helper()
	f := h.w.win.Canvas().Focused()
	if f == nil {
		h.t.Fatalf("typing %q with nothing focused", s)
	}
	for _, r := range s {
		f.TypedRune(r)
	}
}
