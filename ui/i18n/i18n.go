// Package i18n gives the app's words in Dutch, French or English. It keeps its own
// go-i18n bundle (the library Fyne's lang package uses) instead of Fyne's, because Fyne
// 2.7 picks the language only from the operating system, and the user may choose another in
// the settings. Fyne's own widget words (Cancel, OK, Quit ...) stay with Fyne, which gets
// our Dutch for them; they follow the system's language.
//
// It imports no GUI toolkit, so presenters and their tests stay fast.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/jeandeaual/go-locale"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/onfact/onfact-dropbox/assets"
)

// Languages are the languages the app speaks, Dutch first: it is the default.
var Languages = []string{"nl", "fr", "en"}

var (
	mu        sync.RWMutex
	bundle    *goi18n.Bundle
	localizer *goi18n.Localizer
	current   string
)

func init() {
	bundle = goi18n.NewBundle(language.Dutch)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	areas, err := fs.ReadDir(assets.Translations, "translations")
	if err != nil {
		panic(err) // embedded at build time: a failure is a broken build
	}
	for _, area := range areas {
		if !area.IsDir() || area.Name() == "fyne" {
			continue
		}
		for _, l := range Languages {
			p := path.Join("translations", area.Name(), l+".json")
			b, err := assets.Translations.ReadFile(p)
			if err != nil {
				continue // a missing file shows up in TestTranslationsComplete
			}
			if _, err := bundle.ParseMessageFileBytes(b, p); err != nil {
				panic(fmt.Sprintf("i18n: %s: %v", p, err))
			}
		}
	}
	SetLanguage("")
}

// Resolve maps a setting ("nl", "fr", "en" or "" for the system's) and the system's locale
// (e.g. "fr-BE") to the language used: the setting, else the system's if the app speaks
// it, else Dutch.
func Resolve(setting, system string) string {
	for _, want := range []string{setting, system} {
		base, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(want, "_", "-")), "-")
		for _, l := range Languages {
			if base == l {
				return l
			}
		}
	}
	return Languages[0]
}

// SetLanguage chooses the language of T: "nl", "fr", "en", or "" for the system's.
func SetLanguage(setting string) {
	l := Resolve(setting, systemLocale())
	mu.Lock()
	defer mu.Unlock()
	current = l
	localizer = goi18n.NewLocalizer(bundle, l, Languages[0])
}

// Language is the language in use.
func Language() string {
	mu.RLock()
	defer mu.RUnlock()
	return current
}

// T returns the message id in the current language, its {{.Name}} placeholders filled from
// data (pairs of name, value). A missing message falls back to Dutch, then to the id itself.
func T(id string, data ...any) string {
	return localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: pairs(data)})
}

// N is T for a message with plural forms ("one", "other"), chosen by count, which is also
// available to the message as {{.Count}}.
func N(id string, count int, data ...any) string {
	td := pairs(data)
	td["Count"] = count
	return localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: td})
}

func localize(c *goi18n.LocalizeConfig) string {
	mu.RLock()
	l := localizer
	mu.RUnlock()
	s, err := l.Localize(c)
	if err != nil && s == "" {
		return c.MessageID
	}
	return s
}

func pairs(data []any) map[string]any {
	m := make(map[string]any, len(data)/2+1)
	for i := 0; i+1 < len(data); i += 2 {
		if k, ok := data[i].(string); ok {
			m[k] = data[i+1]
		}
	}
	return m
}

// systemLocale is the operating system's preferred locale, e.g. "nl-BE" ("" if unknown).
func systemLocale() string {
	l, err := locale.GetLocale()
	if err != nil {
		return ""
	}
	return l
}
