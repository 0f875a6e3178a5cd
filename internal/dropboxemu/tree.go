package dropboxemu

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// account is one Dropbox user seen through an app-folder app: the paths it sees are relative
// to its app folder. Every field is guarded by Server.mu except writeLock and limiter, which
// are safe on their own.
type account struct {
	info AccountInfo

	nodes map[string]*node // by path_lower; the root "" is implicit
	byID  map[string]*node
	seq   uint64 // bumped by every change; list_folder cursors remember it
	// used is the sum of the files' sizes, kept by put and remove: a commit checks the
	// quota, and walking every file of a large account on each commit made the emulator
	// the bottleneck of the benchmarks it serves.
	used     int64
	tombs    []tomb
	sessions map[string]*session
	listings map[string]*listing
	// refusal is what Dropbox refuses the whole account, set by SetAccountRefusal.
	refusal Refusal

	// writeLock is Dropbox's per-namespace write lock: commits that overlap on one account
	// fail with too_many_write_operations when the fault switch is on.
	writeLock sync.Mutex
	limiter   *rate.Limiter
}

// AccountInfo describes an emulated Dropbox account.
type AccountInfo struct {
	ID        string `json:"id"` // "dbid:" + 35 characters, as Dropbox's 40-character account_id
	Email     string `json:"email"`
	GivenName string `json:"given_name"`
	Surname   string `json:"surname"`
	// Quota is the space allocation in bytes; writes beyond it fail with insufficient_space.
	Quota int64 `json:"quota"`
	// NamespaceID is the account's root (and home) namespace.
	NamespaceID string `json:"namespace_id"`
}

// DisplayName is the account's full name as Dropbox shows it.
func (a AccountInfo) DisplayName() string { return strings.TrimSpace(a.GivenName + " " + a.Surname) }

// node is a file or folder. Times are kept to the second, as Dropbox does.
type node struct {
	Folder         bool      `json:"folder,omitempty"`
	Lower          string    `json:"lower"`
	Display        string    `json:"display"`
	ID             string    `json:"id"`
	Rev            string    `json:"rev,omitempty"`
	Size           int64     `json:"size,omitempty"`
	Hash           string    `json:"hash,omitempty"`
	ClientModified time.Time `json:"client_modified"`
	ServerModified time.Time `json:"server_modified"`
	Seq            uint64    `json:"seq"`
}

// tomb remembers a deletion so list_folder/continue can report it.
type tomb struct {
	Lower, Display string
	Seq            uint64
}

func newAccount(info AccountInfo, limit rate.Limit, burst int) *account {
	return &account{
		info:     info,
		nodes:    map[string]*node{},
		byID:     map[string]*node{},
		sessions: map[string]*session{},
		listings: map[string]*listing{},
		limiter:  rate.NewLimiter(limit, burst),
	}
}

// AccountID derives the stable 40-character account_id the emulator gives the account with
// this e-mail address, so scripts and tests can name it.
func AccountID(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "dbid:AA" + base64.RawURLEncoding.EncodeToString(sum[:])[:33]
}

// usedBytes is the space the account's files take.
func (a *account) usedBytes() int64 { return a.used }

// resolve finds a node by display path, "id:" or "rev:" reference. The root has no node:
// callers handle "" themselves.
func (a *account) resolve(p string) *node {
	switch {
	case strings.HasPrefix(p, "id:"):
		return a.byID[p]
	case strings.HasPrefix(p, "rev:"):
		for _, n := range a.nodes {
			if !n.Folder && n.Rev == p[len("rev:"):] {
				return n
			}
		}
		return nil
	}
	return a.nodes[lowerPath(p)]
}

// stripNamespace turns "ns:<root>/x" into "/x"; other namespaces do not exist for an
// app-folder app.
func (a *account) stripNamespace(p string) (string, bool) {
	if !strings.HasPrefix(p, "ns:") {
		return p, true
	}
	rest := p[len("ns:"):]
	ns, tail, _ := strings.Cut(rest, "/")
	if ns != a.info.NamespaceID {
		return "", false
	}
	if tail == "" {
		return "", true
	}
	return "/" + tail, true
}

// displayFor gives a new path the casing Dropbox would: existing ancestors keep their own
// path_display, only the new components take the caller's spelling.
func (a *account) displayFor(p string) string {
	parts := strings.Split(p[1:], "/")
	var b strings.Builder
	for i, part := range parts {
		prefix := "/" + strings.Join(parts[:i+1], "/")
		if n := a.nodes[lowerPath(prefix)]; n != nil {
			b.Reset()
			b.WriteString(n.Display)
			continue
		}
		b.WriteString("/")
		b.WriteString(part)
	}
	return b.String()
}

// put stores n, replacing any node at its path, and returns it. The caller has checked
// conflicts and quota.
func (a *account) put(n *node) *node {
	a.seq++
	n.Seq = a.seq
	if old := a.nodes[n.Lower]; old != nil {
		delete(a.byID, old.ID)
		a.used -= old.Size
	}
	a.used += n.Size
	a.nodes[n.Lower] = n
	a.byID[n.ID] = n
	return n
}

// remove deletes the node at lower and everything under it, leaving tombstones.
func (a *account) remove(lower string) []*node {
	var gone []*node
	for k, n := range a.nodes {
		if k == lower || strings.HasPrefix(k, lower+"/") {
			gone = append(gone, n)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].Lower < gone[j].Lower })
	for _, n := range gone {
		a.seq++
		delete(a.nodes, n.Lower)
		delete(a.byID, n.ID)
		a.used -= n.Size
		a.tombs = append(a.tombs, tomb{Lower: n.Lower, Display: n.Display, Seq: a.seq})
	}
	return gone
}

// move puts the node at lower, and everything under it, at the path to (display form; the
// caller has checked it is free), keeping each node's id, rev, size and times: a move is
// no new version on Dropbox. Every old path that changes leaves a tombstone before the
// nodes get a new seq at their new paths, so changesSince reports the move as deletions
// there and entries here, and a case-only rename as an entry alone. used stays the same.
// It returns the moved node, nil when nothing is at lower.
func (a *account) move(lower, to string) *node {
	top := a.nodes[lower]
	if top == nil {
		return nil
	}
	var moving []*node
	for k, n := range a.nodes {
		if k == lower || strings.HasPrefix(k, lower+"/") {
			moving = append(moving, n)
		}
	}
	sort.Slice(moving, func(i, j int) bool { return moving[i].Lower < moving[j].Lower })
	from := top.Display
	for _, n := range moving {
		delete(a.nodes, n.Lower)
		// A node's path_display starts with its folder's: displayFor gives new names the
		// casing of the ancestors that exist, and a move rewrites the whole subtree.
		display := to + strings.TrimPrefix(n.Display, from)
		if l := lowerPath(display); l != n.Lower {
			a.seq++
			a.tombs = append(a.tombs, tomb{Lower: n.Lower, Display: n.Display, Seq: a.seq})
		}
		n.Display = display
	}
	for _, n := range moving {
		a.seq++
		n.Lower, n.Seq = lowerPath(n.Display), a.seq
		a.nodes[n.Lower] = n
	}
	return top
}

// under lists the nodes below lower ("" is the root), sorted by path so that folders come
// before their contents. With recursive false only direct children are listed.
func (a *account) under(lower string, recursive bool) []*node {
	var out []*node
	for k, n := range a.nodes {
		if !strings.HasPrefix(k, lower+"/") {
			continue
		}
		if !recursive && parentOf(k) != lower {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Lower < out[j].Lower })
	return out
}

// fileMetadata is files.FileMetadata on the wire. Tag is set where the declared type is the
// Metadata union (get_metadata, list_folder, delete) and left out where it is FileMetadata.
type fileMetadata struct {
	Tag            string `json:".tag,omitempty"`
	Name           string `json:"name"`
	PathLower      string `json:"path_lower"`
	PathDisplay    string `json:"path_display"`
	ID             string `json:"id"`
	ClientModified string `json:"client_modified"`
	ServerModified string `json:"server_modified"`
	Rev            string `json:"rev"`
	Size           int64  `json:"size"`
	IsDownloadable bool   `json:"is_downloadable"`
	ContentHash    string `json:"content_hash"`
}

type folderMetadata struct {
	Tag         string `json:".tag,omitempty"`
	Name        string `json:"name"`
	PathLower   string `json:"path_lower"`
	PathDisplay string `json:"path_display"`
	ID          string `json:"id"`
}

type deletedMetadata struct {
	Tag         string `json:".tag"`
	Name        string `json:"name"`
	PathLower   string `json:"path_lower"`
	PathDisplay string `json:"path_display"`
}

// metadata renders a node; tag is "" for the plain struct, "file"/"folder" chosen by the node
// when tagged is set, or any other tag (e.g. "success" in a batch result).
func (n *node) metadata(tag string) any {
	if n.Folder {
		if tag != "" {
			tag = "folder"
		}
		return folderMetadata{Tag: tag, Name: baseName(n.Display), PathLower: n.Lower, PathDisplay: n.Display, ID: n.ID}
	}
	return n.fileMetadata(tag)
}

func (n *node) fileMetadata(tag string) fileMetadata {
	return fileMetadata{
		Tag: tag, Name: baseName(n.Display), PathLower: n.Lower, PathDisplay: n.Display, ID: n.ID,
		ClientModified: formatTime(n.ClientModified), ServerModified: formatTime(n.ServerModified),
		Rev: n.Rev, Size: n.Size, IsDownloadable: true, ContentHash: n.Hash,
	}
}

// taggedMetadata is the Metadata union: "file" or "folder".
func (n *node) taggedMetadata() any { return n.metadata("file") }

// listing is the server side of a list_folder cursor: the entries not yet returned and the
// change sequence the listing is current to.
type listing struct {
	lower     string
	recursive bool
	pending   []any
	seq       uint64
	limit     int
}

// cursorToken encodes what a cursor points at. Dropbox cursors are opaque; ours are too, but
// carry enough to give "reset" for listings the server no longer holds.
func cursorToken(acct, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(acct + "|" + id))
}

func parseCursor(c string) (acct, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", false
	}
	acct, id, ok = strings.Cut(string(b), "|")
	return acct, id, ok
}

// changesSince lists what changed under lower after seq: deletions first, then current
// entries, each sorted by path.
func (a *account) changesSince(lower string, recursive bool, seq uint64) []any {
	inScope := func(k string) bool {
		if !strings.HasPrefix(k, lower+"/") {
			return false
		}
		return recursive || parentOf(k) == lower
	}
	var out []any
	seen := map[string]bool{}
	for i := len(a.tombs) - 1; i >= 0; i-- {
		t := a.tombs[i]
		if t.Seq <= seq {
			break
		}
		if !inScope(t.Lower) || seen[t.Lower] {
			continue
		}
		seen[t.Lower] = true
		if cur := a.nodes[t.Lower]; cur != nil && cur.Seq > t.Seq {
			continue // re-created since: reported below as a plain entry
		}
		out = append(out, deletedMetadata{Tag: "deleted", Name: baseName(t.Display), PathLower: t.Lower, PathDisplay: t.Display})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].(deletedMetadata).PathLower < out[j].(deletedMetadata).PathLower
	})
	for _, n := range a.under(lower, recursive) {
		if n.Seq > seq {
			out = append(out, n.taggedMetadata())
		}
	}
	return out
}

// newRev makes a rev in Dropbox's form: lowercase hex, at least 9 characters, increasing.
func newRev(seq uint64) string { return fmt.Sprintf("%015x", 0x5f0000000000000+seq) }
