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
			x.add(blockRef{first: k, n: 1 + i%blockLen, keyChunk: uint32(i), keyOff: uint32(i * 3), slotChunk: uint32(i + 7), slotOff: uint32(i * 8)})
		}
		for i := range n {
			if got := x.ref(i); got != (blockRef{first: firsts[i], n: 1 + i%blockLen, keyChunk: uint32(i), keyOff: uint32(i * 3), slotChunk: uint32(i + 7), slotOff: uint32(i * 8)}) {
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
