package embedded

import (
	"testing"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/stores/storetest"
)

func newStore(t testing.TB) filer.Store {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, newStore) }
