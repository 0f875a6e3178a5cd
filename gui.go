package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/debug"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/internal/instance"
	"github.com/onfact/onfact-dropbox/internal/logfile"
	"github.com/onfact/onfact-dropbox/ui"
)

// gui starts the tray app: with --demo against an emulated Dropbox and generated documents
// in throwaway folders, else with the user's settings and the real (or ONFACT_DROPBOX_API_URL)
// Dropbox. A second launch of the real app brings the first one's window to the front and
// exits. The log goes to stderr and to the rotating log file.
func gui(ctx context.Context, args []string, stderr io.Writer) int {
	fset := flag.NewFlagSet("onfact-dropbox", flag.ContinueOnError)
	fset.SetOutput(stderr)
	demoMode := fset.Bool("demo", false, "try the app offline: an emulated Dropbox and generated documents in throwaway folders")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	logDir, closeLog := openLog(stderr)
	defer closeLog()
	// A crash (the graphics driver refusing a window, a bug) must reach the log file: on
	// Windows the app has no console, so a panic on stderr would be lost.
	defer func() {
		if r := recover(); r != nil {
			log.Printf("crashed: %v\n%s", r, debug.Stack())
			closeLog()
			os.Exit(2)
		}
	}()

	// Shows are the requests of later launches to come to the front; one pending is enough.
	shows := make(chan struct{}, 1)
	if !*demoMode { // a demo runs in its own throwaway folders and may run next to the app
		dir, err := config.Dir()
		if err != nil {
			return fail(err)
		}
		in, err := instance.Acquire(dir, func() {
			select {
			case shows <- struct{}{}:
			default:
			}
		})
		if errors.Is(err, instance.ErrRunning) {
			log.Print("already running: asked it to show its window")
			return 0
		}
		if err != nil {
			return fail(err)
		}
		defer in.Close()
	}

	opts, cleanup, err := guiOptions(*demoMode)
	if err != nil {
		return fail(err)
	}
	defer cleanup()
	a, err := app.Open(opts)
	if err != nil {
		return fail(err)
	}
	// A build that named neither (go run) shows "development version" and no build in About.
	uo := ui.Options{Version: version, Commit: commit, LogDir: logDir, Shows: shows}
	if uo.Version == "dev" {
		uo.Version = ""
	}
	if uo.Commit == "none" {
		uo.Commit = ""
	}
	runErr := ui.Run(ctx, a, uo)
	if err := errors.Join(runErr, a.Close()); err != nil {
		log.Print(err)
		return 1
	}
	return 0
}

// fail tells the user why the app cannot start: in a window, since on Windows the app has
// no console and a message on stderr would reach nobody.
func fail(err error) int {
	log.Printf("cannot start: %v", err)
	ui.Fail(err)
	return 1
}

// openLog sends the standard logger to stderr and the log file, and returns the log folder
// ("" if there is no log file) and what closes it. Without a log file the app still runs.
func openLog(stderr io.Writer) (dir string, closeLog func()) {
	dir, err := logfile.Dir()
	var w io.WriteCloser
	if err == nil {
		w, err = logfile.Open(dir)
	}
	if err != nil {
		log.SetOutput(stderr)
		log.Printf("no log file: %v", err)
		return "", func() {}
	}
	log.SetOutput(io.MultiWriter(stderr, w))
	return dir, func() {
		log.SetOutput(stderr)
		w.Close()
	}
}

// guiOptions returns how to open the app and what to clean up after it closed.
func guiOptions(demoMode bool) (app.Options, func(), error) {
	if demoMode {
		d, err := demo.Start()
		if err != nil {
			return app.Options{}, nil, err
		}
		log.Printf("demo: emulated Dropbox at %s, export folder %s", d.Auth.Dropbox.APIURL, d.Export)
		// The demo's tokens are worthless outside it: keep them out of the keychain. Its
		// Dropbox approves by itself, so without a browser the app fetches the address.
		return app.Options{Dir: d.Dir, Auth: d.Auth, Tokens: &auth.MemoryStore{}, SuggestedFolder: d.Export,
				SelfApprove: demo.Browse},
			func() { d.Close() }, nil
	}
	dir, err := config.Dir()
	if err != nil {
		return app.Options{}, nil, err
	}
	conf, err := config.Load(config.Path(dir))
	if err != nil {
		return app.Options{}, nil, err
	}
	// Without an app key the app still opens and syncs nothing new; the wizard says why
	// before anyone tries to connect.
	key, _ := auth.ResolveAppKey(conf.Settings.AppKey)
	dbx, err := auth.DropboxFromEnv()
	if err != nil {
		return app.Options{}, nil, fmt.Errorf("%s: %w", auth.EnvAPIURL, err)
	}
	return app.Options{Dir: dir, Auth: auth.Config{AppKey: key, Dropbox: dbx}}, func() {}, nil
}
