package dropboxemu

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// sessionLifetime is how long Dropbox keeps an upload session.
const sessionLifetime = 7 * 24 * time.Hour

// concurrentUnit is the granularity of appends to a concurrent upload session: every append
// but the closing one must be a multiple of it, at an offset that is a multiple of it.
const concurrentUnit = 4 << 20

// maxBatch is the most entries one finish_batch call or sessions one start_batch may have.
const maxBatch = 1000

// maxSessionSize is the most one upload session may hold, 2^41 - 2^22 bytes; an append past
// it is refused with too_large.
const maxSessionSize = 1<<41 - 1<<22

// session is an upload session. Chunks are never modified once received, so a finish can
// assemble them outside the server lock.
type session struct {
	concurrent bool
	closed     bool
	created    time.Time
	chunks     [][]byte         // sequential sessions, in order
	size       int64            // sequential sessions: bytes received
	parts      map[int64][]byte // concurrent sessions, by offset
	end        int64            // concurrent sessions: total size, once the closing append came
	// hash is the content hash of a sequential session closed with all of its content in
	// one piece (how append_batch sends small files), hashed as it came: the commit, which
	// holds the account's write lock, does not hash it again.
	hash string
}

func (s *session) appendSequential(data []byte) {
	if len(data) > 0 {
		s.chunks = append(s.chunks, data)
	}
	s.size += int64(len(data))
}

// contiguous reports whether a concurrent session's parts cover [0, end) with no gap or
// overlap, and returns them in order.
func (s *session) contiguous() ([][]byte, bool) {
	offs := make([]int64, 0, len(s.parts))
	for o := range s.parts {
		offs = append(offs, o)
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	var at int64
	out := make([][]byte, 0, len(offs))
	for _, o := range offs {
		if o != at {
			return nil, false
		}
		out = append(out, s.parts[o])
		at += int64(len(s.parts[o]))
	}
	return out, at == s.end
}

func (s *Server) newSessionLocked(a *account, concurrent bool) string {
	s.idSeq++
	id := fmt.Sprintf("pid_upload_session:%s%d", newID()[3:], s.idSeq)
	a.sessions[id] = &session{concurrent: concurrent, created: s.now(), end: -1}
	return id
}

// sessionLocked finds a live session; expired ones are forgotten and reported not_found.
func (c *call) sessionLocked(id string) *session {
	sess := c.acct.sessions[id]
	if sess != nil && c.s.now().Sub(sess.created) > sessionLifetime {
		delete(c.acct.sessions, id)
		return nil
	}
	return sess
}

type sessionType struct {
	SessionType *union `json:"session_type"`
}

func (t sessionType) concurrent() bool {
	return t.SessionType != nil && t.SessionType.Tag == "concurrent"
}

func (c *call) sessionStart() *reply {
	var a struct {
		Close bool `json:"close"`
		sessionType
		ContentHash string `json:"content_hash"`
	}
	if rep := c.decodeArg(`HTTP header "Dropbox-API-Arg"`, c.arg, &a); rep != nil {
		return rep
	}
	if c.tooLarge {
		return routeError(void("payload_too_large"))
	}
	if a.concurrent() {
		if len(c.body) > 0 {
			return routeError(void("concurrent_session_data_not_allowed"))
		}
		if a.Close {
			return routeError(void("concurrent_session_close_not_allowed"))
		}
	}
	var hash string
	if a.ContentHash != "" || a.Close {
		hash = hashOf(c.body)
	}
	if a.ContentHash != "" && a.ContentHash != hash {
		return routeError(void("content_hash_mismatch"))
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	id := c.s.newSessionLocked(c.acct, a.concurrent())
	sess := c.acct.sessions[id]
	sess.appendSequential(c.body)
	sess.closed = a.Close
	if a.Close {
		sess.hash = hash
	}
	return jsonReply(map[string]any{"session_id": id})
}

func (c *call) sessionStartBatch() *reply {
	var a struct {
		sessionType
		NumSessions uint64 `json:"num_sessions"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	if a.NumSessions < 1 || a.NumSessions > maxBatch {
		return badRequest(c.route, "request body: num_sessions: %d is not within range [1, %d]", a.NumSessions, maxBatch)
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	ids := make([]string, a.NumSessions)
	for i := range ids {
		ids[i] = c.s.newSessionLocked(c.acct, a.concurrent())
	}
	return jsonReply(map[string]any{"session_ids": ids})
}

type sessionCursor struct {
	SessionID string `json:"session_id"`
	Offset    int64  `json:"offset"`
}

func (c *call) sessionAppend() *reply {
	var a struct {
		Cursor      *sessionCursor `json:"cursor"`
		Close       bool           `json:"close"`
		ContentHash string         `json:"content_hash"`
	}
	if rep := c.decodeArg(`HTTP header "Dropbox-API-Arg"`, c.arg, &a); rep != nil {
		return rep
	}
	if a.Cursor == nil {
		return badRequest(c.route, `HTTP header "Dropbox-API-Arg": cursor: missing required field`)
	}
	if c.tooLarge {
		return routeError(void("payload_too_large"))
	}
	var hash string
	if a.ContentHash != "" || a.Close && a.Cursor.Offset == 0 {
		hash = hashOf(c.body) // outside the server's lock
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	sess := c.sessionLocked(a.Cursor.SessionID)
	switch {
	case sess == nil:
		return routeError(void("not_found"))
	case a.ContentHash != "" && a.ContentHash != hash:
		return routeError(void("content_hash_mismatch"))
	}
	if e := sess.appendAt(a.Cursor.Offset, c.body, a.Close, hash); e != nil {
		return routeError(e)
	}
	return &reply{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}}, body: []byte("null")}
}

// appendAt adds data at offset, closing the session if asked, or returns why it cannot: the
// members append_v2 and each append_batch entry share (closed, too_large, incorrect_offset
// and the concurrent-session rules). Nothing changes when it fails. hash is data's content
// hash if the caller has it, kept when data is all the closed session holds. The caller
// holds Server.mu and must never modify data afterwards, as the session keeps it.
func (s *session) appendAt(offset int64, data []byte, closing bool, hash string) map[string]any {
	if s.closed {
		return void("closed")
	}
	if s.concurrent {
		switch {
		case offset%concurrentUnit != 0:
			return void("concurrent_session_invalid_offset")
		case !closing && len(data)%concurrentUnit != 0:
			return void("concurrent_session_invalid_data_size")
		case offset+int64(len(data)) > maxSessionSize:
			return void("too_large")
		}
		if s.parts == nil {
			s.parts = map[int64][]byte{}
		}
		s.parts[offset] = data
		if closing {
			s.end = offset + int64(len(data))
			s.closed = true
		}
		return nil
	}
	if offset != s.size {
		return flat("incorrect_offset", map[string]any{"correct_offset": s.size})
	}
	if s.size+int64(len(data)) > maxSessionSize {
		return void("too_large")
	}
	s.appendSequential(data)
	s.closed = closing
	if closing && hash != "" && s.size == int64(len(data)) {
		s.hash = hash
	}
	return nil
}

// appendBatchEntry is files.UploadSessionAppendBatchArgEntry.
type appendBatchEntry struct {
	Cursor *sessionCursor `json:"cursor"`
	Length *uint64        `json:"length"`
	Close  bool           `json:"close"`
}

// sessionAppendBatch is upload_session/append_batch: the body is the data of every entry,
// concatenated in entry order, each entry's length saying how much is its own. Problems with
// the request as a whole (payload_too_large, length_mismatch, content_hash_mismatch, the
// hash being of the whole body) are a 409 and change nothing; otherwise each entry succeeds
// or fails on its own with append_v2's rules, in order, so one session may appear twice.
// Which of length_mismatch and content_hash_mismatch wins when both apply is a guess.
func (c *call) sessionAppendBatch() *reply {
	var a struct {
		Entries     []appendBatchEntry `json:"entries"`
		ContentHash string             `json:"content_hash"`
	}
	const where = `HTTP header "Dropbox-API-Arg"`
	if rep := c.decodeArg(where, c.arg, &a); rep != nil {
		return rep
	}
	if a.Entries == nil {
		return badRequest(c.route, "%s: entries: missing required field", where)
	}
	for i, e := range a.Entries {
		switch {
		case e.Cursor == nil:
			return badRequest(c.route, "%s: entries.%d.cursor: missing required field", where, i)
		case e.Length == nil:
			return badRequest(c.route, "%s: entries.%d.length: missing required field", where, i)
		}
	}
	if c.tooLarge {
		return routeError(void("payload_too_large"))
	}
	// Lengths are client-supplied uint64s: compare without a sum that could wrap.
	rest := uint64(len(c.body))
	for _, e := range a.Entries {
		if *e.Length > rest {
			return routeError(void("length_mismatch"))
		}
		rest -= *e.Length
	}
	if rest != 0 {
		return routeError(void("length_mismatch"))
	}
	if a.ContentHash != "" && a.ContentHash != hashOf(c.body) {
		return routeError(void("content_hash_mismatch"))
	}

	// The entries share the request body, which nothing modifies; the capacity is cut so no
	// append to one entry's data could reach into the next. A file sent whole (a closing
	// entry at offset 0) is hashed here, outside the server's lock, beside the other
	// uploads in flight, rather than in its commit.
	datas := make([][]byte, len(a.Entries))
	hashes := make([]string, len(a.Entries))
	var at uint64
	for i, e := range a.Entries {
		datas[i] = c.body[at : at+*e.Length : at+*e.Length]
		at += *e.Length
		if e.Close && e.Cursor.Offset == 0 {
			hashes[i] = hashOf(datas[i])
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	results := make([]any, len(a.Entries))
	for i, e := range a.Entries {
		sess := c.sessionLocked(e.Cursor.SessionID)
		if sess == nil {
			results[i] = nested("failure", void("not_found"))
			continue
		}
		if ferr := sess.appendAt(e.Cursor.Offset, datas[i], e.Close, hashes[i]); ferr != nil {
			results[i] = nested("failure", ferr)
			continue
		}
		results[i] = void("success")
	}
	return jsonReply(map[string]any{"entries": results})
}

// finishArg is files.UploadSessionFinishArg.
type finishArg struct {
	Cursor      *sessionCursor `json:"cursor"`
	Commit      *commitInfo    `json:"commit"`
	ContentHash string         `json:"content_hash"`
}

func (f *finishArg) validate(c *call, field string) *reply {
	if f.Cursor == nil || f.Commit == nil {
		return badRequest(c.route, "request body: %scursor and commit are required", field)
	}
	return f.Commit.validate(c, field+"commit.")
}

// finishOne commits one session with optional final data (only finish itself carries data).
// It returns the file, or an UploadSessionFinishError, or a reply for the emulator's own
// failures.
func (c *call) finishOne(f finishArg, body []byte, batch bool) (*node, map[string]any, *reply) {
	c.s.mu.Lock()
	sess := c.sessionLocked(f.Cursor.SessionID)
	if sess == nil {
		c.s.mu.Unlock()
		return nil, nested("lookup_failed", void("not_found")), nil
	}
	var chunks [][]byte
	var size int64
	known := sess.hash
	if sess.concurrent {
		var ok bool
		switch {
		case len(body) > 0:
			c.s.mu.Unlock()
			return nil, void("concurrent_session_data_not_allowed"), nil
		case !sess.closed:
			c.s.mu.Unlock()
			return nil, void("concurrent_session_not_closed"), nil
		}
		if chunks, ok = sess.contiguous(); !ok {
			c.s.mu.Unlock()
			return nil, void("concurrent_session_missing_data"), nil
		}
		size = sess.end
	} else {
		if batch && !sess.closed {
			c.s.mu.Unlock()
			return nil, nested("lookup_failed", void("not_closed")), nil
		}
		chunks, size = append(sess.chunks[:len(sess.chunks):len(sess.chunks)], body), sess.size+int64(len(body))
		if sess.closed && len(body) > 0 {
			c.s.mu.Unlock()
			return nil, nested("lookup_failed", void("closed")), nil
		}
	}
	if f.Cursor.Offset != size-int64(len(body)) {
		c.s.mu.Unlock()
		return nil, nested("lookup_failed", flat("incorrect_offset", map[string]any{"correct_offset": size - int64(len(body))})), nil
	}
	c.s.mu.Unlock()

	// Assemble and store outside the lock: this is the expensive part of a large file. A
	// file that came in one piece (append_batch sends small files so) is that piece, not
	// a copy: nothing writes to a request's body once it is read.
	var data []byte
	var pieces int
	for _, ch := range chunks {
		if len(ch) > 0 {
			data, pieces = ch, pieces+1
		}
	}
	if pieces > 1 {
		data = make([]byte, 0, size)
		for _, ch := range chunks {
			data = append(data, ch...)
		}
	}
	hash := known // set only for a closed session, which took no body here
	if hash == "" {
		hash = hashOf(data)
	}
	// The spec's content_hash is of "the content uploaded in this call". Without StrictArgs
	// the whole file's hash is taken too, and batch entries (whose call carries no content)
	// are always checked that lenient way.
	lenient := batch || !c.faults.StrictArgs
	if f.ContentHash != "" && f.ContentHash != hashOf(body) && !(lenient && f.ContentHash == hash) {
		return nil, void("content_hash_mismatch"), nil
	}
	if err := c.s.store.putBlob(hash, data); err != nil {
		return nil, nil, internalError(err)
	}

	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	n, werr, err := c.s.commitLocked(c.acct, *f.Commit, size, hash)
	if err != nil {
		return nil, nil, internalError(err)
	}
	if werr != nil {
		return nil, nested("path", werr), nil
	}
	delete(c.acct.sessions, f.Cursor.SessionID)
	return n, nil, nil
}

func (c *call) sessionFinish() *reply {
	var a finishArg
	if rep := c.decodeArg(`HTTP header "Dropbox-API-Arg"`, c.arg, &a); rep != nil {
		return rep
	}
	if rep := a.validate(c, ""); rep != nil {
		return rep
	}
	if c.tooLarge {
		return routeError(void("payload_too_large"))
	}
	n, ferr, rep := c.finishOne(a, c.body, false)
	switch {
	case rep != nil:
		return rep
	case ferr != nil:
		return routeError(ferr)
	}
	return jsonReply(n.fileMetadata(""))
}

// finishEntries commits every entry of a batch, in order, each succeeding or failing alone.
func (c *call) finishEntries() ([]any, *reply) {
	var a struct {
		Entries []finishArg `json:"entries"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return nil, rep
	}
	if len(a.Entries) > maxBatch {
		return nil, badRequest(c.route, "request body: entries: list has %d items, but the maximum is %d", len(a.Entries), maxBatch)
	}
	for i := range a.Entries {
		if rep := a.Entries[i].validate(c, fmt.Sprintf("entries.%d.", i)); rep != nil {
			return nil, rep
		}
	}
	// The batch holds the account's write lock (taken in serveAPI) while it commits, for
	// longer the more entries it has.
	sleep(c.r.Context(), time.Duration(len(a.Entries))*c.faults.CommitEntryCost)
	results := make([]any, 0, len(a.Entries))
	for _, e := range a.Entries {
		// Contention strikes an entry before it commits: nothing is written and its
		// session stays closed, so a later batch can commit it.
		switch {
		case c.s.chance(c.faults.BatchContention):
			results = append(results, nested("failure", void("too_many_write_operations")))
			continue
		case c.s.chance(c.faults.BatchInternalError):
			results = append(results, nested("failure", void("internal_error")))
			continue
		}
		n, ferr, rep := c.finishOne(e, nil, true)
		switch {
		case rep != nil:
			return nil, rep
		case ferr != nil:
			results = append(results, nested("failure", ferr))
		default:
			results = append(results, n.fileMetadata("success"))
		}
	}
	c.s.countEntryFailures(c.route, results)
	return results, nil
}

func (c *call) finishBatchV2() *reply {
	results, rep := c.finishEntries()
	if rep != nil {
		return rep
	}
	return jsonReply(map[string]any{"entries": results})
}

// batchJob is a finish_batch run whose result is fetched with finish_batch/check. The work is
// done at once; the first check still answers in_progress so clients exercise their polling.
type batchJob struct {
	account string
	entries []any
	checked bool
}

func (c *call) finishBatch() *reply {
	results, rep := c.finishEntries()
	if rep != nil {
		return rep
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.idSeq++
	id := fmt.Sprintf("dbjid:%s%d", newID()[3:], c.s.idSeq)
	c.s.jobs[id] = &batchJob{account: c.acct.info.ID, entries: results}
	return jsonReply(nested("async_job_id", id))
}

func (c *call) finishBatchCheck() *reply {
	var a struct {
		AsyncJobID string `json:"async_job_id"`
	}
	if rep := c.decodeArg("request body", c.arg, &a); rep != nil {
		return rep
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	job := c.s.jobs[a.AsyncJobID]
	if job == nil || job.account != c.acct.info.ID {
		return routeError(void("invalid_async_job_id"))
	}
	if !job.checked {
		job.checked = true
		return jsonReply(void("in_progress"))
	}
	return jsonReply(flat("complete", map[string]any{"entries": job.entries}))
}
