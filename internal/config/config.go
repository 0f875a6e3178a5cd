// Package config owns the user's settings and the list of connections: what to sync, where,
// and to which Dropbox account. It holds no secrets (tokens live in the OS keychain) and is
// written atomically, so a crash never leaves a half-written file.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// AppDirName is the folder name under the OS's config, cache and state locations.
const AppDirName = "onfact-dropbox"

// SchemaVersion is the version of the file format written by this build.
const SchemaVersion = 1

// Connection links one export folder to one Dropbox account.
type Connection struct {
	// ID is stable for the connection's life; the keychain entry and the state store are
	// keyed by it, so renaming a connection moves nothing.
	ID     string `json:"id"`
	Name   string `json:"name"`
	Folder string `json:"folder"`
	// Structure is a preset name (year, year-type, type-year) or a custom template.
	Structure string `json:"structure"`
	Company   string `json:"company"`
	// Language of the type folder names, fixed when the connection is made so paths never
	// move on their own.
	Language   string `json:"language"`
	Accountant bool   `json:"accountant,omitempty"`
	// Account identifies the Dropbox account; a reconnect must bring back the same one.
	AccountID    string    `json:"account_id,omitempty"`
	AccountName  string    `json:"account_name,omitempty"`
	AccountEmail string    `json:"account_email,omitempty"`
	Paused       bool      `json:"paused,omitempty"`
	Ignore       []string  `json:"ignore,omitempty"` // extra ignore patterns (path.Match syntax)
	CreatedAt    time.Time `json:"created_at"`
}

// Settings are the app-wide preferences.
type Settings struct {
	Language      string `json:"language,omitempty"` // nl, fr, en; empty: from the OS
	StartAtLogin  bool   `json:"start_at_login,omitempty"`
	Notifications bool   `json:"notifications"`
	// Concurrency is the number of parallel content uploads per account (0: default).
	Concurrency int `json:"concurrency,omitempty"`
	// BandwidthLimit caps uploads in bytes per second (0: none).
	BandwidthLimit int64 `json:"bandwidth_limit,omitempty"`
	// CheckDays is how often Dropbox is checked for every document, in days (0: weekly;
	// below zero: never on a schedule, only when asked).
	CheckDays int `json:"check_days,omitempty"`
	// AppKey overrides the Dropbox app key built into the binary.
	AppKey string `json:"app_key,omitempty"`
}

// CheckEvery is CheckDays as the engine takes it (engine.Conn.CheckEvery): 0 for the
// engine's default (weekly), below zero for never.
func (s Settings) CheckEvery() time.Duration {
	if s.CheckDays < 0 {
		return -1
	}
	return time.Duration(s.CheckDays) * 24 * time.Hour
}

// Config is the whole file.
type Config struct {
	Version     int          `json:"version"`
	Settings    Settings     `json:"settings"`
	Connections []Connection `json:"connections"`
}

// Default is the configuration of a fresh install.
func Default() Config {
	return Config{Version: SchemaVersion, Settings: Settings{Notifications: true}}
}

// Dir is where the config file and the state store live: the OS's per-user config folder
// (%AppData% on Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or
// ~/.config on Linux), unless ONFACT_DROPBOX_HOME points elsewhere (tests, portable installs).
func Dir() (string, error) {
	if d := os.Getenv("ONFACT_DROPBOX_HOME"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config folder: %w", err)
	}
	return filepath.Join(base, AppDirName), nil
}

// Path is the config file inside dir.
func Path(dir string) string { return filepath.Join(dir, "config.json") }

// Load reads the config file; a missing file is a fresh install.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("read config %s: %w", path, err)
	}
	c := Default()
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("read config %s: %w", path, err)
	}
	if c.Version > SchemaVersion {
		return Config{}, fmt.Errorf("config %s was written by a newer version (format %d); update onFact Dropbox Sync", path, c.Version)
	}
	c.Version = SchemaVersion
	return c, nil
}

// Save writes the config atomically: a temp file in the same folder, synced, then renamed
// over the old one.
func Save(path string, c Config) error {
	c.Version = SchemaVersion
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.tmp")
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// NewID returns a random connection ID.
func NewID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Find returns the connection with the given ID or name.
func (c *Config) Find(idOrName string) (*Connection, bool) {
	for i := range c.Connections {
		if c.Connections[i].ID == idOrName || c.Connections[i].Name == idOrName {
			return &c.Connections[i], true
		}
	}
	return nil, false
}

// Remove deletes a connection by ID and reports whether it was there.
func (c *Config) Remove(id string) bool {
	for i := range c.Connections {
		if c.Connections[i].ID == id {
			c.Connections = append(c.Connections[:i], c.Connections[i+1:]...)
			return true
		}
	}
	return false
}
