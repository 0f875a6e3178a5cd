//go:build !windows

package keychaintest

import (
	"testing"

	ss "github.com/zalando/go-keyring/secret_service"
)

// Entries lists the connection IDs the Secret Service holds a token for under service,
// asking it directly rather than through the token store under test.
func Entries(t testing.TB, service string) []string {
	t.Helper()
	svc, err := ss.NewSecretService()
	if err != nil {
		t.Fatal(err)
	}
	items, err := svc.SearchItems(svc.GetLoginCollection(), map[string]string{"service": service})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range items {
		v, err := svc.Object("org.freedesktop.secrets", it).GetProperty("org.freedesktop.Secret.Item.Attributes")
		if err != nil {
			t.Fatal(err)
		}
		attrs, _ := v.Value().(map[string]string)
		ids = append(ids, attrs["username"])
	}
	return ids
}
