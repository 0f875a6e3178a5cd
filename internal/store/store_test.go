package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, p
}

func TestQueueAndRecords(t *testing.T) {
	s, p := open(t)
	c := s.Conn("c1")
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)

	if r, ok, err := c.File("a.pdf"); ok || err != nil || r != (FileRecord{}) {
		t.Fatalf("empty store: %v %v %v", r, ok, err)
	}
	if err := c.Enqueue(now, "b.pdf", "a.pdf"); err != nil {
		t.Fatal(err)
	}
	// Enqueueing again keeps the original item.
	if err := c.Apply(Update{Path: "a.pdf", Retry: &QueueItem{Since: now, Attempts: 2, LastError: "offline"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Enqueue(now.Add(time.Hour), "a.pdf"); err != nil {
		t.Fatal(err)
	}
	q, err := c.Queue()
	if err != nil || len(q) != 2 || q[0].Path != "a.pdf" || q[0].Attempts != 2 || !q[1].Since.Equal(now) {
		t.Fatalf("queue %+v %v", q, err)
	}

	rec := FileRecord{Size: 3, ModTime: now.UnixNano(), Hash: "h", RemotePath: "/Co/2026/a.pdf", Rev: "015f0000000001", SyncedAt: now}
	if err := c.Apply(Update{Path: "a.pdf", Record: &rec, Dequeue: true, Activity: Activity{Time: now, Kind: "uploaded", Path: "a.pdf"}}); err != nil {
		t.Fatal(err)
	}
	// Durable across a reopen.
	s.Close()
	s2, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	c = s2.Conn("c1")
	got, ok, err := c.File("a.pdf")
	if !ok || err != nil || got.RemotePath != rec.RemotePath || got.Size != 3 || got.ModTime != now.UnixNano() || !got.SyncedAt.Equal(now) {
		t.Fatalf("record %+v %v %v", got, ok, err)
	}
	if n, _ := c.QueueLen(); n != 1 {
		t.Fatalf("queue len %d", n)
	}
	acts, _ := c.Activities(10)
	if len(acts) != 1 || acts[0].Kind != "uploaded" {
		t.Fatalf("activity %+v", acts)
	}
	// Other connections are separate.
	if n, _ := s2.Conn("c2").QueueLen(); n != 0 {
		t.Fatal("connections share a queue")
	}
	if err := c.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.File("a.pdf"); ok {
		t.Fatal("delete kept records")
	}
}

func TestActivityIsBounded(t *testing.T) {
	s, _ := open(t)
	c := s.Conn("c")
	var ups []Update
	for i := 0; i < MaxActivity+250; i++ {
		ups = append(ups, Update{Path: fmt.Sprint(i), Activity: Activity{Kind: "uploaded", Path: fmt.Sprint(i)}})
	}
	if err := c.Apply(ups...); err != nil {
		t.Fatal(err)
	}
	all, _ := c.Activities(5000)
	if len(all) != MaxActivity || all[0].Path != fmt.Sprint(MaxActivity+249) || all[len(all)-1].Path != "250" {
		t.Fatalf("%d entries, newest %s oldest %s", len(all), all[0].Path, all[len(all)-1].Path)
	}
}

func TestMetaAndLock(t *testing.T) {
	s, p := open(t)
	c := s.Conn("c")
	when := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := c.SetMeta(Meta{InitialCopyDone: true, LastSync: when}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Meta(); err != nil || !m.InitialCopyDone || !m.LastSync.Equal(when) {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := Open(p); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}

// TestRetryStateAndCommits: a retry keeps the entry's Since and stores the backoff, and a
// scan's findings queued in one Apply cost one commit.
func TestRetryStateAndCommits(t *testing.T) {
	s, _ := open(t)
	c := s.Conn("c1")
	now := time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	before := s.Commits()
	ups := []Update{{Path: "gone.pdf", Forget: true}}
	for i := range 100 {
		ups = append(ups, Update{Path: fmt.Sprintf("f%03d.pdf", i), Enqueue: now})
	}
	if err := c.Apply(ups...); err != nil {
		t.Fatal(err)
	}
	if n := s.Commits() - before; n != 1 {
		t.Fatalf("%d commits for one Apply, want 1", n)
	}
	later := now.Add(time.Minute)
	retry := QueueItem{Since: later, Attempts: 3, LastError: "offline", NotBefore: later.Add(8 * time.Second)}
	if err := c.Apply(Update{Path: "f007.pdf", Retry: &retry}); err != nil {
		t.Fatal(err)
	}
	q, err := c.Queue()
	if err != nil || len(q) != 100 {
		t.Fatalf("queue: %d items, %v", len(q), err)
	}
	got := q[7]
	if !got.Since.Equal(now) || got.Attempts != 3 || got.LastError != "offline" || !got.NotBefore.Equal(retry.NotBefore) {
		t.Fatalf("retry state %+v", got)
	}
}
