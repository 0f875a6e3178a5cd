package autostart

import (
	"encoding/xml"
	"testing"
)

// TestLaunchAgentPlist runs on every OS, so the macOS entry is checked in Linux CI too.
func TestLaunchAgentPlist(t *testing.T) {
	for _, exe := range []string{
		"/Applications/onFact Dropbox Sync.app/Contents/MacOS/onfact-dropbox",
		`/Users/a&b/<odd> "dir"/app`,
	} {
		var doc struct {
			Dict struct {
				Items []struct {
					XMLName xml.Name
					Value   string   `xml:",chardata"`
					Strings []string `xml:"string"`
				} `xml:",any"`
			} `xml:"dict"`
		}
		if err := xml.Unmarshal(launchAgent(exe), &doc); err != nil {
			t.Fatalf("plist for %q is not well-formed XML: %v", exe, err)
		}
		got := map[string]string{}
		var key string
		for _, it := range doc.Dict.Items {
			switch it.XMLName.Local {
			case "key":
				key = it.Value
			case "array":
				if len(it.Strings) != 1 {
					t.Fatalf("%s has %d elements, want 1", key, len(it.Strings))
				}
				got[key] = it.Strings[0]
			default:
				got[key] = it.XMLName.Local + ":" + it.Value
			}
		}
		want := map[string]string{
			"Label":                  "string:be.onfact.dropboxsync",
			"ProgramArguments":       exe,
			"RunAtLoad":              "true:",
			"LimitLoadToSessionType": "string:Aqua",
			"ProcessType":            "string:Interactive",
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
	}
}
