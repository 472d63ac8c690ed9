package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/stores/storetest"
)

func testURL(t testing.TB) string { return storetest.PostgresURL(t) }

// newStore opens a store on tables of its own, dropped at cleanup, so
// tests do not see each other's rows.
func newStore(t testing.TB) filer.Store {
	url := testURL(t)
	s, err := Open(context.Background(), url, Options{Table: storetest.PostgresTable(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

// Two filers on one database share one namespace: each sees the other's
// entries, KV pairs and deletions at once.
func TestTwoFilersShareNamespace(t *testing.T) {
	a := newStore(t).(*Store)
	b, err := Open(context.Background(), testURL(t), Options{Table: a.entries})
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
	if err := b.KvPut(ctx, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, err := a.KvGet(ctx, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("first filer kv: %q, %v", v, err)
	}
	if err := b.DeleteFolderChildren(ctx, "/shared"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.FindEntry(ctx, "/shared/x"); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("deleted by the second filer, first sees: %v", err)
	}
}

// A database that cannot be reached, or a closed store, gives
// ErrUnavailable, which the filer turns into a 5xx.
func TestUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Open(ctx, "postgres://weed@"+addr+"/x?sslmode=disable&connect_timeout=2", Options{})
	if !errors.Is(err, filer.ErrUnavailable) {
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

// Filers starting together on a new database race to create the tables;
// every one of them must open.
func TestConcurrentOpen(t *testing.T) {
	url := testURL(t)
	table := fmt.Sprintf("weed_test_open_%d", os.Getpid())
	ctx := context.Background()
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table+", "+table+"_kv"); err != nil {
			t.Error(err)
		}
	})
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			s, err := Open(ctx, url, Options{Table: table, MaxConns: 2})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
