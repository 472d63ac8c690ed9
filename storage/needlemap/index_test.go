package needlemap

import (
	"math/rand/v2"
	"sort"
	"testing"
)

func TestBlockIndexSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 2, sparseFanout - 1, sparseFanout, sparseFanout + 1, 5*sparseFanout + 3, 1000} {
		var x blockIndex
		var firsts []uint64
		k := uint64(r.IntN(10))
		for i := range n {
			k += 1 + uint64(r.IntN(100))
			firsts = append(firsts, k)
			x.add(blockRef{first: k, n: 1 + i%blockLen, bitmap: i%3 == 0, keyChunk: uint32(i), keyOff: uint32(i * 3), slotChunk: uint32(i + 7), slotOff: uint32(i * 8)})
		}
		for i := range n {
			if got := x.ref(i); got != (blockRef{first: firsts[i], n: 1 + i%blockLen, bitmap: i%3 == 0, keyChunk: uint32(i), keyOff: uint32(i * 3), slotChunk: uint32(i + 7), slotOff: uint32(i * 8)}) {
				t.Fatalf("n=%d ref(%d) = %+v", n, i, got)
			}
		}
		probes := []uint64{0, ^uint64(0)}
		for _, f := range firsts {
			probes = append(probes, f-1, f, f+1)
		}
		for _, key := range probes {
			want := sort.Search(n, func(i int) bool { return firsts[i] > key }) - 1
			if got := x.search(key); got != want {
				t.Fatalf("n=%d search(%d) = %d, want %d", n, key, got, want)
			}
		}
	}
}

// TestSmallMapIsSmall: a volume with few needles must not hold the large
// chunks a big one uses.
func TestSmallMapIsSmall(t *testing.T) {
	m := New()
	for k := range uint64(600) {
		m.Set(k*3, uint32(k), 10)
	}
	held := m.frozen.keys.bytes() + m.frozen.slots.bytes()
	if m.frozen.n == 0 || held > 4*(m.frozen.n*(slotBytes+1)) {
		t.Fatalf("%d frozen entries hold %d arena bytes", m.frozen.n, held)
	}
}

// TestKeyEncodings: dense keys take the bitmap, sparse keys the deltas,
// mixed blocks either; lookups of keys in the gaps fail in both.
func TestKeyEncodings(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gap        func(r *rand.Rand) uint64
		wantBitmap bool
	}{
		{"dense", func(r *rand.Rand) uint64 { return 1 + r.Uint64N(8) }, true},
		{"consecutive", func(*rand.Rand) uint64 { return 1 }, true},
		{"sparse", func(r *rand.Rand) uint64 { return 9 + r.Uint64N(300) }, false},
		{"wide", func(r *rand.Rand) uint64 { return 1 + r.Uint64N(1<<40) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			m, md := New(), newModel()
			k := r.Uint64N(1 << 20)
			for i := range 40 * blockLen {
				m.Set(k, uint32(i)+1, uint32(i))
				md.set(k, uint32(i)+1, uint32(i))
				k += tc.gap(r)
			}
			kinds := map[bool]int{}
			for i := range m.frozen.index.len() {
				kinds[m.frozen.index.ref(i).bitmap]++
			}
			if kinds[!tc.wantBitmap] > 0 || kinds[tc.wantBitmap] == 0 {
				t.Fatalf("blocks by bitmap encoding: %v", kinds)
			}
			check(t, m, md)
			for key := range md.m {
				for _, probe := range []uint64{key + 1, key - 1} {
					if _, in := md.m[probe]; !in {
						if v, ok := m.Get(probe); ok {
							t.Fatalf("Get(%d) of an absent key = %v", probe, v)
						}
					}
				}
			}
		})
	}
}

func TestBytesEstimate(t *testing.T) {
	m := New()
	prev := m.Bytes()
	for i, k := range volumeKeys(200_000, 3) {
		m.Set(k, uint32(i)+1, 1)
		if i%50_000 == 49_999 {
			b := m.Bytes()
			if b < prev || b < 8*m.Len() || b > 12*m.Len() {
				t.Fatalf("Bytes = %d for %d needles (before: %d)", b, m.Len(), prev)
			}
			prev = b
		}
	}
}
