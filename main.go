// Command onfact-dropbox is onFact Dropbox Sync: a tray app that pushes an onFact export
// folder one way into Dropbox. With no arguments it starts the GUI; subcommands run headless.
//
// This file is wiring only.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/onfact/onfact-dropbox/internal/cli"
	// Before Fyne reads the locale in its init: see the package.
	_ "github.com/onfact/onfact-dropbox/internal/localeenv"
)

// version and commit are set by the build: -ldflags "-X main.version=1.2.3 -X main.commit=abc"
// (the Makefile does); buildVersion fills in what a plain go build leaves unset.
var (
	version = "dev"
	commit  = "none"
)

func main() {
	version, commit = buildVersion()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if len(args) == 0 || args[0] == "--demo" || args[0] == "-demo" {
		return gui(ctx, args, stderr)
	}
	switch args[0] {
	case "preview":
		return cli.Preview(ctx, args[1:], stdout, stderr)
	case "connections":
		return cli.Connections(ctx, args[1:], stdout, stderr, os.Stdin)
	case "sync":
		return cli.Sync(ctx, args[1:], stdout, stderr)
	case "run":
		return cli.Run(ctx, args[1:], stdout, stderr)
	case "verify":
		return cli.Verify(ctx, args[1:], stdout, stderr)
	case "status":
		return cli.Status(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "onfact-dropbox %s (%s)\n", version, commit)
		return 0
	case "help", "--help", "-h", "-help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "onfact-dropbox: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: onfact-dropbox [command] [flags]

With no command, starts the tray app; --demo starts it offline, with an emulated Dropbox
and generated documents, to try it without a Dropbox app key.

Commands:
  connections add|list|reconnect|remove
                                connect a Dropbox account to an export folder, list,
                                connect one again (same account), remove
  sync --once [--connection N]  send what is new or changed, then exit
  run --headless                keep syncing without a window until interrupted
  verify [--report FILE]        check that every document is in Dropbox, send again
                                what is missing or changed there
  status                        show each connection's state
  preview                       show where each file of an export folder would go in Dropbox
  version                       print the version and commit
  help                          show this help

Each command takes -h for its options. Environment: ONFACT_DROPBOX_HOME (settings and state
folder), ONFACT_DROPBOX_APP_KEY (Dropbox app key), ONFACT_DROPBOX_API_URL (another Dropbox
address, e.g. the emulator's http://127.0.0.1:8580).
`)
}
