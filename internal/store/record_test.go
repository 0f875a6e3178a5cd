package store

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRecordForms(t *testing.T) {
	synced := time.Date(2026, 3, 1, 9, 30, 0, 123, time.UTC)
	for _, r := range []FileRecord{
		{},
		{Size: 12345, ModTime: synced.UnixNano(), Hash: "ab12", RemotePath: "/Acme/2026/Facturen/factuur café.pdf", Rev: "015f", SyncedAt: synced},
		{Size: 1, ModTime: -1, Failure: "geen toegang", Local: true, Dir: true},
		{Size: 7, Hash: "cd", RemotePath: "/x.pdf", Missing: CheckMissing, Repaired: CheckDifferent, SyncedAt: synced},
	} {
		for _, form := range []struct {
			name string
			v    func() []byte
		}{
			{"binary", func() []byte { return encodeRecord(r) }},
			{"JSON, as earlier versions wrote it", func() []byte { v, _ := json.Marshal(r); return v }},
		} {
			var got FileRecord
			if err := decodeRecord(form.v(), &got); err != nil {
				t.Fatalf("%s of %+v: %v", form.name, r, err)
			}
			if !got.SyncedAt.Equal(r.SyncedAt) || got.SyncedAt.IsZero() != r.SyncedAt.IsZero() {
				t.Errorf("%s: synced %v, want %v", form.name, got.SyncedAt, r.SyncedAt)
			}
			got.SyncedAt = r.SyncedAt
			if got != r {
				t.Errorf("%s: %+v, want %+v", form.name, got, r)
			}
		}
	}
}

func TestMalformedRecords(t *testing.T) {
	whole := encodeRecord(FileRecord{Size: 300, Hash: "ab", RemotePath: "/a.pdf"})
	for i := range len(whole) {
		var r FileRecord
		if err := decodeRecord(whole[:i], &r); err == nil {
			t.Errorf("a record cut to %d of %d bytes was read: %+v", i, len(whole), r)
		}
	}
	var r FileRecord
	if err := decodeRecord([]byte{0x7f, 1, 2}, &r); err == nil {
		t.Error("an unknown form was read")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(FileRecord{Size: 9, Hash: "ab", RemotePath: "/a.pdf", SyncedAt: time.Unix(5, 0)}))
	f.Add([]byte(`{"size":3}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		var r FileRecord
		if decodeRecord(v, &r) != nil || len(v) == 0 || v[0] != recordV1 {
			return
		}
		var again FileRecord
		if err := decodeRecord(encodeRecord(r), &again); err != nil {
			t.Fatalf("re-encoded %+v: %v", r, err)
		}
		if !again.SyncedAt.Equal(r.SyncedAt) {
			t.Fatalf("synced %v became %v", r.SyncedAt, again.SyncedAt)
		}
		again.SyncedAt = r.SyncedAt
		if again != r {
			t.Fatalf("%+v became %+v", r, again)
		}
	})
}
