package present

import (
	"path"
	"sort"
	"strings"
	"time"

	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// LineKind is the icon of a line of the activity feed.
type LineKind int

// The kinds of line.
const (
	LineSent       LineKind = iota // sent to Dropbox
	LineExisting                   // found in Dropbox already
	LineIncomplete                 // sent, but it does not look complete
	LineFailed                     // not in Dropbox
	LineRepaired                   // sent again: a check found it missing or changed in Dropbox
)

var lineKindNames = [...]string{"sent", "existing", "incomplete", "failed", "repaired"}

func (k LineKind) String() string {
	if int(k) < len(lineKindNames) {
		return lineKindNames[k]
	}
	return "unknown"
}

// FeedEntry is one activity entry of a connection, for Feed.
type FeedEntry struct {
	ConnID, ConnName string
	store.Activity
}

// Line is one line of the activity feed, which reads like a log a person scans: one
// document, or a burst of documents handled together ("39 documenten verzonden").
type Line struct {
	Kind LineKind
	// Title is the file name, or the burst in words.
	Title string
	// Detail says where it went in Dropbox, or why it is not there, and the connection.
	Detail string
	// When is Relative to the clock given to Feed (of the newest entry of a burst).
	When string
	// Problem reports a line the "only problems" filter keeps.
	Problem bool
	// Entries are the line's entries: one, or the burst's, newest first.
	Entries []FeedEntry
}

// Burst reports whether the line stands for several entries.
func (l Line) Burst() bool { return len(l.Entries) > 1 }

// Bursts: at least burstMin entries of one connection and one kind (sent, or found in
// Dropbox), each within burstGap of the next, are one line.
const (
	burstMin = 3
	burstGap = 2 * time.Minute
)

// Feed makes the lines of the activity feed from every connection's entries, newest first:
// bursts grouped, problems never (each says what is wrong with its document); with
// problemsOnly, only the problems. appFolder is the app folder's name in Dropbox.
func Feed(entries []FeedEntry, appFolder string, problemsOnly bool, now time.Time) []Line {
	sorted := make([]FeedEntry, 0, len(entries))
	for _, e := range entries {
		if problemsOnly && !isProblem(e.Kind) {
			continue
		}
		sorted = append(sorted, e)
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Time.After(sorted[j].Time) })
	var out []Line
	for i := 0; i < len(sorted); {
		j := i + 1
		if groups(sorted[i].Kind) {
			for j < len(sorted) && sorted[j].ConnID == sorted[i].ConnID && sorted[j].Kind == sorted[i].Kind &&
				sorted[j-1].Time.Sub(sorted[j].Time) <= burstGap {
				j++
			}
		}
		if j-i >= burstMin {
			out = append(out, burst(sorted[i:j], appFolder, now))
		} else {
			for _, e := range sorted[i:j] {
				out = append(out, Single(e, appFolder, now))
			}
		}
		i = j
	}
	return out
}

func isProblem(kind string) bool { return kind == engine.ActFailed || kind == engine.ActIncomplete }

func groups(kind string) bool { return kind == engine.ActUploaded || kind == engine.ActExisting }

// Single is the line of one entry.
func Single(e FeedEntry, appFolder string, now time.Time) Line {
	file := path.Base(strings.ReplaceAll(e.Path, "\\", "/"))
	where := InDropbox(appFolder, path.Dir(e.RemotePath))
	l := Line{Title: file, When: Relative(e.Time, now), Entries: []FeedEntry{e}}
	switch e.Kind {
	case engine.ActUploaded:
		l.Kind, l.Detail = LineSent, i18n.T("feed.sent", "Folder", where)
	case engine.ActExisting:
		l.Kind, l.Detail = LineExisting, i18n.T("feed.existing", "Folder", where)
	case engine.ActIncomplete:
		l.Kind, l.Problem, l.Detail = LineIncomplete, true, i18n.T("feed.incomplete", "Folder", where)
	case engine.ActRepaired:
		l.Kind = LineRepaired
		switch e.Message {
		case store.CheckMissing:
			l.Detail = i18n.T("feed.repaired.missing")
		case store.CheckDifferent:
			l.Detail = i18n.T("feed.repaired.different")
		default:
			l.Detail = i18n.T("feed.repaired", "Folder", where)
		}
	case engine.ActFailed:
		l.Kind, l.Problem = LineFailed, true
		l.Detail = i18n.T("feed.failed")
		if e.Message != "" {
			l.Detail = i18n.T("feed.failed.reason", "Reason", Reason(e.Message))
		}
	default:
		l.Detail = e.Kind
	}
	l.Detail += " · " + e.ConnName
	return l
}

// burst is the line of entries of one connection and kind, newest first.
func burst(es []FeedEntry, appFolder string, now time.Time) Line {
	n := len(es)
	l := Line{Kind: LineSent, When: Relative(es[0].Time, now), Entries: append([]FeedEntry(nil), es...)}
	key := "feed.burst.sent"
	if es[0].Kind == engine.ActExisting {
		l.Kind, key = LineExisting, "feed.burst.existing"
	}
	l.Title = i18n.N(key, n, "Number", Number(n))
	folders := map[string]bool{}
	for _, e := range es {
		folders[path.Dir(e.RemotePath)] = true
	}
	switch {
	case l.Kind == LineExisting:
		l.Detail = i18n.T("feed.burst.in", "Folder", InDropbox(appFolder, commonDir(es)))
	case len(folders) == 1:
		l.Detail = i18n.T("feed.burst.folder", "Folder", InDropbox(appFolder, path.Dir(es[0].RemotePath)))
	default:
		l.Detail = i18n.N("feed.burst.folders", len(folders), "Folder", InDropbox(appFolder, commonDir(es)))
	}
	l.Detail += " · " + es[0].ConnName
	return l
}

// commonDir is the deepest folder that holds every entry's Dropbox path.
func commonDir(es []FeedEntry) string {
	common := strings.Split(path.Dir(es[0].RemotePath), "/")
	for _, e := range es[1:] {
		parts := strings.Split(path.Dir(e.RemotePath), "/")
		k := 0
		for k < len(common) && k < len(parts) && common[k] == parts[k] {
			k++
		}
		common = common[:k]
	}
	return strings.Join(common, "/")
}

// Reason says a reason the engine gave for a document not in Dropbox in the user's
// language (engine.Reason finds its template), or as it is when the text is not one of
// the engine's reasons (an error's own words) or has no translation.
func Reason(text string) string {
	key, values, ok := engine.Reason(text)
	if !ok {
		return text
	}
	data := make([]any, len(values))
	for i, v := range values {
		data[i] = v
	}
	id := "reason." + key
	if s := i18n.T(id, data...); s != id {
		return s
	}
	return text
}
