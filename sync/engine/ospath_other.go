//go:build !windows

package engine

// osPath is p: only Windows has paths that must be spelled out to be taken literally.
func osPath(p string) string { return p }
