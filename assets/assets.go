// Package assets holds the files the app embeds: icons and translations.
package assets

import (
	"embed"
	_ "embed"
)

// Icon is the application icon (256x256 PNG), used for windows, the tray and packaging.
//
//go:embed icon.png
var Icon []byte

// Translations holds the app's words in translations/<area>/<lang>.json (go-i18n's JSON
// format), one folder per part of the GUI so they can grow apart; translations/fyne/nl.json
// gives Fyne's own widget words in Dutch, which Fyne 2.7 does not ship.
//
//go:embed translations
var Translations embed.FS
