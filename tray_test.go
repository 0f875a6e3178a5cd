//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"

	"github.com/onfact/onfact-dropbox/assets"
	"github.com/onfact/onfact-dropbox/ui"
)

// These tests drive the real tray of the real binary on Linux: the test plays the desktop's
// tray host (it owns org.kde.StatusNotifierWatcher), reads the menu the app exports over
// com.canonical.dbusmenu, clicks it, and watches the X server (Xvfb under
// scripts/desktop-session.sh) for the windows that appear.
//
// Each test starts a D-Bus daemon of its own and points the app at it, so the watcher name
// is never shared: not between these two tests, and not with tests of other packages that
// `go test ./...` runs at the same time on the session bus (ui's TestTrayHostOnPrivateBus
// takes the same name there).

// trayCallDeadline bounds one D-Bus call to the app, so a hung app fails the test.
const trayCallDeadline = 30 * time.Second

const (
	sniWatcherName = "org.kde.StatusNotifierWatcher"
	sniWatcherPath = dbus.ObjectPath("/StatusNotifierWatcher")
	sniItemIface   = "org.kde.StatusNotifierItem"
	dbusmenuIface  = "com.canonical.dbusmenu"
	menuSeparator  = "---"
)

// TestTrayMenuOverDBus starts the app with a tray host present, checks it registers its
// StatusNotifierItem and exports the menu tray.go builds (in Dutch, the default), clicks
// Open and sees the main window appear, then clicks Quit and sees the process exit cleanly.
func TestTrayMenuOverDBus(t *testing.T) {
	addr := privateBus(t)
	conn := trayConnect(t, addr)
	w := ownSNIWatcher(t, conn)
	app := startApp(t, addr, "--demo")
	words := trayWords(t, "tray", "nl")
	wizardTitle := trayWords(t, "wizard", "nl")["wizard.title"]

	// The app registers its item once its tray has started.
	var item trayItem
	select {
	case item = <-w.registered:
	case <-app.exited:
		t.Fatalf("the app exited before registering a tray item: %v", app.err)
	case <-time.After(appStartDeadline):
		t.Fatalf("no StatusNotifierItem registered with the watcher within %v", appStartDeadline)
	}
	var pid uint32
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, item.service).Store(&pid); err != nil {
		t.Fatalf("pid of %s: %v", item.service, err)
	}
	if int(pid) != app.cmd.Process.Pid {
		t.Fatalf("the tray item was registered by pid %d, not by the app (pid %d)", pid, app.cmd.Process.Pid)
	}

	ctx, cancel := context.WithTimeout(t.Context(), trayCallDeadline)
	defer cancel()
	var v dbus.Variant
	err := conn.Object(item.service, item.path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, sniItemIface, "Menu").Store(&v)
	if err != nil {
		t.Fatalf("read the item's Menu property: %v", err)
	}
	menuPath, ok := v.Value().(dbus.ObjectPath)
	if !ok || !menuPath.IsValid() {
		t.Fatalf("the item's Menu property is %v, not an object path", v)
	}
	menu := trayMenu{obj: conn.Object(item.service, menuPath)}

	// The menu is filled in after the item registered (Fyne refreshes it on its main loop),
	// so poll until it reads as tray.go builds it: no Dropbox is connected in a fresh demo,
	// so Sync now, Check now and Pause are disabled, and our own Quit is last (no second one from Fyne).
	want := []dbusmenuEntry{
		{Label: words["tray.status.empty"]},
		{Label: menuSeparator},
		{Label: words["tray.menu.open"], Enabled: true},
		{Label: words["tray.menu.syncnow"]},
		{Label: words["tray.menu.check"]},
		{Label: words["tray.menu.pause"]},
		{Label: words["tray.menu.add"], Enabled: true},
		{Label: menuSeparator},
		{Label: words["tray.menu.quit"], Enabled: true},
	}
	app.waitFor(t, "tray menu "+fmt.Sprint(want), appStartDeadline, func() (bool, error) {
		_, root, err := menu.layout()
		if err != nil {
			return false, err
		}
		if got := root.entries(); fmt.Sprint(got) != fmt.Sprint(want) {
			return false, fmt.Errorf("the menu reads %v", got)
		}
		return true, nil
	})

	// A first start has no Dropbox, so the wizard opens on its own; the main window stays
	// hidden: with a tray the app lives there until someone clicks Open.
	app.waitFor(t, "wizard window "+strconv.Quote(wizardTitle), appWindowDeadline, func() (bool, error) {
		return app.shown(wizardTitle)
	})
	if shown, err := app.shown(ui.Title); err != nil || shown {
		t.Fatalf("the main window shows before Open was clicked (err %v)", err)
	}

	menu.click(t, words["tray.menu.open"])
	app.waitFor(t, "main window "+strconv.Quote(ui.Title), appWindowDeadline, func() (bool, error) {
		return app.shown(ui.Title)
	})

	menu.click(t, words["tray.menu.quit"])
	app.waitExit(t)
}

// TestTrayAbsentShowsMainWindow starts the app where no tray host exists (bare GNOME, i3):
// the main window must show as a normal window at start, or the app would run invisibly.
func TestTrayAbsentShowsMainWindow(t *testing.T) {
	addr := privateBus(t)
	conn := trayConnect(t, addr)
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, sniWatcherName).Store(&owned); err != nil || owned {
		t.Fatalf("%s is owned on a fresh private bus (err %v)", sniWatcherName, err)
	}
	app := startApp(t, addr, "--demo")
	app.window(t, ui.Title)
}

// trayConnect opens a connection to the bus at addr, closed when the test ends.
func trayConnect(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// trayItem is a StatusNotifierItem as registered with the watcher: the unique bus name of
// the process that serves it and the object path it lives at.
type trayItem struct {
	service string
	path    dbus.ObjectPath
}

// sniWatcher is the least of a StatusNotifierWatcher (the tray host's side of the protocol)
// that fyne.io/systray needs: it calls RegisterStatusNotifierItem with its object path when
// the tray starts and again whenever the watcher's name changes owner. The methods are
// called on godbus's goroutines.
type sniWatcher struct {
	conn       *dbus.Conn
	props      *prop.Properties
	registered chan trayItem
}

// RegisterStatusNotifierItem is org.kde.StatusNotifierWatcher.RegisterStatusNotifierItem.
// service is an object path on the caller's connection (what systray sends) or a bus name
// whose item lives at the default path.
func (w *sniWatcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	it := trayItem{service: string(sender), path: "/StatusNotifierItem"}
	if strings.HasPrefix(service, "/") {
		it.path = dbus.ObjectPath(service)
	} else {
		it.service = service
	}
	id := it.service + string(it.path)
	w.props.SetMust(sniWatcherName, "RegisteredStatusNotifierItems", []string{id})
	w.conn.Emit(sniWatcherPath, sniWatcherName+".StatusNotifierItemRegistered", id)
	select {
	case w.registered <- it:
	default: // a repeated registration; the test reads the first
	}
	return nil
}

// RegisterStatusNotifierHost is org.kde.StatusNotifierWatcher.RegisterStatusNotifierHost;
// the test is the only host and is always registered.
func (w *sniWatcher) RegisterStatusNotifierHost(service string) *dbus.Error { return nil }

// ownSNIWatcher exports a watcher at /StatusNotifierWatcher on conn and takes its well-known
// name, which tells the app a tray host is present. The name is released when the test ends.
func ownSNIWatcher(t *testing.T, conn *dbus.Conn) *sniWatcher {
	t.Helper()
	w := &sniWatcher{conn: conn, registered: make(chan trayItem, 1)}
	if err := conn.Export(w, sniWatcherPath, sniWatcherName); err != nil {
		t.Fatal(err)
	}
	props, err := prop.Export(conn, sniWatcherPath, prop.Map{
		sniWatcherName: {
			"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitTrue},
			"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitTrue},
			"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitTrue},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.props = props
	reply, err := conn.RequestName(sniWatcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request %s: reply %v, %v", sniWatcherName, reply, err)
	}
	t.Cleanup(func() { conn.ReleaseName(sniWatcherName) })
	return w
}

// dbusmenuEntry is one item of the tray menu as a tray host shows it: its label (menuSeparator
// for a separator) and whether it can be clicked.
type dbusmenuEntry struct {
	Label   string
	Enabled bool
}

func (e dbusmenuEntry) String() string {
	if e.Label == menuSeparator || e.Enabled {
		return strconv.Quote(e.Label)
	}
	return strconv.Quote(e.Label) + "(disabled)"
}

// dbusmenuNode is a com.canonical.dbusmenu layout, (ia{sv}av): an item's id, its properties and
// its children.
type dbusmenuNode struct {
	id       int32
	props    map[string]dbus.Variant
	children []dbusmenuNode
}

// entries lists n's direct children as a tray host shows them; hidden items are left out.
func (n dbusmenuNode) entries() []dbusmenuEntry {
	var out []dbusmenuEntry
	for _, c := range n.children {
		if v, ok := c.props["visible"]; ok && v.Value() == false {
			continue
		}
		if v, ok := c.props["type"]; ok && v.Value() == "separator" {
			out = append(out, dbusmenuEntry{Label: menuSeparator})
			continue
		}
		e := dbusmenuEntry{Enabled: true}
		if v, ok := c.props["enabled"]; ok && v.Value() == false {
			e.Enabled = false
		}
		if v, ok := c.props["label"]; ok {
			e.Label, _ = v.Value().(string)
		}
		out = append(out, e)
	}
	return out
}

// find returns the id of n's visible child labelled label.
func (n dbusmenuNode) find(label string) (int32, bool) {
	for _, c := range n.children {
		if v, ok := c.props["visible"]; ok && v.Value() == false {
			continue
		}
		if v, ok := c.props["label"]; ok && v.Value() == label {
			return c.id, true
		}
	}
	return 0, false
}

// decodeDbusmenu turns a layout as godbus decodes it from a variant ([]any of id, properties
// and children) into a dbusmenuNode.
func decodeDbusmenu(v any) (dbusmenuNode, error) {
	f, ok := v.([]any)
	if !ok || len(f) != 3 {
		return dbusmenuNode{}, fmt.Errorf("menu layout %#v is not (ia{sv}av)", v)
	}
	id, ok1 := f[0].(int32)
	props, ok2 := f[1].(map[string]dbus.Variant)
	kids, ok3 := f[2].([]dbus.Variant)
	if !ok1 || !ok2 || !ok3 {
		return dbusmenuNode{}, fmt.Errorf("menu layout %#v is not (ia{sv}av)", v)
	}
	n := dbusmenuNode{id: id, props: props}
	for _, k := range kids {
		c, err := decodeDbusmenu(k.Value())
		if err != nil {
			return dbusmenuNode{}, err
		}
		n.children = append(n.children, c)
	}
	return n, nil
}

// trayMenu is the app's menu object, read and clicked over com.canonical.dbusmenu as a tray
// host does.
type trayMenu struct {
	obj dbus.BusObject
}

// call calls method of com.canonical.dbusmenu on the app's menu.
func (m trayMenu) call(method string, args ...any) *dbus.Call {
	ctx, cancel := context.WithTimeout(context.Background(), trayCallDeadline)
	defer cancel()
	return m.obj.CallWithContext(ctx, dbusmenuIface+"."+method, 0, args...)
}

// layout reads the whole menu and its revision.
func (m trayMenu) layout() (uint32, dbusmenuNode, error) {
	call := m.call("GetLayout", int32(0), int32(-1), []string{})
	if call.Err != nil {
		return 0, dbusmenuNode{}, fmt.Errorf("GetLayout: %w", call.Err)
	}
	if len(call.Body) != 2 {
		return 0, dbusmenuNode{}, fmt.Errorf("GetLayout returned %d values, want 2", len(call.Body))
	}
	rev, ok := call.Body[0].(uint32)
	if !ok {
		return 0, dbusmenuNode{}, fmt.Errorf("GetLayout revision %#v is not a uint32", call.Body[0])
	}
	root, err := decodeDbusmenu(call.Body[1])
	return rev, root, err
}

// click sends a "clicked" event to the item labelled label, as a tray host does when the
// user picks it. An item's id changes whenever the app rebuilds its menu and a click on a
// stale id is dropped, so when the revision moved around the click it is sent again.
func (m trayMenu) click(t *testing.T, label string) {
	t.Helper()
	for range 5 {
		rev, root, err := m.layout()
		if err != nil {
			t.Fatalf("read the menu to click %q: %v", label, err)
		}
		id, ok := root.find(label)
		if !ok {
			t.Fatalf("no item %q in the menu %v", label, root.entries())
		}
		err = m.call("Event", id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
		if err != nil {
			t.Fatalf("click %q: %v", label, err)
		}
		// The reply comes after the click was handed on, so a revision read now tells
		// whether the id was still current. An error here means the app is going away,
		// which Quit does.
		if after, _, err := m.layout(); err != nil || after == rev {
			return
		}
	}
	t.Fatalf("the menu kept changing while clicking %q", label)
}

// trayWords reads the app's words for area ("tray", "wizard") in lang from the embedded
// translation files, so the test follows the translators. Plural messages are left out.
func trayWords(t *testing.T, area, lang string) map[string]string {
	t.Helper()
	b, err := assets.Translations.ReadFile("translations/" + area + "/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s/%s.json: %v", area, lang, err)
	}
	words := map[string]string{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			words[k] = s
		}
	}
	return words
}

// TestTrayHostArrivesLater starts the app before any tray host, as at a login where the
// desktop's panel comes up after the apps: the main window shows at first, and once a tray
// host appears the app registers its tray item there and its window hides on close.
func TestTrayHostArrivesLater(t *testing.T) {
	addr := privateBus(t)
	conn := trayConnect(t, addr)
	app := startApp(t, addr, "--demo")
	app.window(t, ui.Title)

	w := ownSNIWatcher(t, conn)
	select {
	case <-w.registered:
	case <-app.exited:
		t.Fatalf("the app exited before registering a tray item: %v", app.err)
	case <-time.After(appStartDeadline):
		t.Fatalf("no StatusNotifierItem registered within %v of the tray host appearing", appStartDeadline)
	}
	app.waitFor(t, "the app to move to the tray", appStartDeadline, func() (bool, error) {
		return strings.Contains(app.out.String(), "a tray appeared"), nil
	})
}
