package winetest

import "syscall"

// wineKey reports whether HKLM\Software\Wine exists, which Wine creates in every prefix
// and Windows never has.
func wineKey() bool {
	var k syscall.Handle
	name, _ := syscall.UTF16PtrFromString(`Software\Wine`)
	if syscall.RegOpenKeyEx(syscall.HKEY_LOCAL_MACHINE, name, 0, syscall.KEY_READ, &k) != nil {
		return false
	}
	syscall.RegCloseKey(k)
	return true
}
