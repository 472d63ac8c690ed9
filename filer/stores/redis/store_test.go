package redis

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/stores/storetest"
)

func testAddr(t testing.TB) string { return storetest.RedisAddr(t) }

// newStore opens a store under a key prefix of its own, whose keys are
// removed at cleanup.
func newStore(t testing.TB) filer.Store {
	addr := testAddr(t)
	s, err := Open(context.Background(), addr, Options{Prefix: storetest.RedisPrefix(t, addr)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

// A Redis that cannot be reached, or a closed store, gives ErrUnavailable.
func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Open(ctx, addr, Options{}); !errors.Is(err, filer.ErrUnavailable) {
		t.Fatalf("open of a closed port: %v, want ErrUnavailable", err)
	}
	s := newStore(t).(*Store)
	s.Close()
	if _, err := s.FindEntry(ctx, "/x"); !errors.Is(err, filer.ErrUnavailable) {
		t.Errorf("find on a closed store: %v, want ErrUnavailable", err)
	}
	if err := s.InsertEntry(ctx, &filer.Entry{FullPath: "/x"}); !errors.Is(err, filer.ErrUnavailable) {
		t.Errorf("insert on a closed store: %v, want ErrUnavailable", err)
	}
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, newStore) }

// Two filers on one Redis with the same prefix share one namespace.
func TestTwoFilersShareNamespace(t *testing.T) {
	a := newStore(t).(*Store)
	b, err := Open(context.Background(), testAddr(t), Options{Prefix: a.prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if err := a.InsertEntry(ctx, &filer.Entry{FullPath: "/shared/x", FileSize: 3}); err != nil {
		t.Fatal(err)
	}
	if e, err := b.FindEntry(ctx, "/shared/x"); err != nil || e.FileSize != 3 {
		t.Fatalf("second filer: %v, %v", e, err)
	}
	if err := b.DeleteFolderChildren(ctx, "/shared"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FindEntry(ctx, "/shared/x"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("deleted by the second filer, first sees: %v", err)
	}
	// A different prefix is a different namespace.
	c, err := Open(ctx, testAddr(t), Options{Prefix: a.prefix + "other:"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := a.InsertEntry(ctx, &filer.Entry{FullPath: "/mine"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindEntry(ctx, "/mine"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("another prefix sees the entry: %v", err)
	}
}
