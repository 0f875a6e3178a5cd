package present

import (
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

var now = time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)

func st(name string, s engine.State) engine.Status {
	return engine.Status{ID: "id-" + name, Name: name, State: s, InitialCopyDone: true, LastSync: now.Add(-2 * time.Minute)}
}

func TestTrayViewDutch(t *testing.T) {
	i18n.SetLanguage("nl")
	uploading := st("Acme", engine.StateUploading)
	uploading.Done, uploading.Total = 12, 340
	failed := st("Acme", engine.StateIdle)
	failed.Failed = 2
	for _, tc := range []struct {
		name   string
		in     []engine.Status
		paused bool
		kind   Kind
		line   string
	}{
		{"none", nil, false, KindAttention, "Nog geen Dropbox gekoppeld"},
		{"idle", []engine.Status{st("Acme", engine.StateIdle)}, false, KindSynced, "Alles staat veilig in Dropbox"},
		{"uploading", []engine.Status{uploading, st("Beta", engine.StateIdle)}, false, KindSyncing, "12 van 340 documenten verzonden"},
		{"uploading without total", []engine.Status{st("Acme", engine.StateUploading)}, false, KindSyncing, "Bezig met nakijken van je documenten"},
		{"scanning", []engine.Status{st("Acme", engine.StateScanning)}, false, KindSyncing, "Bezig met nakijken van je documenten"},
		{"starting", []engine.Status{st("Acme", engine.StateStarting)}, false, KindSyncing, "Bezig met starten"},
		{"paused flag", []engine.Status{st("Acme", engine.StateIdle)}, true, KindPaused, "Gepauzeerd"},
		{"all paused", []engine.Status{st("Acme", engine.StatePaused)}, false, KindPaused, "Gepauzeerd"},
		{"one of two paused", []engine.Status{st("Acme", engine.StatePaused), st("Beta", engine.StateIdle)}, false, KindSynced, "Alles staat veilig in Dropbox"},
		{"offline", []engine.Status{st("Acme", engine.StateOffline)}, false, KindAttention, "Geen verbinding met Dropbox – opnieuw proberen gaat vanzelf"},
		{"reconnect", []engine.Status{st("Acme", engine.StateIdle), st("Beta", engine.StateNeedsReconnect)}, false, KindAttention, "Dropbox Beta moet opnieuw gekoppeld worden"},
		{"reconnect while paused", []engine.Status{st("Beta", engine.StateNeedsReconnect)}, true, KindAttention, "Dropbox Beta moet opnieuw gekoppeld worden"},
		{"full", []engine.Status{st("Acme", engine.StateDropboxFull)}, false, KindAttention, "Dropbox Acme is vol"},
		{"folder", []engine.Status{st("Acme", engine.StateFolderMissing)}, false, KindAttention, "De exportmap van Acme is niet gevonden"},
		{"error", []engine.Status{st("Acme", engine.StateError)}, false, KindAttention, "Er ging iets mis met Acme"},
		{"reconnect before full", []engine.Status{st("Acme", engine.StateDropboxFull), st("Beta", engine.StateNeedsReconnect)}, false, KindAttention, "Dropbox Beta moet opnieuw gekoppeld worden"},
		{"refused documents", []engine.Status{failed}, false, KindAttention, "2 documenten konden niet verzonden worden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := TrayView(tc.in, tc.paused)
			if v.Kind != tc.kind || v.Status != tc.line {
				t.Fatalf("got %v %q, want %v %q", v.Kind, v.Status, tc.kind, tc.line)
			}
			if want := "onFact Dropbox Sync\n" + tc.line; len(tc.in) < 2 && v.Tooltip != want {
				t.Fatalf("tooltip %q, want %q", v.Tooltip, want)
			}
			if v.Empty != (len(tc.in) == 0) {
				t.Fatalf("empty = %v", v.Empty)
			}
		})
	}
}

func TestTrayViewTooltipListsConnections(t *testing.T) {
	i18n.SetLanguage("nl")
	v := TrayView([]engine.Status{st("Acme", engine.StateIdle), st("Beta", engine.StateDropboxFull)}, false)
	want := "onFact Dropbox Sync\nDropbox Beta is vol\nAcme: Alles gesynchroniseerd\nBeta: Dropbox is vol – maak ruimte vrij"
	if v.Tooltip != want {
		t.Fatalf("tooltip %q, want %q", v.Tooltip, want)
	}
}

func TestTrayViewOtherLanguages(t *testing.T) {
	defer i18n.SetLanguage("nl")
	uploading := st("Acme", engine.StateUploading)
	uploading.Done, uploading.Total = 12, 340
	for _, tc := range []struct {
		lang string
		in   engine.Status
		line string
	}{
		{"fr", st("Acme", engine.StateIdle), "Tout est en sécurité dans Dropbox"},
		{"fr", uploading, "12 documents sur 340 envoyés"},
		{"fr", st("Acme", engine.StateNeedsReconnect), "La Dropbox Acme doit être liée à nouveau"},
		{"en", st("Acme", engine.StateIdle), "Everything is safe in Dropbox"},
		{"en", uploading, "12 of 340 documents sent"},
		{"en", st("Acme", engine.StateFolderMissing), "The export folder of Acme was not found"},
	} {
		t.Run(tc.lang+"/"+tc.line, func(t *testing.T) {
			i18n.SetLanguage(tc.lang)
			if got := TrayView([]engine.Status{tc.in}, false).Status; got != tc.line {
				t.Fatalf("got %q, want %q", got, tc.line)
			}
		})
	}
}

func TestStateTextEveryState(t *testing.T) {
	i18n.SetLanguage("nl")
	want := map[engine.State]string{
		engine.StateStarting:       "Bezig met starten",
		engine.StateScanning:       "Bezig met nakijken van de documenten",
		engine.StateUploading:      "Bezig met verzenden",
		engine.StateIdle:           "Alles gesynchroniseerd",
		engine.StatePaused:         "Gepauzeerd",
		engine.StateOffline:        "Geen verbinding met Dropbox – opnieuw proberen gaat vanzelf",
		engine.StateNeedsReconnect: "Moet opnieuw gekoppeld worden",
		engine.StateDropboxFull:    "Dropbox is vol – maak ruimte vrij",
		engine.StateFolderMissing:  "De exportmap is niet gevonden",
		engine.StateRefused:        "Dropbox weigert deze koppeling voorlopig",
		engine.StateError:          "Er ging iets mis",
		engine.StateStopped:        "Gestopt",
	}
	for s := engine.StateStarting; s <= engine.StateStopped; s++ {
		t.Run(s.String(), func(t *testing.T) {
			if got := StateText(engine.Status{State: s}); got != want[s] {
				t.Fatalf("got %q, want %q", got, want[s])
			}
		})
	}
	// Up to date is never "everything" while a document is not in Dropbox.
	if got := StateText(engine.Status{State: engine.StateIdle, Failed: 2}); got != "Bijgewerkt, behalve 2 documenten die niet in Dropbox staan" {
		t.Fatalf("idle with problems: %q", got)
	}
}

func TestRelative(t *testing.T) {
	defer i18n.SetLanguage("nl")
	for _, tc := range []struct {
		lang string
		ago  time.Duration
		want string
	}{
		{"nl", 10 * time.Second, "zonet"},
		{"nl", time.Minute, "1 minuut geleden"},
		{"nl", 2*time.Minute + 30*time.Second, "2 minuten geleden"},
		{"nl", 59 * time.Minute, "59 minuten geleden"},
		{"nl", time.Hour, "1 uur geleden"},
		{"nl", 5 * time.Hour, "5 uur geleden"},
		{"nl", 30 * time.Hour, "gisteren"},
		{"nl", 4 * 24 * time.Hour, "4 dagen geleden"},
		{"fr", 2 * time.Minute, "il y a 2 minutes"},
		{"fr", 10 * time.Second, "à l'instant"},
		{"en", time.Minute, "1 minute ago"},
		{"en", 3 * time.Hour, "3 hours ago"},
	} {
		t.Run(tc.lang+"/"+tc.want, func(t *testing.T) {
			i18n.SetLanguage(tc.lang)
			if got := Relative(now.Add(-tc.ago), now); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConnectionRow(t *testing.T) {
	i18n.SetLanguage("nl")
	s := st("Acme", engine.StateUploading)
	s.Done, s.Total, s.Queued, s.Failed, s.ETA = 12, 340, 328, 1, 150*time.Second
	s.Warning = "watching degraded"
	r := ConnectionRow(s, now)
	want := Row{ID: "id-Acme", Name: "Acme", State: "Bezig met verzenden: 12 van 340 documenten",
		LastSync: "Laatst gesynchroniseerd: 2 minuten geleden", Counts: "328 documenten wachten, 1 document geweigerd door Dropbox",
		ETA: "nog ongeveer 3 minuten", Warning: "watching degraded"}
	if r != want {
		t.Fatalf("got\n%+v\nwant\n%+v", r, want)
	}
	never := ConnectionRow(engine.Status{Name: "New", State: engine.StateNeedsReconnect}, now)
	if never.LastSync != "Nog niet gesynchroniseerd" || !never.NeedsReconnect || !never.Attention || never.Counts != "" || never.ETA != "" {
		t.Fatalf("got %+v", never)
	}
	if p := ConnectionRow(st("Acme", engine.StatePaused), now); !p.Paused || p.Attention {
		t.Fatalf("got %+v", p)
	}
}

func TestRemaining(t *testing.T) {
	i18n.SetLanguage("nl")
	for d, want := range map[time.Duration]string{
		20 * time.Second: "nog minder dan een minuut",
		61 * time.Second: "nog ongeveer 2 minuten",
		time.Minute:      "nog ongeveer 1 minuut",
		3 * time.Hour:    "nog ongeveer 3 uur",
	} {
		if got := Remaining(d); got != want {
			t.Errorf("%v: got %q, want %q", d, got, want)
		}
	}
}

func withFailed(s engine.Status, n int) engine.Status {
	s.Failed = n
	return s
}

func TestNotifications(t *testing.T) {
	i18n.SetLanguage("nl")
	idle := st("Acme", engine.StateIdle)
	copying := st("Acme", engine.StateUploading)
	copying.InitialCopyDone = false
	copied := st("Acme", engine.StateIdle)
	titles := func(ns []Notification) []string {
		var out []string
		for _, n := range ns {
			if n.Body == "" {
				t.Errorf("no body: %+v", n)
			}
			out = append(out, n.Title)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		old, cur []engine.Status
		want     []string
	}{
		{"nothing changes", []engine.Status{idle}, []engine.Status{idle}, nil},
		{"syncing is quiet", []engine.Status{idle}, []engine.Status{st("Acme", engine.StateUploading)}, nil},
		{"offline is quiet", []engine.Status{idle}, []engine.Status{st("Acme", engine.StateOffline)}, nil},
		{"paused is quiet", []engine.Status{idle}, []engine.Status{st("Acme", engine.StatePaused)}, nil},
		{"reconnect", []engine.Status{idle}, []engine.Status{st("Acme", engine.StateNeedsReconnect)}, []string{"Dropbox Acme moet opnieuw gekoppeld worden"}},
		{"reconnect told once", []engine.Status{st("Acme", engine.StateNeedsReconnect)}, []engine.Status{st("Acme", engine.StateNeedsReconnect)}, nil},
		{"reconnect at start", nil, []engine.Status{st("Acme", engine.StateNeedsReconnect)}, []string{"Dropbox Acme moet opnieuw gekoppeld worden"}},
		{"full", []engine.Status{idle}, []engine.Status{st("Acme", engine.StateDropboxFull)}, []string{"Dropbox Acme is vol"}},
		{"folder gone", []engine.Status{idle}, []engine.Status{st("Acme", engine.StateFolderMissing)}, []string{"De exportmap van Acme is niet gevonden"}},
		{"error is quiet", []engine.Status{idle}, []engine.Status{st("Acme", engine.StateError)}, nil},
		{"first copy done", []engine.Status{copying}, []engine.Status{copied}, []string{"Alle documenten staan in Dropbox Acme"}},
		{"first copy done but for two", []engine.Status{copying}, []engine.Status{withFailed(copied, 2)}, []string{"De eerste kopie naar Dropbox Acme is klaar, behalve 2 documenten"}},
		{"refused", []engine.Status{idle}, []engine.Status{st("Acme", engine.StateRefused)}, []string{"Dropbox weigert Acme voorlopig"}},
		{"copy done at start is quiet", nil, []engine.Status{copied}, nil},
		{"other connections", []engine.Status{idle}, []engine.Status{idle, st("Beta", engine.StateDropboxFull)}, []string{"Dropbox Beta is vol"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := titles(Notifications(tc.old, tc.cur))
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}
