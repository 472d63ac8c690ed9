package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"weedfs.dev/weed/filer"
)

func testTxCommit(t *testing.T, s filer.Store) {
	ctx := context.Background()
	mustInsert(t, s, fileEntry("/old", 1), dirEntry("/d"), fileEntry("/d/x", 1), dirEntry("/d/e"), fileEntry("/d/e/y", 1))
	tx, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(t, s, fileEntry("/before", 1)) // outside the transaction
	if err := s.InsertEntry(tx, fileEntry("/new", 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEntry(tx, "/old"); err != nil {
		t.Fatal(err)
	}
	if err := s.KvPut(tx, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertEntry(tx, fileEntry("/d/z", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFolderChildren(tx, "/d"); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertEntry(tx, fileEntry("/d/after", 1)); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, ctx, "/d/x") // not before the commit
	// The transaction sees its own writes.
	mustFind(t, s, tx, "/new")
	mustMissing(t, s, tx, "/old")
	mustMissing(t, s, tx, "/d/x")
	mustMissing(t, s, tx, "/d/z")
	mustMissing(t, s, tx, "/d/e/y")
	mustFind(t, s, tx, "/d/after")
	if v, err := s.KvGet(tx, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("kv inside tx: %q, %v", v, err)
	}
	if err := s.CommitTx(tx); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, ctx, "/new")
	mustFind(t, s, ctx, "/before")
	mustMissing(t, s, ctx, "/old")
	for _, p := range []string{"/d/x", "/d/z", "/d/e", "/d/e/y"} {
		mustMissing(t, s, ctx, p)
	}
	mustFind(t, s, ctx, "/d")
	got, _ := list(t, s, "/d", "", false, "", 0)
	sameNames(t, "folder emptied in a transaction", got, []string{"after"})
	if v, err := s.KvGet(ctx, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("kv after commit: %q, %v", v, err)
	}
	if err := s.CommitTx(tx); !errors.Is(err, filer.ErrTx) {
		t.Errorf("second commit: %v, want ErrTx", err)
	}
}

func testTxRollback(t *testing.T, s filer.Store) {
	ctx := context.Background()
	mustInsert(t, s, fileEntry("/keep", 1))
	boom := errors.New("boom")
	err := filer.WithTx(ctx, s, func(tx context.Context) error {
		if err := s.InsertEntry(tx, fileEntry("/gone", 1)); err != nil {
			return err
		}
		if err := s.UpdateEntry(tx, fileEntry("/keep", 99)); err != nil {
			return err
		}
		if err := s.KvPut(tx, []byte("k"), []byte("v")); err != nil {
			return err
		}
		if err := s.DeleteFolderChildren(tx, "/"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx returned %v, want the callback's error", err)
	}
	mustMissing(t, s, ctx, "/gone")
	if got := mustFind(t, s, ctx, "/keep"); got.FileSize != 1 {
		t.Errorf("rolled-back update is visible: size %d", got.FileSize)
	}
	if _, err := s.KvGet(ctx, []byte("k")); !errors.Is(err, filer.ErrNotFound) {
		t.Errorf("rolled-back kv put: %v", err)
	}

	// A transaction that commits through WithTx.
	if err := filer.WithTx(ctx, s, func(tx context.Context) error {
		return s.InsertEntry(tx, fileEntry("/kept", 1))
	}); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, ctx, "/kept")
}

func testTxMisuse(t *testing.T, s filer.Store) {
	ctx := context.Background()
	if err := s.CommitTx(ctx); !errors.Is(err, filer.ErrTx) {
		t.Errorf("commit without begin: %v, want ErrTx", err)
	}
	if err := s.RollbackTx(ctx); !errors.Is(err, filer.ErrTx) {
		t.Errorf("rollback without begin: %v, want ErrTx", err)
	}
	tx, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginTx(tx); !errors.Is(err, filer.ErrTx) {
		t.Errorf("nested begin: %v, want ErrTx", err)
	}
	if err := s.RollbackTx(tx); err != nil {
		t.Fatal(err)
	}
	// The store still works after all that.
	mustInsert(t, s, fileEntry("/fine", 1))
}

func testKv(t *testing.T, s filer.Store) {
	ctx := context.Background()
	if _, err := s.KvGet(ctx, []byte("missing")); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("missing key: %v, want ErrNotFound", err)
	}
	key := []byte{0, 'k', 0xff, '/'}
	big := bytes.Repeat([]byte{0, 1, 2, 0xfe}, 64<<10)
	for _, v := range [][]byte{[]byte("one"), big, {0}} {
		if err := s.KvPut(ctx, key, v); err != nil {
			t.Fatal(err)
		}
		got, err := s.KvGet(ctx, key)
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("get after put of %d bytes: %d bytes, %v", len(v), len(got), err)
		}
	}
	if err := s.KvDelete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KvGet(ctx, key); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	if err := s.KvDelete(ctx, key); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
}

func testKvScan(t *testing.T, s filer.Store) {
	ctx := context.Background()
	put := func(k string) {
		if err := s.KvPut(ctx, []byte(k), []byte("v:"+k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"ev/\x00\x05", "ev/\x00\x01", "ev/\xff", "ev/\x01\x00", "ev0", "eu/", "dq/1", "ev"} {
		put(k)
	}
	scan := func(prefix, start string, limit int) []string {
		var got []string
		var startKey []byte
		if start != "" {
			startKey = []byte(start)
		}
		err := s.KvScan(ctx, []byte(prefix), startKey, limit, func(k, v []byte) bool {
			if string(v) != "v:"+string(k) {
				t.Errorf("scan: key %q has value %q", k, v)
			}
			got = append(got, string(k))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	sameNames(t, "scan ev/", scan("ev/", "", 0), []string{"ev/\x00\x01", "ev/\x00\x05", "ev/\x01\x00", "ev/\xff"})
	sameNames(t, "scan ev/ from", scan("ev/", "ev/\x00\x02", 0), []string{"ev/\x00\x05", "ev/\x01\x00", "ev/\xff"})
	sameNames(t, "scan ev/ from exact", scan("ev/", "ev/\x00\x05", 2), []string{"ev/\x00\x05", "ev/\x01\x00"})
	sameNames(t, "scan ev/ limit", scan("ev/", "", 1), []string{"ev/\x00\x01"})
	sameNames(t, "scan ev", scan("ev", "", 0), []string{"ev", "ev/\x00\x01", "ev/\x00\x05", "ev/\x01\x00", "ev/\xff", "ev0"})
	sameNames(t, "scan start below prefix", scan("ev/", "a", 0), []string{"ev/\x00\x01", "ev/\x00\x05", "ev/\x01\x00", "ev/\xff"})
	sameNames(t, "scan start above prefix", scan("ev/", "f", 0), nil)
	sameNames(t, "scan none", scan("zz", "", 0), nil)
	if n := len(scan("", "", 0)); n != 8 {
		t.Errorf("scan of everything: %d keys, want 8", n)
	}
	var n int
	if err := s.KvScan(ctx, []byte("ev/"), nil, 0, func(k, v []byte) bool { n++; return false }); err != nil || n != 1 {
		t.Errorf("scan stopping at once: %d calls, %v", n, err)
	}
	if err := s.KvDelete(ctx, []byte("ev/\x00\x05")); err != nil {
		t.Fatal(err)
	}
	sameNames(t, "scan after delete", scan("ev/", "", 0), []string{"ev/\x00\x01", "ev/\x01\x00", "ev/\xff"})
}

func testKvApart(t *testing.T, s filer.Store) {
	ctx := context.Background()
	if err := s.KvPut(ctx, []byte("/a"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, s, ctx, "/a")
	got, _ := list(t, s, "/", "", false, "", 0)
	sameNames(t, "root after kv put", got, nil)
	mustInsert(t, s, fileEntry("/b", 1))
	if _, err := s.KvGet(ctx, []byte("/b")); !errors.Is(err, filer.ErrNotFound) {
		t.Errorf("an entry shows in the KV space: %v", err)
	}
}

func testConcurrentCreates(t *testing.T, s filer.Store) {
	const workers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := fileEntry(fmt.Sprintf("/c/w%02d-%03d", w, i), uint64(i))
				if err := s.InsertEntry(context.Background(), e); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, _ := list(t, s, "/c", "", false, "", 0)
	if len(got) != workers*each {
		t.Fatalf("listed %d entries after %d concurrent creates", len(got), workers*each)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] >= got[i] {
			t.Fatalf("listing out of order at %d: %q then %q", i, got[i-1], got[i])
		}
	}
}

// testMoveWhileListing moves a folder's children entry by entry from
// inside the listing callback, in one transaction, as a rename does.
func testMoveWhileListing(t *testing.T, s filer.Store) {
	const n = 2500 // more than one page of every store
	want := names("m", n)
	insertMany(t, s, "/src", want)
	moved := 0
	err := filer.WithTx(context.Background(), s, func(tx context.Context) error {
		_, err := s.ListDirectory(tx, "/src", "", false, "", 0, func(e *filer.Entry) bool {
			to := e.Clone()
			to.FullPath = filer.Join("/dst", e.Name())
			if err := s.InsertEntry(tx, to); err != nil {
				t.Error(err)
				return false
			}
			if err := s.DeleteEntry(tx, e.FullPath); err != nil {
				t.Error(err)
				return false
			}
			moved++
			return true
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if moved != n {
		t.Fatalf("moved %d of %d", moved, n)
	}
	got, _ := list(t, s, "/dst", "", false, "", 0)
	sameNames(t, "moved folder", got, want)
	got, _ = list(t, s, "/src", "", false, "", 0)
	sameNames(t, "source folder", got, nil)
}

// testNoSync: writes made with a filer.NoSync context, alone or in a
// transaction, are applied and visible like any other; a rollback still
// discards.
func testNoSync(t *testing.T, s filer.Store) {
	ctx := filer.NoSync(context.Background())
	if err := s.InsertEntry(ctx, fileEntry("/ns-single", 1)); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, context.Background(), "/ns-single")
	if err := filer.WithTx(ctx, s, func(tx context.Context) error {
		if err := s.InsertEntry(tx, fileEntry("/ns-tx", 2)); err != nil {
			return err
		}
		return s.DeleteEntry(tx, "/ns-single")
	}); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, context.Background(), "/ns-tx")
	mustMissing(t, s, context.Background(), "/ns-single")
	errBoom := errors.New("boom")
	if err := filer.WithTx(ctx, s, func(tx context.Context) error {
		if err := s.InsertEntry(tx, fileEntry("/ns-rolled-back", 1)); err != nil {
			return err
		}
		return errBoom
	}); !errors.Is(err, errBoom) {
		t.Fatalf("rolled back tx: %v", err)
	}
	mustMissing(t, s, context.Background(), "/ns-rolled-back")
	// A synced write after them makes them durable; it must still work.
	mustInsert(t, s, fileEntry("/ns-after", 1))
}
