//go:build !unix

package engine

import "testing"

// asUnprivileged skips permission cases where chmod does not take read access away
// (Windows keeps it in ACLs, which these tests do not set).
func asUnprivileged(t *testing.T) bool {
	t.Skip("chmod does not remove read access on this system")
	return false
}
