package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestResolveAppKey(t *testing.T) {
	tests := []struct {
		name                   string
		env, configured, built string
		want                   string
		wantErr                error
	}{
		{name: "built in", built: "built", want: "built"},
		{name: "config overrides build", configured: "conf", built: "built", want: "conf"},
		{name: "env overrides all", env: "env", configured: "conf", built: "built", want: "env"},
		{name: "blank values are absent", env: "  ", configured: "\t", built: "built", want: "built"},
		{name: "none", wantErr: ErrNoAppKey},
	}
	old := AppKey
	t.Cleanup(func() { AppKey = old })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvAppKey, tt.env)
			AppKey = tt.built
			got, err := ResolveAppKey(tt.configured)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if !strings.Contains(ErrNoAppKey.Error(), EnvAppKey) {
		t.Errorf("ErrNoAppKey does not say how to fix it: %v", ErrNoAppKey)
	}
}

func TestDropboxAt(t *testing.T) {
	tests := []struct {
		in      string
		want    Dropbox
		wantErr bool
	}{
		{"", RealDropbox(), false},
		{"http://127.0.0.1:8580", Dropbox{"http://127.0.0.1:8580/oauth2/authorize", "http://127.0.0.1:8580/oauth2/token", "http://127.0.0.1:8580"}, false},
		{"http://127.0.0.1:8580/", Dropbox{"http://127.0.0.1:8580/oauth2/authorize", "http://127.0.0.1:8580/oauth2/token", "http://127.0.0.1:8580"}, false},
		{"https://emu.example/base", Dropbox{"https://emu.example/base/oauth2/authorize", "https://emu.example/base/oauth2/token", "https://emu.example/base"}, false},
		{"127.0.0.1:8580", Dropbox{}, true},
		{"ftp://x", Dropbox{}, true},
	}
	for _, tt := range tests {
		got, err := DropboxAt(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("DropboxAt(%q) = %+v, %v", tt.in, got, err)
		}
	}
	if RealDropbox().URLGenerator() != nil {
		t.Error("the real Dropbox should use the SDK's own URLs")
	}
	d, _ := DropboxAt("http://127.0.0.1:8580")
	if got := d.URLGenerator()("content", "files", "upload"); got != "http://127.0.0.1:8580/2/files/upload" {
		t.Errorf("URLGenerator: %s", got)
	}
	t.Setenv(EnvAPIURL, "not a url")
	if _, err := DropboxFromEnv(); err == nil || !strings.Contains(err.Error(), EnvAPIURL) {
		t.Errorf("DropboxFromEnv with a bad value: %v", err)
	}
}

func TestRedirectURIs(t *testing.T) {
	want := []string{
		"http://127.0.0.1:53682/oauth/callback",
		"http://127.0.0.1:53683/oauth/callback",
		"http://127.0.0.1:53684/oauth/callback",
	}
	if got := RedirectURIs(); !slices.Equal(got, want) {
		t.Errorf("RedirectURIs() = %v", got)
	}
	p := LoopbackPorts()
	p[0] = 1
	if LoopbackPorts()[0] != 53682 {
		t.Error("LoopbackPorts returns the package's own slice")
	}
	s := Scopes()
	s[0] = "x"
	if Scopes()[0] != "account_info.read" {
		t.Error("Scopes returns the package's own slice")
	}
}

func TestPageLanguage(t *testing.T) {
	for in, want := range map[string]string{"nl": "nl", "nl-BE": "nl", "fr_BE.UTF-8": "fr", "EN": "en", "de": "en", "": "en"} {
		if got := pageLanguage(in); got != want {
			t.Errorf("pageLanguage(%q) = %q, want %q", in, got, want)
		}
	}
	for lang, pages := range pageTexts {
		for k := pageConnected; k <= pageAlreadyDone; k++ {
			if pages[k].title == "" || pages[k].message == "" {
				t.Errorf("%s page %d is missing", lang, k)
			}
		}
	}
}

func TestOpenBrowserRefuses(t *testing.T) {
	for _, u := range []string{"javascript:alert(1)", "file:///etc/passwd", "-flag"} {
		if err := OpenBrowser(context.Background(), u); err == nil || errors.Is(err, ErrNoBrowser) {
			t.Errorf("OpenBrowser(%q): %v", u, err)
		}
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		t.Setenv("DISPLAY", "")
		t.Setenv("WAYLAND_DISPLAY", "")
		if err := OpenBrowser(context.Background(), "https://www.dropbox.com/"); !errors.Is(err, ErrNoBrowser) {
			t.Errorf("no display: %v, want ErrNoBrowser", err)
		}
	}
}

func TestResultHidesToken(t *testing.T) {
	tok := "sl.super-secret-access-token-0123456789"
	r := Result{Account: Account{ID: "dbid:x", Name: "An", Email: "an@example.be"}}
	r.Token = &oauth2.Token{AccessToken: tok, RefreshToken: "refresh-secret-0123456789"}
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r)} {
		if strings.Contains(s, tok) || strings.Contains(s, "refresh-secret") || !strings.Contains(s, "an@example.be") {
			t.Errorf("%q", s)
		}
	}
}
