// Package porttest lets tests take the app's fixed loopback OAuth ports (auth.LoopbackPorts)
// one test process at a time. `go test ./...` runs packages in parallel, and the wizard, the
// CLI, the app and the real binary all connect through the same three ports, as a user's
// app does; without this, one package's connect would find its ports taken by another's
// and fail or fall back for reasons that have nothing to do with the code under test.
//
// It is for tests only: use it from TestMain,
//
//	func TestMain(m *testing.M) { os.Exit(porttest.Run(m)) }
package porttest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Run holds the machine-wide lock while m runs and returns m's exit code.
func Run(m *testing.M) int {
	unlock, err := lock(filepath.Join(os.TempDir(), "onfact-dropbox-test-ports.lock"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "porttest:", err)
		return 1
	}
	defer unlock()
	return m.Run()
}
