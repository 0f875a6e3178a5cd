//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
	"github.com/onfact/onfact-dropbox/ui"
)

// The smoke test drives the real binary in demo mode the way a person would, with the
// keyboard: it completes the wizard (typing the name, Tab, the company), waits for the documents to reach the demo's emulated
// Dropbox, and takes screenshots of every wizard step and of the main window.
// ONFACT_SCREENSHOTS names the folder they go to (scripts/screenshot.sh refreshes the ones in
// docs/ this way); by default a temp dir. Tools: xdotool (focus, type, keys) and
// ImageMagick's import (screenshots), installed by scripts/deps.sh.

// focus raises a window and gives it the keyboard: there is no window manager under Xvfb.
func focus(t *testing.T, win string) {
	t.Helper()
	xdotool(t, "windowraise", win, "windowfocus", "--sync", win)
}

// xdotool runs xdotool with args, failing the test if it fails.
func xdotool(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("xdotool", args...).CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v %s", args, err, out)
	}
}

// screenshot writes a picture of a window to dir/name, after a pause that lets the app draw
// what the last key did (only the picture depends on it; the flow does not).
func screenshot(t *testing.T, win, dir, name string) {
	t.Helper()
	time.Sleep(1500 * time.Millisecond)
	focus(t, win)
	if out, err := exec.Command("import", "-window", win, filepath.Join(dir, name)).CombinedOutput(); err != nil {
		t.Fatalf("screenshot %s: %v %s", name, err, out)
	}
}

// browse plays the user's browser for the first address the app opened: the demo's Dropbox
// approves by itself and redirects to the app's loopback address. It returns the emulated
// Dropbox's base URL.
func (a *appProcess) browse(t *testing.T) string {
	t.Helper()
	var opened string
	a.waitFor(t, "the app to open the browser", appWindowDeadline, func() (bool, error) {
		b, err := os.ReadFile(a.opened)
		opened, _, _ = strings.Cut(string(b), "\n")
		return opened != "", err
	})
	if err := demo.Browse(context.Background(), opened); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(opened)
	if err != nil {
		t.Fatal(err)
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
	shots := os.Getenv("ONFACT_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FYNE_THEME", "") // the theme is Fyne's settings file's, so it can change while the app runs
	a := startApp(t, "", "--demo")

	// First start without a connection: the wizard opens. Without a tray host (none runs
	// on the app's bus) the main window is open too.
	wiz := a.window(t, "Dropbox toevoegen")
	main := a.window(t, ui.Title)

	focus(t, wiz)
	// Name, Tab, company, as a person types them: the company must arrive as typed (it
	// once followed the name and took the typing at its start).
	xdotool(t, "type", "--delay", "40", "Demo onFact")
	xdotool(t, "key", "Tab")
	xdotool(t, "type", "--delay", "40", "Bakkerij Janssens BV")
	screenshot(t, wiz, shots, "wizard-1-name.png")
	xdotool(t, "key", "Return")
	screenshot(t, wiz, shots, "wizard-2-folder.png") // the demo's export folder is filled in
	xdotool(t, "key", "Return")
	screenshot(t, wiz, shots, "wizard-3-structure.png")
	xdotool(t, "key", "Return")
	screenshot(t, wiz, shots, "wizard-4-connect.png")
	xdotool(t, "key", "Return") // "open Dropbox in the browser"
	base := a.browse(t)

	var got []string
	a.waitFor(t, "an invoice in the company's folder in Dropbox", appStartDeadline, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		got, err = files(ctx, base)
		for _, p := range got {
			if strings.HasPrefix(p, "/Bakkerij Janssens BV/") && strings.Contains(p, "/Facturen/") {
				return true, nil
			}
		}
		return false, err
	})
	for _, p := range got {
		if !strings.HasPrefix(p, "/Bakkerij Janssens BV/") {
			t.Errorf("%s is not in the company's folder", p)
		}
	}
	screenshot(t, wiz, shots, "wizard-5-done.png")
	xdotool(t, "key", "Return") // close the wizard
	a.waitFor(t, "the wizard to close", appWindowDeadline, func() (bool, error) {
		shown, err := a.shown("Dropbox toevoegen")
		return !shown, err
	})
	// The main window's tabs in the dark theme (the default), then in the light one.
	mainWindowShots(t, main, shots, "")
	lightTheme(t, a)
	mainWindowShots(t, main, shots, "-light")
	t.Logf("%d files in the emulated Dropbox; screenshots in %s", len(got), shots)

	// The session ending (SIGTERM at logout or shutdown) quits the app gracefully.
	a.quit(t)
}

// mainWindowShots photographs each tab of the main window, named main-window<suffix>.png
// and so on. The tabs and the feed's first line are clicked where they stand (Dutch labels,
// Fyne's fixed layout); a miss shows in the picture, the flow does not depend on it.
func mainWindowShots(t *testing.T, main, shots, suffix string) {
	t.Helper()
	xdotool(t, "mousemove", "--window", main, "55", "22", "click", "1")
	screenshot(t, main, shots, "main-window"+suffix+".png")
	xdotool(t, "mousemove", "--window", main, "150", "22", "click", "1")
	// The documents of the first copy are one burst: open it once the feed is read.
	time.Sleep(time.Second)
	xdotool(t, "mousemove", "--window", main, "300", "102", "click", "1")
	screenshot(t, main, shots, "main-window-activity"+suffix+".png")
	xdotool(t, "mousemove", "--window", main, "300", "102", "click", "1") // closed again for the next round
	xdotool(t, "mousemove", "--window", main, "245", "22", "click", "1")
	screenshot(t, main, shots, "main-window-settings"+suffix+".png")
}

// lightTheme switches the running app to Fyne's light theme: Fyne follows its settings
// file (in the app's XDG_CONFIG_HOME) while it runs.
func lightTheme(t *testing.T, a *appProcess) {
	t.Helper()
	var config string
	for _, kv := range a.cmd.Env {
		if v, ok := strings.CutPrefix(kv, "XDG_CONFIG_HOME="); ok {
			config = v
		}
	}
	if config == "" {
		t.Fatal("the app has no XDG_CONFIG_HOME")
	}
	dir := filepath.Join(config, "fyne")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(`{"theme":"light"}`), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSecondLaunchHandsOver starts the app, then starts it again as a user double-clicking
// the icon would: the second process asks the first to show its window and exits.
func TestSecondLaunchHandsOver(t *testing.T) {
	a := startApp(t, "")
	a.window(t, ui.Title)

	second := exec.Command(a.cmd.Path)
	second.Env = a.cmd.Env
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("the second launch failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "already running") {
		t.Fatalf("the second launch did not hand over:\n%s", out)
	}
	a.waitFor(t, "the first instance to show its window", appWindowDeadline, func() (bool, error) {
		return strings.Contains(a.out.String(), "another launch asked for the window"), nil
	})
	a.quit(t)
}

// TestCrashReachesTheLog starts the app where it cannot open a window (no display): the
// crash must land in the log file, since on Windows nobody sees the app's stderr.
func TestCrashReachesTheLog(t *testing.T) {
	home := t.TempDir()
	cmd := exec.Command(binary(t), "--demo")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "TMPDIR="+t.TempDir(), "DISPLAY=", "WAYLAND_DISPLAY=")
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2:\n%s", err, out)
	}
	logged, err := os.ReadFile(filepath.Join(home, ".cache", "onfact-dropbox", "logs", "onfact-dropbox.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logged), "crashed: ") || !strings.Contains(string(logged), "goroutine ") {
		t.Fatalf("the log does not tell of the crash:\n%s", logged)
	}
}
