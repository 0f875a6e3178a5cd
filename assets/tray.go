package assets

import _ "embed"

//go:generate go run gen_trayicons.go

// The tray icons (64x64 PNG), one per state at a glance: the app icon with its badge
// redrawn — a green check when everything is sent, a blue arrow while sending, a grey pause
// when paused, an orange "!" when something needs the user. gen_trayicons.go draws them
// from icon.png.
var (
	//go:embed tray-synced.png
	TraySynced []byte
	//go:embed tray-syncing.png
	TraySyncing []byte
	//go:embed tray-paused.png
	TrayPaused []byte
	//go:embed tray-attention.png
	TrayAttention []byte
)
