package wal

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// model is the obvious in-memory log the WAL must agree with.
type model struct {
	markIndex, markTerm uint64
	terms               []uint64 // terms[i] is the term of entry markIndex+1+i
	hs                  *raftpb.HardState
}

func (m *model) last() uint64 { return m.markIndex + uint64(len(m.terms)) }

func (m *model) termOf(i uint64) uint64 {
	if i == m.markIndex {
		return m.markTerm
	}
	return m.terms[i-m.markIndex-1]
}

// Random appends, conflicting appends, compactions, resets, HardStates and
// restarts, on small segments, checked against the model after every step.
func TestRandomOperationsMatchModel(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		dir := t.TempDir()
		opts := testOptions(int64(300 + rng.IntN(2000)))
		opts.CacheBytes = int64(100 + rng.IntN(3000))
		w := mustOpen(t, dir, opts)
		m := &model{hs: &raftpb.HardState{}}
		term := uint64(1)
		for step := 0; step < 150; step++ {
			switch op := rng.IntN(20); {
			case op < 10: // append at the end
				n := uint64(1 + rng.IntN(8))
				lo := m.last() + 1
				mustAppend(t, w, makeEntries(lo, lo+n-1, term))
				for i := uint64(0); i < n; i++ {
					m.terms = append(m.terms, term)
				}
			case op < 13 && m.last() > m.markIndex: // conflicting suffix
				term++
				lo := m.markIndex + 1 + uint64(rng.IntN(len(m.terms)))
				n := uint64(1 + rng.IntN(8))
				mustAppend(t, w, makeEntries(lo, lo+n-1, term))
				m.terms = m.terms[:lo-m.markIndex-1]
				for i := uint64(0); i < n; i++ {
					m.terms = append(m.terms, term)
				}
			case op < 15 && m.last() > m.markIndex: // compact
				at := m.markIndex + 1 + uint64(rng.IntN(len(m.terms)))
				tm := m.termOf(at)
				if err := w.Compact(at, tm); err != nil {
					t.Fatalf("seed %d step %d: compact %d: %v", seed, step, at, err)
				}
				m.terms = m.terms[at-m.markIndex:]
				m.markIndex, m.markTerm = at, tm
			case op < 16: // reset, sometimes behind the last entry
				term++
				at := m.markIndex + uint64(rng.IntN(len(m.terms)+20))
				if err := w.Reset(at, term); err != nil {
					t.Fatalf("seed %d step %d: reset %d: %v", seed, step, at, err)
				}
				m.markIndex, m.markTerm, m.terms = at, term, nil
			case op < 18:
				m.hs = &raftpb.HardState{Term: term, Vote: rng.Uint64N(5), Commit: m.markIndex}
				if err := w.SaveHardState(m.hs); err != nil {
					t.Fatal(err)
				}
			default:
				w.Close()
				w = mustOpen(t, dir, opts)
			}
			checkModel(t, w, m, term)
		}
		w.Close()
		w = mustOpen(t, dir, opts)
		checkModel(t, w, m, term)
		w.Close()
	}
}

func checkModel(t *testing.T, w *WAL, m *model, term uint64) {
	t.Helper()
	first, last := m.markIndex+1, m.last()
	fi, _ := w.FirstIndex()
	li, _ := w.LastIndex()
	if fi != first || li != last {
		t.Fatalf("bounds [%d, %d], model [%d, %d]", fi, li, first, last)
	}
	if tm, err := w.Term(m.markIndex); err != nil || tm != m.markTerm {
		t.Fatalf("Term(%d) = %d, %v; model %d", m.markIndex, tm, err, m.markTerm)
	}
	if last >= first {
		got, err := w.Entries(first, last+1, ^uint64(0))
		if err != nil {
			t.Fatal(err)
		}
		for k, e := range got {
			i := first + uint64(k)
			want := m.termOf(i)
			if e.Index != i || e.Term != want || string(e.Data) != string(entryData(i, want)) {
				t.Fatalf("entry %d: index %d term %d, model term %d", i, e.Index, e.Term, want)
			}
		}
	}
	hs, _ := w.HardState()
	if !proto.Equal(hs, m.hs) {
		t.Fatalf("HardState %v, model %v", hs, m.hs)
	}
}
