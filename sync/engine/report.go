package engine

import (
	"github.com/onfact/onfact-dropbox/internal/layout"
	"github.com/onfact/onfact-dropbox/internal/store"
)

// The statuses of a check report's rows (the CSV's status column).
const (
	RowPresent   = "present"          // in Dropbox with this content
	RowRepaired  = "sent-again"       // was missing or different in Dropbox, sent again (detail: which)
	RowRepairing = "being-sent-again" // missing or different in Dropbox, about to be sent again
	RowPending   = "waiting"          // new or changed here, not sent yet
	RowProblem   = "not-in-dropbox"   // refused by Dropbox or unreadable here (detail: why)
	RowExtra     = "only-in-dropbox"  // in Dropbox, not sent by this connection: left alone
)

// ReportRow is one row of a check report: a document, or a file in Dropbox this
// connection did not send (Document "").
type ReportRow struct {
	Document, DropboxPath, Hash, Status, Detail string
}

// ReportRows calls fn for every row of a connection's check report, for the accountant's
// file: every document with its Dropbox path, content hash and status as of the last check
// and what was sent since, then the files in Dropbox it did not send. The connection need
// not be running.
func (e *Engine) ReportRows(id string, fn func(ReportRow) error) error {
	st := e.store.Conn(id)
	// The Dropbox paths of the documents, to tell the files they did not send apart: held
	// for the report only (the check itself never builds it).
	ours := map[string]bool{}
	key := func(rec store.FileRecord) string { return layout.FoldKey(rec.RemotePath) }
	err := st.Judge(key, func(j store.Judged) error {
		rec := j.Record
		if rec.RemotePath != "" {
			ours[key(rec)] = true
		}
		r := ReportRow{Document: j.Path, DropboxPath: rec.RemotePath, Hash: rec.Hash, Status: RowPresent}
		switch {
		case rec.Failure != "":
			r.Status, r.Detail = RowProblem, rec.Failure
		case rec.Missing != "":
			r.Status, r.Detail = RowRepairing, rec.Missing
		case j.Queued || rec.RemotePath == "":
			r.Status = RowPending
		case rec.Repaired != "":
			r.Status, r.Detail = RowRepaired, rec.Repaired
		}
		return fn(r)
	})
	if err != nil {
		return err
	}
	return st.Mirror(func(k string, f store.MirrorFile) error {
		if ours[k] {
			return nil
		}
		return fn(ReportRow{DropboxPath: f.Path, Hash: f.Hash, Status: RowExtra})
	})
}
