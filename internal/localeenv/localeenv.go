// Package localeenv keeps Fyne from logging "Error parsing user locale C" on every start
// where the locale is C.UTF-8 or POSIX.UTF-8 (cron, ssh, services, containers).
//
// Fyne's lang package reads the locale in its package init, before main runs, through
// go-locale: the first of LC_ALL, LC_MESSAGES and LANG, then LANGUAGE. go-locale treats
// exactly "C" and "POSIX" as "no locale", but passes "C.UTF-8" on as the language "C",
// which is no language tag, and Fyne logs that on stderr, into every headless command's
// output. Setting LANGUAGE=C makes go-locale see "no locale", which is what C.UTF-8 means;
// gettext-based programs started from here read it the same way (LANGUAGE is ignored under
// the C locale, and a "C" catalog does not exist), so child processes are not affected.
//
// The fix must run before Fyne's init. Go initializes packages in import-path order among
// those whose imports are done (the spec, since Go 1.21); this package imports only
// syscall, so it is ready long before anything that imports os, and Fyne's lang needs os.
// main imports it for its side effect; TestNoFyneLocaleNoise (the real binary) checks it.
package localeenv

import "syscall"

func init() { Fix() }

// Fix sets LANGUAGE=C when the locale that decides messages is C or POSIX with a charset
// or modifier ("C.UTF-8", "POSIX@euro") and LANGUAGE is empty. It is exported for tests;
// the package's init calls it.
func Fix() {
	if v, _ := syscall.Getenv("LANGUAGE"); v != "" {
		return // go-locale returns LANGUAGE's list, which is a language
	}
	loc := ""
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, _ := syscall.Getenv(k); v != "" {
			loc = v
			break
		}
	}
	if loc == "C" || loc == "POSIX" || !isCLocale(loc) {
		return
	}
	_ = syscall.Setenv("LANGUAGE", "C") // if it fails, Fyne's line is all we lose
}

// isCLocale reports whether loc is C or POSIX followed by a charset or modifier.
func isCLocale(loc string) bool {
	for _, base := range []string{"C", "POSIX"} {
		if len(loc) > len(base) && loc[:len(base)] == base && (loc[len(base)] == '.' || loc[len(base)] == '@') {
			return true
		}
	}
	return false
}
