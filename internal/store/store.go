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
	"runtime/debug"
	"strings"
	"sync/atomic"
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
	// commits counts write transactions, each one fsync: the cost benchmarks measure.
	commits atomic.Uint64
}

// ErrDamaged means the state file is damaged: pages scribbled over (a failing disk, a
// crash of the machine during a write the disk reordered), so bbolt reports it invalid or
// panics on it. Nothing in it can be trusted; OpenOrReset sets it aside.
var ErrDamaged = errors.New("the state store is damaged")

// lockWait is how long Open waits for another process to release the store: a command
// started as the app quits gets it.
const lockWait = 2 * time.Second

// Open opens (or creates) the store at path. A damaged file is an error wrapping
// ErrDamaged, never a panic: every page is read once, under guard, before the store is used.
func Open(path string) (*Store, error) { return openWait(path, lockWait) }

func openWait(path string, wait time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open state store: %w", err)
	}
	db, err := openBolt(path, wait)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	if err := check(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state store %s: %w", path, err)
	}
	s := &Store{db: db}
	err = s.update(func(tx *bolt.Tx) error {
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
	s.commits.Store(0) // Commits counts the engine's transactions, not this one
	return s, nil
}

// openBolt opens the bbolt file. bbolt reads the meta pages and the freelist here and
// panics on some garbage in them; that and its own "invalid database" or checksum errors
// are damage. Errors of the file system (permission, disk full) are returned as they are:
// the file may be fine and the folder the problem.
func openBolt(path string, wait time.Duration) (db *bolt.DB, err error) {
	// A panic inside bolt.Open leaves its file open, mapped and locked in a DB it never
	// returns. The file is kept here to close it; the mapping, and with it the lock, stays
	// for the life of the process, which is harmless because OpenOrReset moves that file
	// aside and opens a new one, but another Open of the same file here would time out.
	var file *os.File
	defer func() {
		if r := recover(); r != nil {
			if file != nil {
				file.Close()
			}
			db, err = nil, fmt.Errorf("%w: %v", ErrDamaged, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: wait,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		}})
	switch {
	case err == nil, errors.Is(err, bolt.ErrTimeout):
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch),
		strings.HasPrefix(err.Error(), "file size too small"):
		err = fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return db, err
}

// check reads every page of the file once: each bucket and each key and value through
// cursors, on this goroutine and under guard (a scribbled branch page panics, or points
// outside the file, which without SetPanicOnFault would kill the process), then bbolt's
// own consistency check (freelist, pages referenced twice), which runs on a goroutine of
// its own where a panic could not be caught, so only once the walk found the tree sound.
func check(db *bolt.DB) (err error) {
	defer guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return db.View(func(tx *bolt.Tx) error {
		if err := walk(tx.Cursor(), 0); err != nil {
			return err
		}
		// Drained to the end: the check goroutine uses tx until it closes the channel.
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = fmt.Errorf("%w: %w", ErrDamaged, err)
			}
		}
		return first
	})
}

// walk visits every key of a bucket and of the buckets inside it.
func walk(c *bolt.Cursor, depth int) error {
	if depth > 8 { // the store nests three deep: deeper is a loop in scribbled pages
		return fmt.Errorf("%w: buckets nested %d deep", ErrDamaged, depth)
	}
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			continue
		}
		if b := c.Bucket().Bucket(k); b != nil {
			if err := walk(b.Cursor(), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// guard turns a panic of bbolt on a damaged file into an error wrapping ErrDamaged, so the
// store's callers get an error and the app a message, not a crash at every start.
func guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", ErrDamaged, r)
	}
}

// Reset says that a damaged state file was set aside and an empty store started instead.
type Reset struct {
	// Broken is where the damaged file is now (state.db.broken-20261201-215800), kept for
	// a look by support; nothing reads it again.
	Broken string
	// Cause is what was found, for the log.
	Cause error
}

// OpenOrReset opens the store at path as Open does; if the file is damaged (ErrDamaged) it
// moves it aside to path+".broken-<UTC time>" and starts an empty store in its place, and
// returns what it did (reset is nil when the store was fine). The engine then rebuilds the
// state from the export folders and the Dropbox listing, matching files by content hash, so
// nothing is sent twice. Any other failure is returned and the file left where it is.
func OpenOrReset(path string) (s *Store, reset *Reset, err error) {
	return openOrReset(path, lockWait)
}

// TryOpenOrReset is OpenOrReset without waiting: ErrLocked at once while another process
// has the store (a status query then asks that process instead).
func TryOpenOrReset(path string) (s *Store, reset *Reset, err error) {
	// bbolt tries the lock once when the timeout is below its retry interval.
	return openOrReset(path, time.Millisecond)
}

func openOrReset(path string, wait time.Duration) (s *Store, reset *Reset, err error) {
	s, err = openWait(path, wait)
	if !errors.Is(err, ErrDamaged) {
		return s, nil, err
	}
	broken := path + ".broken-" + time.Now().UTC().Format("20060102-150405")
	for i := 2; ; i++ {
		if _, statErr := os.Lstat(broken); errors.Is(statErr, os.ErrNotExist) {
			break
		}
		broken = fmt.Sprintf("%s.broken-%s-%d", path, time.Now().UTC().Format("20060102-150405"), i)
	}
	if mvErr := os.Rename(path, broken); mvErr != nil {
		return nil, nil, fmt.Errorf("set the damaged state store aside: %w (it is damaged: %v)", mvErr, err)
	}
	s, openErr := openWait(path, wait)
	if openErr != nil {
		return nil, nil, fmt.Errorf("start a new state store after setting the damaged one aside as %s: %w", broken, openErr)
	}
	return s, &Reset{Broken: broken, Cause: err}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file.
func (s *Store) Path() string { return s.db.Path() }

// Commits is the number of write transactions committed since Open.
func (s *Store) Commits() uint64 { return s.commits.Load() }

// update runs fn in a write transaction and counts it once committed.
func (s *Store) update(fn func(tx *bolt.Tx) error) (err error) {
	// A page that went bad after Open panics in bbolt; Update rolls back on a panic, so
	// the store stays usable and the caller gets ErrDamaged (the next start resets).
	defer guard(&err)
	if err := s.db.Update(fn); err != nil {
		return err
	}
	s.commits.Add(1)
	return nil
}

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
	// Failure says in plain words why the file is not in Dropbox. A refusal by Dropbox
	// (disallowed name, too large, conflict) is retried once the file's size or mtime
	// changes, or when the user asks.
	Failure string `json:"failure,omitempty"`
	// Local marks a Failure to read the file (or Dir: the folder) here: no permission, a
	// name the system refuses. Fixing that changes nothing Dropbox or a stat sees, so
	// such files are tried again at every full rescan.
	Local bool `json:"local,omitempty"`
	Dir   bool `json:"dir,omitempty"`
	// Missing is why a check of Dropbox did not find this document there as it was sent
	// (CheckMissing, CheckDifferent): it is sent again although nothing changed here.
	Missing string `json:"missing,omitempty"`
	// Repaired keeps that reason once it was sent again, for the check's report, until the
	// next check finds it in place.
	Repaired string `json:"repaired,omitempty"`
}

// QueueItem is a file waiting to be (re)considered for upload.
type QueueItem struct {
	Path  string    `json:"-"`
	Since time.Time `json:"since"`
	// Attempts, LastError and NotBefore are the retry state of a file that failed, kept
	// so that its backoff survives a restart.
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
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

// fillPercent is how full bbolt fills a page it splits (see Conn.bucket).
const fillPercent = 0.9

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
		var err error
		if b, err = cb.CreateBucket(name); err != nil {
			return nil, err
		}
	}
	if b != nil && tx.Writable() {
		// Pages split full, not half full as bbolt's default: records are written mostly
		// in path order (a copy's batches, a folder of new documents), and every restart
		// reads them all, so a half-empty page is twice the pages read and kept in memory.
		b.FillPercent = fillPercent
	}
	return b, nil
}

func (c *Conn) view(name []byte, fn func(b *bolt.Bucket) error) (err error) {
	defer guard(&err) // as in update
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
		return decodeRecord(v, &r)
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
			if err := decodeRecord(v, &r); err != nil {
				return fmt.Errorf("record %s: %w", k, err)
			}
			if err := fn(string(k), r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Enqueue adds paths to the queue in one transaction (see Update.Enqueue).
func (c *Conn) Enqueue(now time.Time, paths ...string) error {
	ups := make([]Update, len(paths))
	for i, p := range paths {
		ups[i] = Update{Path: p, Enqueue: now}
	}
	return c.Apply(ups...)
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

// FilesLen is the number of file records.
func (c *Conn) FilesLen() (int, error) { return c.count(bFiles) }

// QueueLen is the number of queued items.
func (c *Conn) QueueLen() (int, error) { return c.count(bQueue) }

// count is the number of keys in one of the connection's buckets.
func (c *Conn) count(name []byte) (int, error) {
	n := 0
	err := c.view(name, func(b *bolt.Bucket) error {
		n = b.Stats().KeyN
		return nil
	})
	return n, err
}

// Update is one change to record: a file's new record (or Forget), what becomes of its
// queue entry (Enqueue, Dequeue or Retry), and an activity entry (Kind "" for none).
type Update struct {
	Path   string
	Record *FileRecord
	Forget bool // delete the record (the file is gone locally)
	// Enqueue, when set, queues the file as of that time. A path already queued keeps its
	// place and retry state, so enqueueing is idempotent.
	Enqueue time.Time
	Dequeue bool
	// Retry keeps the file queued with this retry state; its Since is kept from the entry.
	Retry    *QueueItem
	Activity Activity
}

// Apply records changes in one transaction: a scan's findings are queued together, and
// after a batch commit every file of the batch is recorded and dequeued together.
func (c *Conn) Apply(updates ...Update) error {
	if len(updates) == 0 {
		return nil
	}
	return c.s.update(func(tx *bolt.Tx) error {
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
				if err := files.Put(key, encodeRecord(*u.Record)); err != nil {
					return err
				}
			}
			if err := applyQueue(queue, key, u); err != nil {
				return err
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

// applyQueue queues a file, stores its retry state or dequeues it, as u says.
func applyQueue(queue *bolt.Bucket, key []byte, u Update) error {
	var it QueueItem
	switch {
	case u.Dequeue:
		return queue.Delete(key)
	case u.Retry != nil:
		it = *u.Retry
		if old := queue.Get(key); old != nil {
			var prev QueueItem
			if json.Unmarshal(old, &prev) == nil {
				it.Since = prev.Since
			}
		}
	case !u.Enqueue.IsZero():
		if queue.Get(key) != nil {
			return nil
		}
		it.Since = u.Enqueue
	default:
		return nil
	}
	v, err := json.Marshal(it)
	if err != nil {
		return err
	}
	return queue.Put(key, v)
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
func (c *Conn) Meta() (m Meta, err error) {
	err = c.metaValue(keyMeta, &m)
	return m, err
}

// SetMeta replaces the connection's bookkeeping.
func (c *Conn) SetMeta(m Meta) error { return c.setMetaValue(keyMeta, m) }

// metaValue reads the JSON value under key in the connection's meta bucket into v (left
// as it is when there is none).
func (c *Conn) metaValue(key []byte, v any) error {
	return c.view(bConnMeta, func(b *bolt.Bucket) error {
		if raw := b.Get(key); raw != nil {
			return json.Unmarshal(raw, v)
		}
		return nil
	})
}

// setMetaValue stores v as JSON under key in the connection's meta bucket.
func (c *Conn) setMetaValue(key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.s.update(func(tx *bolt.Tx) error {
		b, err := c.bucket(tx, bConnMeta)
		if err != nil {
			return err
		}
		return b.Put(key, raw)
	})
}

// Delete forgets everything about the connection.
func (c *Conn) Delete() error {
	return c.s.update(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketConns).DeleteBucket(c.id)
		if errors.Is(err, bolt.ErrBucketNotFound) {
			return nil
		}
		return err
	})
}
