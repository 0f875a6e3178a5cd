package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"
)

// TokenStore keeps one OAuth token per connection ID. Implementations must be safe for
// concurrent use and must never put a token anywhere but their own secret storage.
type TokenStore interface {
	// Load returns the connection's token, or an error wrapping ErrNoToken when there is none.
	Load(id string) (*oauth2.Token, error)
	// Save stores (or replaces) the connection's token.
	Save(id string, t *oauth2.Token) error
	// Delete removes the connection's token; deleting a missing token is not an error.
	Delete(id string) error
}

// ErrNoToken means the keychain has no token for a connection: it was never connected on
// this computer, or the entry was removed. The connection needs to be connected again.
var ErrNoToken = errors.New("no Dropbox token is stored for this connection; connect it again")

// ErrNoKeychain means the OS keychain cannot be used (on Linux: no Secret Service, or it
// is locked). Tokens are never written anywhere else, so connecting has to wait until the
// user installs or unlocks one; the message says how.
var ErrNoKeychain = errors.New(noKeychainMessage(runtime.GOOS))

func noKeychainMessage(goos string) string {
	switch goos {
	case "windows":
		return "the Windows Credential Manager is not available to keep the Dropbox connection safe; " +
			"sign in to Windows with your own account and try again"
	case "darwin":
		return "the macOS Keychain is not available to keep the Dropbox connection safe; " +
			"unlock your login keychain (Keychain Access) and try again"
	default:
		return "no keychain is available to keep the Dropbox connection safe; install and unlock a keychain " +
			"(gnome-keyring or KWallet, which provide the Secret Service) and try again"
	}
}

// ErrKeychainUnreachable means the keychain cannot be reached from where the command runs:
// on Linux, a command started outside the desktop session (cron, ssh, a service) has no
// session bus to reach the Secret Service on. It is an ErrNoKeychain (errors.Is), with a
// message that says what to do.
var ErrKeychainUnreachable error = unreachableError{}

type unreachableError struct{}

func (unreachableError) Error() string {
	return "the keychain that keeps the Dropbox connection safe cannot be reached from here: this runs outside " +
		"the desktop session (from cron, ssh or a service), where there is no session bus. Nothing was changed. " +
		"Run it in a terminal of the desktop session of the user who connected Dropbox, or inside a D-Bus session " +
		"with that user's keyring unlocked (dbus-run-session)."
}

func (unreachableError) Is(target error) bool { return target == ErrNoKeychain }

// KeychainService is the service name of the keychain entries; the account (user) of each
// entry is the connection ID, and its secret is the oauth2.Token as JSON.
const KeychainService = "onFact Dropbox Sync"

// Keychain is the TokenStore in the OS keychain (Windows Credential Manager, macOS
// Keychain, the Secret Service on Linux) through go-keyring. Any failure of the keychain
// itself is reported as an error wrapping ErrNoKeychain; there is no fallback to a file.
//
// It is safe for concurrent use. Calls may block while the OS asks the user to unlock the
// keychain.
type Keychain struct {
	// Service overrides KeychainService; tests use their own so they never touch a
	// user's real entries.
	Service string
}

var _ TokenStore = Keychain{}

func (k Keychain) service() string {
	if k.Service != "" {
		return k.Service
	}
	return KeychainService
}

// Load implements TokenStore.
func (k Keychain) Load(id string) (*oauth2.Token, error) {
	if id == "" {
		return nil, errors.New("load token: empty connection ID")
	}
	if err := keychainReachable(); err != nil {
		return nil, fmt.Errorf("load token of connection %s: %w", id, err)
	}
	s, err := keyring.Get(k.service(), id)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("load token of connection %s: %w", id, ErrNoToken)
	}
	if err != nil {
		return nil, keychainError("load", id, err)
	}
	var t oauth2.Token
	if err := json.Unmarshal([]byte(s), &t); err != nil || (t.AccessToken == "" && t.RefreshToken == "") {
		// The JSON error is left out: it may quote part of the secret.
		return nil, needsReconnect{fmt.Errorf("load token of connection %s: the keychain entry is damaged; connect it again", id)}
	}
	return &t, nil
}

// Save implements TokenStore. An entry too large for the keychain (Windows allows 2560
// bytes) is saved without the access token, which the next refresh brings back.
func (k Keychain) Save(id string, t *oauth2.Token) error {
	if id == "" {
		return errors.New("save token: empty connection ID")
	}
	if err := keychainReachable(); err != nil {
		return fmt.Errorf("save token of connection %s: %w", id, err)
	}
	if t == nil || (t.AccessToken == "" && t.RefreshToken == "") {
		return fmt.Errorf("save token of connection %s: the token is empty", id)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("save token of connection %s: %w", id, err)
	}
	err = keyring.Set(k.service(), id, string(b))
	if errors.Is(err, keyring.ErrSetDataTooBig) && t.RefreshToken != "" {
		b, _ = json.Marshal(&oauth2.Token{RefreshToken: t.RefreshToken, TokenType: t.TokenType})
		err = keyring.Set(k.service(), id, string(b))
	}
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return fmt.Errorf("save token of connection %s: the token is too large for the keychain", id)
	}
	if err != nil {
		return keychainError("save", id, err)
	}
	return nil
}

// Delete implements TokenStore.
func (k Keychain) Delete(id string) error {
	if id == "" {
		return errors.New("delete token: empty connection ID")
	}
	if err := keychainReachable(); err != nil {
		return fmt.Errorf("delete token of connection %s: %w", id, err)
	}
	err := keyring.Delete(k.service(), id)
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return keychainError("delete", id, err)
}

// checkID is the keychain entry Check writes and removes again.
const checkID = "keychain-check"

// Check writes and deletes a harmless entry, so the wizard can report a missing or
// locked keychain (ErrNoKeychain) before the user goes through the browser.
func (k Keychain) Check() error {
	if err := keychainReachable(); err != nil {
		return err
	}
	if err := keyring.Set(k.service(), checkID, "{}"); err != nil {
		return keychainError("check", "", err)
	}
	if err := keyring.Delete(k.service(), checkID); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return keychainError("check", "", err)
	}
	return nil
}

// keychainError translates a go-keyring failure (dbus errors, a dismissed unlock prompt,
// ...) into ErrNoKeychain, keeping the cause's text for the log.
func keychainError(op, id string, cause error) error {
	what := op + " token"
	if id != "" {
		what += " of connection " + id
	}
	if op == "check" {
		what = "check the keychain"
	}
	return fmt.Errorf("%s: %w (%s)", what, ErrNoKeychain, Redact(cause.Error()))
}

// MemoryStore is a TokenStore in memory, for tests and for callers that must not touch the
// keychain. The zero value is ready to use; it is safe for concurrent use. Tokens are kept
// as JSON, exactly as Keychain keeps them.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ TokenStore = (*MemoryStore)(nil)

// Load implements TokenStore.
func (m *MemoryStore) Load(id string) (*oauth2.Token, error) {
	m.mu.Lock()
	b, ok := m.m[id]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("load token of connection %s: %w", id, ErrNoToken)
	}
	var t oauth2.Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, needsReconnect{fmt.Errorf("load token of connection %s: the stored token is damaged; connect it again", id)}
	}
	return &t, nil
}

// Save implements TokenStore.
func (m *MemoryStore) Save(id string, t *oauth2.Token) error {
	if id == "" || t == nil {
		return errors.New("save token: empty connection ID or token")
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("save token of connection %s: %w", id, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string][]byte{}
	}
	m.m[id] = b
	return nil
}

// Delete implements TokenStore.
func (m *MemoryStore) Delete(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}
