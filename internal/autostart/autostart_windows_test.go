package autostart

import (
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestRunValue uses scratch keys so running the tests never changes the tester's real
// startup programs.
func TestRunValue(t *testing.T) {
	base := `Software\onFact\autostart-test`
	oldRun, oldApproved := runKey, approvedKey
	runKey, approvedKey = base+`\Run`, base+`\Approved`
	t.Cleanup(func() {
		runKey, approvedKey = oldRun, oldApproved
		registry.DeleteKey(registry.CURRENT_USER, base+`\Run`)
		registry.DeleteKey(registry.CURRENT_USER, base+`\Approved`)
		registry.DeleteKey(registry.CURRENT_USER, base)
	})

	var e Entry
	exe := `C:\Program Files\onFact Dropbox Sync\onfact-dropbox.exe`
	if on, err := e.Enabled(); err != nil || on {
		t.Fatalf("Enabled() before Enable = %v, %v", on, err)
	}
	for range 2 {
		if err := e.Enable(exe); err != nil {
			t.Fatal(err)
		}
	}
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := k.GetStringValue("onFact Dropbox Sync")
	k.Close()
	if err != nil || v != `"`+exe+`"` {
		t.Fatalf("Run value = %q, %v; want the quoted path", v, err)
	}
	if on, err := e.Enabled(); err != nil || !on {
		t.Fatalf("Enabled() after Enable = %v, %v", on, err)
	}

	// Task Manager switching it off shows as disabled; Enable switches it back on.
	a, _, err := registry.CreateKey(registry.CURRENT_USER, approvedKey, registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	a.SetBinaryValue("onFact Dropbox Sync", []byte{3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	a.Close()
	if on, _ := e.Enabled(); on {
		t.Error("Enabled() = true although Task Manager disabled it")
	}
	if err := e.Enable(exe); err != nil {
		t.Fatal(err)
	}
	if on, _ := e.Enabled(); !on {
		t.Error("Enabled() = false after re-Enable")
	}

	for range 2 {
		if err := e.Disable(); err != nil {
			t.Fatal(err)
		}
	}
	if on, err := e.Enabled(); err != nil || on {
		t.Fatalf("Enabled() after Disable = %v, %v", on, err)
	}
}
