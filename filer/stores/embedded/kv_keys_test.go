package embedded

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// KvScanKeys lists the same keys as KvScan, in the same order, with the
// same start, limit, prefix and early stop, across pages, and sees a
// transaction's own writes.
func TestKvScanKeysMatchesKvScan(t *testing.T) {
	s := newStore(t).(*Store)
	ctx := context.Background()
	for i := range 2500 { // more than two pages
		if err := s.KvPut(ctx, fmt.Appendf(nil, "ev/%05d", i), fmt.Appendf(nil, "value %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	s.KvPut(ctx, []byte("ew/outside"), []byte("x"))
	s.KvPut(ctx, []byte("eu/outside"), []byte("x"))
	if err := s.KvDelete(ctx, []byte("ev/00007")); err != nil {
		t.Fatal(err)
	}
	scan := func(ctx context.Context, start []byte, limit, stopAt int) (withValues, keysOnly []string) {
		t.Helper()
		err := s.KvScan(ctx, []byte("ev/"), start, limit, func(k, v []byte) bool {
			if want := "value " + fmt.Sprint(mustAtoi(t, string(k[3:]))); string(v) != want {
				t.Fatalf("value of %s is %q", k, v)
			}
			withValues = append(withValues, string(k))
			return len(withValues) != stopAt
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.KvScanKeys(ctx, []byte("ev/"), start, limit, func(k []byte) bool {
			keysOnly = append(keysOnly, string(k))
			return len(keysOnly) != stopAt
		})
		if err != nil {
			t.Fatal(err)
		}
		return withValues, keysOnly
	}
	for _, c := range []struct {
		start         string
		limit, stopAt int
		want          int
	}{
		{"", 0, -1, 2499},
		{"ev/00100", 0, -1, 2400},
		{"ev/00100", 1500, -1, 1500},
		{"", 0, 1200, 1200},
		{"ev/02499", 0, -1, 1},
		{"ev/03000", 0, -1, 0},
	} {
		var start []byte
		if c.start != "" {
			start = []byte(c.start)
		}
		a, b := scan(ctx, start, c.limit, c.stopAt)
		if len(a) != c.want || !slices.Equal(a, b) {
			t.Fatalf("start %q limit %d: KvScan %d keys, KvScanKeys %d keys (want %d), equal %v", c.start, c.limit, len(a), len(b), c.want, slices.Equal(a, b))
		}
	}
	// Inside a transaction, its own writes show.
	tx, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.RollbackTx(tx)
	s.KvPut(tx, []byte("ev/00007"), []byte("value 7"))
	a, b := scan(tx, nil, 0, -1)
	if len(a) != 2500 || !slices.Equal(a, b) || b[7] != "ev/00007" {
		t.Fatalf("in a transaction: KvScan %d keys, KvScanKeys %d keys", len(a), len(b))
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		t.Fatalf("key suffix %q: %v", s, err)
	}
	return n
}
