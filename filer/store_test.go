package filer_test

import (
	"testing"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
)

// newStore is the store the filer's tests run on.
func newStore(t testing.TB) filer.Store {
	return filertest.NewMemStore()
}
