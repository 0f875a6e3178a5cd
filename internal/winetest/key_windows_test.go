package winetest

import (
	"os"
	"testing"
)

// TestWineKey checks that a test binary run under Wine by hand, without the script's
// ONFACT_UNDER_WINE, still knows it: the script sets the variable and runs this in a Wine
// prefix, which always has the key.
func TestWineKey(t *testing.T) {
	if os.Getenv("ONFACT_UNDER_WINE") != "1" {
		t.Skip("not run by scripts/wine-test.sh: whether this is Wine is what is unknown")
	}
	if !wineKey() {
		t.Error(`HKLM\Software\Wine not found in a Wine prefix`)
	}
}
