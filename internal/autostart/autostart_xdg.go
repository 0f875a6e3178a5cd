//go:build !windows && !darwin

package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

const fileName = appID + ".desktop"

// defaultDir is $XDG_CONFIG_HOME/autostart, or ~/.config/autostart when it is unset, as the
// XDG Autostart spec says; os.UserConfigDir implements exactly that lookup.
func defaultDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find autostart directory: %w", err)
	}
	return filepath.Join(dir, "autostart"), nil
}

func content(exe string) []byte { return desktopEntry(exe) }

func fileEnabled(b []byte) bool { return desktopEnabled(b) }
