package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/demo"
	"github.com/onfact/onfact-dropbox/ui"
)

// gui starts the tray app: with --demo against an emulated Dropbox and generated documents
// in throwaway folders, else with the user's settings and the real (or ONFACT_DROPBOX_API_URL)
// Dropbox.
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
	opts, cleanup, err := guiOptions(*demoMode)
	if err != nil {
		fmt.Fprintln(stderr, "onfact-dropbox:", err)
		return 1
	}
	defer cleanup()
	a, err := app.Open(opts)
	if err != nil {
		fmt.Fprintln(stderr, "onfact-dropbox:", err)
		return 1
	}
	runErr := ui.Run(ctx, a, ui.Options{Version: version, Commit: commit})
	if err := errors.Join(runErr, a.Close()); err != nil {
		fmt.Fprintln(stderr, "onfact-dropbox:", err)
		return 1
	}
	return 0
}

// guiOptions returns how to open the app and what to clean up after it closed.
func guiOptions(demoMode bool) (app.Options, func(), error) {
	if demoMode {
		d, err := demo.Start()
		if err != nil {
			return app.Options{}, nil, err
		}
		// The demo's tokens are worthless outside it: keep them out of the keychain.
		return app.Options{Dir: d.Dir, Auth: d.Auth, Tokens: &auth.MemoryStore{}, SuggestedFolder: d.Export},
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
		return app.Options{}, nil, err
	}
	return app.Options{Dir: dir, Auth: auth.Config{AppKey: key, Dropbox: dbx}}, func() {}, nil
}
