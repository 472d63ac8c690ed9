package raft

import (
	"math"
	"slices"
)

// majority is a set of voters; a decision needs more than half of them.
// The empty set agrees to everything, so that a joint configuration whose
// outgoing half is empty behaves as its incoming half alone.
type majority map[uint64]struct{}

// committed returns the largest index that a majority has matched.
func (m majority) committed(match func(id uint64) uint64) uint64 {
	if len(m) == 0 {
		return math.MaxUint64
	}
	idx := make([]uint64, 0, len(m))
	for id := range m {
		idx = append(idx, match(id))
	}
	slices.Sort(idx)
	// With n voters a quorum is n/2+1: the (n/2+1)-th largest is matched by
	// a quorum.
	return idx[len(idx)-(len(idx)/2+1)]
}

type voteResult uint8

const (
	votePending voteResult = iota
	voteLost
	voteWon
)

// result counts votes (true: granted) of the majority's voters only.
func (m majority) result(votes map[uint64]bool) voteResult {
	if len(m) == 0 {
		return voteWon
	}
	granted, missing := 0, 0
	for id := range m {
		v, ok := votes[id]
		switch {
		case !ok:
			missing++
		case v:
			granted++
		}
	}
	q := len(m)/2 + 1
	switch {
	case granted >= q:
		return voteWon
	case granted+missing >= q:
		return votePending
	}
	return voteLost
}

// jointQuorum is the incoming and outgoing voter sets; outside joint
// consensus outgoing is empty. Decisions need both halves.
type jointQuorum struct {
	incoming, outgoing majority
}

func (j jointQuorum) committed(match func(id uint64) uint64) uint64 {
	return min(j.incoming.committed(match), j.outgoing.committed(match))
}

func (j jointQuorum) result(votes map[uint64]bool) voteResult {
	a, b := j.incoming.result(votes), j.outgoing.result(votes)
	switch {
	case a == voteLost || b == voteLost:
		return voteLost
	case a == voteWon && b == voteWon:
		return voteWon
	}
	return votePending
}

func (j jointQuorum) isVoter(id uint64) bool {
	_, in := j.incoming[id]
	_, out := j.outgoing[id]
	return in || out
}

// voterIDs returns every voter of either half, sorted, so that messages go
// out in a deterministic order.
func (j jointQuorum) voterIDs() []uint64 {
	ids := make([]uint64, 0, len(j.incoming)+len(j.outgoing))
	for id := range j.incoming {
		ids = append(ids, id)
	}
	for id := range j.outgoing {
		if _, dup := j.incoming[id]; !dup {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}
