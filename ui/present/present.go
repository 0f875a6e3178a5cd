// Package present turns the engine's status snapshots and activity entries into the words
// and the icon kinds the tray and the main window show (a connection's card: card.go; the
// last check of Dropbox too; the activity feed: feed.go), and offers the choices of a
// connection (choices.go). It imports no GUI toolkit: every function is pure (the clock is
// a parameter) except FolderProblem, which looks at the disk, so it is table-tested without
// a display.
package present

import (
	"strings"
	"time"

	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// Kind is the tray icon's state at a glance.
type Kind int

// The kinds, each with its own tray icon.
const (
	KindSynced    Kind = iota // everything sent
	KindSyncing               // starting, looking for documents or sending
	KindPaused                // paused by the user
	KindAttention             // something needs the user (or Dropbox is unreachable)
)

var kindNames = [...]string{"synced", "syncing", "paused", "attention"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Tray is what the tray shows: the icon kind, the menu's status line and the tooltip.
type Tray struct {
	Kind Kind
	// Status is the one-line summary at the top of the tray menu.
	Status string
	// Tooltip is the product name, the summary and, with several connections, one line per
	// connection.
	Tooltip string
	// Repaired is "Laatste controle: 3 documenten opnieuw verzonden" while the last check of
	// some connection sent documents again ("" otherwise); Status and Tooltip include it.
	Repaired string
	// Paused reports whether the menu offers Resume instead of Pause.
	Paused bool
	// Empty reports that no Dropbox is linked yet.
	Empty bool
}

// attentionOrder ranks the problems: the first one found in this order is the status line.
var attentionOrder = []engine.State{engine.StateNeedsReconnect, engine.StateFolderMissing,
	engine.StateDropboxFull, engine.StateRefused, engine.StateError}

// TrayView summarizes every connection's status for the tray. paused is the app's "all
// paused" flag (app.App.Paused); a snapshot where every connection is paused counts too.
func TrayView(st []engine.Status, paused bool) Tray {
	title := i18n.T("app.title")
	if len(st) == 0 {
		line := i18n.T("tray.status.empty")
		return Tray{Kind: KindAttention, Status: line, Tooltip: title + "\n" + line, Empty: true}
	}
	allPaused := true
	for _, s := range st {
		if s.State != engine.StatePaused {
			allPaused = false
		}
	}
	v := Tray{Paused: paused || allPaused}
	v.Kind, v.Status = summary(st, v.Paused)
	v.Tooltip = title + "\n" + v.Status
	if v.Repaired = repairedLine(st); v.Repaired != "" {
		v.Status += " · " + v.Repaired
		v.Tooltip += "\n" + v.Repaired
	}
	if len(st) > 1 {
		for _, s := range st {
			v.Tooltip += "\n" + s.Name + ": " + StateText(s)
		}
	}
	return v
}

// repairedLine counts the documents the last check of each connection sent again.
func repairedLine(st []engine.Status) string {
	n := 0
	for _, s := range st {
		if s.Check != nil {
			n += s.Check.Repaired
		}
	}
	if n == 0 {
		return ""
	}
	return i18n.N("tray.status.repaired", n)
}

func summary(st []engine.Status, paused bool) (Kind, string) {
	for _, want := range attentionOrder {
		for _, s := range st {
			if s.State == want {
				return KindAttention, problemLine(s)
			}
		}
	}
	if paused {
		return KindPaused, i18n.T("tray.status.paused")
	}
	var busy, scanning, starting, offline bool
	var done, total, failed int
	for _, s := range st {
		switch s.State {
		case engine.StateUploading:
			busy = true
			done += s.Done
			total += s.Total
		case engine.StateScanning:
			scanning = true
		case engine.StateStarting:
			starting = true
		case engine.StateOffline:
			offline = true
		}
		failed += s.Failed
	}
	switch {
	case offline:
		return KindAttention, i18n.T("tray.status.offline")
	case busy && total > 0:
		return KindSyncing, i18n.N("tray.status.progress", total, "Done", done)
	case busy, scanning:
		return KindSyncing, i18n.T("tray.status.scanning")
	case starting:
		return KindSyncing, i18n.T("tray.status.starting")
	case failed > 0:
		return KindAttention, i18n.N("tray.status.failed", failed)
	}
	return KindSynced, i18n.T("tray.status.synced")
}

// problemLine names the connection and what is wrong with it, in one line.
func problemLine(s engine.Status) string {
	switch s.State {
	case engine.StateNeedsReconnect:
		return i18n.T("tray.status.reconnect", "Name", s.Name)
	case engine.StateDropboxFull:
		return i18n.T("tray.status.full", "Name", s.Name)
	case engine.StateFolderMissing:
		return i18n.T("tray.status.folder", "Name", s.Name)
	case engine.StateRefused:
		return i18n.T("tray.status.refused", "Name", s.Name)
	}
	return i18n.T("tray.status.error", "Name", s.Name)
}

// stateKeys are the messages of the states; any other is an error.
var stateKeys = map[engine.State]string{
	engine.StateStarting:       "state.starting",
	engine.StateScanning:       "state.scanning",
	engine.StateUploading:      "state.uploading",
	engine.StateIdle:           "state.idle",
	engine.StatePaused:         "state.paused",
	engine.StateOffline:        "state.offline",
	engine.StateNeedsReconnect: "state.reconnect",
	engine.StateDropboxFull:    "state.full",
	engine.StateFolderMissing:  "state.folder",
	engine.StateRefused:        "state.refused",
	engine.StateStopped:        "state.stopped",
}

// StateText is one connection's state in plain words, with the progress while sending.
func StateText(s engine.Status) string {
	if s.State == engine.StateUploading && s.Total > 0 {
		return i18n.N("state.uploading.progress", s.Total, "Done", s.Done)
	}
	if s.State == engine.StateIdle && s.Failed > 0 {
		return i18n.N("state.idle.problems", s.Failed) // never "everything is in sync" then
	}
	if key, ok := stateKeys[s.State]; ok {
		return i18n.T(key)
	}
	return i18n.T("state.error")
}

// Row is one connection in the main window's list, in words.
type Row struct {
	ID, Name string
	// State is StateText.
	State string
	// LastSync is e.g. "Laatst gesynchroniseerd: 2 minuten geleden".
	LastSync string
	// Counts lists what waits and what Dropbox refused ("" when nothing does).
	Counts string
	// ETA is the time left of the current run ("" when unknown or idle).
	ETA string
	// Warning is a problem that does not stop syncing, e.g. degraded live watching.
	Warning string
	// Attention, NeedsReconnect and Paused drive which actions stand out.
	Attention, NeedsReconnect, Paused bool
}

// ConnectionRow describes one connection's status as of now.
func ConnectionRow(s engine.Status, now time.Time) Row {
	r := Row{ID: s.ID, Name: s.Name, State: StateText(s), Warning: s.Warning,
		Attention: s.State.Attention(), NeedsReconnect: s.State == engine.StateNeedsReconnect,
		Paused: s.State == engine.StatePaused}
	if s.LastSync.IsZero() {
		r.LastSync = i18n.T("row.lastsync.never")
	} else {
		r.LastSync = i18n.T("row.lastsync", "When", Relative(s.LastSync, now))
	}
	var counts []string
	if s.Queued > 0 {
		counts = append(counts, i18n.N("row.queued", s.Queued))
	}
	if s.Failed > 0 {
		counts = append(counts, i18n.N("row.failed", s.Failed))
	}
	r.Counts = strings.Join(counts, ", ")
	if s.State == engine.StateUploading && s.ETA > 0 {
		r.ETA = Remaining(s.ETA)
	}
	return r
}

// Relative says how long ago t was, as of now: "zonet", "2 minuten geleden", "3 uur
// geleden", "gisteren", "4 dagen geleden".
func Relative(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return i18n.T("time.now")
	case d < time.Hour:
		return i18n.N("time.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		return i18n.N("time.hours", int(d/time.Hour))
	case d < 48*time.Hour:
		return i18n.T("time.yesterday")
	}
	return i18n.N("time.days", int(d/(24*time.Hour)))
}

// Remaining says how much time is left, rounded up: "nog minder dan een minuut", "nog
// ongeveer 3 minuten", "nog ongeveer 2 uur".
func Remaining(d time.Duration) string {
	switch {
	case d < time.Minute:
		return i18n.T("eta.soon")
	case d < 90*time.Minute:
		return i18n.N("eta.minutes", int((d+time.Minute-1)/time.Minute))
	}
	return i18n.N("eta.hours", int((d+time.Hour/2)/time.Hour))
}

// Notification is a desktop notification.
type Notification struct {
	Title, Body string
}

// Notifications decides what deserves a notification between two snapshots: a connection
// that now needs reconnecting, whose Dropbox is now full or whose export folder is now gone
// (also at the first snapshot, so a problem found at start is told), and a connection whose
// first full copy has just completed. Anything else stays quiet.
func Notifications(old, cur []engine.Status) []Notification {
	prev := make(map[string]engine.Status, len(old))
	for _, s := range old {
		prev[s.ID] = s
	}
	var out []Notification
	for _, s := range cur {
		p, had := prev[s.ID]
		if !had || p.State != s.State {
			switch s.State {
			case engine.StateNeedsReconnect:
				out = append(out, Notification{i18n.T("notify.reconnect.title", "Name", s.Name), i18n.T("notify.reconnect.body")})
			case engine.StateDropboxFull:
				out = append(out, Notification{i18n.T("notify.full.title", "Name", s.Name), i18n.T("notify.full.body")})
			case engine.StateFolderMissing:
				out = append(out, Notification{i18n.T("notify.folder.title", "Name", s.Name), i18n.T("notify.folder.body")})
			case engine.StateRefused:
				out = append(out, Notification{i18n.T("notify.refused.title", "Name", s.Name), i18n.T("notify.refused.body", "Message", s.Detail)})
			}
		}
		switch {
		case !had || p.InitialCopyDone || !s.InitialCopyDone:
		case s.Failed > 0: // never "all documents are in Dropbox" while some are not
			out = append(out, Notification{i18n.N("notify.copied.problems.title", s.Failed, "Name", s.Name), i18n.T("notify.copied.problems.body")})
		default:
			out = append(out, Notification{i18n.T("notify.copied.title", "Name", s.Name), i18n.T("notify.copied.body")})
		}
	}
	return out
}
