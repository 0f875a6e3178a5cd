package present

import (
	"fmt"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

func TestConnectionCardDutch(t *testing.T) {
	i18n.SetLanguage("nl")
	sending := st("Acme", engine.StateUploading)
	sending.Done, sending.Total, sending.ETA = 120, 340, 3*time.Minute
	early := sending
	early.Done = 1
	problems := st("Acme", engine.StateIdle)
	problems.Failed = 2
	sendingWithProblems := sending
	sendingWithProblems.Failed = 1
	refused := st("Acme", engine.StateRefused)
	refused.Detail = "data transport limit reached"
	waiting := st("Acme", engine.StateOffline)
	waiting.Queued = 4
	for _, tc := range []struct {
		name     string
		in       engine.Status
		known    bool
		kind     CardKind
		headline string
		detail   string
		progress float64
		problems string
		fix      Fix
		fixText  string
		waiting  string
	}{
		{"all safe", st("Acme", engine.StateIdle), true, CardSafe, "Alles staat veilig in Dropbox",
			"Laatst gesynchroniseerd: 2 minuten geleden", -1, "", FixNone, "", ""},
		{"idle with problems is never safe", problems, true, CardProblems,
			"Bijgewerkt, behalve 2 documenten die niet in Dropbox staan", "Laatst gesynchroniseerd: 2 minuten geleden", -1,
			"2 problemen", FixProblems, "Problemen tonen", ""},
		{"sending", sending, true, CardBusy, "Bezig met verzenden: 120 van 340 documenten", "nog ongeveer 3 minuten",
			120.0 / 340, "", FixNone, "", ""},
		{"sending, too early for a time left", early, true, CardBusy, "Bezig met verzenden: 1 van 340 documenten",
			"De resterende tijd wordt berekend…", 1.0 / 340, "", FixNone, "", ""},
		{"sending with a problem", sendingWithProblems, true, CardBusy, "Bezig met verzenden: 120 van 340 documenten",
			"nog ongeveer 3 minuten", 120.0 / 340, "1 probleem", FixNone, "", ""},
		{"checking", st("Acme", engine.StateScanning), false, CardBusy, "Bezig met nakijken van de documenten",
			"Laatst gesynchroniseerd: 2 minuten geleden", -1, "", FixNone, "", ""},
		{"paused", st("Acme", engine.StatePaused), true, CardPaused, "Gepauzeerd",
			"Laatst gesynchroniseerd: 2 minuten geleden", -1, "", FixNone, "", ""},
		{"offline", waiting, true, CardOffline, "Geen verbinding met Dropbox – opnieuw proberen gaat vanzelf",
			"Laatst gesynchroniseerd: 2 minuten geleden", -1, "", FixNone, "", "4 documenten wachten"},
		{"needs reconnect", st("Acme", engine.StateNeedsReconnect), true, CardNeedsYou, "Moet opnieuw gekoppeld worden",
			"Dropbox geeft deze app geen toegang meer. Koppel opnieuw: er gaat niets verloren.", -1, "", FixReconnect, "Opnieuw koppelen", ""},
		{"full", st("Acme", engine.StateDropboxFull), true, CardNeedsYou, "Dropbox is vol – maak ruimte vrij",
			"Maak ruimte vrij in je Dropbox. Daarna gaat het verzenden vanzelf verder.", -1, "", FixFreeSpace, "Dropbox openen", ""},
		{"folder missing", st("Acme", engine.StateFolderMissing), true, CardNeedsYou, "De exportmap is niet gevonden",
			"Staat de map op een schijf of netwerkmap die nu niet bereikbaar is? Sluit die aan, of kies de map opnieuw.", -1, "",
			FixFolder, "Map kiezen", ""},
		{"refused", refused, true, CardNeedsYou, i18n.T("state.refused"), "Dropbox zegt: data transport limit reached", -1, "",
			FixRetry, "Opnieuw proberen", ""},
		{"error", st("Acme", engine.StateError), true, CardNeedsYou, "Er ging iets mis",
			"Deze koppeling kan niet starten. Koppel opnieuw; lukt het dan nog niet, kijk in de logbestanden.", -1, "", FixReconnect, "Opnieuw koppelen", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ConnectionCard(tc.in, 1234, tc.known, now)
			if c.Kind != tc.kind || c.Headline != tc.headline || c.Detail != tc.detail || c.Progress != tc.progress ||
				c.Problems != tc.problems || c.Fix != tc.fix || c.FixText != tc.fixText || c.Waiting != tc.waiting {
				t.Errorf("got %+v", c)
			}
			want := "1.234 documenten in Dropbox"
			if !tc.known {
				want = "Documenten in Dropbox tellen…"
			}
			if c.InDropbox != want {
				t.Errorf("in Dropbox %q, want %q", c.InDropbox, want)
			}
		})
	}
}

func TestNumber(t *testing.T) {
	defer i18n.SetLanguage("nl")
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"nl", 0, "0"}, {"nl", 999, "999"}, {"nl", 1000, "1.000"}, {"nl", 100000, "100.000"}, {"nl", 1234567, "1.234.567"},
		{"fr", 1234, "1\u202f234"}, {"en", 1234, "1,234"}, {"en", -1234, "-1,234"},
	} {
		i18n.SetLanguage(tc.lang)
		if got := Number(tc.n); got != tc.want {
			t.Errorf("%s: Number(%d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}

func TestLocation(t *testing.T) {
	mustLayout := func(s string, lang layout.Language, accountant bool) layout.Layout {
		st, err := layout.ParseStructure(s)
		if err != nil {
			t.Fatal(err)
		}
		return layout.Layout{Structure: st, Language: lang, Company: "Bakkerij Janssens BV", Accountant: accountant}
	}
	for _, tc := range []struct {
		name string
		l    layout.Layout
		want string
	}{
		{"year and type", mustLayout("year-type", layout.Dutch, false), "Apps/onFact/Bakkerij Janssens BV/2026/Facturen"},
		{"type and year, French", mustLayout("type-year", layout.French, false), "Apps/onFact/Bakkerij Janssens BV/Factures/2026"},
		{"year", mustLayout("year", layout.English, false), "Apps/onFact/Bakkerij Janssens BV/2026"},
		{"custom with customer", mustLayout("/{company}/{customer}/{year}-{month}", layout.Dutch, false), "Apps/onFact/Bakkerij Janssens BV/…/2026-03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Location("onFact", tc.l, now); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if got := WebAddress("onFact", "/Bakkerij Janssens BV"); got != "https://www.dropbox.com/home/Apps/onFact/Bakkerij%20Janssens%20BV" {
		t.Errorf("web address %s", got)
	}
	if got := InDropbox("onFact", "/"); got != "Apps/onFact" {
		t.Errorf("root %q", got)
	}
}

func TestFeed(t *testing.T) {
	i18n.SetLanguage("nl")
	var es []FeedEntry
	sent := func(conn string, ago time.Duration, file, folder string) FeedEntry {
		return FeedEntry{ConnID: conn, ConnName: "Conn " + conn, Activity: store.Activity{Time: now.Add(-ago),
			Kind: engine.ActUploaded, Path: "2026/" + file, RemotePath: folder + "/" + file}}
	}
	// A burst of 39 invoices and credit notes, a minute apart at most, 3 hours ago.
	for i := range 39 {
		folder := "/Acme/2026/Facturen"
		if i%10 == 0 {
			folder = "/Acme/2026/Creditnota's"
		}
		es = append(es, sent("a", 3*time.Hour+time.Duration(i)*30*time.Second, fmt.Sprintf("F2026-%04d.pdf", i), folder))
	}
	// Two sent a minute apart (too few for a burst), a refusal between bursts, another connection.
	es = append(es, sent("a", 5*time.Minute, "F2026-0100.pdf", "/Acme/2026/Facturen"),
		sent("a", 6*time.Minute, "F2026-0099.pdf", "/Acme/2026/Facturen"),
		FeedEntry{ConnID: "a", ConnName: "Conn a", Activity: store.Activity{Time: now.Add(-time.Hour), Kind: engine.ActFailed,
			Path: "CN2026-0003.pdf", Message: "de naam is te lang voor Dropbox"}},
		FeedEntry{ConnID: "b", ConnName: "Conn b", Activity: store.Activity{Time: now.Add(-2 * time.Hour), Kind: engine.ActIncomplete,
			Path: "F1.pdf", RemotePath: "/B/2026/Facturen/F1.pdf"}},
		sent("b", 3*time.Hour+time.Second, "F2.pdf", "/B/2026/Facturen"), // inside a's burst: another connection
	)
	for i := range 3 { // three already in Dropbox in the same folder
		es = append(es, FeedEntry{ConnID: "b", ConnName: "Conn b", Activity: store.Activity{Time: now.Add(-48*time.Hour - time.Duration(i)*time.Second),
			Kind: engine.ActExisting, Path: fmt.Sprintf("x%d.pdf", i), RemotePath: fmt.Sprintf("/B/2024/Facturen/x%d.pdf", i)}})
	}
	type line struct {
		kind                LineKind
		title, detail, when string
		problem             bool
		entries             int
	}
	got := func(ls []Line) []line {
		var out []line
		for _, l := range ls {
			out = append(out, line{l.Kind, l.Title, l.Detail, l.When, l.Problem, len(l.Entries)})
		}
		return out
	}
	want := []line{
		{LineSent, "F2026-0100.pdf", "naar Apps/onFact/Acme/2026/Facturen · Conn a", "5 minuten geleden", false, 1},
		{LineSent, "F2026-0099.pdf", "naar Apps/onFact/Acme/2026/Facturen · Conn a", "6 minuten geleden", false, 1},
		{LineFailed, "CN2026-0003.pdf", "niet in Dropbox: de naam is te lang voor Dropbox · Conn a", "1 uur geleden", true, 1},
		{LineIncomplete, "F1.pdf", "verzonden naar Apps/onFact/B/2026/Facturen, maar lijkt niet volledig: kijk het na in onFact · Conn b", "2 uur geleden", true, 1},
		// a's burst is split by b's document inside it: a's newest alone, b's, then 38 of a.
		{LineSent, "F2026-0000.pdf", "naar Apps/onFact/Acme/2026/Creditnota's · Conn a", "3 uur geleden", false, 1},
		{LineSent, "F2.pdf", "naar Apps/onFact/B/2026/Facturen · Conn b", "3 uur geleden", false, 1},
		{LineSent, "38 documenten verzonden", "naar 2 mappen in Apps/onFact/Acme/2026 · Conn a", "3 uur geleden", false, 38},
		{LineExisting, "3 documenten stonden al in Dropbox", "in Apps/onFact/B/2024/Facturen · Conn b", "2 dagen geleden", false, 3},
	}
	lines := Feed(es, "onFact", false, now)
	g := got(lines)
	if len(g) != len(want) {
		t.Fatalf("%d lines: %+v", len(g), g)
	}
	for i := range want {
		if g[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, g[i], want[i])
		}
	}
	if !lines[6].Burst() || lines[0].Burst() {
		t.Error("Burst is wrong")
	}

	only := got(Feed(es, "onFact", true, now))
	if len(only) != 2 || !only[0].problem || !only[1].problem {
		t.Errorf("problems only: %+v", only)
	}
}
