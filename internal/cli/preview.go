// Package cli holds the command-line subcommands of onfact-dropbox, each a
// function from arguments and output streams to an exit code, so main.go
// only dispatches and tests run them in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/onfact/onfact-dropbox/internal/layout"
)

// Exit codes shared by the subcommands.
const (
	ExitOK    = 0 // success, or help asked for
	ExitError = 1 // the command ran and failed, e.g. the folder is unreadable
	ExitUsage = 2 // wrong flags or arguments
)

const previewUsage = `Usage: onfact-dropbox preview --folder DIR [options]

Shows where the files of an onFact export folder would go in Dropbox, one
tab-separated line per file: local path, type, date, customer, and the
Dropbox path or the reason the file is skipped.

Options:
`

// Preview runs "onfact-dropbox preview": it maps the export folder given by
// --folder under the chosen structure and prints the first --limit files
// (every file with --all) to stdout, with a summary and any error on
// stderr. It returns ExitOK, ExitUsage for bad flags, or ExitError when
// the folder cannot be read.
func Preview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("preview", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), previewUsage)
		fset.PrintDefaults()
	}
	var (
		folder = fset.String("folder", "", "the onFact export `folder` (required)")
		lf     = addLayoutFlags(fset, "the export folder's name")
		limit  = fset.Int("limit", 20, "show the first `n` files")
		all    = fset.Bool("all", false, "show every file (overrides --limit)")
	)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage // the flag package has printed the problem and the usage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "preview: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run 'onfact-dropbox preview -h' for help.")
		return ExitUsage
	}
	if fset.NArg() > 0 {
		return usage("unexpected argument %q; all options are flags, such as --folder DIR", fset.Arg(0))
	}
	if *folder == "" {
		return usage("--folder is required: the onFact export folder to preview")
	}
	if *limit < 1 && !*all {
		return usage("--limit must be at least 1; use --all to show every file")
	}
	n := *limit
	if *all {
		n = 0
	}
	abs, err := filepath.Abs(*folder)
	if err != nil {
		abs = *folder
	}
	l, err := lf.layout(filepath.Base(abs))
	if err != nil {
		return usage("%v", err)
	}
	res, err := layout.Preview(ctx, *folder, l, n)
	if err != nil {
		fmt.Fprintf(stderr, "preview: %s\n", plainError(*folder, err))
		return ExitError
	}
	if err := layout.WritePreview(stdout, res.Rows); err != nil {
		fmt.Fprintf(stderr, "preview: could not write the output: %v\n", err)
		return ExitError
	}
	shown := 0
	for _, r := range res.Rows {
		if r.Skip == layout.NotSkipped {
			shown++
		}
	}
	fmt.Fprintf(stderr, "%d of %d files shown, %d skipped; structure %s, company %q.\n",
		shown, res.Mapped, res.Skipped, l.Structure, l.CompanyFolder(""))
	if shown < res.Mapped {
		fmt.Fprintln(stderr, "Use --all to show every file.")
	}
	return ExitOK
}

// plainError turns a Preview error into one sentence an office user can act on.
func plainError(folder string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("the folder %s does not exist.", folder)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("no permission to read the folder %s.", folder)
	case errors.Is(err, context.Canceled):
		return "stopped before the preview was complete."
	}
	return fmt.Sprintf("cannot read the folder %s: %v.", folder, err)
}

// layoutFlags are the flags that choose how files are laid out in Dropbox, shared by
// preview and connections add so both read them the same way.
type layoutFlags struct {
	structure, company, lang *string
	accountant               *bool
}

// addLayoutFlags defines --structure, --company, --lang and --accountant; companyDefault
// says what an empty --company means.
func addLayoutFlags(fset *flag.FlagSet, companyDefault string) layoutFlags {
	return layoutFlags{
		structure:  fset.String("structure", layout.PresetYearType, "folder `structure` in Dropbox: year, year-type, type-year or a template such as {company}/{year}/{month}"),
		company:    fset.String("company", "", "company `name` for {company} (default: "+companyDefault+")"),
		lang:       fset.String("lang", string(layout.Dutch), "`language` of the folder names: nl, fr or en"),
		accountant: fset.Bool("accountant", false, "accountant mode: each top-level subfolder is a client company"),
	}
}

// layout parses the flags into a Layout; company is used when --company is empty.
func (f layoutFlags) layout(company string) (layout.Layout, error) {
	st, err := layout.ParseStructure(*f.structure)
	if err != nil {
		return layout.Layout{}, err
	}
	language, err := layout.ParseLanguage(*f.lang)
	if err != nil {
		return layout.Layout{}, fmt.Errorf("--lang %q: use nl, fr or en", *f.lang)
	}
	if c := strings.TrimSpace(*f.company); c != "" {
		company = c
	}
	return layout.Layout{Structure: st, Language: language, Company: company, Accountant: *f.accountant}, nil
}
