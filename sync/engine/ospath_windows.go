package engine

import (
	"path/filepath"
	"strings"
)

// osPath is the form of an absolute path that Windows takes literally: the \\?\ form, in
// which reserved names (CON.pdf, aux.xml), trailing dots and spaces, and lengths past
// MAX_PATH are names like any other. In their ordinary Win32 form CON.pdf opens the
// console and "factuur.pdf." is another file's name, so documents with such names would be
// read wrongly or not at all.
func osPath(p string) string {
	switch {
	case strings.HasPrefix(p, `\\?\`), !filepath.IsAbs(p):
		return p
	case strings.HasPrefix(p, `\\`): // \\server\share\...
		return `\\?\UNC\` + filepath.Clean(p)[2:]
	}
	return `\\?\` + filepath.Clean(p)
}
