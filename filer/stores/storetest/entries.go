package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"weedfs.dev/weed/filer"
)

func testInsertFind(t *testing.T, s filer.Store) {
	ctx := context.Background()
	mustMissing(t, s, ctx, "/docs/a.txt")
	want := sample("/docs/a.txt")
	mustInsert(t, s, dirEntry("/docs"), want)
	sameEntry(t, mustFind(t, s, ctx, "/docs/a.txt"), want)
	sameEntry(t, mustFind(t, s, ctx, "/docs"), dirEntry("/docs"))
	if !mustFind(t, s, ctx, "/docs").IsDirectory() {
		t.Error("folder lost its dir bit")
	}

	// A small file kept inside the entry, and odd but valid names.
	small := fileEntry("/docs/ünï cödé ✓.txt", 5)
	small.Content = []byte("hello")
	root := fileEntry("/top", 1)
	mustInsert(t, s, small, root)
	sameEntry(t, mustFind(t, s, ctx, small.FullPath), small)
	sameEntry(t, mustFind(t, s, ctx, "/top"), root)

	// The entry handed out is the caller's: changing it changes nothing stored.
	got := mustFind(t, s, ctx, "/docs/a.txt")
	got.Extended["Seaweed-Owner"][0] = 'X'
	got.Chunks[0].Size = 1
	sameEntry(t, mustFind(t, s, ctx, "/docs/a.txt"), want)
}

func testInsertReplaces(t *testing.T, s filer.Store) {
	ctx := context.Background()
	mustInsert(t, s, sample("/f"))
	repl := fileEntry("/f", 7)
	mustInsert(t, s, repl)
	sameEntry(t, mustFind(t, s, ctx, "/f"), repl)
	got, _ := list(t, s, "/", "", false, "", 0)
	sameNames(t, "listing after replace", got, []string{"f"})
}

func testUpdate(t *testing.T, s filer.Store) {
	ctx := context.Background()
	if err := s.UpdateEntry(ctx, fileEntry("/nope", 1)); !errors.Is(err, filer.ErrNotFound) {
		t.Fatalf("update of a missing entry: %v, want ErrNotFound", err)
	}
	mustMissing(t, s, ctx, "/nope")
	mustInsert(t, s, fileEntry("/u", 1))
	upd := sample("/u")
	if err := s.UpdateEntry(ctx, upd); err != nil {
		t.Fatal(err)
	}
	sameEntry(t, mustFind(t, s, ctx, "/u"), upd)
}

func testDelete(t *testing.T, s filer.Store) {
	ctx := context.Background()
	mustInsert(t, s, dirEntry("/d"), fileEntry("/d/x", 1), fileEntry("/d/y", 1))
	if err := s.DeleteEntry(ctx, "/d/x"); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, s, ctx, "/d/x")
	mustFind(t, s, ctx, "/d/y")
	if err := s.DeleteEntry(ctx, "/d/x"); err != nil {
		t.Fatalf("deleting a missing entry: %v", err)
	}
	got, _ := list(t, s, "/d", "", false, "", 0)
	sameNames(t, "after delete", got, []string{"y"})

	// Deleting a folder's entry leaves its children to the caller.
	if err := s.DeleteEntry(ctx, "/d"); err != nil {
		t.Fatal(err)
	}
	mustMissing(t, s, ctx, "/d")
	mustFind(t, s, ctx, "/d/y")
}

func testListOrder(t *testing.T, s filer.Store) {
	want := []string{"A", "Z", "a", "a b", "a-b", "a.b", "a0", "ab", "b", "z", "é", "日本", "😀"}
	slices.Sort(want) // byte order of UTF-8 is code point order
	shuffled := slices.Clone(want)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	mustInsert(t, s, dirEntry("/o"))
	for _, n := range shuffled {
		mustInsert(t, s, fileEntry("/o/"+n, 1))
	}
	got, last := list(t, s, "/o", "", false, "", 0)
	sameNames(t, "order", got, want)
	if last != want[len(want)-1] {
		t.Errorf("last = %q, want %q", last, want[len(want)-1])
	}
	got, _ = list(t, s, "/", "", false, "", 0)
	sameNames(t, "root", got, []string{"o"})

	// fn returning false stops the listing at that entry.
	var seen []string
	last, err := s.ListDirectory(context.Background(), "/o", "", false, "", 0, func(e *filer.Entry) bool {
		seen = append(seen, e.Name())
		return len(seen) < 3
	})
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, "stopped listing", seen, want[:3])
	if last != want[2] {
		t.Errorf("stopped listing: last = %q, want %q", last, want[2])
	}
	got, last = list(t, s, "/empty", "", false, "", 10)
	if len(got) != 0 || last != "" {
		t.Errorf("missing folder listed %q, last %q", got, last)
	}
}

func testListStartPrefixLimit(t *testing.T, s filer.Store) {
	all := []string{"a1", "a2", "a3", "b1", "b2", "c"}
	for _, n := range all {
		mustInsert(t, s, fileEntry("/p/"+n, 1))
	}
	cases := []struct {
		start     string
		inclusive bool
		prefix    string
		limit     int
		want      []string
	}{
		{"", false, "", 0, all},
		{"a2", false, "", 0, []string{"a3", "b1", "b2", "c"}},
		{"a2", true, "", 0, []string{"a2", "a3", "b1", "b2", "c"}},
		{"a25", true, "", 0, []string{"a3", "b1", "b2", "c"}}, // start need not exist
		{"", false, "", 2, []string{"a1", "a2"}},
		{"a1", false, "", 2, []string{"a2", "a3"}},
		{"", false, "b", 0, []string{"b1", "b2"}},
		{"", false, "a", 2, []string{"a1", "a2"}},
		{"a1", false, "a", 0, []string{"a2", "a3"}},
		{"a3", false, "a", 0, nil},
		{"b1", true, "b", 0, []string{"b1", "b2"}},
		{"", false, "x", 0, nil},
		{"c", false, "", 0, nil},
		{"0", false, "b", 1, []string{"b1"}},
		{"z", false, "b", 0, nil}, // start beyond the prefix
	}
	for _, c := range cases {
		got, last := list(t, s, "/p", c.start, c.inclusive, c.prefix, c.limit)
		sameNames(t, "list start="+c.start+" prefix="+c.prefix, got, c.want)
		wantLast := ""
		if len(c.want) > 0 {
			wantLast = c.want[len(c.want)-1]
		}
		if last != wantLast {
			t.Errorf("list start=%q prefix=%q: last = %q, want %q", c.start, c.prefix, last, wantLast)
		}
	}
}

func testListOnlyChildren(t *testing.T, s filer.Store) {
	mustInsert(t, s,
		dirEntry("/a"), dirEntry("/a/b"), fileEntry("/a/b/deep", 1), dirEntry("/a/b/c"), fileEntry("/a/b/c/deeper", 1),
		fileEntry("/a/b-x", 1), fileEntry("/a/b0", 1), dirEntry("/a/bc"), fileEntry("/a/bc/y", 1), fileEntry("/ab", 1))
	got, _ := list(t, s, "/a", "", false, "", 0)
	sameNames(t, "/a", got, []string{"b", "b-x", "b0", "bc"})
	got, _ = list(t, s, "/a/b", "", false, "", 0)
	sameNames(t, "/a/b", got, []string{"c", "deep"})
	got, _ = list(t, s, "/", "", false, "", 0)
	sameNames(t, "/", got, []string{"a", "ab"})
	got, _ = list(t, s, "/a", "", false, "b", 0)
	sameNames(t, "/a prefix b", got, []string{"b", "b-x", "b0", "bc"})
}

func testListPages(t *testing.T, s filer.Store) {
	const n, page = 10_000, 1000
	want := names("f", n)
	insertMany(t, s, "/big", want)
	var got []string
	start := ""
	for pages := 0; ; pages++ {
		if pages > n/page+1 {
			t.Fatalf("paging does not end after %d pages", pages)
		}
		batch, last := list(t, s, "/big", start, false, "", page)
		got = append(got, batch...)
		if len(batch) < page {
			break
		}
		start = last
	}
	sameNames(t, "paged listing", got, want)
}

// insertMany inserts files named names into dir in transactions of 500,
// so slow stores fill up quickly.
func insertMany(t testing.TB, s filer.Store, dir string, names []string) {
	t.Helper()
	const batch = 500
	for i := 0; i < len(names); i += batch {
		err := filer.WithTx(context.Background(), s, func(ctx context.Context) error {
			for _, n := range names[i:min(i+batch, len(names))] {
				if err := s.InsertEntry(ctx, fileEntry(filer.Join(dir, n), 1)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("insert batch at %d: %v", i, err)
		}
	}
}

func testDeleteFolderChildren(t *testing.T, s filer.Store) {
	ctx := context.Background()
	mustInsert(t, s,
		dirEntry("/a"), dirEntry("/a/b"), fileEntry("/a/b/f", 1), dirEntry("/a/b/c"), fileEntry("/a/b/c/g", 1),
		dirEntry("/a/b/c/d"), fileEntry("/a/b/c/d/h", 1),
		fileEntry("/a/b-x", 1), fileEntry("/a/b0", 1), fileEntry("/a/b.txt", 1), dirEntry("/a/bc"), fileEntry("/a/bc/y", 1))
	if err := s.DeleteFolderChildren(ctx, "/a/b"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a/b/f", "/a/b/c", "/a/b/c/g", "/a/b/c/d", "/a/b/c/d/h"} {
		mustMissing(t, s, ctx, p)
	}
	for _, p := range []string{"/a", "/a/b", "/a/b-x", "/a/b0", "/a/b.txt", "/a/bc", "/a/bc/y"} {
		mustFind(t, s, ctx, p)
	}
	got, _ := list(t, s, "/a/b", "", false, "", 0)
	sameNames(t, "emptied folder", got, nil)
	got, _ = list(t, s, "/a/b/c", "", false, "", 0)
	sameNames(t, "emptied subfolder", got, nil)
	got, _ = list(t, s, "/a", "", false, "", 0)
	sameNames(t, "parent", got, []string{"b", "b-x", "b.txt", "b0", "bc"})
	if err := s.DeleteFolderChildren(ctx, "/nothing/here"); err != nil {
		t.Fatalf("emptying a missing folder: %v", err)
	}

	// A folder can be filled again after being emptied.
	mustInsert(t, s, fileEntry("/a/b/again", 1))
	got, _ = list(t, s, "/a/b", "", false, "", 0)
	sameNames(t, "refilled", got, []string{"again"})
}

func testDeleteRootChildren(t *testing.T, s filer.Store) {
	ctx := context.Background()
	mustInsert(t, s, dirEntry("/x"), fileEntry("/x/1", 1), fileEntry("/y", 1))
	if err := s.KvPut(ctx, []byte("keep"), []byte("me")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFolderChildren(ctx, "/"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/x", "/x/1", "/y"} {
		mustMissing(t, s, ctx, p)
	}
	if v, err := s.KvGet(ctx, []byte("keep")); err != nil || string(v) != "me" {
		t.Errorf("emptying the root touched the KV space: %q, %v", v, err)
	}
}
