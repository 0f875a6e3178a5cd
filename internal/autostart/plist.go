package autostart

import (
	"bytes"
	"encoding/xml"
)

// launchAgent is the LaunchAgent property list that starts exe at login.
// ProgramArguments takes the path as one array element, so it needs XML escaping only,
// never shell quoting. KeepAlive is left off so quitting the app keeps it quit, and
// LimitLoadToSessionType keeps it out of ssh sessions, where there is no menu bar.
func launchAgent(exe string) []byte {
	var path bytes.Buffer
	_ = xml.EscapeText(&path, []byte(exe)) // writes to a bytes.Buffer cannot fail
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + appID + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + path.String() + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`)
}
