package filer_test

import (
	"testing"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/stores/embedded"
)

// newStore is the store the filer's tests run on: the embedded default.
func newStore(t testing.TB) filer.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
