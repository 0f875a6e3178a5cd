package autostart

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// Variables, not constants, so a Windows test can point them at a scratch key instead of the
// real Run key of whoever runs the tests.
var (
	runKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// approvedKey is where Task Manager's Startup tab records that the user switched an entry
	// off, without touching the Run value itself.
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Enable sets the Run value to the quoted exe path (Windows paths cannot contain a double
// quote, so quoting is only needed for spaces, as in "C:\Program Files\..."). It also clears
// a Task Manager "disabled" mark, because the user switching the setting on in the app means
// they want it to run.
func (e Entry) Enable(exe string) error {
	if err := checkExe(exe); err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("enable autostart: open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(appName, `"`+exe+`"`); err != nil {
		return fmt.Errorf("enable autostart: set HKCU\\%s\\%s: %w", runKey, appName, err)
	}
	if err := deleteValue(approvedKey); err != nil {
		return fmt.Errorf("enable autostart: %w", err)
	}
	return nil
}

// Disable deletes the Run value and any Task Manager mark; missing ones are not an error.
func (e Entry) Disable() error {
	for _, key := range []string{runKey, approvedKey} {
		if err := deleteValue(key); err != nil {
			return fmt.Errorf("disable autostart: %w", err)
		}
	}
	return nil
}

// Enabled reports whether the Run value exists and Task Manager has not switched it off.
func (e Entry) Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check autostart: open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(appName); errors.Is(err, registry.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("check autostart: read HKCU\\%s\\%s: %w", runKey, appName, err)
	}

	a, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("check autostart: open HKCU\\%s: %w", approvedKey, err)
	}
	defer a.Close()
	mark, _, err := a.GetBinaryValue(appName)
	if errors.Is(err, registry.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("check autostart: read HKCU\\%s\\%s: %w", approvedKey, appName, err)
	}
	// The first byte is 0x02 (or 0x06) when enabled and 0x03 (or 0x07) when the user
	// disabled the entry: an odd first byte means off. Undocumented, but stable since
	// Windows 8 and what every startup manager reads.
	return len(mark) == 0 || mark[0]&1 == 0, nil
}

func deleteValue(key string) error {
	k, err := registry.OpenKey(registry.CURRENT_USER, key, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open HKCU\\%s: %w", key, err)
	}
	defer k.Close()
	if err := k.DeleteValue(appName); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("delete HKCU\\%s\\%s: %w", key, appName, err)
	}
	return nil
}
