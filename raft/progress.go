package raft

// progress is the leader's view of one peer's log.
type progress struct {
	// Invariant: match < next. Entries up to match are known to be in the
	// peer's log (it acknowledged them in this term); next is the next index
	// to send.
	match, next uint64
	state       ProgressState
	// pendingSnapshot: in the snapshot state, the index of the snapshot sent.
	pendingSnapshot uint64
	// recentActive: the peer answered since the last CheckQuorum round.
	recentActive bool
	// probeSent: in the probe state, a MSG_APP is out; no more until it is
	// answered or a heartbeat response arrives.
	probeSent bool
	learner   bool
	// leaseTick: the leader's tick when it sent the newest heartbeat this
	// peer acknowledged in this term (lease reads).
	leaseTick uint64
	inflights inflights
}

func newProgress(next uint64, maxCount int, maxBytes uint64, learner bool) *progress {
	return &progress{
		next:         next,
		recentActive: true,
		learner:      learner,
		inflights:    inflights{maxCount: maxCount, maxBytes: maxBytes},
	}
}

func (p *progress) becomeProbe() {
	if p.state == ProgressSnapshot {
		// The snapshot may have arrived: probe right after it.
		p.next = max(p.match+1, p.pendingSnapshot+1)
	} else {
		p.next = p.match + 1
	}
	p.state = ProgressProbe
	p.pendingSnapshot = 0
	p.probeSent = false
	p.inflights.reset()
}

func (p *progress) becomeReplicate() {
	p.state = ProgressReplicate
	p.next = p.match + 1
	p.pendingSnapshot = 0
	p.probeSent = false
	p.inflights.reset()
}

func (p *progress) becomeSnapshot(index uint64) {
	p.state = ProgressSnapshot
	p.pendingSnapshot = index
	p.probeSent = false
	p.inflights.reset()
}

// maybeUpdate records an acknowledgement of index; it reports whether match
// moved.
func (p *progress) maybeUpdate(index uint64) bool {
	updated := false
	if index > p.match {
		p.match = index
		p.probeSent = false
		updated = true
	}
	p.next = max(p.next, index+1)
	return updated
}

// maybeDecrTo handles a rejection of the MSG_APP whose previous index was
// rejected; hint is the highest index that may match. It returns false for
// a stale rejection.
func (p *progress) maybeDecrTo(rejected, hint uint64) bool {
	if p.state == ProgressReplicate {
		if rejected <= p.match {
			return false
		}
		p.next = p.match + 1
		return true
	}
	if p.next == 0 || p.next-1 != rejected {
		return false
	}
	p.next = max(min(rejected, hint+1), p.match+1)
	p.probeSent = false
	return true
}

// paused reports whether the leader must not send another MSG_APP now.
func (p *progress) paused() bool {
	switch p.state {
	case ProgressProbe:
		return p.probeSent
	case ProgressReplicate:
		return p.inflights.full()
	}
	return true
}

// sentEntries records a MSG_APP carrying n entries ending at last, of the
// given bytes.
func (p *progress) sentEntries(n int, last, bytes uint64) {
	switch p.state {
	case ProgressReplicate:
		if n > 0 {
			p.next = last + 1
			p.inflights.add(last, bytes)
		}
	case ProgressProbe:
		p.probeSent = true
	}
}

// inflights is the window of MSG_APP sent and not yet acknowledged, bounded
// by count and by bytes.
type inflights struct {
	ents     []inflight
	bytes    uint64
	maxCount int
	maxBytes uint64 // 0: unbounded
}

type inflight struct{ last, bytes uint64 }

func (f *inflights) add(last, bytes uint64) {
	f.ents = append(f.ents, inflight{last, bytes})
	f.bytes += bytes
}

// freeLE drops the messages whose last index is <= index.
func (f *inflights) freeLE(index uint64) {
	n := 0
	for n < len(f.ents) && f.ents[n].last <= index {
		f.bytes -= f.ents[n].bytes
		n++
	}
	if n > 0 {
		f.ents = append(f.ents[:0], f.ents[n:]...)
	}
}

// freeFirst drops the oldest message, so that a heartbeat response unblocks
// a full window whose acknowledgements were lost.
func (f *inflights) freeFirst() {
	if len(f.ents) > 0 {
		f.freeLE(f.ents[0].last)
	}
}

func (f *inflights) full() bool {
	return len(f.ents) >= f.maxCount || (f.maxBytes > 0 && f.bytes >= f.maxBytes)
}

func (f *inflights) reset() {
	f.ents = f.ents[:0]
	f.bytes = 0
}
