// Command dropbox-emulator serves the Dropbox API emulator (internal/dropboxemu) on a
// loopback address, for manual testing, benchmarks and the demo.
//
//	dropbox-emulator --addr 127.0.0.1:8580 --data ./emu-data --latency 80ms --write-lock
//	dropbox-emulator --strict --seed 7 --batch-contention 0.1
//
// Point a client at the printed URL: the API, content and OAuth endpoints all live there.
// --strict switches on every real-Dropbox behaviour (dropboxemu.StrictFaults); fault flags
// given beside it override the profile's value. --refuse puts an account in a state Dropbox
// refuses; PUT /_emulator/refusal?account=<id>&refusal=<kind> sets or lifts one later.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "dropbox-emulator:", err)
		}
		os.Exit(2)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// applyProfile replaces the faults with a profile, keeping the value of every flag given
// on the command line: the flags are bound to f's fields, so setting them again after f is
// overwritten puts their values back. Repeatable flags are left alone, as setting one
// again would append its values a second time.
func applyProfile(fl *flag.FlagSet, f *dropboxemu.Faults, profile dropboxemu.Faults) {
	given := map[string]string{}
	fl.Visit(func(x *flag.Flag) {
		if _, repeatable := x.Value.(*listFlag); !repeatable {
			given[x.Name] = x.Value.String()
		}
	})
	*f = profile
	for name, v := range given {
		_ = fl.Set(name, v) // the value parsed once already
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("dropbox-emulator", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var (
		addr        = fl.String("addr", "127.0.0.1:8580", "listen address (loopback only, port 0 picks a free one)")
		data        = fl.String("data", "", "persist accounts, tokens and files in this directory (default: memory)")
		appKey      = fl.String("app-key", "onfact-dev", "app key (client_id) to register")
		appSecret   = fl.String("app-secret", "", "app secret; empty for a public PKCE client")
		accounts    listFlag
		redirects   listFlag
		autoApprove = fl.Bool("auto-approve", false, "approve OAuth requests without showing the consent page")
		lifetime    = fl.Duration("token-lifetime", dropboxemu.DefaultTokenLifetime, "access token lifetime")
		quota       = fl.Int64("quota", dropboxemu.DefaultQuota, "space allocation of each account, in bytes")
		tokenFile   = fl.String("token-file", "", "write an access token for the first account to this file (mode 0600)")
		f           dropboxemu.Faults
	)
	fl.Var(&accounts, "account", "e-mail of an account to create (repeatable; default demo@example.com)")
	fl.Var(&redirects, "redirect-uri", "allowed OAuth redirect URI (repeatable; default: the app's loopback URIs)")
	fl.Int64Var(&f.Seed, "seed", 1, "seed for every random fault decision")
	fl.DurationVar(&f.Latency, "latency", 0, "latency added to every API request")
	fl.Int64Var(&f.Bandwidth, "bandwidth", 0, "bandwidth cap for request and response bodies, bytes/s (0: none)")
	fl.Float64Var(&f.RateLimit, "rate-limit", 0, "requests per second per account before 429 too_many_requests (0: none)")
	fl.IntVar(&f.RateBurst, "rate-burst", 0, "burst for --rate-limit (default: the rate)")
	fl.BoolVar(&f.WriteLock, "write-lock", false, "overlapping commits on one account get 429 too_many_write_operations")
	fl.Float64Var(&f.ServerError, "error-5xx", 0, "probability of a 500/503 per request")
	fl.Float64Var(&f.TooManyRequests, "error-429", 0, "probability of a 429 per request")
	fl.Float64Var(&f.Drop, "drop", 0, "probability of a dropped connection per request")
	fl.Float64Var(&f.Truncate, "truncate", 0, "probability of a truncated response body per request")
	fl.IntVar(&f.RetryAfter, "retry-after", 0, "Retry-After seconds of injected 429s and 503s (0: 1)")
	fl.Float64Var(&f.PlainTooManyRequests, "error-429-plain", 0, "probability of a 429 with a plain-text or empty body and only Retry-After, per request")
	fl.Float64Var(&f.ServiceUnavailable, "error-503", 0, "probability of a 503 with Retry-After per request")
	fl.Float64Var(&f.BatchContention, "batch-contention", 0, "probability per finish_batch entry of too_many_write_operations")
	fl.Float64Var(&f.BatchInternalError, "batch-internal-error", 0, "probability per finish_batch entry of internal_error")
	fl.DurationVar(&f.CommitEntryCost, "commit-entry-cost", 0, "time a finish_batch holds the account's write lock per entry")
	fl.IntVar(&f.MaxArgHeader, "max-arg-header", 0, "longest Dropbox-API-Arg header line, in bytes, before a proxy's 400 (0: none)")
	fl.BoolVar(&f.StrictArgs, "strict-args", false, "unknown argument fields, raw non-ASCII Dropbox-API-Arg and a finish content_hash not of the call's bytes are 400s")
	strict := fl.Bool("strict", false, "switch on every real-Dropbox behaviour (dropboxemu.StrictFaults); other fault flags override it")
	var refusals listFlag
	fl.Var(&refusals, "refuse", "email=data_transport_limit or email=user_suspended: refuse that account (repeatable)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *strict {
		applyProfile(fl, &f, dropboxemu.StrictFaults(f.Seed))
	}
	if len(accounts) == 0 {
		accounts = listFlag{"demo@example.com"}
	}
	if len(redirects) == 0 {
		redirects = auth.RedirectURIs() // the app's loopback redirect URIs
	}

	srv, err := dropboxemu.New(dropboxemu.Options{DataDir: *data, TokenLifetime: *lifetime, AutoApprove: *autoApprove, Faults: f})
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.RegisterApp(dropboxemu.App{Key: *appKey, Secret: *appSecret, Name: "onFact Dropbox Sync", RedirectURIs: redirects})
	var first string
	for _, email := range accounts {
		id, err := srv.AddAccount(dropboxemu.AccountInfo{Email: email, Quota: *quota})
		if err != nil {
			return err
		}
		if first == "" {
			first = id
		}
	}
	for _, r := range refusals {
		email, kind, ok := strings.Cut(r, "=")
		if !ok {
			return fmt.Errorf("--refuse %q: want email=kind", r)
		}
		if err := srv.SetAccountRefusal(dropboxemu.AccountID(email), dropboxemu.Refusal(kind)); err != nil {
			return fmt.Errorf("--refuse %q: %w", r, err)
		}
	}
	if *tokenFile != "" {
		access, _, err := srv.IssueToken(first, *appKey, false)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*tokenFile, []byte(access), 0o600); err != nil {
			return fmt.Errorf("write token file: %w", err)
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "dropbox-emulator listening on http://%s (app key %s, account %s)\n", ln.Addr(), *appKey, accounts[0])

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdownCtx)
}
