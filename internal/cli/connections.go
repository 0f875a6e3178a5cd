package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/service"
	"github.com/onfact/onfact-dropbox/internal/store"
)

const connectionsUsage = `Usage: onfact-dropbox connections <command> [flags]

Commands:
  add     connect a Dropbox account to an onFact export folder
  list    show the connections, one tab-separated line each:
          name, Dropbox e-mail, folder, structure
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
		name      = fset.String("name", "", "a `name` for the connection, e.g. \"Acme onFact\" (required)")
		folder    = fset.String("folder", "", "the onFact export `folder` (required)")
		lf        = addLayoutFlags(fset, "the connection's name")
		codeStdin = fset.Bool("code-stdin", false, "paste the code Dropbox shows instead of waiting for the browser's redirect")
		noBrowser = fset.Bool("no-browser", false, "do not open a browser; only print the address")
		timeout   = fset.Duration("timeout", auth.DefaultTimeout, "how long to wait for the permission in the browser")
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
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "connections add: "+format+"\n", a...)
		return ExitError
	}
	if fset.NArg() > 0 {
		return usage("unexpected argument %q; all options are flags, such as --name NAME", fset.Arg(0))
	}
	n := strings.TrimSpace(*name)
	if n == "" {
		return usage("--name is required: a name for the connection, such as \"Acme onFact\"")
	}
	if strings.ContainsFunc(n, unicode.IsControl) {
		return usage("--name may not contain tabs, line breaks or other control characters")
	}
	if *folder == "" {
		return usage("--folder is required: the onFact export folder to send to Dropbox")
	}
	dir, err := filepath.Abs(*folder)
	if err != nil {
		return usage("--folder %s: %v", *folder, err)
	}
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return usage("the folder %s does not exist", dir)
	case err != nil:
		return usage("cannot use the folder %s: %v", dir, err)
	case !fi.IsDir():
		return usage("%s is a file, not a folder", dir)
	}
	l, err := lf.layout(n)
	if err != nil {
		return usage("%v", err)
	}
	if err := l.Validate(); err != nil {
		return usage("%v", err)
	}

	s, err := loadSettings()
	if err != nil {
		return fail("%v", err)
	}
	if existing, ok := findByName(s.conf, n); ok {
		return usage("a connection named %q already exists; choose another name or remove it first", existing.Name)
	}
	cfg, err := s.authConfig()
	if err != nil {
		return fail("%v", err)
	}
	keychain := auth.Keychain{}
	// Before the browser: no point in granting access that cannot be kept.
	if err := keychain.Check(); err != nil {
		return fail("%v", err)
	}

	pageLang := s.conf.Settings.Language
	if pageLang == "" {
		pageLang = string(l.Language)
	}
	opts := auth.Options{Language: pageLang, Timeout: *timeout}
	var res auth.Result
	if *codeStdin {
		res, err = connectPasted(ctx, cfg, opts, !*noBrowser, stdout, stderr, stdin)
	} else {
		res, err = connectLoopback(ctx, cfg, opts, !*noBrowser, stdout, stderr)
	}
	if err != nil {
		return fail("%v", err)
	}

	conn := config.Connection{
		ID: config.NewID(), Name: n, Folder: dir, Structure: l.Structure.String(), Company: l.Company,
		Language: string(l.Language), Accountant: l.Accountant,
		AccountID: res.Account.ID, AccountName: res.Account.Name, AccountEmail: res.Account.Email,
		CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
	if err := keychain.Save(conn.ID, res.Token); err != nil {
		discard(cfg, res)
		return fail("%v", err)
	}
	// Re-read: the GUI may have changed the settings while the user was in the browser.
	s, err = loadSettings()
	if err == nil {
		if _, dup := findByName(s.conf, n); dup {
			err = fmt.Errorf("a connection named %q was added meanwhile", n)
		}
	}
	if err == nil {
		s.conf.Connections = append(s.conf.Connections, conn)
		err = config.Save(s.path, s.conf)
	}
	if err != nil {
		_ = keychain.Delete(conn.ID)
		discard(cfg, res)
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "Connected %q to the Dropbox of %s (%s).\n", conn.Name, res.Account.Name, res.Account.Email)
	fmt.Fprintf(stderr, "Documents from %s will go to the app folder under Apps in that Dropbox, structure %s.\n", dir, l.Structure)
	return ExitOK
}

// connectLoopback runs the browser flow: print the URL, open a browser, wait.
func connectLoopback(ctx context.Context, cfg auth.Config, opts auth.Options, browse bool, stdout, stderr io.Writer) (auth.Result, error) {
	f, err := cfg.Listen(opts)
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
		if err := openBrowser(ctx, f.URL()); err != nil && !errors.Is(err, auth.ErrNoBrowser) {
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
func connectPasted(ctx context.Context, cfg auth.Config, opts auth.Options, browse bool, stdout, stderr io.Writer, stdin io.Reader) (auth.Result, error) {
	f, err := cfg.NoRedirect(opts)
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

// discard revokes a token that will not be kept.
func discard(cfg auth.Config, res auth.Result) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	m := &auth.MemoryStore{}
	if m.Save("discard", res.Token) == nil {
		_ = cfg.Revoke(ctx, "discard", m)
	}
}

func findByName(c config.Config, name string) (config.Connection, bool) {
	for _, conn := range c.Connections {
		if strings.EqualFold(conn.Name, name) {
			return conn, true
		}
	}
	return config.Connection{}, false
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
		fmt.Fprintf(stderr, "connections list: %v\n", err)
		return ExitError
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
	s, err := loadSettings()
	if err != nil {
		return fail("%v", err)
	}
	conn, ok := findByName(s.conf, name)
	if !ok {
		c, byID := s.conf.Find(name)
		if !byID {
			return fail("there is no connection named %q; 'onfact-dropbox connections list' shows them", name)
		}
		conn = *c
	}
	cfg, err := s.authConfig()
	if err != nil {
		return fail("%v", err)
	}
	// Open the state store first: while the app runs it holds the store, and removing a
	// connection under a running engine would leave its state behind.
	dir, err := config.Dir()
	if err != nil {
		return fail("%v", err)
	}
	st, err := store.Open(service.StorePath(dir))
	if errors.Is(err, store.ErrLocked) {
		return fail("onFact Dropbox Sync is running; remove the connection in its window, or stop it first")
	}
	if err != nil {
		return fail("%v", err)
	}
	defer st.Close()
	if err := cfg.Revoke(ctx, conn.ID, auth.Keychain{}); err != nil {
		return fail("%v\nThe connection %q was kept; try again when Dropbox can be reached.", err, conn.Name)
	}
	// Re-read, so a change made meanwhile (by the GUI) is not undone.
	if s, err = loadSettings(); err != nil {
		return fail("%v", err)
	}
	if s.conf.Remove(conn.ID) {
		if err := config.Save(s.path, s.conf); err != nil {
			return fail("%v", err)
		}
	}
	if err := st.Conn(conn.ID).Delete(); err != nil {
		return fail("forget the state of %q: %v", conn.Name, err)
	}
	fmt.Fprintf(stdout, "Removed %q: its access to Dropbox is revoked, its token deleted and its state forgotten. Its documents stay in Dropbox.\n", conn.Name)
	return ExitOK
}
