package watcher

import (
	"fmt"
	"path"
	"strings"

	"github.com/onfact/onfact-dropbox/internal/layout"
)

// Ignored reports whether a file or directory with this base name is never reported and
// never watched: the built-in rules of layout.Ignored (hidden names, Office and download
// temporaries, system files), which the wizard's preview shows too, or one of the extra
// patterns (path.Match syntax on the base name). Matching ignores case, because export
// folders often live on Windows or macOS file systems that do. A malformed pattern matches
// nothing; New rejects such patterns up front.
//
// The engine's scanner calls Ignored too, so the watcher and the scanner agree on what
// exists.
func Ignored(name string, extra []string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	if layout.Ignored(name) {
		return true
	}
	lower := strings.ToLower(name)
	for _, p := range extra {
		if ok, _ := path.Match(strings.ToLower(p), lower); ok {
			return true
		}
	}
	return false
}

// ignoredPath reports whether any element of the slash-separated relative path rel is ignored.
// Events only come from directories the watcher chose to watch, so checking the base name
// would do; checking every element keeps a stale or unexpected event from slipping through.
func ignoredPath(rel string, extra []string) bool {
	for rel != "." && rel != "" {
		dir, name := path.Split(rel)
		if Ignored(name, extra) {
			return true
		}
		rel = strings.TrimSuffix(dir, "/")
	}
	return false
}

// checkPatterns rejects patterns that can never match a base name.
func checkPatterns(patterns []string) error {
	for _, p := range patterns {
		if strings.Contains(p, "/") {
			return fmt.Errorf("ignore pattern %q: patterns match a base name and cannot contain /", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("ignore pattern %q: %w", p, err)
		}
	}
	return nil
}
