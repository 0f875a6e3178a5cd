package present

import (
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// CardKind is a connection's state at a glance: the icon and the colour of its card.
type CardKind int

// The kinds of card, from all safe to needs you.
const (
	CardSafe     CardKind = iota // every document is in Dropbox
	CardBusy                     // starting, checking or sending
	CardPaused                   // paused by the user, or stopped
	CardOffline                  // Dropbox cannot be reached: trying again by itself
	CardProblems                 // up to date, except documents that are not in Dropbox
	CardNeedsYou                 // nothing is sent until the user acts (Fix says how)
)

var cardKindNames = [...]string{"safe", "busy", "paused", "offline", "problems", "needs-you"}

func (k CardKind) String() string {
	if int(k) < len(cardKindNames) {
		return cardKindNames[k]
	}
	return "unknown"
}

// Fix is the one action that gets a connection going again.
type Fix int

// The fixes.
const (
	FixNone      Fix = iota
	FixReconnect     // link the Dropbox again
	FixFreeSpace     // open Dropbox to free up space
	FixFolder        // choose the export folder again
	FixRetry         // try again now
	FixProblems      // show the documents that are not in Dropbox
)

// Card is what a connection's card says at its top, in words.
type Card struct {
	Kind CardKind
	// Headline is the state in one line: "Alles staat veilig in Dropbox", "Verzenden: 12
	// van 340 documenten", "Moet opnieuw gekoppeld worden".
	Headline string
	// Detail is the second line: what to do, the time left, or when it last synced.
	Detail string
	// Progress is the share of the run confirmed by Dropbox, 0 to 1, while sending; it is
	// negative when there is no run to show.
	Progress float64
	// InDropbox is "1.234 documenten in Dropbox", or that they are being counted.
	InDropbox string
	// Waiting is "4 documenten wachten" while nothing is being sent ("" when none wait).
	Waiting string
	// Problems is "2 problemen" ("" when there are none): the documents not in Dropbox.
	Problems string
	// Fix is the action that stands out, FixText its button's words.
	Fix     Fix
	FixText string
	// Warning is a problem that does not stop syncing, e.g. degraded live watching.
	Warning string
	// Check is what the last check of Dropbox found, or that one runs (CheckLine).
	Check string
	// Checking reports a check running: the card's Check now waits for it.
	Checking bool
	// Paused reports whether the card offers Resume instead of Pause.
	Paused bool
}

// etaMinDone is how many documents of a run Dropbox must have confirmed before its time
// left is told: the first ones include the start of the connection and say little.
const etaMinDone = 3

// ConnectionCard describes one connection's status as of now. inDropbox is the number of
// its documents in Dropbox (app.App.InDropbox); known is false while it is not counted yet.
// "Everything is in Dropbox" is said only when the state is idle and nothing failed.
func ConnectionCard(s engine.Status, inDropbox int, known bool, now time.Time) Card {
	c := Card{Headline: StateText(s), Progress: -1, Warning: s.Warning, Paused: s.State == engine.StatePaused,
		Check: CheckLine(s, now), Checking: s.Checking}
	if known {
		c.InDropbox = i18n.N("card.indropbox", inDropbox, "Number", Number(inDropbox))
	} else {
		c.InDropbox = i18n.T("card.indropbox.counting")
	}
	if s.Failed > 0 {
		c.Problems = i18n.N("card.problems", s.Failed, "Number", Number(s.Failed))
	}
	if s.Queued > 0 && s.State != engine.StateUploading {
		c.Waiting = i18n.N("row.queued", s.Queued)
	}
	lastSync := i18n.T("row.lastsync.never")
	if !s.LastSync.IsZero() {
		lastSync = i18n.T("row.lastsync", "When", Relative(s.LastSync, now))
	}
	switch s.State {
	case engine.StateIdle:
		c.Detail = lastSync
		if s.Failed > 0 {
			c.Kind, c.Fix, c.FixText = CardProblems, FixProblems, i18n.T("card.fix.problems")
		} else {
			c.Kind, c.Headline = CardSafe, i18n.T("card.safe")
		}
	case engine.StateStarting, engine.StateScanning:
		c.Kind, c.Detail = CardBusy, lastSync
	case engine.StateUploading:
		c.Kind = CardBusy
		if s.Total > 0 {
			c.Progress = min(1, float64(s.Done)/float64(s.Total))
		}
		switch {
		case s.ETA > 0 && s.Done >= etaMinDone:
			c.Detail = Remaining(s.ETA)
		case s.Total > 0:
			c.Detail = i18n.T("card.eta.unknown")
		}
	case engine.StatePaused, engine.StateStopped:
		c.Kind, c.Detail = CardPaused, lastSync
	case engine.StateOffline:
		c.Kind, c.Detail = CardOffline, lastSync
	case engine.StateNeedsReconnect:
		c.Kind, c.Detail, c.Fix, c.FixText = CardNeedsYou, i18n.T("card.reconnect.detail"), FixReconnect, i18n.T("window.reconnect")
	case engine.StateDropboxFull:
		c.Kind, c.Detail, c.Fix, c.FixText = CardNeedsYou, i18n.T("card.full.detail"), FixFreeSpace, i18n.T("card.fix.space")
	case engine.StateFolderMissing:
		c.Kind, c.Detail, c.Fix, c.FixText = CardNeedsYou, i18n.T("card.folder.detail"), FixFolder, i18n.T("card.fix.folder")
	case engine.StateRefused:
		c.Kind, c.Fix, c.FixText = CardNeedsYou, FixRetry, i18n.T("card.fix.retry")
		c.Detail = i18n.T("card.refused.detail")
		if s.Detail != "" {
			c.Detail = i18n.T("card.refused.says", "Message", s.Detail)
		}
	default: // StateError: most often the connection could not start (no access in the keychain)
		c.Kind, c.Detail, c.Fix, c.FixText = CardNeedsYou, i18n.T("card.error.detail"), FixReconnect, i18n.T("window.reconnect")
	}
	return c
}

// CheckLine says what the last check of Dropbox found ("Laatste controle: 12.345
// documenten, alle aanwezig (di 1 dec 20:15)"), that one runs, or why the last one could not
// finish; "" while the first copy runs and nothing was checked yet. "All present" is said
// only when every document the check judged was found in Dropbox as it was sent.
func CheckLine(s engine.Status, now time.Time) string {
	switch {
	case s.Checking:
		return i18n.T("card.check.running")
	case s.CheckError != "":
		return i18n.T("card.check.failed", "Reason", strings.TrimSuffix(s.CheckError, "."))
	case s.Check == nil && !s.InitialCopyDone:
		return ""
	case s.Check == nil:
		return i18n.T("card.check.never")
	}
	k := s.Check
	parts := []string{i18n.N("card.check.documents", k.Documents, "Number", Number(k.Documents))}
	if k.Repaired == 0 && k.Problems == 0 && k.Pending == 0 {
		parts = append(parts, i18n.N("card.check.allpresent", k.Documents))
	}
	for _, p := range []struct {
		key string
		n   int
	}{{"card.check.repaired", k.Repaired}, {"card.check.problems", k.Problems}, {"card.check.pending", k.Pending}} {
		if p.n > 0 {
			parts = append(parts, i18n.N(p.key, p.n, "Number", Number(p.n)))
		}
	}
	line := i18n.T("card.check.line", "Result", strings.Join(parts, ", "), "When", CheckTime(k.At, now))
	if k.Extra > 0 {
		line = i18n.T("card.check.also", "Line", line, "Extra", i18n.N("card.check.extra", k.Extra, "Number", Number(k.Extra)))
	}
	return line
}

// CheckTime is when a check ended, in now's time zone: "di 1 dec 20:15".
func CheckTime(t, now time.Time) string {
	t = t.In(now.Location())
	days := strings.Fields(i18n.T("time.weekdays"))
	months := strings.Fields(i18n.T("time.months"))
	day, month := t.Weekday().String(), t.Month().String()
	if len(days) == 7 {
		day = days[t.Weekday()]
	}
	if len(months) == 12 {
		month = months[t.Month()-1]
	}
	return i18n.T("card.check.when", "Weekday", day, "Day", t.Day(), "Month", month, "Time", t.Format("15:04"))
}

// Number writes n as the current language does: 1.234 (Dutch), 1 234 (French), 1,234
// (English).
func Number(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := "."
	switch i18n.Language() {
	case "fr":
		sep = "\u202f" // narrow no-break space
	case "en":
		sep = ","
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Apps is the folder of Dropbox under which each app folder is, in every language Dropbox
// speaks.
const Apps = "Apps"

// Location is where the documents of a connection mapped by l go in Dropbox, as its owner
// sees it there: "Apps/onFact/Bakkerij Janssens BV/2026/Facturen", the folder of an invoice
// of now's year. appFolder is the app folder's name (the name of the Dropbox app). A
// {customer} folder shows as "…": it differs per document.
func Location(appFolder string, l layout.Layout, now time.Time) string {
	f := layout.File{Path: "x.pdf", Doc: layout.Document{Type: layout.Invoice, Customer: "…",
		IssueDate: time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)}}
	return InDropbox(appFolder, path.Dir(l.Map(f)))
}

// InDropbox is a Dropbox path of the app folder (as the store and the activity keep it,
// "/Acme/2026/Facturen") as its owner sees it: "Apps/onFact/Acme/2026/Facturen".
func InDropbox(appFolder, remote string) string {
	return Apps + "/" + appFolder + strings.TrimSuffix("/"+strings.TrimPrefix(remote, "/"), "/")
}

// WebAddress is the page of dropbox.com that shows the folder remote of the app folder
// ("/Acme BV": https://www.dropbox.com/home/Apps/onFact/Acme%20BV).
func WebAddress(appFolder, remote string) string {
	u := url.URL{Scheme: "https", Host: "www.dropbox.com", Path: "/home/" + InDropbox(appFolder, remote)}
	return u.String()
}
