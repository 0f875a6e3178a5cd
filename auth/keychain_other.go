//go:build !(linux || freebsd || openbsd || netbsd || dragonfly)

package auth

// keychainReachable is always nil here: Windows and macOS reach their keychain without a
// session bus.
func keychainReachable() error { return nil }
