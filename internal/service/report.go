package service

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

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
			return cw.Write([]string{cell(c.Name), cell(r.Document), cell(r.DropboxPath), r.Hash, r.Status, cell(r.Detail)})
		})
		if err != nil {
			return fmt.Errorf("check report of %s: %w", c.Name, err)
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a text the user or the export program chose (a connection's name, a file
// name) from being read as a formula when the report is opened in a spreadsheet, which
// is what the accountant does with it: a cell that starts with =, +, -, @, a tab or a
// carriage return gets a leading apostrophe (OWASP's advice against CSV injection). A file
// named "=HYPERLINK(…).pdf" is then shown as its name, not run.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
