package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
)

// Connect connects the demo's Dropbox account as a person would in the browser (the
// emulated Dropbox approves by itself), saves the token in tokens, and returns a
// connection named name for the demo's export folder, ready for app.App.Add. Tests use it
// to get a connected app without the wizard.
func (d *Demo) Connect(ctx context.Context, name string, tokens auth.TokenStore) (config.Connection, error) {
	res, err := d.Auth.Connect(ctx, auth.Options{Language: "nl",
		OpenBrowser: func(ctx context.Context, u string) error { return Browse(ctx, u) }})
	if err != nil {
		return config.Connection{}, fmt.Errorf("demo: connect: %w", err)
	}
	c := config.Connection{ID: config.NewID(), Name: name, Folder: d.Export, Structure: "year-type",
		Company: "Demo BV", Language: "nl", AccountID: res.Account.ID, AccountName: res.Account.Name,
		AccountEmail: res.Account.Email}
	if err := tokens.Save(c.ID, res.Token); err != nil {
		return config.Connection{}, fmt.Errorf("demo: connect: %w", err)
	}
	return c, nil
}

// Browse plays the browser on the authorize address u: it follows the emulated Dropbox's
// redirect to the app's loopback listener.
func Browse(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browse %s: %s", u, resp.Status)
	}
	return nil
}
