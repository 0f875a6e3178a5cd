//go:build !windows

package winetest

// wineKey is false off Windows: Wine runs Windows binaries only.
func wineKey() bool { return false }
