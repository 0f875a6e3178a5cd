package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Why a check did not find a document in Dropbox as it was sent (FileRecord.Missing).
const (
	CheckMissing   = "missing"   // not at its place in Dropbox: deleted, moved or renamed there
	CheckDifferent = "different" // at its place with other content: edited or replaced there
)

var (
	// bMirror is what Dropbox held at the last check: FoldKey of the Dropbox path ->
	// MirrorFile. Kept in the store rather than in memory, so a check streams the listing
	// page by page and its memory does not grow with the number of documents, and so the
	// next check needs only the changes since (list_folder/continue).
	bMirror  = []byte("mirror")
	keyCheck = []byte("check")
)

// MirrorFile is one file Dropbox held at the last check.
type MirrorFile struct {
	Path string `json:"path"` // display case
	Hash string `json:"hash"`
}

// MirrorChange is one entry of a listing, by Key (the FoldKey of its Dropbox path): a file
// (File), or a deleted path, which takes everything below it too.
type MirrorChange struct {
	Key     string
	File    MirrorFile
	Deleted bool
}

// CheckReport is what the last check of Dropbox found. Every document this connection
// knows falls in exactly one of Present, Repaired, Pending and Problems.
type CheckReport struct {
	At   time.Time `json:"at"`
	Full bool      `json:"full,omitempty"` // a full listing, not the changes since the last check
	// Requests is the number of listing requests the check took.
	Requests  int    `json:"requests"`
	Documents int    `json:"documents"`
	Present   int    `json:"present"`            // in Dropbox with the same content
	Repaired  int    `json:"repaired,omitempty"` // missing or different there: sent again
	Pending   int    `json:"pending,omitempty"`  // new or changed here, not sent yet
	Problems  int    `json:"problems,omitempty"` // not in Dropbox, for a reason the status names
	Extra     int    `json:"extra,omitempty"`    // files in Dropbox this connection did not send: left alone
	Err       string `json:"error,omitempty"`    // why the check did not finish
}

// CheckState is what a connection keeps between checks.
type CheckState struct {
	// Cursor is where the next check's listing of changes starts ("" for a full listing:
	// never checked, or a full listing interrupted).
	Cursor string    `json:"cursor,omitempty"`
	FullAt time.Time `json:"full_at,omitzero"` // when the last full listing ended
	// Since is when the schedule counts from: the end of the initial copy, then of each
	// check (zero: a connection synced before checks existed, due at once).
	Since time.Time    `json:"since,omitzero"`
	Last  *CheckReport `json:"last,omitempty"`
}

// CheckState returns the connection's check bookkeeping.
func (c *Conn) CheckState() (cs CheckState, err error) {
	err = c.metaValue(keyCheck, &cs)
	return cs, err
}

// SetCheckState replaces the connection's check bookkeeping.
func (c *Conn) SetCheckState(cs CheckState) error { return c.setMetaValue(keyCheck, cs) }

// StartFullCheck forgets the mirror and the cursor in one transaction: a full listing
// rebuilds both, and one cut short leaves no cursor, so the next check starts over.
func (c *Conn) StartFullCheck() error {
	cs, err := c.CheckState()
	if err != nil {
		return err
	}
	cs.Cursor = ""
	v, err := json.Marshal(cs)
	if err != nil {
		return err
	}
	return c.s.update(func(tx *bolt.Tx) error {
		meta, err := c.bucket(tx, bConnMeta)
		if err != nil {
			return err
		}
		if err := meta.Put(keyCheck, v); err != nil {
			return err
		}
		conn := tx.Bucket(bucketConns).Bucket(c.id)
		if err := conn.DeleteBucket(bMirror); err != nil && err != bolt.ErrBucketNotFound {
			return err
		}
		return nil
	})
}

// MirrorPage applies one page of a listing to the mirror in one transaction, in order: a
// deletion and then the file that replaced it leave the file.
func (c *Conn) MirrorPage(changes []MirrorChange) error {
	return c.s.update(func(tx *bolt.Tx) error {
		b, err := c.bucket(tx, bMirror)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			key := []byte(ch.Key)
			if !ch.Deleted {
				v, err := json.Marshal(ch.File)
				if err != nil {
					return err
				}
				if err := b.Put(key, v); err != nil {
					return err
				}
				continue
			}
			if err := b.Delete(key); err != nil {
				return err
			}
			cur := b.Cursor()
			below := append(key, '/')
			for k, _ := cur.Seek(below); k != nil && bytes.HasPrefix(k, below); k, _ = cur.Seek(below) {
				if err := cur.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Judged is one record as a check sees it, with what the mirror holds at its Dropbox path
// (nil: nothing) and whether it is queued.
type Judged struct {
	Path   string
	Record FileRecord
	Remote *MirrorFile
	Queued bool
}

// Judge calls fn for every record in path order, with the mirror's file at key(record)
// and its queue state, in one read transaction. fn must not use the store.
func (c *Conn) Judge(key func(FileRecord) string, fn func(Judged) error) (err error) {
	defer guard(&err)
	return c.s.db.View(func(tx *bolt.Tx) error {
		files, _ := c.bucket(tx, bFiles)
		if files == nil {
			return nil
		}
		mirror, _ := c.bucket(tx, bMirror)
		queue, _ := c.bucket(tx, bQueue)
		return files.ForEach(func(k, v []byte) error {
			j := Judged{Path: string(k)}
			if err := decodeRecord(v, &j.Record); err != nil {
				return fmt.Errorf("record %s: %w", k, err)
			}
			if queue != nil {
				j.Queued = queue.Get(k) != nil
			}
			if mirror != nil && j.Record.RemotePath != "" {
				if mv := mirror.Get([]byte(key(j.Record))); mv != nil {
					j.Remote = &MirrorFile{}
					if err := json.Unmarshal(mv, j.Remote); err != nil {
						return fmt.Errorf("mirror %s: %w", key(j.Record), err)
					}
				}
			}
			return fn(j)
		})
	})
}

// Mirror calls fn for every file of the mirror, by key order. fn must not use the store.
func (c *Conn) Mirror(fn func(key string, f MirrorFile) error) error {
	return c.view(bMirror, func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			var f MirrorFile
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("mirror %s: %w", k, err)
			}
			return fn(string(k), f)
		})
	})
}

// MirrorLen is the number of files in the mirror.
func (c *Conn) MirrorLen() (int, error) { return c.count(bMirror) }

// Mark records a check's verdicts in one transaction: a reason (CheckMissing,
// CheckDifferent) marks the document to be sent again and queues it; "" says it was found
// in place and ends its Repaired note. A record synced at or after before (sent while the
// check listed Dropbox) is newer than the check's view of it and left as it is, as is one
// that is gone. It returns the paths marked to be sent again.
func (c *Conn) Mark(now, before time.Time, verdicts map[string]string) (queued []string, err error) {
	if len(verdicts) == 0 {
		return nil, nil
	}
	err = c.s.update(func(tx *bolt.Tx) error {
		files, err := c.bucket(tx, bFiles)
		if err != nil {
			return err
		}
		queue, err := c.bucket(tx, bQueue)
		if err != nil {
			return err
		}
		for path, why := range verdicts {
			key := []byte(path)
			v := files.Get(key)
			if v == nil {
				continue
			}
			var r FileRecord
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("record %s: %w", path, err)
			}
			if !r.SyncedAt.Before(before) || r.Failure != "" {
				continue
			}
			r.Missing = why
			if why == "" {
				r.Repaired = ""
			}
			if err := files.Put(key, encodeRecord(r)); err != nil {
				return err
			}
			if why == "" {
				continue
			}
			if err := applyQueue(queue, key, Update{Enqueue: now}); err != nil {
				return err
			}
			queued = append(queued, path)
		}
		return nil
	})
	return queued, err
}
