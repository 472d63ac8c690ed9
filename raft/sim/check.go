package sim

import (
	"crypto/sha256"
	"fmt"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// entryKey identifies an entry by position; entryRec is what every log
// holding that position must agree on.
type entryKey struct{ index, term uint64 }

type entryRec struct {
	sum      [32]byte
	prevTerm uint64
}

func entrySum(t raftpb.EntryType, data []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{byte(t)})
	h.Write(data)
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// checker holds what the safety checks remember across the run.
type checker struct {
	leaders   map[uint64]uint64     // term -> leader: election safety
	entries   map[entryKey]entryRec // log matching
	committed map[uint64]uint64     // index -> term of committed entries
	maxCommit uint64
	applied   map[uint64][32]byte // index -> entry applied there: state machine safety
}

func newChecker() *checker {
	return &checker{leaders: map[uint64]uint64{}, entries: map[entryKey]entryRec{},
		committed: map[uint64]uint64{}, applied: map[uint64][32]byte{}}
}

// checkElectionSafety runs every step: at most one leader per term.
func (c *Cluster) checkElectionSafety() error {
	for _, n := range c.nodes {
		if !n.up() {
			continue
		}
		term, _, role, _ := n.core.Basic()
		if role.String() != "leader" {
			continue
		}
		if other, ok := c.chk.leaders[term]; ok && other != n.id {
			return fmt.Errorf("election safety: %d and %d both lead term %d", other, n.id, term)
		}
		c.chk.leaders[term] = n.id
	}
	return nil
}

// checkAppend: log matching. Two logs holding an entry of the same index
// and term hold the same entry with the same predecessor term, so (by
// induction) identical logs up to it.
func (c *Cluster) checkAppend(n *node, ents []*raftpb.Entry) error {
	for i, e := range ents {
		var prev uint64
		if i > 0 {
			prev = ents[i-1].Term
		} else if e.Index > 1 {
			t, err := n.logs.Term(e.Index - 1)
			if err != nil {
				return fmt.Errorf("node %d appends %d without entry %d: %w", n.id, e.Index, e.Index-1, err)
			}
			prev = t
		}
		k := entryKey{e.Index, e.Term}
		rec := entryRec{sum: entrySum(e.Type, e.Data), prevTerm: prev}
		if old, ok := c.chk.entries[k]; ok && old != rec {
			return fmt.Errorf("log matching: node %d holds a different entry %d/%d (prev term %d, seen %d)", n.id, e.Index, e.Term, prev, old.prevTerm)
		}
		c.chk.entries[k] = rec
		if t, ok := c.chk.committed[e.Index]; ok && t != e.Term && e.Index <= n.commit {
			return fmt.Errorf("node %d overwrites committed entry %d/%d with term %d", n.id, e.Index, t, e.Term)
		}
	}
	return nil
}

func (c *Cluster) firstIndex(n *node) uint64 {
	f, _ := n.logs.FirstIndex()
	return f
}

// noteCommitted records the terms of entries a peer persisted as committed.
func (c *Cluster) noteCommitted(n *node, commit uint64) error {
	first := c.firstIndex(n)
	for i := max(c.chk.maxCommit+1, first); i <= commit; i++ {
		t, err := n.logs.Term(i)
		if err != nil {
			return fmt.Errorf("node %d: commit %d past its log: %w", n.id, commit, err)
		}
		c.chk.committed[i] = t
	}
	c.chk.maxCommit = max(c.chk.maxCommit, commit)
	n.commit = max(n.commit, commit)
	return nil
}

// checkLeaderCompleteness: a new leader's log holds every committed entry.
func (c *Cluster) checkLeaderCompleteness(n *node) error {
	first := c.firstIndex(n)
	last, _ := n.logs.LastIndex()
	for i := first; i <= c.chk.maxCommit; i++ {
		want, ok := c.chk.committed[i]
		if !ok {
			continue
		}
		if i > last {
			return fmt.Errorf("leader completeness: leader %d lacks committed entry %d (last %d)", n.id, i, last)
		}
		if t, err := n.logs.Term(i); err != nil || t != want {
			return fmt.Errorf("leader completeness: leader %d has term %d at committed %d/%d", n.id, t, i, want)
		}
	}
	return nil
}

// checkApply: state machine safety, no two peers apply different entries
// at one index.
func (c *Cluster) checkApply(n *node, index, term uint64, t raftpb.EntryType, data []byte) error {
	sum := entrySum(t, data)
	if old, ok := c.chk.applied[index]; ok && old != sum {
		return fmt.Errorf("state machine safety: node %d applies a different entry at %d (term %d)", n.id, index, term)
	}
	c.chk.applied[index] = sum
	return nil
}

// checkLeaderCommit: a leader advances its commit index only to an entry of
// its own term (earlier ones commit with it: Raft paper figure 8).
func (c *Cluster) checkLeaderCommit(n *node, hs *raftpb.HardState) error {
	term, _, role, _ := n.core.Basic()
	if role != raft.RoleLeader || term != hs.Term || hs.Commit <= n.commit {
		return nil
	}
	t, err := n.logs.Term(hs.Commit)
	if err != nil {
		return fmt.Errorf("leader %d commits %d past its log: %w", n.id, hs.Commit, err)
	}
	if t != term {
		return fmt.Errorf("leader %d of term %d commits up to %d, an entry of term %d, by counting", n.id, term, hs.Commit, t)
	}
	return nil
}
