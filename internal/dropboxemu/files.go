package dropboxemu

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dropbox/dropbox-sdk-go-unofficial/v6/dropbox/contenthash"
)

// hashOf is Dropbox's content_hash of data.
func hashOf(data []byte) string {
	// Block by block straight from data: the SDK's contenthash.Hasher would first copy
	// each block into a buffer it grows, and with it the emulator was the bottleneck of
	// the benchmarks.
	overall := sha256.New()
	for len(data) > 0 {
		n := min(len(data), contenthash.BlockSize)
		b := sha256.Sum256(data[:n])
		overall.Write(b[:])
		data = data[n:]
	}
	return hex.EncodeToString(overall.Sum(nil))
}

// newID makes a file or folder id ("id:" + 22 URL-safe characters, as Dropbox's).
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return "id:" + base64.RawURLEncoding.EncodeToString(b[:])
}

// checkPattern applies a spec path pattern, answering the validator's 400 on mismatch.
func (c *call) checkPattern(field, p string, pat *regexp.Regexp) *reply {
	if p == "/" && (pat == patListPath || pat == patReadPath) {
		if pat == patListPath {
			return badRequest(c.route, `request body: %s: Specify the root folder as an empty string rather than as "/".`, field)
		}
		return badRequest(c.route, "request body: %s: The root folder is unsupported.", field)
	}
	if !pat.MatchString(p) {
		return badRequest(c.route, "request body: %s: %q did not match pattern '%s'", field, p, strings.Trim(pat.String(), "^$"))
	}
	return nil
}

// lookup resolves a read path to a node, or gives the LookupError. root reports the root.
func (c *call) lookup(p string) (n *node, root bool, lookupErr map[string]any) {
	p, ok := c.acct.stripNamespace(p)
	if !ok {
		return nil, false, void("not_found")
	}
	if p == "" {
		return nil, true, nil
	}
	if !strings.HasPrefix(p, "id:") && !strings.HasPrefix(p, "rev:") {
		if _, problem := splitPath(p, false); problem == pathMalformed {
			return nil, false, void("malformed_path")
		}
	}
	if n = c.acct.resolve(p); n == nil {
		return nil, false, void("not_found")
	}
	return n, false, nil
}

func (c *call) getMetadata() *reply {
	var a struct {
		Path           string `json:"path"`
		IncludeDeleted bool   `json:"include_deleted"`
		// Known to the spec, not emulated (an app folder has no media info or shares).
		IncludeMediaInfo                bool            `json:"include_media_info"`
		IncludeHasExplicitSharedMembers bool            `json:"include_has_explicit_shared_members"`
		IncludePropertyGroups           json.RawMessage `json:"include_property_groups"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	if rep := c.checkPattern("path", a.Path, patReadPath); rep != nil {
		return rep
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n, root, lerr := c.lookup(a.Path)
	if root {
		return badRequest(c.route, "request body: path: The root folder is unsupported.")
	}
	if lerr != nil {
		if a.IncludeDeleted && lerr[".tag"] == "not_found" {
			if t, ok := c.acct.lastTomb(lowerPath(a.Path)); ok {
				return jsonReply(deletedMetadata{Tag: "deleted", Name: baseName(t.Display), PathLower: t.Lower, PathDisplay: t.Display})
			}
		}
		return routeError(nested("path", lerr))
	}
	return jsonReply(n.taggedMetadata())
}

// lastTomb finds the latest deletion of a path that has not been re-created.
func (a *account) lastTomb(lower string) (tomb, bool) {
	for i := len(a.tombs) - 1; i >= 0; i-- {
		if a.tombs[i].Lower == lower {
			return a.tombs[i], a.nodes[lower] == nil
		}
	}
	return tomb{}, false
}

// maxListLimit is the spec's upper bound on list_folder's limit.
const maxListLimit = 2000

func (c *call) listFolder() *reply {
	var a struct {
		Path      string  `json:"path"`
		Recursive bool    `json:"recursive"`
		Limit     *uint32 `json:"limit"`
		// Known to the spec, not emulated.
		IncludeMediaInfo                bool            `json:"include_media_info"`
		IncludeDeleted                  bool            `json:"include_deleted"`
		IncludeHasExplicitSharedMembers bool            `json:"include_has_explicit_shared_members"`
		IncludeMountedFolders           *bool           `json:"include_mounted_folders"`
		SharedLink                      json.RawMessage `json:"shared_link"`
		IncludePropertyGroups           json.RawMessage `json:"include_property_groups"`
		IncludeNonDownloadableFiles     *bool           `json:"include_non_downloadable_files"`
		IncludeRestorableInfo           bool            `json:"include_restorable_info"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	if rep := c.checkPattern("path", a.Path, patListPath); rep != nil {
		return rep
	}
	limit := maxListLimit
	if a.Limit != nil {
		if *a.Limit < 1 || *a.Limit > maxListLimit {
			return badRequest(c.route, "request body: limit: %d is not within range [1, %d]", *a.Limit, maxListLimit)
		}
		limit = int(*a.Limit)
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n, root, lerr := c.lookup(a.Path)
	if lerr != nil {
		return routeError(nested("path", lerr))
	}
	lower := ""
	var entries []any
	if !root {
		if !n.Folder {
			return routeError(nested("path", void("not_folder")))
		}
		lower = n.Lower
		if a.Recursive {
			entries = append(entries, n.taggedMetadata())
		}
	}
	for _, child := range c.acct.under(lower, a.Recursive) {
		entries = append(entries, child.taggedMetadata())
	}
	return c.page(&listing{lower: lower, recursive: a.Recursive, pending: entries, seq: c.acct.seq, limit: limit})
}

// maxListings bounds the cursors an account keeps; older ones answer "reset", which clients
// must handle anyway.
const maxListings = 4096

// page returns the next page of l and a cursor for the rest. Each page gets its own cursor,
// so a client that retries a request whose answer was lost gets the same page again.
func (c *call) page(l *listing) *reply {
	n := min(l.limit, len(l.pending))
	entries := l.pending[:n]
	rest := &listing{lower: l.lower, recursive: l.recursive, pending: l.pending[n:], seq: l.seq, limit: l.limit}
	if len(c.acct.listings) >= maxListings {
		clear(c.acct.listings)
	}
	// Random, not a counter: listings are not persisted, and a cursor saved before a
	// restart must answer "reset", never another listing's entries.
	id := newID()[3:]
	c.acct.listings[id] = rest
	if entries == nil {
		entries = []any{}
	}
	return jsonReply(map[string]any{
		"entries":  entries,
		"cursor":   cursorToken(c.acct.info.ID, id),
		"has_more": len(rest.pending) > 0,
	})
}

func (c *call) listFolderContinue() *reply {
	var a struct {
		Cursor string `json:"cursor"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	acct, id, ok := parseCursor(a.Cursor)
	if !ok || a.Cursor == "" {
		return badRequest(c.route, "request body: cursor: Invalid cursor")
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	l := c.acct.listings[id]
	if acct != c.acct.info.ID || l == nil {
		return routeError(void("reset"))
	}
	if len(l.pending) > 0 {
		return c.page(l)
	}
	if l.lower != "" {
		if n := c.acct.nodes[l.lower]; n == nil || !n.Folder {
			return routeError(nested("path", void("not_found")))
		}
	}
	changes := c.acct.changesSince(l.lower, l.recursive, l.seq)
	return c.page(&listing{lower: l.lower, recursive: l.recursive, pending: changes, seq: c.acct.seq, limit: l.limit})
}

func (c *call) createFolder() *reply {
	var a struct {
		Path       string `json:"path"`
		Autorename bool   `json:"autorename"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	if rep := c.checkPattern("path", a.Path, patWritePath); rep != nil {
		return rep
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	p, ok := c.acct.stripNamespace(a.Path)
	if !ok || p == "" {
		return routeError(nested("path", void("malformed_path")))
	}
	if werr := c.acct.checkWritePath(p); werr != nil {
		return routeError(nested("path", werr))
	}
	if existing := c.acct.nodes[lowerPath(p)]; existing != nil {
		if !a.Autorename {
			kind := "file"
			if existing.Folder {
				kind = "folder"
			}
			return routeError(nested("path", nested("conflict", void(kind))))
		}
		p = c.acct.freeName(p)
	}
	n, err := c.s.mkdirAllLocked(c.acct, p)
	if err != nil {
		return internalError(err)
	}
	return jsonReply(map[string]any{"metadata": n.metadata("")})
}

// checkWritePath gives the WriteError for a path that cannot be written: malformed,
// disallowed, or below a file.
func (a *account) checkWritePath(p string) map[string]any {
	parts, problem := splitPath(p, true)
	switch problem {
	case pathMalformed:
		return void("malformed_path")
	case pathDisallowed:
		return void("disallowed_name")
	}
	for i := 1; i < len(parts); i++ {
		if n := a.nodes[lowerPath("/"+strings.Join(parts[:i], "/"))]; n != nil && !n.Folder {
			return nested("conflict", void("file_ancestor"))
		}
	}
	return nil
}

// freeName is Dropbox's autorename: "name (1).ext", "name (2).ext" ... until nothing is
// there. The stem is shortened on a character boundary so the new name still fits in
// maxNameBytes.
func (a *account) freeName(p string) string {
	dir, name := parentOf(p), baseName(p)
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		suffix := fmt.Sprintf(" (%d)%s", i, ext)
		cand := trimTo(stem, maxNameBytes-len(suffix)) + suffix
		cand = dir + "/" + trimTo(cand, maxNameBytes) // only an absurdly long extension needs this
		if a.nodes[lowerPath(cand)] == nil {
			return cand
		}
	}
}

// trimTo shortens s to at most n bytes on a character boundary.
func trimTo(s string, n int) string {
	for len(s) > max(n, 0) {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// mkdirAllLocked creates p and its missing ancestors as folders and returns p's node.
func (s *Server) mkdirAllLocked(a *account, p string) (*node, error) {
	parts := strings.Split(p[1:], "/")
	var n *node
	for i := range parts {
		prefix := "/" + strings.Join(parts[:i+1], "/")
		if n = a.nodes[lowerPath(prefix)]; n != nil {
			continue
		}
		n = &node{Folder: true, Lower: lowerPath(prefix), Display: a.displayFor(prefix), ID: newID()}
		a.put(n)
		if err := s.store.log(record{Op: "put", AccountID: a.info.ID, Node: n}); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (c *call) deleteV2() *reply {
	var a struct {
		Path      string `json:"path"`
		ParentRev string `json:"parent_rev"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	if rep := c.checkPattern("path", a.Path, patWritePathOrID); rep != nil {
		return rep
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n, root, lerr := c.lookup(a.Path)
	if root {
		return routeError(nested("path_write", void("malformed_path")))
	}
	if lerr != nil {
		return routeError(nested("path_lookup", lerr))
	}
	if a.ParentRev != "" && !n.Folder && n.Rev != a.ParentRev {
		return routeError(nested("path_write", nested("conflict", void("file"))))
	}
	c.acct.remove(n.Lower)
	if err := c.s.store.log(record{Op: "del", AccountID: c.acct.info.ID, Path: n.Lower}); err != nil {
		return internalError(err)
	}
	return jsonReply(map[string]any{"metadata": n.taggedMetadata()})
}

func (c *call) moveV2() *reply {
	var a struct {
		FromPath string `json:"from_path"`
		ToPath   string `json:"to_path"`
		// Known to the spec and without effect here: allow_shared_folder is deprecated (no
		// effect on Dropbox either) and an app folder holds no shared content whose owner
		// a move could change.
		AllowSharedFolder      bool `json:"allow_shared_folder"`
		Autorename             bool `json:"autorename"`
		AllowOwnershipTransfer bool `json:"allow_ownership_transfer"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	if rep := c.checkPattern("from_path", a.FromPath, patWritePathOrID); rep != nil {
		return rep
	}
	if rep := c.checkPattern("to_path", a.ToPath, patWritePathOrID); rep != nil {
		return rep
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n, root, lerr := c.lookup(a.FromPath)
	if root {
		// The spec does not say; the root is found but cannot be written, as delete_v2
		// answers it (path_write/malformed_path).
		return routeError(nested("from_write", void("malformed_path")))
	}
	if lerr != nil {
		return routeError(nested("from_lookup", lerr))
	}
	p, werr := c.acct.destination(a.ToPath)
	if werr != nil {
		return routeError(nested("to", werr))
	}
	lower := lowerPath(p)
	if n.Folder && strings.HasPrefix(lower, n.Lower+"/") {
		return routeError(void("cant_move_folder_into_itself"))
	}
	// The source itself at the destination is a case-only rename, unless nothing changes:
	// that is a conflict like any other (unconfirmed on Dropbox).
	if existing := c.acct.nodes[lower]; existing != nil && (existing != n || c.acct.displayOfMove(p) == n.Display) {
		if !a.Autorename {
			kind := "file"
			if existing.Folder {
				kind = "folder"
			}
			return routeError(nested("to", nested("conflict", void(kind))))
		}
		p = c.acct.freeName(p)
	}
	if dir := parentOf(p); dir != "" {
		if _, err := c.s.mkdirAllLocked(c.acct, dir); err != nil {
			return internalError(err)
		}
	}
	from, to := n.Lower, c.acct.displayOfMove(p)
	c.acct.move(from, to)
	if err := c.s.store.log(record{Op: "move", AccountID: c.acct.info.ID, Path: from, To: to}); err != nil {
		return internalError(err)
	}
	return jsonReply(map[string]any{"metadata": n.taggedMetadata()})
}

// destination resolves a move's to_path to a display path that can be written, or gives
// the WriteError. An id names the node's path (which then conflicts), as for uploads.
func (a *account) destination(to string) (string, map[string]any) {
	p, ok := a.stripNamespace(to)
	if !ok || p == "" {
		return "", void("malformed_path")
	}
	if strings.HasPrefix(p, "id:") {
		n := a.byID[p]
		if n == nil {
			return "", void("malformed_path")
		}
		p = n.Display
	}
	if werr := a.checkWritePath(p); werr != nil {
		return "", werr
	}
	return p, nil
}

// displayOfMove is the path_display a node moved to p gets: the ancestors that exist keep
// theirs, the last name is the caller's spelling even where the node is already there
// (displayFor would keep the old one and make a case-only rename a no-op).
func (a *account) displayOfMove(p string) string {
	dir := parentOf(p)
	if dir == "" {
		return "/" + baseName(p)
	}
	return a.displayFor(dir) + "/" + baseName(p)
}

func (c *call) download() *reply {
	var a struct {
		Path string `json:"path"`
		Rev  string `json:"rev"`
	}
	if rep := c.decodeArg(`HTTP header "Dropbox-API-Arg"`, c.arg, &a); rep != nil {
		return rep
	}
	if rep := c.checkPattern("path", a.Path, patReadPath); rep != nil {
		return rep
	}
	c.s.mu.Lock()
	n, root, lerr := c.lookup(a.Path)
	c.s.mu.Unlock()
	switch {
	case root:
		return routeError(nested("path", void("not_file")))
	case lerr != nil:
		return routeError(nested("path", lerr))
	case n.Folder:
		return routeError(nested("path", void("not_file")))
	case a.Rev != "" && a.Rev != n.Rev:
		return routeError(nested("path", void("not_found")))
	}
	data, err := c.s.store.blob(n.Hash)
	if err != nil {
		return internalError(err)
	}
	meta, _ := json.Marshal(n.fileMetadata(""))
	return &reply{status: http.StatusOK, header: http.Header{
		"Content-Type":       {"application/octet-stream"},
		"Dropbox-Api-Result": {headerSafeJSON(meta)},
	}, body: data}
}

// internalError is a 500 for failures of the emulator itself (its data directory).
func internalError(err error) *reply {
	return &reply{status: http.StatusInternalServerError, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		body: []byte("emulator: " + err.Error())}
}

// commitInfo is files.CommitInfo.
type commitInfo struct {
	Path           string  `json:"path"`
	Mode           *union  `json:"mode"`
	Autorename     bool    `json:"autorename"`
	ClientModified *string `json:"client_modified"`
	Mute           bool    `json:"mute"`
	StrictConflict bool    `json:"strict_conflict"`
	// PropertyGroups is known to the spec and ignored: the emulator has no properties.
	PropertyGroups json.RawMessage `json:"property_groups"`
}

// validate checks what the argument validator checks: the path pattern, the mode union and
// the timestamp format (Dropbox takes only "2006-01-02T15:04:05Z").
func (ci *commitInfo) validate(c *call, field string) *reply {
	if rep := c.checkPattern(field+"path", ci.Path, patWritePathOrID); rep != nil {
		return rep
	}
	if ci.Mode == nil {
		ci.Mode = &union{Tag: "add"}
	}
	switch ci.Mode.Tag {
	case "add", "overwrite":
	case "update":
		var rev string
		if err := ci.Mode.member(&rev); err != nil || len(rev) < 9 {
			return badRequest(c.route, "request body: %smode: update: expected a rev of at least 9 characters", field)
		}
	default:
		return badRequest(c.route, "request body: %smode: unknown tag %q", field, ci.Mode.Tag)
	}
	if ci.ClientModified != nil {
		if _, err := time.Parse(timeFormat, *ci.ClientModified); err != nil {
			return badRequest(c.route, "request body: %sclient_modified: time data %q does not match format '%%Y-%%m-%%dT%%H:%%M:%%SZ'", field, *ci.ClientModified)
		}
	}
	return nil
}

// commitLocked writes data (already stored as a blob under hash) to ci.Path following the
// write mode. It returns the file's node, or a WriteError. Identical content is never a
// conflict and changes nothing, rev included.
func (s *Server) commitLocked(a *account, ci commitInfo, size int64, hash string) (*node, map[string]any, error) {
	p, ok := a.stripNamespace(ci.Path)
	if !ok || p == "" {
		return nil, void("malformed_path"), nil
	}
	if strings.HasPrefix(p, "id:") {
		n := a.byID[p]
		if n == nil || n.Folder {
			return nil, void("malformed_path"), nil
		}
		p = n.Display
	}
	if werr := a.checkWritePath(p); werr != nil {
		return nil, werr, nil
	}
	existing := a.nodes[lowerPath(p)]
	if existing != nil && existing.Folder {
		if !ci.Autorename {
			return nil, nested("conflict", void("folder")), nil
		}
		p, existing = a.freeName(p), nil
	}
	if existing != nil {
		conflict := false
		switch ci.Mode.Tag {
		case "add":
			conflict = existing.Hash != hash
		case "update":
			var rev string
			_ = ci.Mode.member(&rev)
			conflict = existing.Rev != rev && (existing.Hash != hash || ci.StrictConflict)
		}
		if !conflict && existing.Hash == hash {
			return existing, nil, nil
		}
		if conflict {
			if !ci.Autorename {
				return nil, nested("conflict", void("file")), nil
			}
			p, existing = a.freeName(p), nil
		}
	} else if ci.Mode.Tag == "update" && ci.StrictConflict {
		return nil, nested("conflict", void("file")), nil
	}

	used := a.usedBytes()
	if existing != nil {
		used -= existing.Size
	}
	if used+size > a.info.Quota {
		return nil, void("insufficient_space"), nil
	}

	if dir := parentOf(p); dir != "" {
		if _, err := s.mkdirAllLocked(a, dir); err != nil {
			return nil, nil, err
		}
	}
	now := s.now()
	n := &node{Lower: lowerPath(p), Display: a.displayFor(p), ID: newID(), Size: size, Hash: hash, ServerModified: now, ClientModified: now}
	if existing != nil {
		n.ID = existing.ID
	}
	if ci.ClientModified != nil {
		n.ClientModified, _ = time.Parse(timeFormat, *ci.ClientModified)
	}
	a.put(n)
	n.Rev = newRev(n.Seq)
	if err := s.store.log(record{Op: "put", AccountID: a.info.ID, Node: n}); err != nil {
		return nil, nil, err
	}
	return n, nil, nil
}

func (c *call) upload() *reply {
	var a struct {
		commitInfo
		ContentHash string `json:"content_hash"`
	}
	if rep := c.decodeArg(`HTTP header "Dropbox-API-Arg"`, c.arg, &a); rep != nil {
		return rep
	}
	if rep := a.commitInfo.validate(c, ""); rep != nil {
		return rep
	}
	if c.tooLarge {
		return routeError(void("payload_too_large"))
	}
	hash := hashOf(c.body)
	if a.ContentHash != "" && a.ContentHash != hash {
		return routeError(void("content_hash_mismatch"))
	}
	if err := c.s.store.putBlob(hash, c.body); err != nil {
		return internalError(err)
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n, werr, err := c.s.commitLocked(c.acct, a.commitInfo, int64(len(c.body)), hash)
	if err != nil {
		return internalError(err)
	}
	if werr != nil {
		// Dropbox keeps the data in a closed session so the client can commit it elsewhere.
		id := c.s.newSessionLocked(c.acct, false)
		sess := c.acct.sessions[id]
		sess.appendSequential(c.body)
		sess.closed = true
		return routeError(flat("path", map[string]any{"reason": werr, "upload_session_id": id}))
	}
	return jsonReply(n.fileMetadata(""))
}

func (c *call) currentAccount() *reply {
	c.s.mu.Lock()
	info := c.acct.info
	c.s.mu.Unlock()
	abbrev := ""
	for _, w := range strings.Fields(info.DisplayName()) {
		r, _ := utf8.DecodeRuneInString(w)
		abbrev += strings.ToUpper(string(r))
	}
	return jsonReply(map[string]any{
		"account_id": info.ID,
		"name": map[string]any{
			"given_name": info.GivenName, "surname": info.Surname, "familiar_name": info.GivenName,
			"display_name": info.DisplayName(), "abbreviated_name": abbrev,
		},
		"email":          info.Email,
		"email_verified": true,
		"disabled":       false,
		"country":        "BE",
		"locale":         "nl",
		"referral_link":  "https://www.dropbox.com/referrals/emulator",
		"is_paired":      false,
		"account_type":   void("basic"),
		"root_info": map[string]any{
			".tag": "user", "root_namespace_id": info.NamespaceID, "home_namespace_id": info.NamespaceID,
		},
	})
}

func (c *call) spaceUsage() *reply {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return jsonReply(map[string]any{
		"used":       c.acct.usedBytes(),
		"allocation": flat("individual", map[string]any{"allocated": c.acct.info.Quota}),
	})
}

// revoke disables the calling token and, as Dropbox does, its refresh token and every access
// token minted from it.
func (c *call) revoke() *reply {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if err := c.s.revokeFamilyLocked(c.token.Family); err != nil {
		return internalError(err)
	}
	return &reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: []byte("null")}
}
