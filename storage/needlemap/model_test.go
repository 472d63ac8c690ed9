package needlemap

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is the reference: a plain Go map with SeaweedFS's counting rules
// (needle_map_memory.go doLoading / logPut / logDelete).
type model struct {
	m  map[uint64]Value
	st Stats
}

func newModel() *model { return &model{m: map[uint64]Value{}} }

func (md *model) set(key uint64, offset, size uint32) (Value, bool) {
	if size > MaxSize {
		return md.del(key, offset)
	}
	md.st.MaxKey = max(md.st.MaxKey, key)
	md.st.FileCount++
	md.st.ContentSize += uint64(size)
	old, ok := md.m[key]
	if ok && !old.Deleted() {
		md.st.DeletedCount++
		md.st.DeletedSize += uint64(old.Size)
	} else {
		md.st.Live++
	}
	md.m[key] = Value{Offset: offset, Size: size}
	return old, ok
}

func (md *model) del(key uint64, _ uint32) (Value, bool) {
	md.st.MaxKey = max(md.st.MaxKey, key)
	md.st.DeletedCount++
	old, ok := md.m[key]
	if ok && !old.Deleted() {
		md.st.DeletedSize += uint64(old.Size)
		md.st.Live--
		nv := old
		nv.deleted = true
		md.m[key] = nv
	}
	return old, ok
}

// apply replays one idx entry: offset 0 or a size above MaxSize deletes.
func (md *model) apply(key uint64, offset, size uint32) {
	if offset == 0 || size > MaxSize {
		md.del(key, offset)
		return
	}
	md.set(key, offset, size)
}

// check compares every observable of m with md.
func check(t *testing.T, m *Map, md *model) {
	t.Helper()
	if m.Len() != len(md.m) {
		t.Fatalf("Len = %d, want %d", m.Len(), len(md.m))
	}
	if m.Stats() != md.st {
		t.Fatalf("Stats = %+v, want %+v", m.Stats(), md.st)
	}
	keys := make([]uint64, 0, len(md.m))
	for k, want := range md.m {
		keys = append(keys, k)
		if got, ok := m.Get(k); !ok || got != want {
			t.Fatalf("Get(%d) = %v, %v; want %v", k, got, ok, want)
		}
	}
	slices.Sort(keys)
	i := 0
	m.Ascend(func(k uint64, v Value) bool {
		if i >= len(keys) || k != keys[i] || v != md.m[k] {
			t.Fatalf("Ascend #%d = %d %v; want key %d", i, k, v, keys[min(i, len(keys)-1)])
		}
		i++
		return true
	})
	if i != len(keys) {
		t.Fatalf("Ascend visited %d keys, want %d", i, len(keys))
	}
}

// keyGen produces the key pattern of a volume: mostly increasing with small
// gaps, some late (out-of-order) keys, some overwrites of known keys.
type keyGen struct {
	r     *rand.Rand
	head  uint64
	known []uint64
	pLate float64 // chance of a late key below the head
	pOld  float64 // chance of reusing a known key
	gap   int     // largest gap between increasing keys
}

func (g *keyGen) next() uint64 {
	switch p := g.r.Float64(); {
	case p < g.pOld && len(g.known) > 0:
		return g.known[g.r.IntN(len(g.known))]
	case p < g.pOld+g.pLate && g.head > 0:
		k := g.r.Uint64N(g.head)
		g.known = append(g.known, k)
		return k
	}
	g.head += 1 + uint64(g.r.IntN(g.gap))
	g.known = append(g.known, g.head)
	return g.head
}

var modelSeeds = flag.Int("needlemap.seeds", 150, "seeds of TestMapMatchesModel (more for a longer hunt)")

func TestMapMatchesModel(t *testing.T) {
	seeds, ops := *modelSeeds, 3000
	if testing.Short() {
		seeds = min(seeds, 30)
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 7))
			m, md := New(), newModel()
			m.flushMin = 1 + r.IntN(64) // merge the overflow often
			g := &keyGen{r: r, pLate: r.Float64() * 0.3, pOld: r.Float64() * 0.3, gap: 1 + r.IntN(300)}
			if seed%10 == 0 {
				g.head = math.MaxUint64 - uint64(ops)*400 // near the top of the key space
			}
			for i := range ops {
				key := g.next()
				switch op := r.IntN(10); {
				case op < 7:
					off, size := r.Uint32(), r.Uint32N(1<<20)
					if r.IntN(50) == 0 {
						size = 0
					}
					gotOld, gotOK := m.Set(key, off, size)
					wantOld, wantOK := md.set(key, off, size)
					if gotOld != wantOld || gotOK != wantOK {
						t.Fatalf("op %d Set(%d) = %v, %v; want %v, %v", i, key, gotOld, gotOK, wantOld, wantOK)
					}
				case op < 9:
					off := r.Uint32()
					gotOld, gotOK := m.Delete(key, off)
					wantOld, wantOK := md.del(key, off)
					if gotOld != wantOld || gotOK != wantOK {
						t.Fatalf("op %d Delete(%d) = %v, %v; want %v, %v", i, key, gotOld, gotOK, wantOld, wantOK)
					}
				default:
					k := key + uint64(r.IntN(3)) // sometimes a key never set
					got, gotOK := m.Get(k)
					want, wantOK := md.m[k]
					if got != want || gotOK != wantOK {
						t.Fatalf("op %d Get(%d) = %v, %v; want %v, %v", i, k, got, gotOK, want, wantOK)
					}
				}
				if i%500 == 499 {
					check(t, m, md)
				}
			}
			check(t, m, md)
		})
	}
}

// TestStatsByHand pins the SeaweedFS counting rules with numbers worked out
// by hand, independent of the model.
func TestStatsByHand(t *testing.T) {
	m := New()
	m.Set(1, 10, 100) // put
	m.Set(2, 20, 200) // put
	m.Set(1, 30, 150) // overwrite: 100 becomes garbage
	m.Delete(2, 40)   // delete: 200 becomes garbage
	m.Delete(2, 41)   // second delete: counted, no bytes
	m.Delete(9, 42)   // delete of an absent key: counted, no bytes
	m.Set(2, 50, 0)   // put again after delete: nothing becomes garbage
	want := Stats{FileCount: 4, DeletedCount: 4, ContentSize: 450, DeletedSize: 300, MaxKey: 9, Live: 2}
	if got := m.Stats(); got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
	if got, want := m.Stats().GarbageRatio(), 300.0/450; got != want {
		t.Fatalf("GarbageRatio = %v, want %v", got, want)
	}
	if m.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (the absent key is not stored)", m.Len())
	}
}

func TestEdgeCases(t *testing.T) {
	m := New()
	if _, ok := m.Get(0); ok {
		t.Fatal("empty map found key 0")
	}
	m.Set(math.MaxUint64, 7, 1)
	m.Set(0, 1, 0) // key 0 and an empty needle, below the tail's first key
	if v, ok := m.Get(0); !ok || v != (Value{Offset: 1, Size: 0}) {
		t.Fatalf("Get(0) = %v, %v", v, ok)
	}
	if v, ok := m.Get(math.MaxUint64); !ok || v != (Value{Offset: 7, Size: 1}) {
		t.Fatalf("Get(max) = %v, %v", v, ok)
	}
	if _, ok := m.Delete(5, 9); ok {
		t.Fatal("Delete of an absent key reported it existed")
	}
	if _, ok := m.Get(5); ok {
		t.Fatal("a tombstone for an absent key created an entry")
	}
	// A size with the top bit set (the tombstone among them) deletes.
	if old, ok := m.Set(0, 3, 0xFFFFFFFF); !ok || old.Deleted() {
		t.Fatalf("Set with the tombstone size = %v, %v", old, ok)
	}
	v, ok := m.Get(0)
	if !ok || !v.Deleted() || v.Offset != 1 || v.Size != 0 {
		t.Fatalf("after delete Get(0) = %v, %v; want deleted {1 0}", v, ok)
	}
	if old, ok := m.Set(0, 4, 5); !ok || !old.Deleted() {
		t.Fatalf("Set after delete returned old %v, %v", old, ok)
	}
	if v, _ := m.Get(0); v.Deleted() || v.Offset != 4 || v.ByteOffset() != 32 {
		t.Fatalf("undeleted value %v", v)
	}
	// MaxSize itself is a live size.
	m.Set(1, 2, MaxSize)
	if v, _ := m.Get(1); v.Deleted() || v.Size != MaxSize {
		t.Fatalf("Get(1) = %v, want live size MaxSize", v)
	}
	// Keys far apart in one block: 10-byte deltas.
	m2, md := New(), newModel()
	for i := range 3 * blockLen {
		k := uint64(i) * (math.MaxUint64 / (3 * blockLen))
		m2.Set(k, uint32(i+1), uint32(i))
		md.set(k, uint32(i+1), uint32(i))
	}
	check(t, m2, md)
}

func TestAscendStops(t *testing.T) {
	m := New()
	m.flushMin = 1 << 30
	for k := range uint64(1000) {
		m.Set(k*2+1000, 1, 1)
	}
	for k := range uint64(100) { // late keys stay in the overflow
		m.Set(k*3, 1, 1)
	}
	for _, stop := range []int{1, 50, 150, 1099, 1100} {
		n := 0
		m.Ascend(func(uint64, Value) bool { n++; return n < stop })
		if n != stop {
			t.Fatalf("Ascend stopping at %d visited %d", stop, n)
		}
	}
}

// TestStrayHighKey: one key far above the sequence must not send every
// later key to the overflow (which would cost a merge per flushDiv puts).
func TestStrayHighKey(t *testing.T) {
	m, md := New(), newModel()
	var k uint64
	for i := range 20 * blockLen {
		if i == 5*blockLen+3 {
			m.Set(1<<60, 9, 9)
			md.set(1<<60, 9, 9)
		}
		k += 1 + uint64(i%5)
		m.Set(k, uint32(i)+1, 1)
		md.set(k, uint32(i)+1, 1)
	}
	if len(m.overflow) != 0 {
		t.Fatalf("%d keys went to the overflow", len(m.overflow))
	}
	check(t, m, md)
}

// TestSlightlyLateKeys: keys a few places out of order, as concurrent
// writers produce, stay out of the overflow.
func TestSlightlyLateKeys(t *testing.T) {
	m, md := New(), newModel()
	r := rand.New(rand.NewPCG(5, 5))
	keys := make([]uint64, 50*blockLen)
	for i := range keys {
		keys[i] = uint64(i) * 3
	}
	for i := range keys { // swap within a window of 16
		j := min(len(keys)-1, i+r.IntN(16))
		keys[i], keys[j] = keys[j], keys[i]
	}
	for i, k := range keys {
		m.Set(k, uint32(i)+1, 2)
		md.set(k, uint32(i)+1, 2)
	}
	if len(m.overflow) != 0 {
		t.Fatalf("%d slightly late keys went to the overflow", len(m.overflow))
	}
	check(t, m, md)
}

// TestIncrementalFlush: late keys near the head are merged by rewriting
// only the blocks they fall into; garbage stays bounded by rebuilds.
func TestIncrementalFlush(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(uint64(seed), 11))
		m, md := New(), newModel()
		m.flushMin = 1 + r.IntN(8)
		var head uint64
		sawGarbage, sawRebuild := false, false
		for i := range 70000 {
			var k uint64
			if i > 40000 && r.IntN(10) == 0 {
				k = head - 1800 - uint64(r.IntN(600)) // late, just behind the tail
			} else {
				head += 1 + uint64(r.IntN(12))
				k = head
			}
			before := m.frozen.garbage
			m.Set(k, uint32(i)+1, uint32(r.IntN(1000)))
			md.set(k, uint32(i)+1, m.mustGet(t, k).Size)
			if m.frozen.garbage > 0 {
				sawGarbage = true
			}
			if m.frozen.garbage < before {
				sawRebuild = true
			}
			if held := m.frozen.keys.bytes() + m.frozen.slots.bytes(); m.frozen.garbage > held/garbageDiv {
				t.Fatalf("garbage %d of %d arena bytes", m.frozen.garbage, held)
			}
		}
		check(t, m, md)
		if !sawGarbage || !sawRebuild {
			t.Fatalf("seed %d: incremental flush used %v, garbage rebuild %v", seed, sawGarbage, sawRebuild)
		}
	}
}

func (m *Map) mustGet(t *testing.T, k uint64) Value {
	t.Helper()
	v, ok := m.Get(k)
	if !ok {
		t.Fatalf("key %d missing right after Set", k)
	}
	return v
}
