package app

import (
	"os"
	"testing"

	"github.com/onfact/onfact-dropbox/internal/porttest"
)

// TestMain keeps the app's loopback OAuth ports to this package while its tests run.
func TestMain(m *testing.M) { os.Exit(porttest.Run(m)) }
