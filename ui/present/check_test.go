package present

import (
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// checkAt is when the checks of the tests ended: Tuesday 1 December 2026, 20:15.
var checkAt = time.Date(2026, 12, 1, 20, 15, 0, 0, time.UTC)

func checked(k engine.Check) engine.Status {
	s := st("Acme", engine.StateIdle)
	k.At = checkAt
	s.Check = &k
	return s
}

func TestCheckLine(t *testing.T) {
	firstCopy := st("Acme", engine.StateUploading)
	firstCopy.InitialCopyDone = false
	never := st("Acme", engine.StateIdle)
	running := checked(engine.Check{Documents: 12345, Present: 12345})
	running.Checking = true
	failed := checked(engine.Check{Documents: 12345, Present: 12345})
	failed.CheckError = "Dropbox did not answer."
	for _, tc := range []struct {
		name, lang string
		in         engine.Status
		want       string
	}{
		{"all present", "en", checked(engine.Check{Documents: 12345, Present: 12345}),
			"Last check: 12,345 documents, all present (Tue 1 Dec 20:15)"},
		{"repaired", "en", checked(engine.Check{Documents: 12345, Present: 12342, Repaired: 3}),
			"Last check: 12,345 documents, 3 sent again (missing or changed in Dropbox) (Tue 1 Dec 20:15)"},
		{"extra files", "en", checked(engine.Check{Documents: 12345, Present: 12345, Extra: 12}),
			"Last check: 12,345 documents, all present (Tue 1 Dec 20:15); 12 other files in Dropbox left alone"},
		{"one document", "en", checked(engine.Check{Documents: 1, Present: 1, Extra: 1}),
			"Last check: 1 document, present (Tue 1 Dec 20:15); 1 other file in Dropbox left alone"},
		{"never all present while some are not", "en", checked(engine.Check{Documents: 100, Present: 95, Repaired: 1, Problems: 2, Pending: 2}),
			"Last check: 100 documents, 1 sent again (missing or changed in Dropbox), 2 not in Dropbox, 2 still to be sent (Tue 1 Dec 20:15)"},
		{"checking", "en", running, "Checking Dropbox…"},
		{"could not finish", "en", failed, "The last check could not finish: Dropbox did not answer; it is tried again later"},
		{"never checked", "en", never, "Not checked yet"},
		{"first copy", "en", firstCopy, ""},
		{"all present", "nl", checked(engine.Check{Documents: 12345, Present: 12345}),
			"Laatste controle: 12.345 documenten, alle aanwezig (di 1 dec 20:15)"},
		{"repaired", "nl", checked(engine.Check{Documents: 12345, Present: 12342, Repaired: 3, Extra: 12}),
			"Laatste controle: 12.345 documenten, 3 opnieuw verzonden (ontbraken of gewijzigd in Dropbox) (di 1 dec 20:15); 12 andere bestanden in Dropbox ongemoeid gelaten"},
		{"checking", "nl", running, "Dropbox wordt nagekeken…"},
		{"never checked", "nl", never, "Nog niet nagekeken"},
		{"could not finish", "nl", failed, "De laatste controle kon niet afgerond worden: Dropbox did not answer; ze wordt later opnieuw geprobeerd"},
		{"all present", "fr", checked(engine.Check{Documents: 12345, Present: 12345}),
			"Dernière vérification : 12\u202f345 documents, tous présents (mar 1 déc 20:15)"},
		{"repaired", "fr", checked(engine.Check{Documents: 12345, Present: 12342, Repaired: 3, Extra: 12}),
			"Dernière vérification : 12\u202f345 documents, 3 renvoyés (manquants ou modifiés dans Dropbox) (mar 1 déc 20:15) ; 12 autres fichiers dans Dropbox laissés tels quels"},
		{"never checked", "fr", never, "Pas encore vérifié"},
	} {
		t.Run(tc.lang+"/"+tc.name, func(t *testing.T) {
			i18n.SetLanguage(tc.lang)
			defer i18n.SetLanguage("nl")
			if got := CheckLine(tc.in, now); got != tc.want {
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
			c := ConnectionCard(tc.in, 0, true, now)
			if c.Check != tc.want || c.Checking != tc.in.Checking {
				t.Fatalf("card says %q (checking %v)", c.Check, c.Checking)
			}
		})
	}
}

// TestCheckTimeInLocalTime: the time is told in the zone of the clock, not Dropbox's UTC.
func TestCheckTimeInLocalTime(t *testing.T) {
	i18n.SetLanguage("nl")
	brussels := time.FixedZone("CET", 3600)
	if got := CheckTime(time.Date(2026, 12, 5, 23, 30, 0, 0, time.UTC), now.In(brussels)); got != "zo 6 dec 00:30" {
		t.Fatalf("got %q", got)
	}
}

func TestTrayViewRepaired(t *testing.T) {
	i18n.SetLanguage("nl")
	a := checked(engine.Check{Documents: 10, Present: 8, Repaired: 2})
	b := checked(engine.Check{Documents: 10, Present: 9, Repaired: 1})
	b.Name = "Beta"
	v := TrayView([]engine.Status{a, st("Gamma", engine.StateIdle)}, false)
	if v.Status != "Alles staat veilig in Dropbox · Laatste controle: 2 documenten opnieuw verzonden" ||
		v.Repaired != "Laatste controle: 2 documenten opnieuw verzonden" ||
		v.Tooltip != "onFact Dropbox Sync\nAlles staat veilig in Dropbox\nLaatste controle: 2 documenten opnieuw verzonden\nAcme: Alles gesynchroniseerd\nGamma: Alles gesynchroniseerd" {
		t.Fatalf("%+v", v)
	}
	if v := TrayView([]engine.Status{a, b}, false); v.Repaired != "Laatste controle: 3 documenten opnieuw verzonden" {
		t.Fatalf("two connections: %q", v.Repaired)
	}
	none := checked(engine.Check{Documents: 10, Present: 10})
	if v := TrayView([]engine.Status{none}, false); v.Repaired != "" || v.Status != "Alles staat veilig in Dropbox" {
		t.Fatalf("nothing repaired: %+v", v)
	}
	i18n.SetLanguage("en")
	defer i18n.SetLanguage("nl")
	if v := TrayView([]engine.Status{b}, false); v.Repaired != "Last check: 1 document sent again" {
		t.Fatalf("en: %q", v.Repaired)
	}
}

func TestFeedRepaired(t *testing.T) {
	entry := func(msg string) FeedEntry {
		return FeedEntry{ConnID: "a", ConnName: "Conn a", Activity: store.Activity{Time: now.Add(-time.Minute), Kind: engine.ActRepaired,
			Path: "2026/F1.pdf", RemotePath: "/Acme/2026/Facturen/F1.pdf", Message: msg}}
	}
	for _, tc := range []struct{ lang, msg, want string }{
		{"en", store.CheckMissing, "sent again: it was missing in Dropbox · Conn a"},
		{"en", store.CheckDifferent, "sent again: it was changed in Dropbox · Conn a"},
		{"nl", store.CheckMissing, "opnieuw verzonden: het ontbrak in Dropbox · Conn a"},
		{"nl", store.CheckDifferent, "opnieuw verzonden: het was gewijzigd in Dropbox · Conn a"},
		{"fr", store.CheckMissing, "renvoyé : il manquait dans Dropbox · Conn a"},
		{"nl", "", "opnieuw verzonden naar Apps/onFact/Acme/2026/Facturen · Conn a"},
	} {
		t.Run(tc.lang+"/"+tc.msg, func(t *testing.T) {
			i18n.SetLanguage(tc.lang)
			defer i18n.SetLanguage("nl")
			ls := Feed([]FeedEntry{entry(tc.msg), entry(tc.msg), entry(tc.msg)}, "onFact", false, now)
			if len(ls) != 3 {
				t.Fatalf("%d lines: repaired documents are told one by one", len(ls))
			}
			l := ls[0]
			if l.Kind != LineRepaired || l.Title != "F1.pdf" || l.Detail != tc.want || l.Problem {
				t.Fatalf("%+v", l)
			}
			if len(Feed([]FeedEntry{entry(tc.msg)}, "onFact", true, now)) != 0 {
				t.Fatal("a document sent again is counted a problem")
			}
		})
	}
}
