package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

// File records are stored in a compact binary form rather than JSON: a restart reads every
// record of the folder, and decoding 100,000 JSON records took as much CPU as walking the
// folder, and made most of the restart's garbage. Records written as JSON by earlier
// versions are still read (a JSON record starts with '{'), and take this form when they
// next change.
//
// The form: recordV1, then as varints the size, the mtime and the time it was synced
// (Unix nanoseconds, 0 for never), a byte of flags, then each string (hash, remote path,
// rev, failure, missing, repaired) as a uvarint length and its bytes.
const recordV1 = 0x01

const (
	flagLocal = 1 << iota
	flagDir
)

var errRecord = errors.New("malformed record")

func encodeRecord(r FileRecord) []byte {
	strs := [...]string{r.Hash, r.RemotePath, r.Rev, r.Failure, r.Missing, r.Repaired}
	n := 1 + 3*binary.MaxVarintLen64 + 1
	for _, s := range strs {
		n += binary.MaxVarintLen64 + len(s)
	}
	b := make([]byte, 0, n)
	b = append(b, recordV1)
	b = binary.AppendVarint(b, r.Size)
	b = binary.AppendVarint(b, r.ModTime)
	var synced int64
	if !r.SyncedAt.IsZero() {
		synced = r.SyncedAt.UnixNano()
	}
	b = binary.AppendVarint(b, synced)
	var flags byte
	if r.Local {
		flags |= flagLocal
	}
	if r.Dir {
		flags |= flagDir
	}
	b = append(b, flags)
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeRecord(v []byte, r *FileRecord) error {
	if len(v) > 0 && v[0] == '{' {
		return json.Unmarshal(v, r)
	}
	if len(v) == 0 || v[0] != recordV1 {
		return errRecord
	}
	d := decoder{b: v[1:]}
	*r = FileRecord{Size: d.varint(), ModTime: d.varint()}
	if synced := d.varint(); synced != 0 {
		r.SyncedAt = time.Unix(0, synced).UTC()
	}
	flags := d.byte()
	r.Local, r.Dir = flags&flagLocal != 0, flags&flagDir != 0
	for _, s := range [...]*string{&r.Hash, &r.RemotePath, &r.Rev, &r.Failure, &r.Missing, &r.Repaired} {
		*s = d.string()
	}
	if d.bad {
		return errRecord
	}
	return nil
}

// decoder reads a record's fields; past the end or on a bad varint it notes bad and reads
// zeros.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) varint() int64 {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad, d.b = true, nil
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) string() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.bad, d.b = true, nil
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}
