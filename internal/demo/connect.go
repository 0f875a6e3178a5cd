package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Browse plays the browser on the authorize address u: it follows the emulated Dropbox's
// redirect to the app's loopback listener. The app's SelfApprove in demo mode, so the demo
// connects on a computer without a browser; tests use it as the person's browser.
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
