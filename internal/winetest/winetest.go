// Package winetest tells tests whether they run under Wine, so the few that meet a gap of
// Wine (not of Windows) can skip and say which. scripts/wine-test.sh runs the Windows test
// binaries there; the README ("Tested on Windows") lists the tests that skip.
//
// It is for tests only.
package winetest

import (
	"os"
	"testing"
)

// Detected reports whether the process runs under Wine: scripts/wine-test.sh sets
// ONFACT_UNDER_WINE=1, and a binary run by hand is recognised by the registry key every
// Wine prefix has (HKLM\Software\Wine). Always false off Windows.
func Detected() bool {
	return os.Getenv("ONFACT_UNDER_WINE") == "1" || wineKey()
}

// Skip skips t under Wine, saying why: why names the Wine gap, so the skip is not mistaken
// for one on real Windows.
func Skip(t testing.TB, why string) {
	t.Helper()
	if Detected() {
		t.Skip("under Wine: " + why)
	}
}
