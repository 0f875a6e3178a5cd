// Package demo sets up everything the app needs to run offline for someone trying it: an
// emulated Dropbox on loopback that approves connections by itself, a throwaway settings
// folder, and an export folder with generated onFact-like documents. The real engine then
// syncs them, so a newcomer sees the whole flow without a Dropbox app key.
package demo

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

// AppKey is the app key the demo's emulated Dropbox knows.
const AppKey = "onfact-demo"

// Email is the e-mail address of the demo's Dropbox account; dropboxemu.AccountID(Email)
// is its account ID.
const Email = "demo@onfact.be"

// Demo is a running demo environment.
type Demo struct {
	// Dir is the throwaway settings folder (config.json, state.db).
	Dir string
	// Export is the generated export folder.
	Export string
	// Auth points connecting and refreshing at the emulated Dropbox.
	Auth auth.Config
	// Emulator is the emulated Dropbox, for tests and the smoke test's checks.
	Emulator *dropboxemu.Server
	// Account is the emulated account's ID.
	Account string

	srv  *http.Server
	root string
}

// Start creates the folders under a new temporary directory, fills the export folder with
// documents, and starts the emulated Dropbox on a free loopback port.
func Start() (*Demo, error) {
	root, err := os.MkdirTemp("", "onfact-dropbox-demo-")
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{Dir: filepath.Join(root, "settings"), Export: filepath.Join(root, "onFact export"), root: root}
	if err := Documents(d.Export, 24, time.Now()); err != nil {
		d.Close()
		return nil, err
	}
	emu, err := dropboxemu.New(dropboxemu.Options{AutoApprove: true, Faults: dropboxemu.Faults{Latency: 40 * time.Millisecond}})
	if err != nil {
		d.Close()
		return nil, err
	}
	emu.RegisterApp(dropboxemu.App{Key: AppKey, Name: "onFact Dropbox Sync", RedirectURIs: auth.RedirectURIs()})
	d.Account, err = emu.AddAccount(dropboxemu.AccountInfo{Email: Email, GivenName: "Demo", Surname: "Gebruiker"})
	if err != nil {
		d.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	d.Emulator = emu
	d.srv = &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "demo: emulated Dropbox stopped:", err)
		}
	}()
	dbx, err := auth.DropboxAt("http://" + ln.Addr().String())
	if err != nil {
		d.Close()
		return nil, err
	}
	d.Auth = auth.Config{AppKey: AppKey, Dropbox: dbx}
	return d, nil
}

// Close stops the emulated Dropbox and deletes every demo folder.
func (d *Demo) Close() error {
	if d.srv != nil {
		d.srv.Close()
	}
	if d.Emulator != nil {
		d.Emulator.Close()
	}
	return os.RemoveAll(d.root)
}
