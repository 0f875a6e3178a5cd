package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/app"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
)

const connectionsUsage = `Usage: onfact-dropbox connections <command> [flags]

Commands:
  add     connect a Dropbox account to an onFact export folder
  list    show the connections, one tab-separated line each:
          name, Dropbox e-mail, folder, structure
  reconnect NAME
          connect the connection to its Dropbox again (after its access was
          revoked or expired), with the same Dropbox account only; what waits to
          be sent stays queued
  remove NAME
          revoke the connection's access at Dropbox, delete its token from the
          keychain and remove it from the settings. There is no confirmation
          prompt: a script that calls remove means it.

Run 'onfact-dropbox connections add -h' for the options of add.

Environment:
  ONFACT_DROPBOX_HOME      settings folder (default: the OS's config folder)
  ONFACT_DROPBOX_APP_KEY   Dropbox app key (overrides the settings and the build)
  ONFACT_DROPBOX_API_URL   another Dropbox address, e.g. the emulator's
                           http://127.0.0.1:8580
`

const addUsage = `Usage: onfact-dropbox connections add --name NAME --folder DIR [options]

Connects a Dropbox account: prints the address of Dropbox's permission page
(and opens it in a browser when there is one), waits until you allow access,
then saves the connection. The token is kept in the OS keychain only.

With --code-stdin no local port is used: open the printed address anywhere,
allow access, and paste the code Dropbox shows.

Options:
`

// openBrowser opens the authorize URL; tests replace it.
var openBrowser = auth.OpenBrowser

// Connections runs "onfact-dropbox connections": add, list or remove a Dropbox
// connection. Prompts and errors go to stderr, results (the authorize URL, the
// list) to stdout; add --code-stdin reads the pasted code from stdin. It returns
// ExitOK, ExitUsage for bad arguments, or ExitError.
func Connections(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, connectionsUsage)
		return ExitUsage
	}
	switch args[0] {
	case "add":
		return connectionsAdd(ctx, args[1:], stdout, stderr, stdin)
	case "list", "ls":
		return connectionsList(args[1:], stdout, stderr)
	case "reconnect":
		return connectionsReconnect(ctx, args[1:], stdout, stderr, stdin)
	case "remove", "rm":
		return connectionsRemove(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, connectionsUsage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "connections: unknown command %q\n\n", args[0])
	fmt.Fprint(stderr, connectionsUsage)
	return ExitUsage
}

// settings is the config file and what the commands derive from it.
type settings struct {
	path string
	conf config.Config
}

func loadSettings() (settings, error) {
	dir, err := config.Dir()
	if err != nil {
		return settings{}, err
	}
	p := config.Path(dir)
	c, err := config.Load(p)
	if err != nil {
		return settings{}, err
	}
	return settings{path: p, conf: c}, nil
}

// authConfig is the app key and Dropbox address from the environment, the settings
// and the build.
func (s settings) authConfig() (auth.Config, error) {
	key, err := auth.ResolveAppKey(s.conf.Settings.AppKey)
	if err != nil {
		return auth.Config{}, err
	}
	d, err := auth.DropboxFromEnv()
	if err != nil {
		return auth.Config{}, err
	}
	return auth.Config{AppKey: key, Dropbox: d}, nil
}

func connectionsAdd(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) int {
	fset := flag.NewFlagSet("connections add", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), addUsage)
		fset.PrintDefaults()
	}
	var (
		name   = fset.String("name", "", "a `name` for the connection, e.g. \"Acme onFact\" (required)")
		folder = fset.String("folder", "", "the onFact export `folder` (required)")
		lf     = addLayoutFlags(fset, "the connection's name")
		cf     = addConnectFlags(fset)
	)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "connections add: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run 'onfact-dropbox connections add -h' for help.")
		return ExitUsage
	}
	if fset.NArg() > 0 {
		return usage("unexpected argument %q; all options are flags, such as --name NAME", fset.Arg(0))
	}
	s, conn, err := fileConnector()
	if err != nil {
		return report(stderr, "connections add", err)
	}
	ch := app.Choice{Name: *name, Company: *lf.company, Folder: *folder, Structure: *lf.structure,
		Language: *lf.lang, Accountant: *lf.accountant}
	if _, err := conn.Validate(ch); err != nil {
		switch {
		case errors.Is(err, app.ErrNoName):
			return usage("--name is required: a name for the connection, such as \"Acme onFact\"")
		case errors.Is(err, app.ErrNameControl):
			return usage("--name may not contain tabs, line breaks or other control characters")
		case errors.Is(err, app.ErrNoFolder):
			return usage("--folder is required: the onFact export folder to send to Dropbox")
		case app.IsChoiceProblem(err):
			return usage("%v", err)
		}
		return report(stderr, "connections add", err)
	}

	res, err := cf.connect(ctx, conn, "", pageLanguage(s, *lf.lang), stdout, stderr, stdin)
	if err != nil {
		return report(stderr, "connections add", err)
	}
	added, err := conn.Add(ctx, ch, res)
	if err != nil {
		return report(stderr, "connections add", err)
	}
	fmt.Fprintf(stdout, "Connected %q to the Dropbox of %s (%s).\n", added.Name, res.Account.Name, res.Account.Email)
	fmt.Fprintf(stderr, "Documents from %s will go to the app folder under Apps in that Dropbox, structure %s.\n", added.Folder, added.Structure)
	return ExitOK
}

// keychain keeps the tokens: the OS keychain; tests use a service of their own in it.
var keychain = auth.Keychain{}

// fileConnector is the app's connect use case over the settings file, with the app key and
// Dropbox address from the environment, the settings and the build.
func fileConnector() (settings, *app.Connector, error) {
	s, err := loadSettings()
	if err != nil {
		return settings{}, nil, err
	}
	dir, err := config.Dir()
	if err != nil {
		return settings{}, nil, err
	}
	return s, app.NewFileConnector(dir, s.authConfig, keychain), nil
}

// pageLanguage is the language of the page the browser shows at the end: the app's, else
// the connection's folders'.
func pageLanguage(s settings, lang string) string {
	if l := s.conf.Settings.Language; l != "" {
		return l
	}
	if lang == "" {
		return string(layout.Dutch)
	}
	return lang
}

// connectFlags are how add and reconnect reach Dropbox.
type connectFlags struct {
	codeStdin, noBrowser *bool
	timeout              *time.Duration
}

func addConnectFlags(fset *flag.FlagSet) connectFlags {
	return connectFlags{
		codeStdin: fset.Bool("code-stdin", false, "paste the code Dropbox shows instead of waiting for the browser's redirect"),
		noBrowser: fset.Bool("no-browser", false, "do not open a browser; only print the address"),
		timeout:   fset.Duration("timeout", auth.DefaultTimeout, "how long to wait for the permission in the browser"),
	}
}

// connect runs the connect step of the use case for a new connection (reconnect "") or
// the connection with ID reconnect, the way the flags say.
func (f connectFlags) connect(ctx context.Context, conn *app.Connector, reconnect, lang string, stdout, stderr io.Writer, stdin io.Reader) (auth.Result, error) {
	opts := auth.Options{Language: lang, Timeout: *f.timeout}
	if *f.codeStdin {
		return connectPasted(ctx, conn, reconnect, opts, !*f.noBrowser, stdout, stderr, stdin)
	}
	return connectLoopback(ctx, conn, reconnect, opts, !*f.noBrowser, stdout, stderr)
}

// connectLoopback runs the browser flow: print the URL, open a browser, wait.
func connectLoopback(ctx context.Context, conn *app.Connector, reconnect string, opts auth.Options, browse bool, stdout, stderr io.Writer) (auth.Result, error) {
	f, err := conn.Listen(reconnect, opts)
	if errors.Is(err, auth.ErrNoFreePort) {
		return auth.Result{}, fmt.Errorf("%v\nRun the command again with --code-stdin to paste the code instead", err)
	}
	if err != nil {
		return auth.Result{}, err
	}
	defer f.Close()
	fmt.Fprintln(stderr, "Open this address in a browser, sign in to Dropbox and allow access:")
	fmt.Fprintln(stdout, f.URL())
	if browse {
		if err := conn.Open(ctx, f.URL(), openBrowser); err != nil && !errors.Is(err, auth.ErrNoBrowser) {
			fmt.Fprintf(stderr, "Could not open a browser (%v); open the address yourself.\n", err)
		}
	}
	fmt.Fprintf(stderr, "Waiting for Dropbox (up to %s; press Ctrl+C to stop)...\n", waitText(opts.Timeout))
	return f.Wait(ctx)
}

// waitText says a duration the way a person would: "10 minutes", "90s".
func waitText(d time.Duration) string {
	if d <= 0 {
		d = auth.DefaultTimeout
	}
	if d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// connectPasted runs the no-redirect flow: print the URL, read the pasted code.
func connectPasted(ctx context.Context, conn *app.Connector, reconnect string, opts auth.Options, browse bool, stdout, stderr io.Writer, stdin io.Reader) (auth.Result, error) {
	f, err := conn.NoRedirect(reconnect, opts)
	if err != nil {
		return auth.Result{}, err
	}
	fmt.Fprintln(stderr, "Open this address in a browser, sign in to Dropbox and allow access:")
	fmt.Fprintln(stdout, f.URL())
	if browse {
		_ = openBrowser(ctx, f.URL()) // the address is printed either way
	}
	fmt.Fprintln(stderr, "Then paste the code Dropbox shows here and press Enter:")
	code, err := readLine(ctx, stdin)
	if err != nil {
		return auth.Result{}, err
	}
	return f.ExchangeCode(ctx, code)
}

// readLine reads one line from r, giving up when ctx ends. A read that never ends (a
// terminal nobody types in) leaves its goroutine blocked until the process exits, which
// for a command is moments later.
func readLine(ctx context.Context, r io.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	got := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		if err == io.EOF && s != "" {
			err = nil
		}
		got <- line{s, err}
	}()
	select {
	case l := <-got:
		if l.err != nil {
			return "", fmt.Errorf("read the code: %w", l.err)
		}
		return strings.TrimSpace(l.s), nil
	case <-ctx.Done():
		return "", fmt.Errorf("read the code: %w", ctx.Err())
	}
}

func connectionsList(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("connections list", flag.ContinueOnError)
	fset.SetOutput(stderr)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fset.NArg() > 0 {
		fmt.Fprintf(stderr, "connections list: unexpected argument %q\n", fset.Arg(0))
		return ExitUsage
	}
	s, err := loadSettings()
	if err != nil {
		return report(stderr, "connections list", err)
	}
	if len(s.conf.Connections) == 0 {
		fmt.Fprintln(stderr, "No connections yet. Add one with 'onfact-dropbox connections add'.")
		return ExitOK
	}
	for _, c := range s.conf.Connections {
		email := c.AccountEmail
		if email == "" {
			email = "-"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", field(c.Name), field(email), field(c.Folder), field(c.Structure))
	}
	return ExitOK
}

// field keeps one value on its line and in its column.
func field(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

func connectionsRemove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("connections remove", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "Usage: onfact-dropbox connections remove NAME\n\n"+
			"Revokes the connection's access at Dropbox, deletes its token from the keychain and\n"+
			"removes it from the settings. There is no confirmation prompt.")
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fset.NArg() != 1 {
		fmt.Fprintln(stderr, "connections remove: give the name of one connection, e.g. onfact-dropbox connections remove \"Acme onFact\"")
		return ExitUsage
	}
	name := fset.Arg(0)
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "connections remove: "+format+"\n", a...)
		return ExitError
	}
	s, connector, err := fileConnector()
	if err != nil {
		return report(stderr, "connections remove", err)
	}
	conn, err := connector.Find(name)
	if errors.Is(err, app.ErrNoConnection) {
		return fail("there is no connection named %q; 'onfact-dropbox connections list' shows them", name)
	}
	if err != nil {
		return report(stderr, "connections remove", err)
	}
	cfg, err := s.authConfig()
	if err != nil {
		return report(stderr, "connections remove", err)
	}
	// Open the state store first: while the app runs it holds the store, and removing a
	// connection under a running engine would leave its state behind.
	dir, err := config.Dir()
	if err != nil {
		return report(stderr, "connections remove", err)
	}
	st, reset, err := store.OpenOrReset(service.StorePath(dir))
	if errors.Is(err, store.ErrLocked) {
		return fail("onFact Dropbox Sync is running; remove the connection in its window, or stop it first")
	}
	if err != nil {
		return report(stderr, "connections remove", err)
	}
	defer st.Close()
	if reset != nil {
		resetNotice(stderr, "connections remove", reset)
	}
	if err := cfg.Revoke(ctx, conn.ID, keychain); err != nil {
		return fail("%v\nThe connection %q was kept; try again when Dropbox can be reached.", err, conn.Name)
	}
	// Re-read, so a change made meanwhile (by the GUI) is not undone.
	if s, err = loadSettings(); err != nil {
		return report(stderr, "connections remove", err)
	}
	if s.conf.Remove(conn.ID) {
		if err := config.Save(s.path, s.conf); err != nil {
			return report(stderr, "connections remove", err)
		}
	}
	if err := st.Conn(conn.ID).Delete(); err != nil {
		return fail("forget the state of %q: %v", conn.Name, err)
	}
	fmt.Fprintf(stdout, "Removed %q: its access to Dropbox is revoked, its token deleted and its state forgotten. Its documents stay in Dropbox.\n", conn.Name)
	return ExitOK
}

func connectionsReconnect(ctx context.Context, args []string, stdout, stderr io.Writer, stdin io.Reader) int {
	fset := flag.NewFlagSet("connections reconnect", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), "Usage: onfact-dropbox connections reconnect NAME [options]\n\n"+
			"Connects the connection to its Dropbox again, as add does: prints the address of\n"+
			"Dropbox's permission page (and opens it in a browser when there is one) and waits.\n"+
			"Only the connection's own Dropbox account is accepted. Its state and queue are kept.\n\n"+
			"Options:\n")
		fset.PrintDefaults()
	}
	cf := addConnectFlags(fset)
	// NAME may come before the flags, as people type it.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	rest := fset.Args()
	if name == "" && len(rest) == 1 {
		name, rest = rest[0], nil
	}
	if name == "" || len(rest) > 0 {
		fmt.Fprintln(stderr, "connections reconnect: give the name of one connection, e.g. onfact-dropbox connections reconnect \"Acme onFact\"")
		return ExitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "connections reconnect: "+format+"\n", a...)
		return ExitError
	}
	s, connector, err := fileConnector()
	if err != nil {
		return report(stderr, "connections reconnect", err)
	}
	conn, err := connector.Find(name)
	if errors.Is(err, app.ErrNoConnection) {
		return fail("there is no connection named %q; 'onfact-dropbox connections list' shows them", name)
	}
	if err != nil {
		return report(stderr, "connections reconnect", err)
	}
	// The running app holds the store and runs the connection with the token it read at
	// start; a new token under it would only be used after a restart.
	dir, err := config.Dir()
	if err != nil {
		return report(stderr, "connections reconnect", err)
	}
	st, reset, err := store.OpenOrReset(service.StorePath(dir))
	if errors.Is(err, store.ErrLocked) {
		return fail("onFact Dropbox Sync is running; reconnect the connection in its window, or stop it first")
	}
	if err != nil {
		return report(stderr, "connections reconnect", err)
	}
	if reset != nil {
		resetNotice(stderr, "connections reconnect", reset)
	}
	st.Close() // only to know the app is not running; the use case does not touch the state

	res, err := cf.connect(ctx, connector, conn.ID, pageLanguage(s, conn.Language), stdout, stderr, stdin)
	var diff *auth.DifferentAccountError
	if errors.As(err, &diff) {
		who := conn.AccountEmail
		if who == "" {
			who = conn.AccountName
		}
		return fail("you signed in to Dropbox as %s, but %q backs up to the Dropbox of %s. Nothing was changed: "+
			"sign in with that account and try again, or add the other Dropbox as a new connection.",
			diff.Got.Label(), conn.Name, who)
	}
	if err != nil {
		return report(stderr, "connections reconnect", err)
	}
	if _, err := connector.Reconnect(ctx, conn.ID, res); err != nil {
		return report(stderr, "connections reconnect", err)
	}
	fmt.Fprintf(stdout, "Reconnected %q to the Dropbox of %s (%s). What waited is sent at the next sync.\n",
		conn.Name, res.Account.Name, res.Account.Email)
	return ExitOK
}
