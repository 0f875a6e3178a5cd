package auth

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"github.com/onfact/onfact-dropbox/internal/dropbox"
)

// testKeychainService keeps the tests' entries apart from a user's real connections.
const testKeychainService = "onFact Dropbox Sync (auth tests)"

// usesSecretService reports whether go-keyring talks to the Secret Service over D-Bus here.
func usesSecretService() bool {
	return runtime.GOOS != "windows" && runtime.GOOS != "darwin"
}

// requireKeychain skips the test when no real keychain answers, or fails it under CI
// (CI=true), where `make test` runs inside scripts/desktop-session.sh and one must.
func requireKeychain(t *testing.T) Keychain {
	t.Helper()
	k := Keychain{Service: testKeychainService}
	reason := ""
	if usesSecretService() && os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		reason = "DBUS_SESSION_BUS_ADDRESS is not set (run inside scripts/desktop-session.sh)"
	} else if err := checkWithin(k, 20*time.Second); err != nil {
		reason = err.Error()
	}
	if reason != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no usable keychain under CI: %s", reason)
		}
		t.Skipf("no usable keychain: %s", reason)
	}
	t.Cleanup(func() { keyring.DeleteAll(testKeychainService) })
	return k
}

// checkWithin is Check with a bound, for a keychain that shows an unlock prompt nobody
// answers.
func checkWithin(k Keychain, d time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- k.Check() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		return errors.New("the keychain did not answer (locked, waiting for a password?)")
	}
}

// testTokenStore is the conformance suite every TokenStore passes.
func testTokenStore(t *testing.T, s TokenStore) {
	expiry := time.Date(2026, 3, 15, 13, 30, 0, 0, time.UTC)
	tok := &oauth2.Token{AccessToken: "sl.access-" + strings.Repeat("a", 40), RefreshToken: "refresh-1", TokenType: "bearer", Expiry: expiry}

	if _, err := s.Load("conn-a"); !errors.Is(err, ErrNoToken) {
		t.Fatalf("Load of nothing: %v, want ErrNoToken", err)
	}
	if err := s.Save("conn-a", tok); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got := mustLoad(t, s, "conn-a")
	if got.AccessToken != tok.AccessToken || got.RefreshToken != tok.RefreshToken || got.TokenType != "bearer" || !got.Expiry.Equal(expiry) {
		t.Errorf("Load after Save: %+v", got)
	}
	// Replace.
	tok2 := &oauth2.Token{AccessToken: "sl.access-2", RefreshToken: "refresh-2", Expiry: expiry.Add(time.Hour)}
	if err := s.Save("conn-a", tok2); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, s, "conn-a"); got.AccessToken != "sl.access-2" || got.RefreshToken != "refresh-2" {
		t.Errorf("Load after replace: %+v", got)
	}
	// Connections are separate.
	if err := s.Save("conn-b", tok); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("conn-a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Load("conn-a"); !errors.Is(err, ErrNoToken) {
		t.Errorf("Load after Delete: %v, want ErrNoToken", err)
	}
	if got := mustLoad(t, s, "conn-b"); got.RefreshToken != "refresh-1" {
		t.Errorf("conn-b after deleting conn-a: %+v", got)
	}
	if err := s.Delete("conn-a"); err != nil {
		t.Errorf("Delete of a missing token: %v", err)
	}
	// Concurrent use.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := s.Save("conn-c", tok); err != nil {
				t.Error(err)
			}
			if _, err := s.Load("conn-b"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s.Delete("conn-b")
	s.Delete("conn-c")
}

func TestMemoryStore(t *testing.T) {
	testTokenStore(t, &MemoryStore{})
}

// The keychain store against the real Secret Service (`make test`, or
// bash scripts/desktop-session.sh go test ./auth/).
func TestKeychain(t *testing.T) {
	k := requireKeychain(t)
	testTokenStore(t, k)

	t.Run("entry format", func(t *testing.T) {
		if err := k.Save("conn-f", &oauth2.Token{AccessToken: "sl.x", RefreshToken: "r"}); err != nil {
			t.Fatal(err)
		}
		raw, err := keyring.Get(testKeychainService, "conn-f")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil || m["access_token"] != "sl.x" || m["refresh_token"] != "r" {
			t.Errorf("entry %q is not the token as JSON", raw)
		}
	})
	t.Run("damaged entry", func(t *testing.T) {
		if err := keyring.Set(testKeychainService, "conn-d", "not json"); err != nil {
			t.Fatal(err)
		}
		_, err := k.Load("conn-d")
		if !errors.Is(err, dropbox.ErrReconnect) || strings.Contains(err.Error(), "not json") {
			t.Errorf("damaged entry: %v, want dropbox.ErrReconnect without the entry's text", err)
		}
	})
	t.Run("default service", func(t *testing.T) {
		if (Keychain{}).service() != "onFact Dropbox Sync" {
			t.Errorf("service %q", Keychain{}.service())
		}
	})
}

// Without a Secret Service (nothing at the bus address) every operation reports
// ErrNoKeychain with what to install, and nothing is written anywhere else. go-keyring
// caches the session bus per process, so this runs in a child process.
func TestKeychainUnavailable(t *testing.T) {
	if !usesSecretService() {
		t.Skip("the Secret Service is Linux's keychain")
	}
	if os.Getenv("AUTH_TEST_NO_KEYCHAIN") == "1" {
		k := Keychain{Service: testKeychainService}
		tok := &oauth2.Token{AccessToken: "sl.secret-access-token-value", RefreshToken: "secret-refresh-token-value"}
		for op, err := range map[string]error{
			"Save":   k.Save("conn-x", tok),
			"Delete": k.Delete("conn-x"),
			"Check":  k.Check(),
			"Load": func() error {
				_, err := k.Load("conn-x")
				return err
			}(),
		} {
			if !errors.Is(err, ErrNoKeychain) {
				t.Errorf("%s: %v, want ErrNoKeychain", op, err)
				continue
			}
			if msg := err.Error(); !strings.Contains(msg, "gnome-keyring or KWallet") || strings.Contains(msg, "secret-") {
				t.Errorf("%s: message %q", op, msg)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeychainUnavailable$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AUTH_TEST_NO_KEYCHAIN=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+t.TempDir()+"/no-bus", "XDG_RUNTIME_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func TestKeychainErrorTranslation(t *testing.T) {
	cause := errors.New(`org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files`)
	tests := []struct {
		op, id string
		want   string
	}{
		{"save", "ab12", "save token of connection ab12: "},
		{"load", "ab12", "load token of connection ab12: "},
		{"check", "", "check the keychain: "},
	}
	for _, tt := range tests {
		err := keychainError(tt.op, tt.id, cause)
		if !errors.Is(err, ErrNoKeychain) || !strings.HasPrefix(err.Error(), tt.want) || !strings.Contains(err.Error(), "ServiceUnknown") {
			t.Errorf("%s: %v", tt.op, err)
		}
	}
	for _, goos := range []string{"linux", "windows", "darwin", "freebsd"} {
		if msg := noKeychainMessage(goos); !strings.Contains(msg, "try again") {
			t.Errorf("%s: %q says nothing to do", goos, msg)
		}
	}
}
