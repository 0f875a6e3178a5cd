package keychaintest

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/danieljoos/wincred"
)

// Entries lists the connection IDs the Windows Credential Manager holds a token for under
// service, asking it directly rather than through the token store under test. go-keyring
// names each generic credential "service:id".
func Entries(t testing.TB, service string) []string {
	t.Helper()
	creds, err := wincred.FilteredList(service + ":*")
	if errors.Is(err, syscall.ERROR_NOT_FOUND) {
		return nil // CredEnumerate's answer when nothing matches
	}
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range creds {
		if id, ok := strings.CutPrefix(c.TargetName, service+":"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}
