package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

const fileName = appID + ".plist"

// defaultDir is ~/Library/LaunchAgents, which launchd reads at every login. The agent is not
// loaded with launchctl now: that would start a second copy while this one runs.
func defaultDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find LaunchAgents directory: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents"), nil
}

func content(exe string) []byte { return launchAgent(exe) }

// fileEnabled is always true: a LaunchAgent the user switched off in System Settings is
// recorded by launchd, not in the file, and there is no stable API for reading it.
func fileEnabled([]byte) bool { return true }
