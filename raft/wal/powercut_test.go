package wal

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// powerCut is the fsync of a simulated disk: it remembers how many bytes of
// each file a sync made durable, and after cut() syncs make nothing durable
// (the WAL still believes them). A crash then keeps, of each file, its
// durable bytes plus any prefix of the rest, as a page cache written back in
// order would. (Out-of-order write-back is not simulated.)
type powerCut struct {
	mu      sync.Mutex
	cut     bool
	durable []durableSize
}

type durableSize struct {
	fi   os.FileInfo
	size int64
}

func (p *powerCut) sync(f *os.File) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	for i := range p.durable {
		if os.SameFile(p.durable[i].fi, st) {
			p.durable[i].size = st.Size()
			return nil
		}
	}
	p.durable = append(p.durable, durableSize{st, st.Size()})
	return nil
}

func (p *powerCut) durableSize(fi os.FileInfo) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, d := range p.durable {
		if os.SameFile(d.fi, fi) {
			return d.size, true
		}
	}
	return 0, false
}

// crashCopy copies dir as a crash would leave it.
func (p *powerCut) crashCopy(t *testing.T, dir string, rng *rand.Rand) string {
	t.Helper()
	crashed := copyDir(t, dir)
	for _, path := range segmentFiles(t, dir) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		keep, known := p.durableSize(fi)
		target := filepath.Join(crashed, filepath.Base(path))
		if !known {
			t.Fatalf("%s was created after the cut: the test must not roll then", path)
		}
		if fi.Size() > keep {
			keep += rng.Int64N(fi.Size() - keep + 1)
		}
		if err := os.Truncate(target, keep); err != nil {
			t.Fatal(err)
		}
	}
	return crashed
}

// What was acknowledged before a power cut survives the crash; of what was
// acknowledged after it, a prefix may survive; the WAL always opens.
func TestPowerCutKeepsAcknowledgedWrites(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		pc := &powerCut{}
		dir := t.TempDir()
		opts := testOptions(int64(200 + rng.IntN(1500)))
		w, err := open(dir, opts, pc.sync)
		if err != nil {
			t.Fatal(err)
		}
		m := &model{hs: &raftpb.HardState{}}
		term := uint64(1)
		// Before the cut: every kind of operation, all durable.
		for step := 0; step < 40; step++ {
			switch op := rng.IntN(10); {
			case op < 5 || m.last() == m.markIndex:
				n := uint64(1 + rng.IntN(5))
				lo := m.last() + 1
				mustAppend(t, w, makeEntries(lo, lo+n-1, term))
				for range n {
					m.terms = append(m.terms, term)
				}
			case op < 7:
				term++
				lo := m.markIndex + 1 + uint64(rng.IntN(len(m.terms)))
				mustAppend(t, w, makeEntries(lo, lo, term))
				m.terms = append(m.terms[:lo-m.markIndex-1], term)
			case op < 8:
				at := m.markIndex + 1 + uint64(rng.IntN(len(m.terms)))
				tm := m.termOf(at)
				if err := w.Compact(at, tm); err != nil {
					t.Fatal(err)
				}
				m.terms = m.terms[at-m.markIndex:]
				m.markIndex, m.markTerm = at, tm
			default:
				m.hs = &raftpb.HardState{Term: term, Vote: rng.Uint64N(4), Commit: m.markIndex}
				if err := w.SaveHardState(m.hs); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The cut: from now on nothing is durable. Writes stay in the current
		// segment, as they would while one fsync is pending (group commit):
		// a roll waits for a completed fsync, which would move the cut.
		pc.mu.Lock()
		pc.cut = true
		pc.mu.Unlock()
		w.mu.Lock()
		w.segmentSize = 1 << 40
		w.mu.Unlock()
		durable := *m
		durable.terms = append([]uint64(nil), m.terms...)
		// After the cut: appends and HardStates acknowledged but not durable.
		laterHS := []*raftpb.HardState{m.hs}
		for step := 0; step < 20; step++ {
			if rng.IntN(3) == 0 {
				hs := &raftpb.HardState{Term: term + uint64(step), Vote: 1}
				if err := w.SaveHardState(hs); err != nil {
					t.Fatal(err)
				}
				laterHS = append(laterHS, hs)
				continue
			}
			lo := m.last() + 1
			mustAppend(t, w, makeEntries(lo, lo+1, term))
			m.terms = append(m.terms, term, term)
		}
		w.Close()

		for crash := 0; crash < 5; crash++ {
			crashed := pc.crashCopy(t, dir, rng)
			w, err := Open(crashed, opts)
			if err != nil {
				t.Fatalf("seed %d crash %d: open: %v", seed, crash, err)
			}
			li, _ := w.LastIndex()
			if li < durable.last() || li > m.last() {
				t.Fatalf("seed %d crash %d: last %d, want between %d (durable) and %d", seed, crash, li, durable.last(), m.last())
			}
			check := *m
			check.terms = m.terms[:li-m.markIndex]
			hs, _ := w.HardState()
			found := false
			for _, h := range laterHS {
				found = found || proto.Equal(hs, h)
			}
			if !found {
				t.Fatalf("seed %d crash %d: HardState %v is neither the durable one nor a later one", seed, crash, hs)
			}
			check.hs = hs
			checkModel(t, w, &check, term)
			w.Close()
		}
	}
}
