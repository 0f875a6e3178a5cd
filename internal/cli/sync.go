package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/auth"
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
// commands, with tokens from the OS keychain.
func openService(watch bool, logf func(string, ...any)) (*service.Service, config.Config, error) {
	s, err := loadSettings()
	if err != nil {
		return nil, config.Config{}, err
	}
	cfg, err := s.authConfig()
	if err != nil {
		return nil, config.Config{}, err
	}
	if err := (auth.Keychain{}).Check(); err != nil {
		return nil, config.Config{}, err
	}
	dir, err := config.Dir()
	if err != nil {
		return nil, config.Config{}, err
	}
	svc, err := service.Open(service.Options{
		Dir:    dir,
		APIURL: cfg.Dropbox.APIURL,
		Tokens: func(id string) (oauth2.TokenSource, error) { return cfg.TokenSource(id, auth.Keychain{}) },
		Engine: engine.Options{Watch: watch, Concurrency: s.conf.Settings.Concurrency, Logf: logf},
		// The settings' cap holds for the headless commands too: the office line is the same.
		Bandwidth: s.conf.Settings.BandwidthLimit,
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
	svc, conf, err := openService(false, logf)
	if err != nil {
		fmt.Fprintf(stderr, "sync: %v\n", err)
		return ExitError
	}
	defer svc.Close()
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
			fmt.Fprintf(stdout, "%s\tfailed\t%v\n", r.Name, r.Err)
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
	svc, conf, err := openService(true, logf)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return ExitError
	}
	defer svc.Close()
	if len(conf.Connections) == 0 {
		fmt.Fprintln(stderr, "run: there are no connections yet; add one with 'onfact-dropbox connections add'")
		return ExitError
	}
	sub, unsub := svc.Engine.Subscribe()
	defer unsub()
	logCtx, stopLog := context.WithCancel(ctx)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		logStatus(logCtx, sub, logger)
	}()
	results, err := svc.Run(ctx, conf.Connections, "")
	stopLog()
	<-logDone
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return ExitError
	}
	code := ExitOK
	for _, r := range results {
		if r.Err != nil {
			logger.Printf("%s: stopped: %v", r.Name, r.Err)
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
		return "all documents are in Dropbox"
	}
	if s.Detail != "" {
		return s.State.String() + ": " + s.Detail
	}
	return s.State.String()
}

// Status runs "onfact-dropbox status": the state of each connection as the state store
// knows it.
func Status(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("status", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), "Usage: onfact-dropbox status\n\nPrints one tab-separated line per connection: name, Dropbox e-mail, initial copy\n(done/in progress), last sync, documents waiting, documents refused.\n")
	}
	if code, ok := parse(fset, args); !ok {
		return code
	}
	s, err := loadSettings()
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return ExitError
	}
	dir, err := config.Dir()
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return ExitError
	}
	st, err := store.Open(service.StorePath(dir))
	if errors.Is(err, store.ErrLocked) {
		fmt.Fprintln(stderr, "status: onFact Dropbox Sync is running; its window and tray icon show the live status")
		return ExitError
	}
	if err != nil {
		fmt.Fprintf(stderr, "status: %v\n", err)
		return ExitError
	}
	defer st.Close()
	for _, c := range s.conf.Connections {
		cs := st.Conn(c.ID)
		m, err := cs.Meta()
		if err != nil {
			fmt.Fprintf(stderr, "status: %v\n", err)
			return ExitError
		}
		queued, _ := cs.QueueLen()
		refused := 0
		cs.Files("", func(_ string, r store.FileRecord) error {
			if r.Failure != "" {
				refused++
			}
			return nil
		})
		initial, last := "in progress", "never"
		if m.InitialCopyDone {
			initial = "done"
		}
		if !m.LastSync.IsZero() {
			last = m.LastSync.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(stdout, "%s\t%s\tinitial copy %s\tlast sync %s\t%d waiting\t%d refused\n",
			field(c.Name), field(c.AccountEmail), initial, last, queued, refused)
	}
	return ExitOK
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
