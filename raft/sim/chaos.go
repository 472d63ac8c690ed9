package sim

import (
	"slices"

	"weedfs.dev/weed/raft/raftpb"
)

func (c *Cluster) chaosEvents() error {
	rng := c.rng
	if rng.Float64() < c.crashRate && c.upCount() > len(c.nodes)/2+1 {
		n := c.nodes[rng.Intn(len(c.nodes))]
		if n.up() {
			c.crash(n)
			c.res.Crashes++
		}
	}
	for _, n := range c.nodes {
		if !n.up() && rng.Float64() < 0.03 {
			c.tracef("restart %d", n.id)
			if err := c.start(n); err != nil {
				return err
			}
		}
	}
	if rng.Float64() < c.partitionRate {
		c.randomPartition()
	}
	if rng.Float64() < c.confRate {
		c.randomConfChange()
	}
	if rng.Float64() < c.confRate/2 {
		if l := c.leaderNode(); l != nil {
			voters := c.voters(l)
			to := voters[rng.Intn(len(voters))]
			c.tracef("transfer %d -> %d", l.id, to)
			l.core.TransferLeadership(to)
		}
	}
	for _, n := range c.nodes {
		if n.up() && rng.Float64() < c.snapRate {
			if err := c.snapshot(n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Cluster) randomPartition() {
	rng := c.rng
	ids := make([]uint64, len(c.nodes))
	for i, n := range c.nodes {
		ids[i] = n.id
	}
	switch rng.Intn(4) {
	case 0:
		c.tracef("heal")
		c.net.heal()
	case 1: // isolate one
		i := rng.Intn(len(ids))
		rest := slices.Delete(slices.Clone(ids), i, i+1)
		c.tracef("isolate %d", ids[i])
		c.net.partition([][]uint64{{ids[i]}, rest})
	case 2: // random split
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		k := 1 + rng.Intn(len(ids)-1)
		c.tracef("partition %v | %v", ids[:k], ids[k:])
		c.net.partition([][]uint64{ids[:k], ids[k:]})
	case 3: // one-way cut
		a, b := ids[rng.Intn(len(ids))], ids[rng.Intn(len(ids))]
		if a != b {
			c.tracef("cut %d -> %d", a, b)
			c.net.cutOneWay(a, b)
		}
	}
}

// voters returns the voters of the leader's configuration.
func (c *Cluster) voters(l *node) []uint64 {
	var v []uint64
	for _, m := range l.core.Status().Conf.GetMembers() {
		if !m.Learner {
			v = append(v, m.Id)
		}
	}
	return v
}

func (c *Cluster) randomConfChange() {
	l := c.leaderNode()
	if l == nil {
		return
	}
	rng := c.rng
	conf := l.core.Status().Conf
	var voters, learners []uint64
	for _, m := range conf.GetMembers() {
		if m.Learner {
			learners = append(learners, m.Id)
		} else {
			voters = append(voters, m.Id)
		}
	}
	var cc *raftpb.ConfChange
	switch rng.Intn(5) {
	case 0: // add a learner (a new peer)
		if len(c.nodes) >= 8 {
			return
		}
		cc = &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_ADD_LEARNER, Id: c.nextID}
	case 1: // promote a learner
		if len(learners) == 0 {
			return
		}
		cc = &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_ADD_VOTER, Id: learners[rng.Intn(len(learners))]}
	case 2: // remove a voter (perhaps the leader) or a learner
		all := append(slices.Clone(voters), learners...)
		id := all[rng.Intn(len(all))]
		if !slices.Contains(learners, id) && len(voters) <= 3 {
			return
		}
		cc = &raftpb.ConfChange{Type: raftpb.ConfChangeType_CONF_REMOVE, Id: id}
	case 3: // joint: promote a learner and remove a voter at once
		if len(learners) == 0 {
			return
		}
		cc = &raftpb.ConfChange{Changes: []*raftpb.ConfChange{
			{Type: raftpb.ConfChangeType_CONF_ADD_VOTER, Id: learners[rng.Intn(len(learners))]},
			{Type: raftpb.ConfChangeType_CONF_REMOVE, Id: voters[rng.Intn(len(voters))]},
		}}
	case 4: // joint: demote a voter to learner and promote another
		if len(learners) == 0 || len(voters) < 3 {
			return
		}
		cc = &raftpb.ConfChange{Changes: []*raftpb.ConfChange{
			{Type: raftpb.ConfChangeType_CONF_ADD_LEARNER, Id: voters[rng.Intn(len(voters))]},
			{Type: raftpb.ConfChangeType_CONF_ADD_VOTER, Id: learners[rng.Intn(len(learners))]},
		}}
	}
	if _, _, err := l.core.ProposeConfChange(cc); err != nil {
		c.tracef("conf change refused: %v", err)
		return
	}
	c.tracef("propose conf change at %d: %v", l.id, cc)
	c.res.ConfChanges++
	if cc.Type == raftpb.ConfChangeType_CONF_ADD_LEARNER && cc.Id == c.nextID && len(cc.Changes) == 0 {
		// The new peer starts empty and learns everything from the leader.
		c.nextID++
		if err := c.addNode(cc.Id, false); err != nil {
			c.tracef("add node: %v", err)
		}
	}
}
