package needlemap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/vfs"
)

// randomIdx returns an idx stream of n entries in a volume's key pattern,
// with overwrites, tombstones (also for absent keys) and offset-0 entries.
func randomIdx(r *rand.Rand, n int) []byte {
	g := &keyGen{r: r, pLate: 0.05, pOld: 0.2, gap: 8}
	var b []byte
	for range n {
		e := idx.Entry{Key: g.next(), Offset: 1 + r.Uint32N(1<<30), Size: r.Uint32N(1 << 16)}
		switch r.IntN(20) {
		case 0, 1, 2:
			e.Size = idx.Tombstone
		case 3:
			e.Size = 1<<31 + r.Uint32N(1<<20) // negative as int32: SeaweedFS deletes
		case 4:
			e.Offset = 0
		case 5:
			e.Key = r.Uint64() // an absent key, mostly
		}
		b = e.Append(b)
	}
	return b
}

func replayModel(b []byte) *model {
	md := newModel()
	for len(b) >= idx.EntrySize {
		e, _ := idx.Decode(b)
		md.apply(e.Key, e.Offset, e.Size)
		b = b[idx.EntrySize:]
	}
	return md
}

func TestLoadEqualsSetDelete(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		data := randomIdx(r, 5000+r.IntN(5000))
		loaded, err := Load(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		check(t, loaded, replayModel(data))

		// The same entries through the public Set/Delete.
		built := New()
		for b := data; len(b) > 0; b = b[idx.EntrySize:] {
			e, _ := idx.Decode(b)
			if e.Offset == 0 || e.Size == idx.Tombstone {
				built.Delete(e.Key, e.Offset)
			} else {
				built.Set(e.Key, e.Offset, e.Size)
			}
		}
		if built.Stats() != loaded.Stats() || built.Len() != loaded.Len() {
			t.Fatalf("seed %d: built %+v len %d, loaded %+v len %d", seed, built.Stats(), built.Len(), loaded.Stats(), loaded.Len())
		}
		var a, b []string
		built.Ascend(func(k uint64, v Value) bool { a = append(a, strconv.FormatUint(k, 10)+v.String()); return true })
		loaded.Ascend(func(k uint64, v Value) bool { b = append(b, strconv.FormatUint(k, 10)+v.String()); return true })
		if strings.Join(a, ",") != strings.Join(b, ",") {
			t.Fatalf("seed %d: Ascend differs between built and loaded maps", seed)
		}
		// Reads of odd sizes make no difference.
		odd, err := Load(iotest.OneByteReader(bytes.NewReader(data)))
		if err != nil || odd.Stats() != loaded.Stats() {
			t.Fatalf("one-byte reads: %v, %+v", err, odd.Stats())
		}
	}
}

func TestLoadTornTail(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	data := randomIdx(r, 100)
	for cut := 1; cut < idx.EntrySize; cut++ {
		torn := data[:len(data)-cut]
		m, err := Load(bytes.NewReader(torn))
		if !errors.Is(err, ErrPartialEntry) || !errors.Is(err, idx.ErrCorrupt) {
			t.Fatalf("cut %d: err = %v, want ErrPartialEntry and idx.ErrCorrupt", cut, err)
		}
		whole := len(data) - idx.EntrySize
		check(t, m, replayModel(data[:whole]))

		m2, n, err := LoadAt(bytes.NewReader(torn), int64(len(torn)))
		if err != nil || n != int64(whole) {
			t.Fatalf("cut %d: LoadAt = %d, %v; want %d, nil", cut, n, err, whole)
		}
		check(t, m2, replayModel(data[:whole]))
	}
}

func TestLoadReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(randomIdx(rand.New(rand.NewPCG(1, 1)), 10)), iotest.ErrReader(boom))
	if _, err := Load(r); !errors.Is(err, boom) {
		t.Fatalf("Load = %v, want the read error", err)
	}
}

func TestLoadAtVFSFile(t *testing.T) {
	fsys := vfs.Default()
	name := filepath.Join(t.TempDir(), "1.idx")
	data := randomIdx(rand.New(rand.NewPCG(9, 9)), 3000)
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	// Only the first 1000 entries count: the rest is past the given size.
	m, n, err := LoadAt(f, 1000*idx.EntrySize)
	if err != nil || n != 1000*idx.EntrySize {
		t.Fatalf("LoadAt = %d, %v", n, err)
	}
	check(t, m, replayModel(data[:1000*idx.EntrySize]))
}

// TestLoadSeaweedFSFixture loads the .idx written by a real SeaweedFS and
// checks it against the fixture's manifest.
func TestLoadSeaweedFSFixture(t *testing.T) {
	src := "../../../shared/fixtures/seaweedfs-v3"
	if _, err := os.Stat(src); err != nil {
		src = "/work/shared/fixtures/seaweedfs-v3"
	}
	data, err := os.ReadFile(filepath.Join(src, "fx_1.idx"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture not available: %v", err)
		}
		t.Skipf("fixture not available: %v", err)
	}
	name := filepath.Join(t.TempDir(), "fx_1.idx")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.Open(filepath.Join(src, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer manifest.Close()
	state := map[uint64]string{}
	var maxKey uint64
	sc := bufio.NewScanner(manifest)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		key, err := fidKey(cols[0])
		if err != nil {
			t.Fatal(err)
		}
		state[key] = cols[2]
		maxKey = max(maxKey, key)
	}
	live := 0
	for key, st := range state {
		v, ok := m.Get(key)
		if !ok || v.Deleted() != (st == "deleted") {
			t.Errorf("key %d (%s): %v, %v", key, st, v, ok)
		}
		if st == "live" {
			live++
		}
	}
	s := m.Stats()
	entries := uint64(len(data) / idx.EntrySize)
	if m.Len() != len(state) || s.Live != live || s.MaxKey != maxKey {
		t.Fatalf("Len %d Live %d MaxKey %d; manifest has %d keys, %d live, max %d", m.Len(), s.Live, s.MaxKey, len(state), live, maxKey)
	}
	// One deleted needle and one overwrite: FileCount-DeletedCount is the
	// live count SeaweedFS's /status derives, and every entry is a put or
	// a delete.
	if s.FileCount-s.DeletedCount != uint64(live) || s.FileCount+1 != entries {
		t.Fatalf("Stats %+v with %d entries", s, entries)
	}
}

// fidKey parses the key of "1,<key hex><cookie 8 hex>[_N]".
func fidKey(fid string) (uint64, error) {
	_, rest, _ := strings.Cut(fid, ",")
	rest, n, hasN := strings.Cut(rest, "_")
	if len(rest) <= 8 {
		return 0, errors.New("short fid " + fid)
	}
	key, err := strconv.ParseUint(rest[:len(rest)-8], 16, 64)
	if err != nil {
		return 0, err
	}
	if hasN {
		d, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return 0, err
		}
		key += d
	}
	return key, nil
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte{})
	f.Add(randomIdx(rand.New(rand.NewPCG(1, 2)), 40))
	f.Add(randomIdx(rand.New(rand.NewPCG(2, 2)), 300)[:300*idx.EntrySize-5])
	f.Add(idx.Entry{Key: 0, Offset: 0, Size: 0}.Append(nil))
	f.Add(idx.Entry{Key: ^uint64(0), Offset: ^uint32(0), Size: idx.Tombstone}.Append(nil))
	if data, err := os.ReadFile("../../../shared/fixtures/seaweedfs-v3/fx_1.idx"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(bytes.NewReader(data))
		if len(data)%idx.EntrySize != 0 {
			if !errors.Is(err, ErrPartialEntry) {
				t.Fatalf("torn input: err = %v", err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		// Fuzz inputs have few entries: merge the overflow often.
		small := New()
		small.flushMin = 2
		if _, err := small.replay(bytes.NewReader(data)); err != nil && !errors.Is(err, ErrPartialEntry) {
			t.Fatal(err)
		}
		md := replayModel(data)
		check(t, m, md)
		check(t, small, md)
	})
}
