package engine

import (
	"regexp"
	"strings"
)

// reasons holds every reason the engine gives for a document that is not in Dropbox (a
// record's Failure, the feed's message, a problem of the status), as an English template
// whose {Name} placeholders take the values. The engine writes the English text, which the
// store, the log and the command line keep; the window says it in the user's language
// (Reason finds the template and values a text was made from). A text is parsed rather than
// stored with its key so that the records of earlier versions, which hold the same texts,
// are translated too. Changing a template's text leaves older records in English.
var reasons = map[string]string{
	"read.permission": "cannot be read: no permission. Ask whoever manages this computer to give read access",
	"read.too_long":   "cannot be read: the name is too long for this system. Give it a shorter name",
	"read.busy":       "cannot be read: another program has it locked. It is tried again later",
	"read.io":         "cannot be read: the disk or network share reported an error. Check the connection to the share",
	"read.other":      "cannot be read ({Error})",

	"dropbox.disallowed_name": "Dropbox does not accept this file name",
	"dropbox.malformed_path":  "Dropbox does not accept this path: rename the file or its folder",
	"dropbox.path_too_long":   "the path is too long for Dropbox: shorten the folder or file names",
	"dropbox.conflict_folder": "a folder with the same name is in the way in Dropbox",
	"dropbox.conflict_file":   "a file in Dropbox is in the way of this path",
	"dropbox.too_large":       "the file is larger than Dropbox allows",
	"dropbox.no_permission":   "no permission to write this folder in Dropbox",
	"dropbox.restricted":      "Dropbox restricts access to this folder",
	"dropbox.encrypted":       "Dropbox cannot store this file in an encrypted folder",
	"dropbox.properties":      "Dropbox refused the file's properties",
	"dropbox.shared_folders":  "the file is in too many shared folders",
	"dropbox.unknown":         "Dropbox refused this file for a reason this version does not know ({Code}); it is tried again when the file changes",
	"dropbox.refused":         "Dropbox refused the file ({Code})",
	"room.full":               "does not fit in the Dropbox: free up space (or upgrade), then sync again",
	"room.short":              "does not fit in the Dropbox: it needs {Need} and {Free} is free. Free up {Missing} (or upgrade), then sync again",
}

var placeholder = regexp.MustCompile(`\{([A-Z][A-Za-z]*)\}`)

// reasonText is the reason key says, its placeholders filled from values (pairs of name
// and value, in any order).
func reasonText(key string, values ...string) string {
	t, ok := reasons[key]
	if !ok {
		panic("engine: no reason " + key) // a typo in the engine, caught by its tests
	}
	for i := 0; i+1 < len(values); i += 2 {
		t = strings.ReplaceAll(t, "{"+values[i]+"}", values[i+1])
	}
	return t
}

// reasonPatterns match the texts of the templates that have placeholders.
var reasonPatterns = func() map[string]*regexp.Regexp {
	m := map[string]*regexp.Regexp{}
	for key, t := range reasons {
		if placeholder.MatchString(t) {
			parts := placeholder.Split(t, -1)
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			m[key] = regexp.MustCompile("^" + strings.Join(parts, "(.*?)") + "$")
		}
	}
	return m
}()

// Reason finds the template a reason's text was made from: its key (as in reasons) and
// the values of its placeholders, as pairs of name and value. ok is false for a text made
// otherwise (an error's own words), which is then shown as it is.
func Reason(text string) (key string, values []string, ok bool) {
	for key, t := range reasons {
		if t == text {
			return key, nil, true
		}
	}
	for key, re := range reasonPatterns {
		m := re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		names := placeholder.FindAllStringSubmatch(reasons[key], -1)
		for i, n := range names {
			values = append(values, n[1], m[i+1])
		}
		return key, values, true
	}
	return "", nil, false
}
