package autostart

import (
	"bufio"
	"bytes"
	"strings"
)

// desktopEntry is the XDG autostart entry that starts exe.
func desktopEntry(exe string) []byte {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Name=" + escapeString(appName) + "\n")
	b.WriteString("Exec=" + escapeString(quoteExecArg(exe)) + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return []byte(b.String())
}

// quoteExecArg quotes one argument of an Exec key as the Desktop Entry spec requires:
// always in double quotes (allowed for any argument, and needed for paths with spaces),
// with `"`, "`", "$" and "\" backslash-escaped inside, and "%" doubled because a single
// one would start a field code such as %f.
func quoteExecArg(arg string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range arg {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// escapeString applies the spec's escapes for values of type string. They are undone before
// the Exec quoting rules, so a backslash from quoteExecArg must be doubled again here: the
// spec's own example is a literal "$" written as `\\$` in the file.
func escapeString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	return r.Replace(s)
}

// desktopEnabled reports whether an autostart entry is active. Desktops switch an entry off
// by setting Hidden=true or X-GNOME-Autostart-enabled=false in the user's copy rather than
// deleting it, so the file existing is not enough.
func desktopEnabled(content []byte) bool {
	s := bufio.NewScanner(bytes.NewReader(content))
	inMain := false
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "[") {
			inMain = line == "[Desktop Entry]"
			continue
		}
		if !inMain {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case key == "Hidden" && value == "true":
			return false
		case key == "X-GNOME-Autostart-enabled" && value == "false":
			return false
		}
	}
	return true
}
