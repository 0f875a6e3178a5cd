package store

import (
	"slices"
	"testing"
	"time"
)

func TestMirrorPage(t *testing.T) {
	file := func(key string) MirrorChange {
		return MirrorChange{Key: key, File: MirrorFile{Path: key, Hash: "h" + key}}
	}
	gone := func(key string) MirrorChange { return MirrorChange{Key: key, Deleted: true} }
	tests := []struct {
		name  string
		pages [][]MirrorChange
		want  []string
	}{
		{"files", [][]MirrorChange{{file("/a/1"), file("/a/2")}, {file("/b/1")}}, []string{"/a/1", "/a/2", "/b/1"}},
		{"a deleted file", [][]MirrorChange{{file("/a/1"), file("/a/2")}, {gone("/a/1")}}, []string{"/a/2"}},
		{"a deleted folder takes what is below it, not its namesakes", [][]MirrorChange{
			{file("/a/1"), file("/a/b/2"), file("/ab/3"), file("/a")}, {gone("/a")}}, []string{"/ab/3"}},
		{"deleted, then replaced", [][]MirrorChange{{file("/a/1")}, {gone("/a"), file("/a/1")}}, []string{"/a/1"}},
		{"a deletion of what is not there", [][]MirrorChange{{gone("/x")}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := open(t)
			c := s.Conn("c1")
			for _, p := range tt.pages {
				if err := c.MirrorPage(p); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			if err := c.Mirror(func(k string, f MirrorFile) error {
				if f.Hash != "h"+k {
					t.Errorf("%s: hash %q", k, f.Hash)
				}
				got = append(got, k)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if n, _ := c.MirrorLen(); !slices.Equal(got, tt.want) || n != len(tt.want) {
				t.Fatalf("mirror %v (%d), want %v", got, n, tt.want)
			}
		})
	}
}

// TestMark: a check's verdicts mark and queue documents sent before it started; a record
// sent since, refused or gone is left as it is; "found in place" ends a repair note.
func TestMark(t *testing.T) {
	s, _ := open(t)
	c := s.Conn("c1")
	start := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	before, after := start.Add(-time.Hour), start.Add(time.Second)
	recs := map[string]FileRecord{
		"old.pdf":      {Hash: "1", RemotePath: "/A/old.pdf", SyncedAt: before},
		"edited.pdf":   {Hash: "2", RemotePath: "/A/edited.pdf", SyncedAt: before},
		"new.pdf":      {Hash: "3", RemotePath: "/A/new.pdf", SyncedAt: after},
		"refused.pdf":  {Failure: "too large", SyncedAt: before},
		"repaired.pdf": {Hash: "4", RemotePath: "/A/repaired.pdf", SyncedAt: before, Repaired: CheckMissing},
	}
	for p, r := range recs {
		if err := c.Apply(Update{Path: p, Record: &r}); err != nil {
			t.Fatal(err)
		}
	}
	queued, err := c.Mark(start, start, map[string]string{
		"old.pdf": CheckMissing, "edited.pdf": CheckDifferent, "new.pdf": CheckMissing,
		"refused.pdf": CheckMissing, "gone.pdf": CheckMissing, "repaired.pdf": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(queued)
	if !slices.Equal(queued, []string{"edited.pdf", "old.pdf"}) {
		t.Fatalf("queued %v", queued)
	}
	q, _ := c.Queue()
	if len(q) != 2 {
		t.Fatalf("queue %v", q)
	}
	for p, want := range map[string]FileRecord{
		"old.pdf":      {Hash: "1", RemotePath: "/A/old.pdf", SyncedAt: before, Missing: CheckMissing},
		"edited.pdf":   {Hash: "2", RemotePath: "/A/edited.pdf", SyncedAt: before, Missing: CheckDifferent},
		"new.pdf":      recs["new.pdf"],
		"refused.pdf":  recs["refused.pdf"],
		"repaired.pdf": {Hash: "4", RemotePath: "/A/repaired.pdf", SyncedAt: before},
	} {
		if got, _, _ := c.File(p); got != want {
			t.Errorf("%s: %+v, want %+v", p, got, want)
		}
	}
	if _, ok, _ := c.File("gone.pdf"); ok {
		t.Error("a verdict on a gone file made a record")
	}
}
