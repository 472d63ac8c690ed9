package embedded

import (
	"context"
	"errors"
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

// A closed store answers ErrUnavailable (Pebble itself would panic).
func TestClosed(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tx, err := s.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindEntry(ctx, "/x"); !errors.Is(err, filer.ErrUnavailable) {
		t.Errorf("find: %v", err)
	}
	if err := s.InsertEntry(ctx, &filer.Entry{FullPath: "/x"}); !errors.Is(err, filer.ErrUnavailable) {
		t.Errorf("insert: %v", err)
	}
	if _, err := s.ListDirectory(ctx, "/", "", false, "", 0, func(*filer.Entry) bool { return true }); !errors.Is(err, filer.ErrUnavailable) {
		t.Errorf("list: %v", err)
	}
	if err := s.CommitTx(tx); !errors.Is(err, filer.ErrUnavailable) {
		t.Errorf("commit: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

// Reopening a store finds what was written before Close.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.InsertEntry(ctx, &filer.Entry{FullPath: "/a/b", FileSize: 9}); err != nil {
		t.Fatal(err)
	}
	if err := s.KvPut(ctx, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if e, err := s.FindEntry(ctx, "/a/b"); err != nil || e.FileSize != 9 {
		t.Fatalf("after reopen: %v, %v", e, err)
	}
	if v, err := s.KvGet(ctx, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("kv after reopen: %q, %v", v, err)
	}
}

// Unsynced writes are still in the log a clean close leaves: reopening
// finds them.
func TestNoSyncSurvivesCleanClose(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := filer.NoSync(context.Background())
	e := &filer.Entry{FullPath: "/unsynced", Mode: 0o644}
	if err := s.InsertEntry(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := filer.WithTx(ctx, s, func(tx context.Context) error {
		return s.KvPut(tx, []byte("k"), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.FindEntry(context.Background(), "/unsynced"); err != nil {
		t.Fatalf("entry after reopen: %v", err)
	}
	if v, err := s.KvGet(context.Background(), []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("kv after reopen: %q, %v", v, err)
	}
}
