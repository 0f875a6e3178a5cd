package service

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/onfact/onfact-dropbox/internal/config"
	"github.com/onfact/onfact-dropbox/sync/engine"
)

// WriteCheckReport writes the check report of the connections as CSV, one file for all:
// connection, document, Dropbox path, content hash, status (engine.RowPresent and the
// other Row statuses) and detail. The GUI's export and `onfact-dropbox verify --report`
// both write it, so the accountant gets the same file from either.
func (s *Service) WriteCheckReport(w io.Writer, conns []config.Connection) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"connection", "document", "dropbox_path", "content_hash", "status", "detail"}); err != nil {
		return err
	}
	for _, c := range conns {
		err := s.Engine.ReportRows(c.ID, func(r engine.ReportRow) error {
			return cw.Write([]string{c.Name, r.Document, r.DropboxPath, r.Hash, r.Status, r.Detail})
		})
		if err != nil {
			return fmt.Errorf("check report of %s: %w", c.Name, err)
		}
	}
	cw.Flush()
	return cw.Error()
}
