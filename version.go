package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion returns the version and the commit this binary reports (the version command,
// the About text). Builds through the Makefile and fyne package set both with
// -ldflags "-X main.version=... -X main.commit=..."; a build without them (go install, go
// build) falls back to what the Go toolchain recorded in the binary: the module version of
// `go install github.com/onfact/onfact-dropbox@v1.2.3`, and the git revision of a go build in
// a checkout (not with -buildvcs=false, and never for go run or go test).
func buildVersion() (string, string) {
	info, _ := debug.ReadBuildInfo()
	return resolveVersion(version, commit, info)
}

// resolveVersion keeps v and c where the build set them (they differ from main.go's defaults
// "dev" and "none") and fills the others from info, which may be nil. The commit is
// shortened to 12 digits and marked "-dirty" for a build of a modified work tree, the way
// the Makefile writes it.
func resolveVersion(v, c string, info *debug.BuildInfo) (string, string) {
	if info == nil {
		return v, c
	}
	if mv := info.Main.Version; v == "dev" && mv != "" && mv != "(devel)" {
		v = strings.TrimPrefix(mv, "v")
	}
	if c != "none" {
		return v, c
	}
	var rev string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v, c
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return v, rev
}
