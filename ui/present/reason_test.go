package present

import (
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/store"
	"github.com/onfact/onfact-dropbox/sync/engine"
	"github.com/onfact/onfact-dropbox/ui/i18n"
)

// TestReasonInTheUsersLanguage: the engine gives its reasons in English (as the store and
// the command line keep them); the feed says them in the window's language, values and
// all, and shows a text that is not one of the engine's reasons as it is.
func TestReasonInTheUsersLanguage(t *testing.T) {
	defer i18n.SetLanguage("nl")
	const (
		noPermission = "cannot be read: no permission. Ask whoever manages this computer to give read access"
		noRoom       = "does not fit in the Dropbox: it needs 12.0 MB and 8.8 MB is free. Free up 3.2 MB (or upgrade), then sync again"
		refused      = "Dropbox refused the file (path/insufficient_space_quota)"
		other        = "record outcomes: disk full"
	)
	tests := []struct{ lang, text, want string }{
		{"nl", noPermission, "niet in Dropbox: kan niet gelezen worden: geen toestemming. Vraag wie deze computer beheert om leesrechten te geven"},
		{"fr", noPermission, "pas dans Dropbox : illisible : pas d'autorisation. Demandez à la personne qui gère cet ordinateur de donner l'accès en lecture"},
		{"en", noPermission, "not in Dropbox: " + noPermission},
		{"nl", noRoom, "niet in Dropbox: past niet meer in de Dropbox: het heeft 12.0 MB nodig en er is 8.8 MB vrij. Maak 3.2 MB vrij (of neem een groter abonnement) en synchroniseer dan opnieuw"},
		{"fr", refused, "pas dans Dropbox : Dropbox a refusé le fichier (path/insufficient_space_quota)"},
		{"nl", other, "niet in Dropbox: " + other},
	}
	now := time.Now()
	for _, tt := range tests {
		i18n.SetLanguage(tt.lang)
		e := FeedEntry{ConnName: "Acme", Activity: store.Activity{Time: now, Kind: engine.ActFailed, Path: "2026/F1.pdf", Message: tt.text}}
		if got, want := Single(e, "Apps/onFact", now).Detail, tt.want+" · Acme"; got != want {
			t.Errorf("%s: %q\n got  %q\n want %q", tt.lang, tt.text, got, want)
		}
	}
}
