//go:build linux || freebsd || openbsd || netbsd

package ui

import (
	"os"
	"testing"

	"github.com/godbus/dbus/v5"
)

// TestTrayHostOnPrivateBus needs a private session bus (scripts/desktop-session.sh starts
// one): nobody owns the tray host's name there until the test takes it.
func TestTrayHostOnPrivateBus(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no session bus in CI: run the tests under scripts/desktop-session.sh")
		}
		t.Skip("no session bus; run under scripts/desktop-session.sh")
	}
	if TrayHost() {
		t.Fatal("a tray host is reported on a bus where nobody owns " + watcherName)
	}
	owner, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	reply, err := owner.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request %s: %v %v", watcherName, reply, err)
	}
	if !TrayHost() {
		t.Fatal("no tray host reported while the test owns " + watcherName)
	}
	if _, err := owner.ReleaseName(watcherName); err != nil {
		t.Fatal(err)
	}
	if TrayHost() {
		t.Fatal("a tray host is still reported after the name was released")
	}
}
