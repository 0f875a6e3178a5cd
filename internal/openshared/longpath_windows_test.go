package openshared

import (
	"strings"
	"testing"
)

func TestLongPath(t *testing.T) {
	long := `C:\` + strings.Repeat(`x\`, 130)
	tests := []struct{ in, want string }{
		{`C:\short`, `C:\short`},
		{long, `\\?\` + long},
		{`\\?\` + long, `\\?\` + long},
		{`\\server\share\` + long[3:], `\\?\UNC\server\share\` + long[3:]},
		{strings.Repeat(`x\`, 130), strings.Repeat(`x\`, 130)}, // relative: \\?\ cannot carry it
	}
	for _, tt := range tests {
		if got := LongPath(tt.in); got != tt.want {
			t.Errorf("LongPath(%.20q…) = %.30q…, want %.30q…", tt.in, got, tt.want)
		}
	}
}
