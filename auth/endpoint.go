package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/oauth2"
)

// AppKey is the Dropbox app key built into the binary:
//
//	go build -ldflags "-X github.com/onfact/onfact-dropbox/auth.AppKey=abc123"
//
// The settings (config Settings.AppKey) and the environment (EnvAppKey) override it; see
// ResolveAppKey.
var AppKey string

// EnvAppKey names the environment variable that overrides every other app key.
const EnvAppKey = "ONFACT_DROPBOX_APP_KEY"

// EnvAPIURL names the environment variable that sends OAuth and API calls to another
// address than Dropbox, such as the emulator (go run ./cmd/dropbox-emulator).
const EnvAPIURL = "ONFACT_DROPBOX_API_URL"

// ErrNoAppKey means no Dropbox app key was found: not in the build, the settings or the
// environment. The wizard says so before the user starts connecting.
var ErrNoAppKey = errors.New("this copy of onFact Dropbox Sync has no Dropbox app key, so it cannot connect to Dropbox; " +
	"set " + EnvAppKey + " or \"app_key\" in the settings to the key of your Dropbox app (see the README, \"Registering a Dropbox app key\")")

// ResolveAppKey returns the app key to use: the environment (EnvAppKey) first, then the
// configured key (config Settings.AppKey), then the one built in (AppKey). It returns
// ErrNoAppKey when all three are empty.
func ResolveAppKey(configured string) (string, error) {
	for _, k := range []string{os.Getenv(EnvAppKey), configured, AppKey} {
		if k = strings.TrimSpace(k); k != "" {
			return k, nil
		}
	}
	return "", ErrNoAppKey
}

// Dropbox says where Dropbox is: the OAuth endpoints and the API. RealDropbox is the
// service itself; DropboxAt points everything at one base URL (the emulator).
type Dropbox struct {
	// AuthURL is the page the browser opens to grant access.
	AuthURL string
	// TokenURL is where codes and refresh tokens are exchanged.
	TokenURL string
	// APIURL is the base URL of the API (every host type); empty means the SDK's own
	// Dropbox URLs.
	APIURL string
}

// RealDropbox returns the endpoints of dropbox.com.
func RealDropbox() Dropbox {
	return Dropbox{
		AuthURL:  "https://www.dropbox.com/oauth2/authorize",
		TokenURL: "https://api.dropboxapi.com/oauth2/token",
	}
}

// DropboxAt returns endpoints that all live under baseURL, as the emulator serves them:
// <base>/oauth2/authorize, <base>/oauth2/token and <base>/2/<namespace>/<route>. An empty
// baseURL means RealDropbox.
func DropboxAt(baseURL string) (Dropbox, error) {
	baseURL = strings.TrimSpace(baseURL)
	if baseURL == "" {
		return RealDropbox(), nil
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Dropbox{}, fmt.Errorf("the Dropbox API address %q is not a valid http or https URL", baseURL)
	}
	base := strings.TrimSuffix(u.String(), "/")
	return Dropbox{AuthURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token", APIURL: base}, nil
}

// DropboxFromEnv returns DropboxAt(the value of EnvAPIURL): RealDropbox when it is unset.
func DropboxFromEnv() (Dropbox, error) {
	d, err := DropboxAt(os.Getenv(EnvAPIURL))
	if err != nil {
		return Dropbox{}, fmt.Errorf("%s: %w", EnvAPIURL, err)
	}
	return d, nil
}

// URLGenerator returns a function for the SDK's dropbox.Config.URLGenerator, or nil (the
// SDK's defaults) for the real Dropbox.
func (d Dropbox) URLGenerator() func(hostType, namespace, route string) string {
	if d.APIURL == "" {
		return nil
	}
	base := strings.TrimSuffix(d.APIURL, "/")
	return func(_, namespace, route string) string { return base + "/2/" + namespace + "/" + route }
}

var scopes = []string{"account_info.read", "files.metadata.read", "files.content.read", "files.content.write"}

// Scopes returns the permissions onFact Dropbox Sync asks for (an App folder app); the
// README tells to tick the same ones when registering the app.
func Scopes() []string { return append([]string(nil), scopes...) }

// Config is one Dropbox app at one Dropbox: what the connect flows, the token source and
// Revoke need. The zero HTTPClient means http.DefaultClient. A Config is a value; it is
// safe to share between goroutines once built.
type Config struct {
	AppKey  string
	Dropbox Dropbox
	// HTTPClient carries the token requests and the API calls made here (account info,
	// revoke). Nil means http.DefaultClient.
	HTTPClient *http.Client
}

func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

// oauth2 returns the x/oauth2 configuration for a public (PKCE) client; redirect may be
// empty for the no-redirect flow.
func (c Config) oauth2(redirect string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.AppKey,
		Endpoint: oauth2.Endpoint{
			AuthURL:  c.Dropbox.AuthURL,
			TokenURL: c.Dropbox.TokenURL,
			// Dropbox wants client_id in the form of a public client, not Basic auth.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect,
		Scopes:      Scopes(),
	}
}

func (c Config) check() error {
	if strings.TrimSpace(c.AppKey) == "" {
		return ErrNoAppKey
	}
	if c.Dropbox.AuthURL == "" || c.Dropbox.TokenURL == "" {
		return errors.New("auth: Config.Dropbox has no OAuth endpoints; use RealDropbox or DropboxAt")
	}
	return nil
}
