package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// ErrNoBrowser means this computer has no browser to open (e.g. a server over SSH): show
// the URL, or use the no-redirect flow.
var ErrNoBrowser = errors.New("no web browser can be opened here")

// OpenBrowser asks the OS to open an http(s) URL in the default browser (xdg-open,
// open, or the Windows URL handler) and returns without waiting for the user. The GUI
// may use its toolkit's own OpenURL instead; this one serves the command line.
//
// It waits up to a few seconds for the opener to report a failure; an opener still
// running then (some keep the browser in the foreground) is left to run and reaped in
// the background.
func OpenBrowser(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("open the browser: %q is not a web address", rawURL)
	}
	var name string
	var args []string
	switch runtime.GOOS {
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", u.String()}
	case "darwin":
		name, args = "open", []string{u.String()}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return ErrNoBrowser
		}
		name, args = "xdg-open", []string{u.String()}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%w (%s is missing)", ErrNoBrowser, name)
	}
	// Not CommandContext: the browser must outlive the connect attempt.
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open the browser: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("open the browser: %s: %w", name, err)
		}
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}
