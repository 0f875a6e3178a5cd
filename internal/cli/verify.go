package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

const verifyUsage = `Usage: onfact-dropbox verify [--connection NAME] [--report FILE] [--full]

Checks that every document of each connection (or only NAME) is in Dropbox: lists
Dropbox, compares each document by path and content hash, and sends again what was
deleted, moved or changed there. Files in Dropbox it did not send are counted and left
alone; nothing is ever deleted. After the first check only what changed in Dropbox is
asked for, and a full listing once a month; --full lists everything now.

Prints a summary per connection, then exits: 0 when every document is in Dropbox, 1 when
something is not (or Dropbox could not be checked), 2 for bad arguments.

--report FILE writes the check's CSV report (connection, document, dropbox_path,
content_hash, status, detail; status is present, sent-again, being-sent-again, waiting,
not-in-dropbox or only-in-dropbox) to FILE, or to stdout with "-" (the summary then goes
to stderr).
`

// Verify runs "onfact-dropbox verify": a check of Dropbox now, what it found missing sent
// again, then a summary per connection and optionally the CSV report.
func Verify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("verify", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() { fmt.Fprint(fset.Output(), verifyUsage) }
	only := fset.String("connection", "", "only this connection (name or ID)")
	reportFile := fset.String("report", "", `write the CSV report to this file ("-": stdout)`)
	full := fset.Bool("full", false, "list Dropbox in full, not only what changed since the last check")
	verbose := fset.Bool("v", false, "log every retry and skipped file")
	if code, ok := parse(fset, args); !ok {
		return code
	}
	summary := stdout
	if *reportFile == "-" {
		summary = stderr // stdout is the CSV
	}
	logger := log.New(stderr, "", log.LstdFlags)
	logf := func(string, ...any) {}
	if *verbose {
		logf = logger.Printf
	}
	svc, conf, err := openService(engine.Options{CheckAtStart: true, CheckFull: *full, Logf: logf})
	if err != nil {
		return report(stderr, "verify", err)
	}
	defer svc.Close()
	if svc.Reset != nil {
		resetNotice(stderr, "verify", svc.Reset)
	}
	if len(conf.Connections) == 0 {
		fmt.Fprintln(stderr, "verify: there are no connections yet; add one with 'onfact-dropbox connections add'")
		return ExitError
	}
	// A check that ended before this did not happen in this run: the store keeps the last
	// one, which may be weeks old.
	start := time.Now()
	results, err := svc.Run(ctx, conf.Connections, *only)
	if err != nil {
		fmt.Fprintf(stderr, "verify: %v\n", err)
		return ExitUsage
	}
	errs := map[string]error{}
	for _, r := range results {
		errs[r.Name] = r.Err
	}
	var checked []config.Connection
	code := ExitOK
	for _, c := range conf.Connections {
		if *only != "" && c.Name != *only && c.ID != *only {
			continue
		}
		checked = append(checked, c)
		runErr := errs[c.Name]
		cs, err := svc.Store.Conn(c.ID).CheckState()
		if err != nil {
			return report(stderr, "verify", err)
		}
		if cs.Last == nil || cs.Last.At.Before(start) {
			why := "it did not finish"
			if runErr != nil {
				why = say(runErr)
				logger.Printf("%s: detail: %v", c.Name, runErr)
			}
			fmt.Fprintf(summary, "%s: Dropbox could not be checked: %s\n", field(c.Name), field(why))
			code = ExitError
			continue
		}
		var t tally
		if err := svc.Engine.ReportRows(c.ID, func(r engine.ReportRow) error { t.add(r.Status); return nil }); err != nil {
			return report(stderr, "verify", err)
		}
		lines := checkSummary(*cs.Last, t)
		fmt.Fprintf(summary, "%s: %s\n", field(c.Name), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(summary, "  %s\n", l)
		}
		if runErr != nil {
			logger.Printf("%s: detail: %v", c.Name, runErr)
		}
		if runErr != nil || !t.allInDropbox() {
			code = ExitError
		}
	}
	if *reportFile != "" {
		if err := writeReport(*reportFile, stdout, func(w io.Writer) error { return svc.WriteCheckReport(w, checked) }); err != nil {
			return report(stderr, "verify", err)
		}
	}
	if ctx.Err() != nil {
		return ExitError
	}
	return code
}

// tally counts a check report's rows by status, as they stand after the run: what the
// check queued and was then sent is a row sent-again, what Dropbox refused one
// not-in-dropbox.
type tally struct {
	present, repaired, repairing, waiting, problems, extra int
}

func (t *tally) add(status string) {
	switch status {
	case engine.RowPresent:
		t.present++
	case engine.RowRepaired:
		t.repaired++
	case engine.RowRepairing:
		t.repairing++
	case engine.RowPending:
		t.waiting++
	case engine.RowProblem:
		t.problems++
	case engine.RowExtra:
		t.extra++
	}
}

// allInDropbox reports whether every document is in Dropbox as Dropbox confirmed it.
func (t tally) allInDropbox() bool { return t.repairing+t.waiting+t.problems == 0 }

// checkSummary is a check's outcome in plain English: the first line what became of the
// documents, then the files left alone and how Dropbox was listed.
func checkSummary(rep store.CheckReport, t tally) []string {
	var parts []string
	if t.repaired > 0 {
		parts = append(parts, plural(t.repaired, "%s was missing or changed in Dropbox and was sent again",
			"%s were missing or changed in Dropbox and were sent again"))
	}
	if t.problems > 0 {
		parts = append(parts, thousands(t.problems)+" could not be sent: see 'onfact-dropbox status'")
	}
	if n := t.repairing + t.waiting; n > 0 {
		parts = append(parts, plural(n, "%s is waiting to be sent: it stays queued for the next run",
			"%s are waiting to be sent: they stay queued for the next run"))
	}
	switch {
	case len(parts) == 0:
		parts = append(parts, "all present in Dropbox")
	case t.allInDropbox():
		parts = append(parts, "all are in Dropbox now")
	}
	lines := []string{plural(rep.Documents, "%s document checked", "%s documents checked") + ": " + strings.Join(parts, "; ")}
	if rep.Extra > 0 {
		lines = append(lines, plural(rep.Extra, "%s other file in Dropbox was left alone", "%s other files in Dropbox were left alone"))
	}
	how := "only what changed in Dropbox since the last check was listed"
	if rep.Full {
		how = "Dropbox was listed in full"
	}
	return append(lines, how+", in "+plural(rep.Requests, "%s request", "%s requests"))
}

// plural formats n (with thousands separators) into one or many.
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf(one, "1")
	}
	return fmt.Sprintf(many, thousands(n))
}

// thousands is n with a comma between each group of three digits: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// writeReport writes a report with write to path atomically (a temp file beside it,
// synced, then renamed, so a reader never sees half a report), or to stdout for "-".
func writeReport(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	// CreateTemp makes the file readable by its owner only; a report is for others too.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
