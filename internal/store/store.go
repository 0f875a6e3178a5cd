// Package store is the durable state of every connection: the record of each synced file,
// the queue of files waiting to be sent, and a bounded activity log.
//
// It is an embedded bbolt database: one file, ACID transactions that are fsynced on commit,
// pure Go (no cgo beyond what the GUI already needs), and a key/value model that fits
// "path -> record" exactly. SQLite would add a query language we do not need. Every change
// the engine makes is one transaction, written before the engine acts on it (enqueue) or
// after Dropbox confirmed it (done), so a kill -9 at any instant loses nothing: at worst a
// confirmed upload is sent again on restart, which Dropbox answers as a no-op because the
// content is identical.
package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout written by this build.
const SchemaVersion = 1

// MaxActivity is how many activity entries a connection keeps; older ones are dropped.
const MaxActivity = 1000

// ErrLocked means another process has the store open: two engines must never share it.
var ErrLocked = errors.New("the state store is in use by another onFact Dropbox Sync")

var (
	bucketMeta  = []byte("meta")
	bucketConns = []byte("conns")
	bFiles      = []byte("files")
	bQueue      = []byte("queue")
	bActivity   = []byte("activity")
	bConnMeta   = []byte("meta")
	keySchema   = []byte("schema")
)

// Store is the open database. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// Open opens (or creates) the store at path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open state store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketConns); err != nil {
			return err
		}
		if v := m.Get(keySchema); v != nil {
			if n := binary.BigEndian.Uint64(v); n > SchemaVersion {
				return fmt.Errorf("state store was written by a newer version (schema %d); update onFact Dropbox Sync", n)
			}
		}
		return m.Put(keySchema, u64(SchemaVersion))
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file.
func (s *Store) Path() string { return s.db.Path() }

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

// FileRecord is what the store knows of one local file: how it looked when it was last
// handled, and where it went.
type FileRecord struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime"` // Unix nanoseconds
	Hash    string `json:"hash,omitempty"`
	// RemotePath is the Dropbox path (display case) the file was uploaded to.
	RemotePath string    `json:"remote,omitempty"`
	Rev        string    `json:"rev,omitempty"`
	SyncedAt   time.Time `json:"synced_at,omitzero"`
	// Failure is a permanent per-file problem (disallowed name, too large, conflict): the
	// file is retried only once its size or mtime changes.
	Failure string `json:"failure,omitempty"`
}

// Same reports whether a file on disk still looks as recorded.
func (r FileRecord) Same(size int64, mtime time.Time) bool {
	return r.Size == size && r.ModTime == mtime.UnixNano()
}

// QueueItem is a file waiting to be (re)considered for upload.
type QueueItem struct {
	Path      string    `json:"-"`
	Since     time.Time `json:"since"`
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"`
}

// Activity is one entry of a connection's feed.
type Activity struct {
	Seq        uint64    `json:"-"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"` // see the engine's activity kinds
	Path       string    `json:"path,omitempty"`
	RemotePath string    `json:"remote,omitempty"`
	Message    string    `json:"message,omitempty"`
}

// Conn is the part of the store that belongs to one connection.
type Conn struct {
	s  *Store
	id []byte
}

// Conn returns the handle for a connection's state; nothing is written until it is used.
func (s *Store) Conn(id string) *Conn { return &Conn{s: s, id: []byte(id)} }

// bucket returns one of the connection's sub-buckets, creating it in writable transactions.
// In read-only transactions it may return nil when nothing was ever written.
func (c *Conn) bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	conns := tx.Bucket(bucketConns)
	cb := conns.Bucket(c.id)
	if cb == nil {
		if !tx.Writable() {
			return nil, nil
		}
		var err error
		if cb, err = conns.CreateBucket(c.id); err != nil {
			return nil, err
		}
	}
	b := cb.Bucket(name)
	if b == nil && tx.Writable() {
		return cb.CreateBucket(name)
	}
	return b, nil
}

func (c *Conn) view(name []byte, fn func(b *bolt.Bucket) error) error {
	return c.s.db.View(func(tx *bolt.Tx) error {
		b, err := c.bucket(tx, name)
		if err != nil || b == nil {
			return err
		}
		return fn(b)
	})
}

// File returns the record of a local path (slash-separated, relative to the export folder).
func (c *Conn) File(path string) (FileRecord, bool, error) {
	var r FileRecord
	found := false
	err := c.view(bFiles, func(b *bolt.Bucket) error {
		v := b.Get([]byte(path))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &r)
	})
	return r, found, err
}

// Files calls fn for every record whose path starts with prefix ("" for all), in path
// order. fn must not use the store.
func (c *Conn) Files(prefix string, fn func(path string, r FileRecord) error) error {
	return c.view(bFiles, func(b *bolt.Bucket) error {
		cur := b.Cursor()
		p := []byte(prefix)
		for k, v := cur.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = cur.Next() {
			var r FileRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("record %s: %w", k, err)
			}
			if err := fn(string(k), r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Enqueue adds paths to the queue in one transaction. A path already queued keeps its
// place and attempt count, so enqueueing is idempotent.
func (c *Conn) Enqueue(now time.Time, paths ...string) error {
	if len(paths) == 0 {
		return nil
	}
	return c.s.db.Update(func(tx *bolt.Tx) error {
		q, err := c.bucket(tx, bQueue)
		if err != nil {
			return err
		}
		v, _ := json.Marshal(QueueItem{Since: now})
		for _, p := range paths {
			if q.Get([]byte(p)) != nil {
				continue
			}
			if err := q.Put([]byte(p), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Queue returns every queued item in path order.
func (c *Conn) Queue() ([]QueueItem, error) {
	var out []QueueItem
	err := c.view(bQueue, func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			it := QueueItem{Path: string(k)}
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("queue item %s: %w", k, err)
			}
			out = append(out, it)
			return nil
		})
	})
	return out, err
}

// QueueLen is the number of queued items.
func (c *Conn) QueueLen() (int, error) {
	n := 0
	err := c.view(bQueue, func(b *bolt.Bucket) error {
		n = b.Stats().KeyN
		return nil
	})
	return n, err
}

// Update is one outcome to record: a file's new record (or nil to forget it), whether it
// leaves the queue, and an activity entry (Kind "" for none).
type Update struct {
	Path     string
	Record   *FileRecord
	Forget   bool // delete the record (the file is gone locally)
	Dequeue  bool
	Retry    *QueueItem // keep queued with this attempt state instead
	Activity Activity
}

// Apply records outcomes in one transaction: after a batch commit, every file of the batch
// is recorded and dequeued together.
func (c *Conn) Apply(updates ...Update) error {
	if len(updates) == 0 {
		return nil
	}
	return c.s.db.Update(func(tx *bolt.Tx) error {
		files, err := c.bucket(tx, bFiles)
		if err != nil {
			return err
		}
		queue, err := c.bucket(tx, bQueue)
		if err != nil {
			return err
		}
		act, err := c.bucket(tx, bActivity)
		if err != nil {
			return err
		}
		for _, u := range updates {
			key := []byte(u.Path)
			switch {
			case u.Forget:
				if err := files.Delete(key); err != nil {
					return err
				}
			case u.Record != nil:
				v, err := json.Marshal(u.Record)
				if err != nil {
					return err
				}
				if err := files.Put(key, v); err != nil {
					return err
				}
			}
			switch {
			case u.Retry != nil:
				v, err := json.Marshal(u.Retry)
				if err != nil {
					return err
				}
				if err := queue.Put(key, v); err != nil {
					return err
				}
			case u.Dequeue:
				if err := queue.Delete(key); err != nil {
					return err
				}
			}
			if u.Activity.Kind != "" {
				if err := appendActivity(act, u.Activity); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func appendActivity(b *bolt.Bucket, a Activity) error {
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := b.Put(u64(seq), v); err != nil {
		return err
	}
	// Keys are sequence numbers in order: drop from the front past the bound.
	if seq > MaxActivity {
		cur := b.Cursor()
		for k, _ := cur.First(); k != nil && binary.BigEndian.Uint64(k) <= seq-MaxActivity; k, _ = cur.Next() {
			if err := cur.Delete(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Activities returns up to n of the newest entries, newest first.
func (c *Conn) Activities(n int) ([]Activity, error) {
	var out []Activity
	err := c.view(bActivity, func(b *bolt.Bucket) error {
		cur := b.Cursor()
		for k, v := cur.Last(); k != nil && len(out) < n; k, v = cur.Prev() {
			a := Activity{Seq: binary.BigEndian.Uint64(k)}
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, err
}

// Meta is per-connection bookkeeping.
type Meta struct {
	// InitialCopyDone is set once every file found at the first scan was sent or recorded.
	InitialCopyDone bool      `json:"initial_copy_done,omitempty"`
	LastSync        time.Time `json:"last_sync,omitzero"`
}

var keyMeta = []byte("meta")

// Meta returns the connection's bookkeeping.
func (c *Conn) Meta() (Meta, error) {
	var m Meta
	err := c.view(bConnMeta, func(b *bolt.Bucket) error {
		if v := b.Get(keyMeta); v != nil {
			return json.Unmarshal(v, &m)
		}
		return nil
	})
	return m, err
}

// SetMeta replaces the connection's bookkeeping.
func (c *Conn) SetMeta(m Meta) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.s.db.Update(func(tx *bolt.Tx) error {
		b, err := c.bucket(tx, bConnMeta)
		if err != nil {
			return err
		}
		return b.Put(keyMeta, v)
	})
}

// Delete forgets everything about the connection.
func (c *Conn) Delete() error {
	return c.s.db.Update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketConns).DeleteBucket(c.id)
		if errors.Is(err, bolt.ErrBucketNotFound) {
			return nil
		}
		return err
	})
}
