package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

const syncUsage = `Usage: onfact-dropbox sync --once [--connection NAME]

Sends every new or changed document of each connection (or only NAME) to Dropbox, then
exits: 0 when everything was sent, 1 when something could not be (it stays queued for the
next run), 2 for bad arguments.
`

const runUsage = `Usage: onfact-dropbox run --headless

Runs every connection without a window: the initial copy, then live watching, until
interrupted (Ctrl+C or SIGTERM). Progress and problems are logged to stderr.
`

// openService opens the settings, the state store and the engine for the headless
// commands, with tokens from the OS keychain. eng is the command's engine options (Watch,
// Logf, a check at start); the user's settings fill in the rest, the check schedule too.
func openService(eng engine.Options) (*service.Service, config.Config, error) {
	s, err := loadSettings()
	if err != nil {
		return nil, config.Config{}, err
	}
	cfg, err := s.authConfig()
	if err != nil {
		return nil, config.Config{}, err
	}
	if err := keychain.Check(); err != nil {
		return nil, config.Config{}, err
	}
	dir, err := config.Dir()
	if err != nil {
		return nil, config.Config{}, err
	}
	eng.Concurrency = s.conf.Settings.Concurrency
	svc, err := service.Open(service.Options{
		Dir:    dir,
		APIURL: cfg.Dropbox.APIURL,
		Tokens: func(id string) (oauth2.TokenSource, error) { return cfg.TokenSource(id, keychain) },
		Engine: eng,
		// The settings' cap holds for the headless commands too: the office line is the same.
		Bandwidth: s.conf.Settings.BandwidthLimit,
		// So does the check schedule: run --headless checks Dropbox when the window would.
		CheckEvery: s.conf.Settings.CheckEvery(),
	})
	if errors.Is(err, store.ErrLocked) {
		err = errors.New("onFact Dropbox Sync is already running on this computer; stop it first, or use its window")
	}
	return svc, s.conf, err
}

// Sync runs "onfact-dropbox sync --once".
func Sync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("sync", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), syncUsage) }
	once := fset.Bool("once", false, "send what is waiting, then exit")
	only := fset.String("connection", "", "only this connection (name or ID)")
	verbose := fset.Bool("v", false, "log every retry and skipped file")
	if code, ok := parse(fset, args); !ok {
		return code
	}
	if !*once {
		fmt.Fprintln(stderr, "sync: only --once is supported; use 'onfact-dropbox run --headless' to keep syncing")
		return ExitUsage
	}
	logger := log.New(stderr, "", log.LstdFlags)
	logf := func(string, ...any) {}
	if *verbose {
		logf = logger.Printf
	}
	svc, conf, err := openService(engine.Options{Logf: logf})
	if err != nil {
		return report(stderr, "sync", err)
	}
	defer svc.Close()
	if svc.Reset != nil {
		resetNotice(stderr, "sync", svc.Reset)
	}
	if len(conf.Connections) == 0 {
		fmt.Fprintln(stderr, "sync: there are no connections yet; add one with 'onfact-dropbox connections add'")
		return ExitError
	}
	results, err := svc.Run(ctx, conf.Connections, *only)
	if err != nil {
		fmt.Fprintf(stderr, "sync: %v\n", err)
		return ExitUsage
	}
	code := ExitOK
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(stdout, "%s\tfailed\t%s\n", r.Name, field(say(r.Err)))
			logger.Printf("%s: detail: %v", r.Name, r.Err)
			code = ExitError
			continue
		}
		fmt.Fprintf(stdout, "%s\tup to date\n", r.Name)
	}
	if ctx.Err() != nil {
		return ExitError
	}
	return code
}

// Run runs "onfact-dropbox run --headless" until ctx ends.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("run", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), runUsage) }
	headless := fset.Bool("headless", false, "run without a window")
	verbose := fset.Bool("v", false, "log every retry and skipped file")
	if code, ok := parse(fset, args); !ok {
		return code
	}
	if !*headless {
		fmt.Fprintln(stderr, "run: only --headless is supported here; start onfact-dropbox without arguments for the tray app")
		return ExitUsage
	}
	logger := log.New(stderr, "", log.LstdFlags)
	logf := func(string, ...any) {}
	if *verbose {
		logf = logger.Printf
	}
	svc, conf, err := openService(engine.Options{Watch: true, Logf: logf})
	if err != nil {
		return report(stderr, "run", err)
	}
	defer svc.Close()
	if svc.Reset != nil {
		resetNotice(stderr, "run", svc.Reset)
	}
	if len(conf.Connections) == 0 {
		fmt.Fprintln(stderr, "run: there are no connections yet; add one with 'onfact-dropbox connections add'")
		return ExitError
	}
	sub, unsub := svc.Engine.Subscribe()
	defer unsub()
	logCtx, stopLog := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { logStatus(logCtx, sub, logger) })
	// "onfact-dropbox status" cannot open the store this process holds: it reads this file.
	wg.Go(func() {
		svc.PublishStatus(logCtx, func() []config.Connection { return conf.Connections }, logger.Printf)
	})
	results, err := svc.Run(ctx, conf.Connections, "")
	stopLog()
	wg.Wait()
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return ExitError
	}
	code := ExitOK
	for _, r := range results {
		if r.Err != nil {
			logger.Printf("%s: stopped: %s", r.Name, say(r.Err))
			logger.Printf("%s: detail: %v", r.Name, r.Err)
			code = ExitError
		}
	}
	return code
}

// logStatus logs each connection's state when it changes, and progress at most every
// 10 seconds while uploading.
func logStatus(ctx context.Context, sub <-chan []engine.Status, logger *log.Logger) {
	last := map[string]string{}
	lastProgress := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case snap := <-sub:
			for _, s := range snap {
				line := describe(s)
				if line == last[s.ID] {
					continue
				}
				if s.State == engine.StateUploading && time.Since(lastProgress[s.ID]) < 10*time.Second && strings.HasPrefix(last[s.ID], "uploading") {
					continue
				}
				last[s.ID], lastProgress[s.ID] = line, time.Now()
				logger.Printf("%s: %s", s.Name, line)
			}
		}
	}
}

// describe is one status in plain English.
func describe(s engine.Status) string {
	switch s.State {
	case engine.StateUploading:
		eta := ""
		if s.ETA > 0 {
			eta = fmt.Sprintf(", about %s left", s.ETA)
		}
		return fmt.Sprintf("uploading %d of %d documents%s", s.Done, s.Total, eta)
	case engine.StateIdle:
		return upToDate(s.Failed)
	}
	if s.Detail != "" {
		return s.State.String() + ": " + s.Detail
	}
	return s.State.String()
}

const statusUsage = `Usage: onfact-dropbox status [--json]

Prints each connection's state, also while the app or 'run --headless' runs: one
tab-separated line per connection (name, Dropbox e-mail, state, initial copy
done/in progress, last sync, documents waiting, documents refused), then one
indented line per refused document with the reason.

--json prints the same as one JSON object, for scripts and monitoring:
{"running", "pid", "updated", "stale", "connections": [{"id", "name", "account",
"state", "detail", "warning", "waiting", "done", "total", "initial_copy_done",
"last_sync", "refused", "problems": [{"path", "reason"}]}]}

Exit codes: 0, or 1 when the status cannot be read or the running app has not
updated it for a minute (it may hang: restart it).
`

// Status runs "onfact-dropbox status": the state of each connection, from the running
// app's status file while one runs, else from the state store.
func Status(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("status", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), statusUsage) }
	asJSON := fset.Bool("json", false, "print one JSON object")
	if code, ok := parse(fset, args); !ok {
		return code
	}
	s, err := loadSettings()
	if err != nil {
		return report(stderr, "status", err)
	}
	dir, err := config.Dir()
	if err != nil {
		return report(stderr, "status", err)
	}
	r, reset, err := service.ReadStatus(dir, s.conf.Connections)
	if err != nil {
		return report(stderr, "status", err)
	}
	if reset != nil {
		resetNotice(stderr, "status", reset)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return report(stderr, "status", err)
		}
	} else {
		for _, c := range r.Connections {
			initial, last := "in progress", "never"
			if c.InitialCopyDone {
				initial = "done"
			}
			if !c.LastSync.IsZero() {
				last = c.LastSync.Local().Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\tinitial copy %s\tlast sync %s\t%d waiting\t%d refused\n",
				field(c.Name), field(c.Account), field(stateText(c)), initial, last, c.Waiting, c.Refused)
			for _, p := range c.Problems {
				fmt.Fprintf(stdout, "  refused\t%s\t%s\n", field(p.Path), field(p.Reason))
			}
			if n := c.Refused - len(c.Problems); n > 0 {
				fmt.Fprintf(stdout, "  refused\t... and %d more\n", n)
			}
			if k := c.LastCheck; k != nil {
				fmt.Fprintf(stdout, "  last check\t%s\t%d documents, %d present, %d sent again, %d other files in Dropbox left alone\n",
					k.At.Local().Format("2006-01-02 15:04:05"), k.Documents, k.Present, k.Repaired, k.Extra)
			}
		}
	}
	if r.Stale {
		fmt.Fprintf(stderr, "status: onFact Dropbox Sync is running but has not said how it is doing since %s; "+
			"it may hang: quit it and start it again.\n", r.Updated.Local().Format("15:04:05"))
		return ExitError
	}
	return ExitOK
}

// upToDate says an idle connection is done, and whether that means every document: "all
// documents are in Dropbox" only when it is true.
func upToDate(notSent int) string {
	switch notSent {
	case 0:
		return "all documents are in Dropbox"
	case 1:
		return "up to date, except 1 document that is not in Dropbox"
	}
	return fmt.Sprintf("up to date, except %d documents that are not in Dropbox", notSent)
}

// stateText is a connection's state in plain English, with what is going on.
func stateText(c service.ConnReport) string {
	switch {
	case c.State == engine.StateUploading.String():
		return fmt.Sprintf("uploading %d of %d documents", c.Done, c.Total)
	case c.State == engine.StateIdle.String():
		return upToDate(c.Refused)
	case c.Detail != "":
		return c.State + ": " + c.Detail
	}
	return c.State
}

// parse parses flags: ok false means return code (help is ExitOK, errors ExitUsage).
func parse(fset *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(fset.Output(), "unexpected argument %q\n", fset.Arg(0))
		return ExitUsage, false
	}
	return 0, true
}
