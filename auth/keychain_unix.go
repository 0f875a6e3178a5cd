//go:build linux || freebsd || openbsd || netbsd || dragonfly

package auth

import (
	"fmt"
	"os"
	"path/filepath"
)

// keychainReachable reports ErrKeychainUnreachable when there is no session bus to reach
// the Secret Service on. go-keyring connects through godbus, which, finding no bus
// address, runs dbus-launch: that starts a dbus-daemon of its own, which no keychain
// answers on ("failed to unlock correct collection 'login'"), and which outlives the
// command, one more for every run from cron, ssh or a service. This mirrors godbus's own
// discovery (DBUS_SESSION_BUS_ADDRESS, then the systemd user bus and the dbus-session file
// in /run/user/<uid>), so go-keyring is only called where it will not autolaunch.
func keychainReachable() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	run := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(run, name)); err == nil {
			return nil
		}
	}
	return ErrKeychainUnreachable
}
