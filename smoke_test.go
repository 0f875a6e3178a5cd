package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

// The smoke test drives the real binary in demo mode under the X server the tests run in
// (Xvfb in CI) the way a person would, with the keyboard: it completes the wizard, waits
// for a document to reach the demo's emulated Dropbox, and takes screenshots of every
// wizard step and of the main window. ONFACT_SCREENSHOTS names the folder they go to (the
// README's screenshot comes from there, see scripts/screenshot.sh); by default a temp dir.
//
// Tools: xdotool (find windows, focus, type, press keys) and ImageMagick's import
// (screenshots), installed by scripts/deps.sh.

// desktop is the real binary's X session as the smoke tests see it.
type desktop struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *lockedBuffer // the binary's stdout and stderr
	home string
	// urlFile receives every address the app asked the desktop to open (xdg-open).
	urlFile string
	shots   string
}

// lockedBuffer is the app's output: written by exec's copying goroutine, read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startApp starts the binary with args in a fresh home, Dutch, with an xdg-open that
// writes the address it is given to a file instead of starting a browser.
func startApp(t *testing.T, args ...string) *desktop {
	t.Helper()
	for _, tool := range []string{"xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (scripts/deps.sh installs it): %v", tool, err)
		}
	}
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("no X display: run the tests with scripts/desktop-session.sh (make test)")
	}
	bin := binary(t)
	d := &desktop{t: t, out: &lockedBuffer{}, home: t.TempDir()}
	d.shots = os.Getenv("ONFACT_SCREENSHOTS")
	if d.shots == "" {
		d.shots = t.TempDir()
	}
	if err := os.MkdirAll(d.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	fake := t.TempDir()
	d.urlFile = filepath.Join(fake, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + d.urlFile + "'\n"
	if err := os.WriteFile(filepath.Join(fake, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Env = append(os.Environ(),
		"HOME="+d.home,
		"ONFACT_DROPBOX_HOME="+filepath.Join(d.home, "onfact"),
		"XDG_CONFIG_HOME="+filepath.Join(d.home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(d.home, ".cache"),
		"PATH="+fake+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LANG=nl_BE.UTF-8", "LC_ALL=", "LANGUAGE=",
		"ONFACT_DROPBOX_APP_KEY=", "ONFACT_DROPBOX_API_URL=")
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("the app's output:\n%s", d.out)
		}
	})
	return d
}

// xdotool runs xdotool and returns its trimmed output.
func (d *desktop) xdotool(args ...string) (string, error) {
	out, err := exec.Command("xdotool", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// window waits until a visible window titled exactly title exists and returns its ID.
func (d *desktop) window(title string) string {
	d.t.Helper()
	var last string
	d.poll("a window "+title, 60*time.Second, func() bool {
		out, err := d.xdotool("search", "--onlyvisible", "--name", "^"+title+"$")
		last = out
		return err == nil && out != ""
	})
	return strings.Fields(last)[0]
}

// poll calls ok until it holds; the deadline is generous because the machines are slow
// and noisy, and nothing here measures speed.
func (d *desktop) poll(what string, limit time.Duration, ok func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if d.cmd.ProcessState != nil {
			d.t.Fatalf("the app exited while waiting for %s", what)
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// focus raises a window and gives it the keyboard: there is no window manager under Xvfb.
func (d *desktop) focus(win string) {
	d.t.Helper()
	if out, err := d.xdotool("windowraise", win, "windowfocus", "--sync", win); err != nil {
		d.t.Fatalf("focus %s: %v %s", win, err, out)
	}
}

// typeText types text in the focused window.
func (d *desktop) typeText(text string) {
	d.t.Helper()
	if out, err := d.xdotool("type", "--delay", "40", text); err != nil {
		d.t.Fatalf("type: %v %s", err, out)
	}
}

// key presses a key (xdotool's names: Return, Escape, ctrl+q) in the focused window.
func (d *desktop) key(name string) {
	d.t.Helper()
	if out, err := d.xdotool("key", name); err != nil {
		d.t.Fatalf("key %s: %v %s", name, err, out)
	}
}

// shot writes a screenshot of a window to the screenshots folder, after a pause that lets
// the app draw what the last key did (only the picture depends on it; the flow does not).
func (d *desktop) shot(win, name string) {
	d.t.Helper()
	time.Sleep(1500 * time.Millisecond)
	d.focus(win)
	p := filepath.Join(d.shots, name)
	if out, err := exec.Command("import", "-window", win, p).CombinedOutput(); err != nil {
		d.t.Fatalf("screenshot %s: %v %s", name, err, out)
	}
}

// browse plays the user's browser for the first address the app opened: the demo's
// Dropbox approves by itself and redirects to the app's loopback address. It returns the
// emulated Dropbox's base URL.
func (d *desktop) browse() string {
	d.t.Helper()
	var opened string
	d.poll("the app to open the browser", 60*time.Second, func() bool {
		b, _ := os.ReadFile(d.urlFile)
		opened, _, _ = strings.Cut(string(b), "\n")
		return opened != ""
	})
	if err := demo.Browse(context.Background(), opened); err != nil {
		d.t.Fatal(err)
	}
	u, err := url.Parse(opened)
	if err != nil {
		d.t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// files lists the files in the demo account of the emulated Dropbox at base.
func files(ctx context.Context, base string) ([]string, error) {
	q := url.Values{"account": {dropboxemu.AccountID(demo.Email)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_emulator/entries?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("entries: %s", resp.Status)
	}
	var entries []dropboxemu.Entry
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.Folder {
			out = append(out, e.PathDisplay)
		}
	}
	return out, nil
}

func TestSmokeDemoWizard(t *testing.T) {
	d := startApp(t, "--demo")

	// First start without a connection: the wizard opens. Without a tray host (none runs
	// here) the main window is open too.
	wiz := d.window("Dropbox toevoegen")
	main := d.window("onFact Dropbox Sync")

	d.focus(wiz)
	d.typeText("Demo onFact")
	d.shot(wiz, "wizard-1-name.png")
	d.key("Return")
	d.shot(wiz, "wizard-2-folder.png") // the demo's export folder is filled in
	d.key("Return")
	d.shot(wiz, "wizard-3-structure.png")
	d.key("Return")
	d.shot(wiz, "wizard-4-connect.png")
	d.key("Return") // "open Dropbox in the browser"
	base := d.browse()

	var got []string
	d.poll("a document in Dropbox", 120*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, _ = files(ctx, base)
		for _, p := range got {
			if strings.HasPrefix(p, "/Demo onFact/") && strings.Contains(p, "/Facturen/") {
				return true
			}
		}
		return false
	})
	d.shot(wiz, "wizard-5-done.png")
	d.key("Return") // close the wizard
	d.poll("the wizard to close", 30*time.Second, func() bool {
		out, _ := d.xdotool("search", "--onlyvisible", "--name", "^Dropbox toevoegen$")
		return out == ""
	})
	d.shot(main, "main-window.png")
	t.Logf("%d files in the emulated Dropbox; screenshots in %s", len(got), d.shots)

	// The session ending (SIGTERM at logout or shutdown) quits the app gracefully.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the app exited with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the app did not quit")
	}
}

// TestSecondLaunchHandsOver starts the app, then starts it again as a user double-clicking
// the icon would: the second process asks the first to show its window and exits.
func TestSecondLaunchHandsOver(t *testing.T) {
	d := startApp(t)
	d.window("onFact Dropbox Sync")

	second := exec.Command(d.cmd.Path)
	second.Env = d.cmd.Env
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("the second launch failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "already running") {
		t.Fatalf("the second launch did not hand over:\n%s", out)
	}
	d.poll("the first instance to show its window", 30*time.Second, func() bool {
		return strings.Contains(d.out.String(), "another launch asked for the window")
	})
	if d.cmd.ProcessState != nil {
		t.Fatal("the first instance exited")
	}
}
