//go:build linux || freebsd || openbsd || netbsd

package ui

import "github.com/godbus/dbus/v5"

// watcherName is the bus name of the StatusNotifierItem host that shows tray icons (KDE,
// most desktops, GNOME with the AppIndicator extension); bare GNOME and i3 have none.
const watcherName = "org.kde.StatusNotifierWatcher"

// TrayHost reports whether a tray icon will be shown: on the session bus someone owns
// org.kde.StatusNotifierWatcher. Without a session bus there is no tray either.
func TrayHost() bool {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	ok, err := trayHostOn(conn)
	return err == nil && ok
}

// trayHostOn asks the bus conn is connected to whether the tray host's name has an owner.
func trayHostOn(conn *dbus.Conn) (bool, error) {
	var has bool
	err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has)
	return has, err
}
