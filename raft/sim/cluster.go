package sim

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"slices"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

const (
	electionTick  = 10
	heartbeatTick = 2
	chaosSteps    = 1200
	healSteps     = 600 // to make progress once the network heals
)

// Bug names a fault the harness injects on purpose, to show the checks
// catch it.
type Bug uint8

// Injected bugs.
const (
	BugNone Bug = iota
	// BugForgetVote: the driver does not persist the vote.
	BugForgetVote
	// BugSendBeforePersist: the driver sends messages before persisting.
	BugSendBeforePersist
	// BugStaleRead: reads are served from the local state machine without
	// ReadIndex.
	BugStaleRead
	// BugCorruptApply: peer 2 applies altered data at some indexes.
	BugCorruptApply
)

// Options of one run.
type Options struct {
	Seed  int64
	Trace io.Writer // nil: no trace
	Bug   Bug
}

// Result summarizes a successful run.
type Result struct {
	Ops, Unknown, Commits int
	Crashes, ConfChanges  int
}

type report struct {
	node        uint64
	incarnation int
	m           *raftpb.Message
}

// Cluster is the simulated world of one run.
type Cluster struct {
	rng   *rand.Rand
	now   int64
	trace io.Writer
	bug   Bug

	nodes []*node // sorted by id
	boot  *raftpb.ConfState
	// conf is the newest configuration any peer applied, at confIndex.
	conf      *raftpb.ConfState
	confIndex uint64
	nextID    uint64
	net       *network
	reports   []report
	chk       *checker

	chaos                    bool
	preVote, checkQuorum     bool
	leaseRead                bool
	crashRate, crashMidReady float64
	confRate, snapRate       float64
	partitionRate            float64
	maxMsgSize               uint64 // 1: one entry per MSG_APP
	maxInflight              int
	maxInflightBytes         uint64

	clients []*client
	clock   int64 // porcupine's timestamps: one tick per call or return
	history []op
	res     Result
}

// Run simulates one seed and returns the first violation found.
func Run(opts Options) (Result, error) {
	// Scramble the seed: math/rand's streams of nearby seeds are correlated.
	rng := rand.New(rand.NewSource(int64(mix64(uint64(opts.Seed)))))
	c := &Cluster{rng: rng, trace: opts.Trace, bug: opts.Bug, chk: newChecker(), chaos: true}
	c.net = &network{c: c, cut: map[uint64]map[uint64]bool{}}
	voters := 3
	if rng.Intn(2) == 0 {
		voters = 5
	}
	c.preVote = rng.Intn(5) != 0
	c.checkQuorum = rng.Intn(5) != 0
	// Lease reads assume bounded clock drift: those seeds keep clocks exact.
	c.leaseRead = c.checkQuorum && rng.Intn(3) == 0
	c.net.loss = []float64{0, 0.02, 0.1, 0.25}[rng.Intn(4)]
	c.net.dup = []float64{0, 0.02, 0.1}[rng.Intn(3)]
	c.net.maxDelay = 1 + rng.Intn(6)
	c.crashRate = []float64{0, 0.002, 0.006}[rng.Intn(3)]
	c.crashMidReady = []float64{0, 0.001, 0.004}[rng.Intn(3)]
	c.confRate = []float64{0, 0.01, 0.03}[rng.Intn(3)]
	c.snapRate = []float64{0, 0.004, 0.02}[rng.Intn(3)]
	c.partitionRate = []float64{0, 0.005, 0.02}[rng.Intn(3)]
	c.maxMsgSize = []uint64{1, 64, 4096}[rng.Intn(3)]
	c.maxInflight = []int{1, 4, 64}[rng.Intn(3)]
	c.maxInflightBytes = []uint64{0, 200}[rng.Intn(2)]
	if opts.Bug == BugForgetVote || opts.Bug == BugSendBeforePersist {
		c.crashRate, c.crashMidReady = 0.02, 0.01
	}
	c.tracef("seed %d: voters=%d prevote=%v checkquorum=%v lease=%v loss=%.2f dup=%.2f delay<=%d crash=%.3f/%.3f conf=%.3f snap=%.3f part=%.3f msg=%d inflight=%d/%d",
		opts.Seed, voters, c.preVote, c.checkQuorum, c.leaseRead, c.net.loss, c.net.dup, c.net.maxDelay,
		c.crashRate, c.crashMidReady, c.confRate, c.snapRate, c.partitionRate, c.maxMsgSize, c.maxInflight, c.maxInflightBytes)

	c.boot = &raftpb.ConfState{}
	for id := uint64(1); id <= uint64(voters); id++ {
		c.boot.Members = append(c.boot.Members, &raftpb.Member{Id: id, Address: fmt.Sprintf("n%d", id)})
	}
	for id := uint64(1); id <= uint64(voters); id++ {
		if err := c.addNode(id, true); err != nil {
			return c.res, err
		}
	}
	c.nextID = uint64(voters) + 1
	for i := range 3 {
		c.clients = append(c.clients, &client{id: uint64(i + 1)})
	}

	for range chaosSteps {
		if err := c.step(); err != nil {
			return c.res, c.fail(err)
		}
	}
	if err := c.heal(); err != nil {
		return c.res, c.fail(err)
	}
	if err := c.checkLinearizable(); err != nil {
		return c.res, c.fail(err)
	}
	return c.res, nil
}

func (c *Cluster) fail(err error) error {
	return fmt.Errorf("t=%d: %w", c.now, err)
}

func (c *Cluster) tracef(format string, args ...any) {
	if c.trace != nil {
		fmt.Fprintf(c.trace, "t=%d ", c.now)
		fmt.Fprintf(c.trace, format, args...)
		fmt.Fprintln(c.trace)
	}
}

func (c *Cluster) addNode(id uint64, founder bool) error {
	n := &node{id: id, founder: founder, logs: raft.NewMemoryLogStore(),
		stable: raft.NewMemoryStableStore(), snaps: raft.NewMemorySnapshotStore()}
	c.nodes = append(c.nodes, n)
	return c.start(n)
}

func (c *Cluster) node(id uint64) *node {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// step advances the world by one tick.
func (c *Cluster) step() error {
	c.now++
	if c.chaos {
		if err := c.chaosEvents(); err != nil {
			return err
		}
	}
	c.clientsAct()
	for _, n := range c.nodes {
		// Clocks drift: during the chaos a peer sometimes misses a tick.
		if n.up() && (!c.chaos || c.leaseRead || c.rng.Float64() < 0.97) {
			n.core.Tick()
		}
	}
	reports := c.reports
	c.reports = nil
	for _, r := range reports {
		if n := c.node(r.node); n.up() && n.incarnation == r.incarnation {
			if err := n.core.Step(r.m); err != nil {
				return fmt.Errorf("node %d: local report: %w", n.id, err)
			}
		}
	}
	for _, e := range c.net.due() {
		if err := c.deliver(e); err != nil {
			return err
		}
	}
	for _, n := range c.nodes {
		if n.up() {
			if err := c.handleReady(n); err != nil {
				return err
			}
		}
	}
	return c.checkElectionSafety()
}

func (c *Cluster) deliver(e envelope) error {
	n := c.node(e.m.To)
	if n == nil || !n.up() || c.net.blocked(e.m.From, e.m.To) {
		return nil
	}
	if e.m.Type == raftpb.MessageType_MSG_SNAP {
		n.inbox[e.m.Snapshot.Index] = e.data
	}
	c.tracef("recv %s %d->%d term=%d idx=%d", e.m.Type, e.m.From, e.m.To, e.m.Term, e.m.Index)
	if err := n.core.Step(e.m); err != nil {
		return fmt.Errorf("node %d steps %s from %d: %w", n.id, e.m.Type, e.m.From, err)
	}
	return nil
}

// leaderNode returns an up leader of the highest term, or nil.
func (c *Cluster) leaderNode() *node {
	var best *node
	var bestTerm uint64
	for _, n := range c.nodes {
		if !n.up() {
			continue
		}
		term, _, role, _ := n.core.Basic()
		if role == raft.RoleLeader && term >= bestTerm {
			best, bestTerm = n, term
		}
	}
	return best
}

func (c *Cluster) upCount() int {
	k := 0
	for _, n := range c.nodes {
		if n.up() {
			k++
		}
	}
	return k
}

// heal ends the chaos: the network heals, every peer restarts, and the
// cluster must commit new writes and finish the clients' operations.
func (c *Cluster) heal() error {
	c.chaos = false
	c.net.heal()
	c.net.loss, c.net.dup = 0, 0
	c.tracef("heal: chaos over")
	for _, n := range c.nodes {
		if !n.up() {
			if err := c.start(n); err != nil {
				return err
			}
		}
	}
	if !c.preVote || !c.checkQuorum {
		// Without both, a removed peer that missed its removal disrupts
		// elections forever (Raft thesis 4.2.3): operators shut it down.
		c.stopRemoved()
	}
	start := c.now
	marker := c.clients[0]
	for c.now-start < healSteps {
		if err := c.step(); err != nil {
			return err
		}
		// Once the clients' operations issued before the heal are done,
		// the cluster has shown it makes progress.
		if c.now-start > 20 && c.allSettled(start) {
			c.res.Commits = int(c.chk.maxCommit)
			return nil
		}
	}
	return fmt.Errorf("liveness: no progress %d ticks after the network healed (client %d op %v pending, leader %v)",
		healSteps, marker.id, marker.pending != nil, c.leaderNode() != nil)
}

// stopRemoved stops the peers outside the newest applied configuration.
func (c *Cluster) stopRemoved() {
	for _, n := range c.nodes {
		if !slices.Contains(memberIDs(c.conf), n.id) && n.up() {
			c.tracef("stop removed %d", n.id)
			c.crash(n)
		}
	}
}

func memberIDs(cs *raftpb.ConfState) []uint64 {
	var ids []uint64
	for _, m := range cs.GetMembers() {
		ids = append(ids, m.Id)
	}
	for _, m := range cs.GetOutgoing() {
		ids = append(ids, m.Id)
	}
	return ids
}

var errNotLinearizable = errors.New("client history is not linearizable")

// mix64 is splitmix64's finalizer.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
