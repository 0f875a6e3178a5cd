package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/onfact/onfact-dropbox/internal/porttest"
)

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// TestMain keeps the app's loopback OAuth ports to this package while its tests run (the
// smoke test's binary connects through them), then removes the binary the tests built.
func TestMain(m *testing.M) {
	code := porttest.Run(m)
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// binary builds the real onfact-dropbox binary once per test run (the Fyne build is slow)
// and returns its path. The tests run it as a user would: a separate process.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "onfact-dropbox-bin-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "onfact-dropbox")
		built.out, built.err = exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return built.path
}
