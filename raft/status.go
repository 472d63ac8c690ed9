package raft

import (
	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// Status returns the current state (copies).
func (c *Core) Status() Status {
	s := Status{
		ID: c.id, Term: c.term, Vote: c.vote, Lead: c.lead, Role: c.role,
		Commit: c.log.committed, Applied: c.log.applied, LastIndex: c.log.lastIndex(),
		Conf:           proto.Clone(c.conf).(*raftpb.ConfState),
		LeadTransferee: c.leadTransferee,
	}
	if c.role == RoleLeader {
		s.Progress = make(map[uint64]ProgressStatus, len(c.prs))
		for id, pr := range c.prs {
			s.Progress[id] = ProgressStatus{
				Match: pr.match, Next: pr.next, State: pr.state, RecentActive: pr.recentActive,
				Learner: pr.learner, Inflight: len(pr.inflights.ents), PendingSnapshot: pr.pendingSnapshot,
			}
		}
	}
	return s
}

// Basic returns the cheap part of Status (no copies): term, leader, role
// and commit, for drivers and simulations that poll it often.
func (c *Core) Basic() (term, lead uint64, role Role, commit uint64) {
	return c.term, c.lead, c.role, c.log.committed
}
