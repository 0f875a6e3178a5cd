package dropboxemu

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// record is one line of the journal. Replaying the journal in order rebuilds accounts,
// tokens and every account's tree; file contents live in blobs/ by content hash.
type record struct {
	Op        string        `json:"op"` // account, put, del, move, access, refresh, revoke
	Account   *AccountInfo  `json:"account,omitempty"`
	AccountID string        `json:"account_id,omitempty"`
	Node      *node         `json:"node,omitempty"`
	Path      string        `json:"path,omitempty"` // del, move: path_lower; revoke: token family
	To        string        `json:"to,omitempty"`   // move: path_display of the new place
	Access    *accessToken  `json:"access,omitempty"`
	Refresh   *refreshToken `json:"refresh,omitempty"`
}

// persistence stores blobs and the journal under a data directory, or blobs in memory when
// there is none. An append-only journal keeps each change O(1) however large the tree.
type persistence struct {
	dir     string
	journal *os.File

	mu    sync.Mutex // guards mem; blobs may be stored outside Server.mu
	mem   map[string][]byte
	onDsk map[string]bool
}

func openPersistence(dir string) (*persistence, error) {
	p := &persistence{dir: dir, mem: map[string][]byte{}, onDsk: map[string]bool{}}
	if dir == "" {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o755); err != nil {
		return nil, fmt.Errorf("emulator data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "journal.jsonl"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("emulator journal: %w", err)
	}
	p.journal = f
	return p, nil
}

func (p *persistence) close() error {
	if p.journal == nil {
		return nil
	}
	err := p.journal.Close()
	p.journal = nil
	return err
}

// log appends a record. Called with Server.mu held, which orders the journal.
func (p *persistence) log(r record) error {
	if p.journal == nil {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := p.journal.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("emulator journal: %w", err)
	}
	return nil
}

// replay applies the journal to a fresh server. A torn last line (the emulator was killed
// mid-write) described a change that was never acknowledged: it is ignored and cut off, so
// that the next record starts on a line of its own instead of being glued onto the torn
// one and lost at the following start.
func (p *persistence) replay(s *Server) error {
	if p.journal == nil {
		return nil
	}
	if _, err := p.journal.Seek(0, io.SeekStart); err != nil {
		return err
	}
	rd := bufio.NewReaderSize(p.journal, 1<<20)
	var good int64 // offset just past the last complete line
	for {
		line, err := rd.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) > 0 {
				if terr := p.journal.Truncate(good); terr != nil {
					return fmt.Errorf("emulator journal: cut torn record: %w", terr)
				}
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("emulator journal: %w", err)
		}
		good += int64(len(line))
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			continue
		}
		p.apply(s, r)
	}
}

// apply replays one record. Records that name what does not exist (a hand-edited or
// damaged journal) are skipped rather than crashing the emulator at start.
func (p *persistence) apply(s *Server, r record) {
	switch r.Op {
	case "account":
		if r.Account == nil {
			return
		}
		if a := s.accounts[r.Account.ID]; a != nil {
			a.info = *r.Account
		} else {
			s.addAccountLocked(*r.Account)
		}
		s.idSeq++
	case "put":
		if a := s.accounts[r.AccountID]; a != nil && r.Node != nil {
			// The key is derived again, so a journal written when keys folded differently
			// (before NFC normalization) loads under today's key.
			r.Node.Lower = lowerPath(r.Node.Display)
			seq := r.Node.Seq
			a.put(r.Node)
			a.seq, r.Node.Seq = seq, seq
		}
	case "del":
		if a := s.accounts[r.AccountID]; a != nil {
			a.remove(lowerPath(r.Path))
		}
	case "move":
		// Folders the move created are put records of their own, before this one.
		if a := s.accounts[r.AccountID]; a != nil && r.To != "" {
			a.move(lowerPath(r.Path), r.To)
		}
	case "access":
		if r.Access != nil {
			s.tokens[r.Access.Token] = r.Access
		}
	case "refresh":
		if r.Refresh != nil {
			s.refreshTokens[r.Refresh.Token] = r.Refresh
		}
	case "revoke":
		s.applyRevokeLocked(r.Path)
	}
}

func (p *persistence) blobPath(hash string) string {
	return filepath.Join(p.dir, "blobs", hash[:2], hash)
}

// putBlob stores data under its content hash; storing the same content twice is a no-op.
func (p *persistence) putBlob(hash string, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dir == "" {
		if _, ok := p.mem[hash]; !ok {
			p.mem[hash] = data
		}
		return nil
	}
	if p.onDsk[hash] {
		return nil
	}
	dst := p.blobPath(hash)
	if _, err := os.Stat(dst); err == nil {
		p.onDsk[hash] = true
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	p.onDsk[hash] = true
	return nil
}

// blob returns the content stored under hash.
func (p *persistence) blob(hash string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dir == "" {
		b, ok := p.mem[hash]
		if !ok {
			return nil, fmt.Errorf("emulator: blob %s missing", hash)
		}
		return b, nil
	}
	b, err := os.ReadFile(p.blobPath(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("emulator: blob %s missing", hash)
	}
	return b, err
}

// Versions reads the journal in dataDir (Options.DataDir): for each file, by its
// path_lower (PathLower), the content hash of every version ever committed there, in
// order. The emulator journals every write and never a no-op (the same content again), so
// this is each path's whole revision history, which Dropbox keeps and tests check: a
// version that is neither the old nor the new content must never have existed.
func Versions(dataDir string) (map[string][]string, error) {
	f, err := os.Open(filepath.Join(dataDir, "journal.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("emulator journal: %w", err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break // a torn last line: the emulator is writing it, or was killed doing so
		}
		if r.Op == "put" && r.Node != nil && !r.Node.Folder {
			out[r.Node.Lower] = append(out[r.Node.Lower], r.Node.Hash)
		}
	}
	return out, sc.Err()
}

// PathLower is the key Dropbox compares a path by, as the emulator reports it in
// path_lower and Versions.
func PathLower(p string) string { return lowerPath(p) }
