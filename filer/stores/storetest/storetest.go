package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
)

// NewStore makes a fresh, empty store for one test and arranges (with
// t.Cleanup) for it to be closed and its data removed.
type NewStore func(t testing.TB) filer.Store

// Run runs every conformance test against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Run("InsertFind", func(t *testing.T) { testInsertFind(t, newStore(t)) })
	t.Run("InsertReplaces", func(t *testing.T) { testInsertReplaces(t, newStore(t)) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("ListOrder", func(t *testing.T) { testListOrder(t, newStore(t)) })
	t.Run("ListStartPrefixLimit", func(t *testing.T) { testListStartPrefixLimit(t, newStore(t)) })
	t.Run("ListOnlyChildren", func(t *testing.T) { testListOnlyChildren(t, newStore(t)) })
	t.Run("ListPages", func(t *testing.T) { testListPages(t, newStore(t)) })
	t.Run("DeleteFolderChildren", func(t *testing.T) { testDeleteFolderChildren(t, newStore(t)) })
	t.Run("DeleteRootChildren", func(t *testing.T) { testDeleteRootChildren(t, newStore(t)) })
	t.Run("MoveWhileListingInTx", func(t *testing.T) { testMoveWhileListing(t, newStore(t)) })
	t.Run("TxCommit", func(t *testing.T) { testTxCommit(t, newStore(t)) })
	t.Run("TxRollback", func(t *testing.T) { testTxRollback(t, newStore(t)) })
	t.Run("TxMisuse", func(t *testing.T) { testTxMisuse(t, newStore(t)) })
	t.Run("Kv", func(t *testing.T) { testKv(t, newStore(t)) })
	t.Run("KvScan", func(t *testing.T) { testKvScan(t, newStore(t)) })
	t.Run("KvApartFromEntries", func(t *testing.T) { testKvApart(t, newStore(t)) })
	t.Run("ConcurrentCreates", func(t *testing.T) { testConcurrentCreates(t, newStore(t)) })
	t.Run("NoSync", func(t *testing.T) { testNoSync(t, newStore(t)) })
}

// sample is an entry with every field set, so a lost field shows.
func sample(path string) *filer.Entry {
	return &filer.Entry{
		FullPath:      path,
		Mode:          0o640,
		UID:           1001,
		GID:           1002,
		Mtime:         time.Unix(1_700_000_000, 123_456_789),
		Crtime:        time.Unix(1_600_000_000, 5),
		Mime:          "text/plain; charset=utf-8",
		FileSize:      12345,
		Md5:           []byte{0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04, 0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e},
		TTLSec:        3600,
		SymlinkTarget: "",
		Collection:    "pics",
		Replication:   "001",
		Extended:      map[string][]byte{"Seaweed-Owner": []byte("bob"), "Seaweed-Bin": {0, 1, 255}},
		Chunks: []filer.Chunk{
			{Fid: "3,01637037d6", Offset: 0, Size: 8192, ModifiedTsNs: 1_700_000_000_000_000_001, ETag: "abc"},
			{Fid: "4,0a0b0c0d0e0f", Offset: 8192, Size: 4153, ModifiedTsNs: 1_700_000_000_000_000_002, ETag: "def", IsManifest: true},
		},
	}
}

func dirEntry(path string) *filer.Entry {
	return &filer.Entry{FullPath: path, Mode: os.ModeDir | 0o755, Mtime: time.Unix(1_700_000_000, 0)}
}

func fileEntry(path string, size uint64) *filer.Entry {
	return &filer.Entry{FullPath: path, Mode: 0o644, FileSize: size, Mtime: time.Unix(1_700_000_000, 0)}
}

// sameEntry fails t unless got and want hold the same data (times
// compared as instants, nil and empty byte slices alike).
func sameEntry(t testing.TB, got, want *filer.Entry) {
	t.Helper()
	if got == nil {
		t.Fatalf("entry %s: got nil", want.FullPath)
	}
	if !got.Mtime.Equal(want.Mtime) || !got.Crtime.Equal(want.Crtime) {
		t.Errorf("entry %s: times got %v/%v want %v/%v", want.FullPath, got.Mtime, got.Crtime, want.Mtime, want.Crtime)
	}
	g, w := *got, *want
	g.Mtime, g.Crtime, w.Mtime, w.Crtime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !bytes.Equal(g.Md5, w.Md5) || !bytes.Equal(g.Content, w.Content) {
		t.Errorf("entry %s: md5/content differ", want.FullPath)
	}
	g.Md5, w.Md5, g.Content, w.Content = nil, nil, nil, nil
	if len(g.Extended) == 0 && len(w.Extended) == 0 {
		g.Extended, w.Extended = nil, nil
	}
	if len(g.Chunks) == 0 && len(w.Chunks) == 0 {
		g.Chunks, w.Chunks = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("entry %s:\n got  %+v\n want %+v", want.FullPath, g, w)
	}
}

func mustInsert(t testing.TB, s filer.Store, es ...*filer.Entry) {
	t.Helper()
	for _, e := range es {
		if err := s.InsertEntry(context.Background(), e); err != nil {
			t.Fatalf("insert %s: %v", e.FullPath, err)
		}
	}
}

func mustMissing(t testing.TB, s filer.Store, ctx context.Context, path string) {
	t.Helper()
	e, err := s.FindEntry(ctx, path)
	if !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("find %s: got %v, %v; want ErrNotFound", path, e, err)
	}
}

func mustFind(t testing.TB, s filer.Store, ctx context.Context, path string) *filer.Entry {
	t.Helper()
	e, err := s.FindEntry(ctx, path)
	if err != nil {
		t.Fatalf("find %s: %v", path, err)
	}
	if e.FullPath != path {
		t.Fatalf("find %s: entry says %s", path, e.FullPath)
	}
	return e
}

// list collects a listing's names.
func list(t testing.TB, s filer.Store, dir, start string, inclusive bool, prefix string, limit int) ([]string, string) {
	t.Helper()
	var names []string
	last, err := s.ListDirectory(context.Background(), dir, start, inclusive, prefix, limit, func(e *filer.Entry) bool {
		if filer.Dir(e.FullPath) != dir {
			t.Errorf("listing %s gave %s", dir, e.FullPath)
		}
		names = append(names, e.Name())
		return true
	})
	if err != nil {
		t.Fatalf("list %s after %q: %v", dir, start, err)
	}
	return names, last
}

func sameNames(t testing.TB, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %q want %q", what, got, want)
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}
