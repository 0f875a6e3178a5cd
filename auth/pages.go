package auth

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// pageKind is what the browser is told at the end of the browser flow.
type pageKind int

const (
	pageConnected pageKind = iota
	pageDenied
	pageDifferentAccount
	pageWrongState
	pageFailed
	pageAlreadyDone
)

type pageText struct{ title, message string }

// pageTexts holds the pages in nl, fr and en. They name no account and no error detail:
// the app shows those, in its own window, where the user is going back to anyway.
var pageTexts = map[string]map[pageKind]pageText{
	"nl": {
		pageConnected:        {"Dropbox gekoppeld", "Je Dropbox is gekoppeld. Je kan dit tabblad sluiten en terugkeren naar onFact Dropbox Sync."},
		pageDenied:           {"Niet gekoppeld", "Je hebt onFact Dropbox Sync geen toegang gegeven, dus je Dropbox is niet gekoppeld. Je kan dit tabblad sluiten en terugkeren naar onFact Dropbox Sync."},
		pageDifferentAccount: {"Andere Dropbox-account", "Je bent bij Dropbox aangemeld met een andere account dan die van deze koppeling. Om back-ups niet te vermengen is er niets gekoppeld. Meld je bij Dropbox aan met de juiste account en probeer opnieuw vanuit onFact Dropbox Sync."},
		pageWrongState:       {"Niet gekoppeld", "Dit antwoord hoort niet bij de koppeling die onFact Dropbox Sync startte. Start het koppelen opnieuw vanuit onFact Dropbox Sync."},
		pageFailed:           {"Koppelen mislukt", "Het koppelen van je Dropbox is mislukt. Keer terug naar onFact Dropbox Sync voor meer uitleg."},
		pageAlreadyDone:      {"Al afgehandeld", "Deze koppeling is al afgehandeld. Je kan dit tabblad sluiten en terugkeren naar onFact Dropbox Sync."},
	},
	"fr": {
		pageConnected:        {"Dropbox connecté", "Votre Dropbox est connecté. Vous pouvez fermer cet onglet et revenir à onFact Dropbox Sync."},
		pageDenied:           {"Non connecté", "Vous n'avez pas donné accès à onFact Dropbox Sync, votre Dropbox n'est donc pas connecté. Vous pouvez fermer cet onglet et revenir à onFact Dropbox Sync."},
		pageDifferentAccount: {"Autre compte Dropbox", "Vous êtes connecté à Dropbox avec un autre compte que celui de cette liaison. Pour ne pas mélanger les sauvegardes, rien n'a été connecté. Connectez-vous à Dropbox avec le bon compte et réessayez depuis onFact Dropbox Sync."},
		pageWrongState:       {"Non connecté", "Cette réponse ne correspond pas à la connexion lancée par onFact Dropbox Sync. Relancez la connexion depuis onFact Dropbox Sync."},
		pageFailed:           {"Échec de la connexion", "La connexion de votre Dropbox a échoué. Revenez à onFact Dropbox Sync pour plus d'explications."},
		pageAlreadyDone:      {"Déjà traité", "Cette connexion a déjà été traitée. Vous pouvez fermer cet onglet et revenir à onFact Dropbox Sync."},
	},
	"en": {
		pageConnected:        {"Dropbox connected", "Your Dropbox is connected. You can close this tab and return to onFact Dropbox Sync."},
		pageDenied:           {"Not connected", "You did not give onFact Dropbox Sync access, so your Dropbox is not connected. You can close this tab and return to onFact Dropbox Sync."},
		pageDifferentAccount: {"Different Dropbox account", "You are signed in to Dropbox with a different account than the one this connection uses. To avoid mixing backups, nothing was connected. Sign in to Dropbox with the right account and try again from onFact Dropbox Sync."},
		pageWrongState:       {"Not connected", "This answer does not belong to the connection onFact Dropbox Sync started. Start connecting again from onFact Dropbox Sync."},
		pageFailed:           {"Connection failed", "Connecting your Dropbox failed. Return to onFact Dropbox Sync for details."},
		pageAlreadyDone:      {"Already done", "This connection was already handled. You can close this tab and return to onFact Dropbox Sync."},
	},
}

// pageLanguage maps a language tag (nl, nl-BE, fr_BE.UTF-8, ...) to nl, fr or en.
func pageLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if len(tag) >= 2 {
		if _, ok := pageTexts[tag[:2]]; ok {
			return tag[:2]
		}
	}
	return "en"
}

// pageFor picks the page for Wait's outcome.
func pageFor(err error) pageKind {
	switch {
	case err == nil:
		return pageConnected
	case errors.Is(err, ErrAccessDenied):
		return pageDenied
	case errors.Is(err, ErrDifferentAccount):
		return pageDifferentAccount
	case errors.Is(err, ErrStateMismatch):
		return pageWrongState
	}
	return pageFailed
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - onFact Dropbox Sync</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 34em; margin: 4em auto; padding: 0 1em; line-height: 1.5">
<h1 style="font-size: 1.4em">{{.Title}}</h1>
<p id="message">{{.Message}}</p>
</body></html>
`))

// writePage answers the browser. The callback URL carried the code, so the page loads
// nothing and sends no referrer, and nothing is cached.
func writePage(w http.ResponseWriter, lang string, kind pageKind) {
	lang = pageLanguage(lang)
	t := pageTexts[lang][kind]
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	status := http.StatusOK
	if kind == pageWrongState || kind == pageFailed {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct{ Lang, Title, Message string }{lang, t.title, t.message})
}
