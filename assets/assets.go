// Package assets holds the files the app embeds: icons now, translations later.
package assets

import _ "embed"

// Icon is the application icon (256x256 PNG), used for windows, the tray and packaging.
//
//go:embed icon.png
var Icon []byte
