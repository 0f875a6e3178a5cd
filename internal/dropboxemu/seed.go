package dropboxemu

import (
	"fmt"
	"time"
)

// PutFile stores data at path in the account, as an upload in overwrite mode would but
// without a request: for tests that need a Dropbox that already holds many files (a
// listing of 100,000 entries) in seconds. Quota and conflicts are checked as for uploads.
func (s *Server) PutFile(accountID, path string, data []byte, modified time.Time) error {
	hash := hashOf(data)
	if err := s.store.putBlob(hash, data); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[accountID]
	if a == nil {
		return fmt.Errorf("put %s: no account %s", path, accountID)
	}
	ts := modified.UTC().Format(timeFormat)
	ci := commitInfo{Path: path, Mode: &union{Tag: "overwrite"}, ClientModified: &ts}
	_, werr, err := s.commitLocked(a, ci, int64(len(data)), hash)
	if err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("put %s: %v", path, werr)
	}
	return nil
}
