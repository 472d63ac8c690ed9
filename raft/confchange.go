package raft

import (
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// errConfChange is wrapped by every reason a configuration change is
// refused.
var errConfChange = errors.New("invalid configuration change")

// applyConfChange returns the configuration cs becomes after cc, or an error
// wrapping errConfChange (cs itself is never modified). The rules:
//   - from an empty configuration (bootstrap), cc.Changes apply directly;
//   - a single change (no Changes) may change the voter set by one member;
//   - several Changes enter joint consensus: outgoing keeps the old voters
//     and decisions need both halves until a leave_joint change;
//   - no change while joint except leave_joint; never zero voters.
func applyConfChange(cs *raftpb.ConfState, cc *raftpb.ConfChange) (*raftpb.ConfState, error) {
	if cc == nil {
		return nil, fmt.Errorf("nil change: %w", errConfChange)
	}
	joint := len(cs.GetOutgoing()) > 0
	if cc.LeaveJoint {
		if !joint {
			return nil, fmt.Errorf("leave joint outside joint consensus: %w", errConfChange)
		}
		return &raftpb.ConfState{Members: cloneMembers(cs.Members)}, nil
	}
	if joint {
		return nil, fmt.Errorf("change during joint consensus: %w", errConfChange)
	}
	oldVoters := voterSet(cs.GetMembers())
	changes := cc.Changes
	if len(changes) == 0 {
		changes = []*raftpb.ConfChange{cc}
	}
	members := cloneMembers(cs.GetMembers())
	for _, ch := range changes {
		var err error
		if members, err = applyOne(members, ch); err != nil {
			return nil, err
		}
	}
	newVoters := voterSet(members)
	if len(newVoters) == 0 {
		return nil, fmt.Errorf("no voter left: %w", errConfChange)
	}
	out := &raftpb.ConfState{Members: members}
	switch {
	case len(oldVoters) == 0:
		// Bootstrap: nothing to be joint with.
	case len(cc.Changes) > 0:
		for _, id := range sortedIDs(oldVoters) {
			out.Outgoing = append(out.Outgoing, &raftpb.Member{Id: id, Address: addressOf(cs.Members, id)})
		}
	default:
		diff := 0
		for id := range oldVoters {
			if !newVoters[id] {
				diff++
			}
		}
		for id := range newVoters {
			if !oldVoters[id] {
				diff++
			}
		}
		if diff > 1 {
			return nil, fmt.Errorf("a simple change alters %d voters, use joint consensus: %w", diff, errConfChange)
		}
	}
	return out, nil
}

func applyOne(members []*raftpb.Member, ch *raftpb.ConfChange) ([]*raftpb.Member, error) {
	if ch.GetId() == 0 {
		return nil, fmt.Errorf("member id 0: %w", errConfChange)
	}
	if len(ch.Changes) > 0 || ch.LeaveJoint {
		return nil, fmt.Errorf("nested change: %w", errConfChange)
	}
	i := slices.IndexFunc(members, func(m *raftpb.Member) bool { return m.Id == ch.Id })
	switch ch.Type {
	case raftpb.ConfChangeType_CONF_ADD_VOTER, raftpb.ConfChangeType_CONF_ADD_LEARNER:
		learner := ch.Type == raftpb.ConfChangeType_CONF_ADD_LEARNER
		if i < 0 {
			members = append(members, &raftpb.Member{Id: ch.Id, Address: ch.Address, Learner: learner})
		} else {
			members[i].Learner = learner
			if ch.Address != "" {
				members[i].Address = ch.Address
			}
		}
	case raftpb.ConfChangeType_CONF_REMOVE:
		if i < 0 {
			return nil, fmt.Errorf("remove of unknown member %d: %w", ch.Id, errConfChange)
		}
		members = slices.Delete(members, i, i+1)
	default:
		return nil, fmt.Errorf("unknown change type %d: %w", ch.Type, errConfChange)
	}
	slices.SortFunc(members, func(a, b *raftpb.Member) int {
		switch {
		case a.Id < b.Id:
			return -1
		case a.Id > b.Id:
			return 1
		}
		return 0
	})
	return members, nil
}

func cloneMembers(ms []*raftpb.Member) []*raftpb.Member {
	out := make([]*raftpb.Member, len(ms))
	for i, m := range ms {
		out[i] = proto.Clone(m).(*raftpb.Member)
	}
	return out
}

func voterSet(ms []*raftpb.Member) map[uint64]bool {
	s := map[uint64]bool{}
	for _, m := range ms {
		if !m.Learner {
			s[m.Id] = true
		}
	}
	return s
}

func sortedIDs(s map[uint64]bool) []uint64 {
	ids := make([]uint64, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func addressOf(ms []*raftpb.Member, id uint64) string {
	for _, m := range ms {
		if m.Id == id {
			return m.Address
		}
	}
	return ""
}

// quorumOf returns the voter sets of a configuration.
func quorumOf(cs *raftpb.ConfState) jointQuorum {
	q := jointQuorum{incoming: majority{}, outgoing: majority{}}
	for _, m := range cs.GetMembers() {
		if !m.Learner {
			q.incoming[m.Id] = struct{}{}
		}
	}
	for _, m := range cs.GetOutgoing() {
		q.outgoing[m.Id] = struct{}{}
	}
	return q
}

// memberIDs returns every peer of a configuration (voters of both halves and
// learners), sorted.
func memberIDs(cs *raftpb.ConfState) []uint64 {
	s := map[uint64]bool{}
	for _, m := range cs.GetMembers() {
		s[m.Id] = true
	}
	for _, m := range cs.GetOutgoing() {
		s[m.Id] = true
	}
	return sortedIDs(s)
}
