//go:build !windows && !darwin

package autostart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// parseEntry reads the keys of the [Desktop Entry] group, the way a session manager would.
func parseEntry(t *testing.T, b []byte) map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if lines[0] != "[Desktop Entry]" {
		t.Fatalf("first line = %q, want [Desktop Entry]", lines[0])
	}
	keys := map[string]string{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("line %q is not key=value", l)
		}
		if _, dup := keys[k]; dup {
			t.Fatalf("duplicate key %s", k)
		}
		keys[k] = v
	}
	return keys
}

// unquoteExec decodes a one-argument Exec value as the Desktop Entry spec does: string
// escapes first, then the double-quote rules, then %% to %. It is written independently of
// the encoder so the round trip checks the spec, not the code against itself.
func unquoteExec(t *testing.T, v string) string {
	t.Helper()
	var s strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			s.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case 's':
			s.WriteByte(' ')
		case 'n':
			s.WriteByte('\n')
		case 't':
			s.WriteByte('\t')
		case 'r':
			s.WriteByte('\r')
		case '\\':
			s.WriteByte('\\')
		default:
			t.Fatalf("invalid string escape \\%c in %q", v[i], v)
		}
	}
	q := s.String()
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		t.Fatalf("Exec argument %q is not double-quoted", q)
	}
	q = q[1 : len(q)-1]
	var arg strings.Builder
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '\\':
			i++
			switch q[i] {
			case '"', '`', '$', '\\':
				arg.WriteByte(q[i])
			default:
				t.Fatalf("invalid quoted escape \\%c in %q", q[i], q)
			}
		case '"', '`', '$':
			t.Fatalf("unescaped %c inside quotes in %q", c, q)
		case '%':
			if i+1 >= len(q) || q[i+1] != '%' {
				t.Fatalf("lone %% (field code) in %q", q)
			}
			i++
			arg.WriteByte('%')
		default:
			arg.WriteByte(c)
		}
	}
	return arg.String()
}

func TestEnableWritesDesktopEntry(t *testing.T) {
	for _, tc := range []struct{ name, exe string }{
		{"plain", "/usr/bin/onfact-dropbox"},
		{"spaces", "/home/an na/My Apps/onFact Dropbox Sync/onfact-dropbox"},
		{"quotes", `/opt/"odd" 'dir'/app`},
		{"dollar and backtick", "/opt/$HOME/`x`/app"},
		{"backslash", `/opt/back\slash/app`},
		{"percent", "/opt/100%/app %f"},
		{"tilde and shell chars", "/opt/~a;b|c&d<e>f*g?h#i(j)/app"},
		{"unicode", "/home/zoë/Documenten/onFact/app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Entry{Dir: filepath.Join(t.TempDir(), "autostart")} // not yet created
			if err := e.Enable(tc.exe); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(e.Dir, "be.onfact.dropboxsync.desktop"))
			if err != nil {
				t.Fatal(err)
			}
			keys := parseEntry(t, b)
			for k, want := range map[string]string{
				"Type":                      "Application",
				"Name":                      "onFact Dropbox Sync",
				"Terminal":                  "false",
				"X-GNOME-Autostart-enabled": "true",
			} {
				if keys[k] != want {
					t.Errorf("%s = %q, want %q", k, keys[k], want)
				}
			}
			if got := unquoteExec(t, keys["Exec"]); got != tc.exe {
				t.Errorf("Exec %q decodes to %q, want %q", keys["Exec"], got, tc.exe)
			}
		})
	}
}

func TestExecMatchesSpecExamples(t *testing.T) {
	// The spec's own statement: a literal $ in a quoted argument is `\\$` in the file.
	got := parseEntry(t, desktopEntry("/a$b"))["Exec"]
	if want := `"/a\\$b"`; got != want {
		t.Errorf("Exec = %s, want %s", got, want)
	}
	got = parseEntry(t, desktopEntry(`/a\b`))["Exec"]
	if want := `"/a\\\\b"`; got != want {
		t.Errorf("Exec = %s, want %s", got, want)
	}
}

func TestEnableDisableEnabled(t *testing.T) {
	e := Entry{Dir: t.TempDir()}
	path := filepath.Join(e.Dir, "be.onfact.dropboxsync.desktop")
	check := func(want bool) {
		t.Helper()
		got, err := e.Enabled()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("Enabled() = %v, want %v", got, want)
		}
	}

	check(false)
	if err := e.Disable(); err != nil { // nothing to remove
		t.Fatalf("Disable without entry: %v", err)
	}
	for range 2 { // idempotent
		if err := e.Enable("/opt/onfact/app"); err != nil {
			t.Fatal(err)
		}
		check(true)
	}
	// A second Enable with a new path (the app moved) replaces the entry.
	if err := e.Enable("/opt/new place/app"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if got := unquoteExec(t, parseEntry(t, b)["Exec"]); got != "/opt/new place/app" {
		t.Errorf("Exec after re-enable = %q", got)
	}
	entries, _ := os.ReadDir(e.Dir)
	if len(entries) != 1 {
		t.Errorf("autostart dir holds %d files, want 1 (temp file left behind?)", len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
	for range 2 {
		if err := e.Disable(); err != nil {
			t.Fatal(err)
		}
		check(false)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry still there after Disable: %v", err)
	}
}

func TestEnabledHonoursDesktopSwitch(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          bool
	}{
		{"ours", string(desktopEntry("/opt/app")), true},
		{"hidden", "[Desktop Entry]\nType=Application\nExec=/opt/app\nHidden=true\n", false},
		{"gnome off", "[Desktop Entry]\nType=Application\nExec=/opt/app\nX-GNOME-Autostart-enabled=false\n", false},
		{"gnome off with spaces", "[Desktop Entry]\nX-GNOME-Autostart-enabled = false\n", false},
		{"key in other group", "[Desktop Entry]\nExec=/opt/app\n[Desktop Action x]\nHidden=true\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Entry{Dir: t.TempDir()}
			if err := os.WriteFile(filepath.Join(e.Dir, fileName), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := e.Enabled()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Enabled() = %v, want %v", got, tc.want)
			}
			// Switching it on in the app overrides the desktop's switch.
			if err := e.Enable("/opt/app"); err != nil {
				t.Fatal(err)
			}
			if on, _ := e.Enabled(); !on {
				t.Error("Enabled() = false after Enable")
			}
		})
	}
}

func TestDefaultDirFollowsXDG(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)

	t.Setenv("XDG_CONFIG_HOME", "")
	if err := Enable("/opt/app"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "autostart", fileName)); err != nil {
		t.Errorf("entry not in ~/.config/autostart: %v", err)
	}

	cfg := filepath.Join(t.TempDir(), "cfg")
	t.Setenv("XDG_CONFIG_HOME", cfg)
	if on, err := Enabled(); err != nil || on {
		t.Errorf("Enabled() with a fresh XDG_CONFIG_HOME = %v, %v; want false", on, err)
	}
	if err := Enable("/opt/app"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg, "autostart", fileName)); err != nil {
		t.Errorf("entry not in $XDG_CONFIG_HOME/autostart: %v", err)
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || on {
		t.Errorf("Enabled() after Disable = %v, %v", on, err)
	}
}

func TestEnableRejectsRelativePath(t *testing.T) {
	e := Entry{Dir: t.TempDir()}
	for _, exe := range []string{"", "onfact-dropbox", "./bin/onfact-dropbox"} {
		if err := e.Enable(exe); err == nil {
			t.Errorf("Enable(%q) succeeded, want error", exe)
		}
	}
	if entries, _ := os.ReadDir(e.Dir); len(entries) != 0 {
		t.Errorf("rejected Enable left %d files", len(entries))
	}
}
