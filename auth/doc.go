// Package auth connects a Dropbox account: the OAuth2 PKCE flow in the browser with a
// loopback redirect, a refreshing token source, and token storage in the OS keychain.
// It is GUI-free; the wizard and the engine use it.
package auth
