package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := Path(dir)
	c, err := Load(p)
	if err != nil || len(c.Connections) != 0 || !c.Settings.Notifications {
		t.Fatalf("fresh install: %+v %v", c, err)
	}
	c.Connections = append(c.Connections, Connection{ID: NewID(), Name: "Acme onFact", Folder: "/x", Structure: "year-type",
		Company: "Acme BV", Language: "nl", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err := Save(p, c); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil || len(got.Connections) != 1 || got.Connections[0].Name != "Acme onFact" {
		t.Fatalf("%+v %v", got, err)
	}
	if conn, ok := got.Find("Acme onFact"); !ok || conn.ID != c.Connections[0].ID {
		t.Fatal("find by name")
	}
	if !got.Remove(c.Connections[0].ID) || len(got.Connections) != 0 {
		t.Fatal("remove")
	}
	// No temp files left behind.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("dir has %d entries", len(entries))
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	os.WriteFile(p, []byte("{not json"), 0o600)
	if _, err := Load(p); err == nil {
		t.Fatal("corrupt file accepted")
	}
	os.WriteFile(p, []byte(`{"version": 99}`), 0o600)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "newer version") {
		t.Fatalf("future version: %v", err)
	}
}
