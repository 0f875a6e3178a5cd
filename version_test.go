package main

import (
	"runtime/debug"
	"testing"
)

func TestResolveVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev},
			{Key: "vcs.modified", Value: modified},
		}
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name         string
		v, c         string
		info         *debug.BuildInfo
		wantV, wantC string
	}{
		{"no build info", "dev", "none", nil, "dev", "none"},
		{"set by ldflags wins", "1.2.3", "abc", &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}, Settings: vcs(rev, "true")},
			"1.2.3", "abc"},
		{"go install module@version", "dev", "none", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}},
			"1.4.0", "none"},
		{"go build in a clean checkout", "dev", "none", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")},
			"dev", "0123456789ab"},
		{"go build in a modified checkout", "dev", "none", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")},
			"dev", "0123456789ab-dirty"},
		{"only the version set by ldflags", "0.1.0", "none", &debug.BuildInfo{Settings: vcs(rev, "false")},
			"0.1.0", "0123456789ab"},
		{"short revision kept whole", "dev", "none", &debug.BuildInfo{Settings: vcs("abc1234", "false")},
			"dev", "abc1234"},
		{"no vcs, no module version", "dev", "none", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			"dev", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, c := resolveVersion(tt.v, tt.c, tt.info)
			if v != tt.wantV || c != tt.wantC {
				t.Errorf("resolveVersion(%q, %q) = %q, %q; want %q, %q", tt.v, tt.c, v, c, tt.wantV, tt.wantC)
			}
		})
	}
}

// TestBuildVersion checks the wiring: a test binary has no -X flags, so it reports the
// defaults or what the toolchain recorded, never empty strings.
func TestBuildVersion(t *testing.T) {
	v, c := buildVersion()
	if v == "" || c == "" {
		t.Errorf("buildVersion() = %q, %q; want both set", v, c)
	}
}
