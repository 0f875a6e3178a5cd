// Package keychaintest gives tests the real keychain (the test session's gnome-keyring, see
// scripts/desktop-session.sh; the Credential Manager on Windows and under Wine) under a
// service of their own, and a way to see what it holds without going through the token
// store under test.
package keychaintest

import (
	"testing"

	"github.com/onfact/onfact-dropbox/auth"
	"github.com/onfact/onfact-dropbox/internal/config"
)

// New returns the real keychain under a service of the test's own, emptied when the test
// ends. Without a reachable keychain the test is skipped.
func New(t testing.TB) auth.Keychain {
	t.Helper()
	k := auth.Keychain{Service: "onfact-test-" + config.NewID()}
	if err := k.Check(); err != nil {
		t.Skipf("no keychain: %v (run inside scripts/desktop-session.sh)", err)
	}
	t.Cleanup(func() {
		for _, id := range Entries(t, k.Service) {
			k.Delete(id)
		}
	})
	return k
}
