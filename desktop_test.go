//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/syncbuf"
)

// The tests in smoke_test.go and tray_test.go run the real binary under the X server the
// tests have (Xvfb under scripts/desktop-session.sh), as a user would, and watch it from
// outside: its windows with xdotool, its tray over D-Bus, its Dropbox through the demo's
// emulator. This file starts and watches that process.

// Generous deadlines: the app is a cgo/OpenGL program starting on a loaded 2-core machine,
// maybe under -race. They bound a hang; they assert nothing about speed.
const (
	appStartDeadline  = 3 * time.Minute // from exec to the first window or tray item
	appWindowDeadline = 90 * time.Second
	appExitDeadline   = 90 * time.Second
	appPollEvery      = 100 * time.Millisecond
)

// appProcess is the binary started by startApp.
type appProcess struct {
	cmd    *exec.Cmd
	out    *syncbuf.Buffer // stdout and stderr
	exited chan struct{}   // closed when the process has exited; err is set then
	err    error
	// opened is the file the fake xdg-open appends each address the app opens to.
	opened string
}

// startApp starts the real binary with args on the D-Bus session bus at bus (a private one
// of its own when bus is ""), with its own home, settings, cache and temporary folders, the
// Dutch locale, and an xdg-open that records the address instead of starting a browser, so
// it touches nothing of the user's and shares no bus name with tests of other packages (ui's
// tests own the tray host's name on the session bus). The process is killed when the test
// ends, and its output logged if the test failed.
func startApp(t *testing.T, bus string, args ...string) *appProcess {
	t.Helper()
	requireDesktop(t)
	bin := binary(t)
	if bus == "" {
		bus = privateBus(t)
	}
	home, tmp, fake := t.TempDir(), t.TempDir(), t.TempDir()
	a := &appProcess{cmd: exec.Command(bin, args...), out: &syncbuf.Buffer{}, exited: make(chan struct{}),
		opened: filepath.Join(fake, "opened")}
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + a.opened + "'\n"
	if err := os.WriteFile(filepath.Join(fake, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	set := map[string]string{
		"HOME":                     home,
		"XDG_CONFIG_HOME":          filepath.Join(home, ".config"),
		"XDG_CACHE_HOME":           filepath.Join(home, ".cache"),
		"XDG_DATA_HOME":            filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME":           filepath.Join(home, ".local", "state"),
		"ONFACT_DROPBOX_HOME":      filepath.Join(home, "onfact"),
		"TMPDIR":                   tmp, // the demo's throwaway folders
		"LANG":                     "nl_BE.UTF-8",
		"DBUS_SESSION_BUS_ADDRESS": bus,
		"PATH":                     fake + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	unset := map[string]bool{"LANGUAGE": true, "LC_ALL": true, "LC_MESSAGES": true,
		"ONFACT_DROPBOX_APP_KEY": true, "ONFACT_DROPBOX_API_URL": true}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok && !unset[k] {
			a.cmd.Env = append(a.cmd.Env, kv)
		}
	}
	for k, v := range set {
		a.cmd.Env = append(a.cmd.Env, k+"="+v)
	}
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		a.err = a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-a.exited:
		default:
			a.cmd.Process.Kill()
			<-a.exited
		}
		if t.Failed() {
			t.Logf("output of the app:\n%s", a.out.String())
		}
	})
	return a
}

// waitFor polls cond until it holds, failing the test if the deadline passes or the app
// exits first. The last error cond returned is reported with the failure.
func (a *appProcess) waitFor(t *testing.T, what string, deadline time.Duration, cond func() (bool, error)) {
	t.Helper()
	tick := time.NewTicker(appPollEvery)
	defer tick.Stop()
	timeout := time.After(deadline)
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		select {
		case <-tick.C:
		case <-a.exited:
			t.Fatalf("the app exited (%v) while waiting for %s (last error: %v)", a.err, what, last)
		case <-timeout:
			t.Fatalf("no %s within %v (last error: %v)", what, deadline, last)
		}
	}
}

// window waits until the app shows a window titled exactly title and returns its X ID.
func (a *appProcess) window(t *testing.T, title string) string {
	t.Helper()
	var id string
	a.waitFor(t, "window "+strconv.Quote(title), appStartDeadline, func() (bool, error) {
		ids, err := windows(a.cmd.Process.Pid, title)
		if len(ids) > 0 {
			id = ids[0]
		}
		return id != "", err
	})
	return id
}

// shown reports whether the app shows a window titled exactly title.
func (a *appProcess) shown(title string) (bool, error) {
	ids, err := windows(a.cmd.Process.Pid, title)
	return len(ids) > 0, err
}

// quit sends SIGTERM, as a session ending does, and expects a clean exit.
func (a *appProcess) quit(t *testing.T) {
	t.Helper()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.waitExit(t)
}

// waitExit expects the app to exit with status 0.
func (a *appProcess) waitExit(t *testing.T) {
	t.Helper()
	select {
	case <-a.exited:
		if a.err != nil {
			t.Fatalf("the app exited with %v", a.err)
		}
	case <-time.After(appExitDeadline):
		t.Fatalf("the app did not exit within %v", appExitDeadline)
	}
}

// windows lists the X IDs of the windows process pid shows (maps) titled exactly title.
// Windows are matched by pid, which GLFW sets as _NET_WM_PID, so windows of other tests on
// the same display never count.
func windows(pid int, title string) ([]string, error) {
	cmd := exec.Command("xdotool", "search", "--all", "--onlyvisible",
		"--pid", strconv.Itoa(pid), "--name", "^"+regexp.QuoteMeta(title)+"$")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		return ids, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 && stderr.Len() == 0 {
		return nil, nil // xdotool's "no such window"
	}
	if err == nil {
		err = errors.New("no output")
	}
	return nil, fmt.Errorf("xdotool search: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
}

// requireDesktop fails the test, saying why, where there is no X display or a tool the
// tests drive is missing. CI always has them; the tests are never skipped.
func requireDesktop(t *testing.T) {
	t.Helper()
	if os.Getenv("DISPLAY") == "" {
		t.Fatal("no DISPLAY: run the tests under scripts/desktop-session.sh (Xvfb and a D-Bus session)")
	}
	for _, tool := range []string{"dbus-daemon", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: install it with scripts/deps.sh", tool)
		}
	}
}

// busConfig is a bare session bus: anyone may own any name and call anything, and no
// service is activated on demand, so nothing but the test and the app is on it.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// privateBus starts a D-Bus daemon for this test alone and returns its address; it is
// stopped when the test ends.
func privateBus(t *testing.T) string {
	t.Helper()
	// A short folder of its own: a unix socket path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "test-bus-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, busConfig, dir), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+conf, "--nofork", "--print-address")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The daemon prints its address once it listens; it blocks on nothing else.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr := strings.TrimSpace(line)
	if addr == "" {
		t.Fatalf("dbus-daemon gave no address: %v\n%s", err, stderr.Bytes())
	}
	return addr
}
