package storage

import (
	"errors"
	"fmt"
	"sync"
)

// groupSync lets concurrent writers that asked for durability share syncs.
// A writer publishes its append as sequence number s (Volume.writeSeq) and
// then waits until a sync that started after s was published has finished.
// At most one sync runs at a time; writers arriving meanwhile wait for it and
// then one of them starts the next sync, which covers all of them.
type groupSync struct {
	mu   sync.Mutex
	cond *sync.Cond // signalled when a sync finishes; uses mu; set by OpenVolume
	// synced is the highest sequence number known to be durable.
	synced uint64
	// inFlight is set while a sync runs.
	inFlight bool
}

// waitDurable returns once every append up to sequence seq is on stable
// storage, or the error of the sync that tried. force makes it sync even if
// seq is already covered (Close: the .vif-less files must be flushed too).
func (v *Volume) waitDurable(seq uint64, force bool) error {
	g := &v.sync
	g.mu.Lock()
	for {
		if g.synced >= seq && !force {
			g.mu.Unlock()
			return nil
		}
		if !g.inFlight {
			break
		}
		g.cond.Wait()
	}
	g.inFlight = true
	g.mu.Unlock()

	// Everything published up to target is in the files now; the sync
	// below covers it. Appends published later need a later sync.
	v.mu.RLock()
	target := v.writeSeq
	dat, idx, closed := v.dat, v.idx, v.closed
	v.mu.RUnlock()
	var err error
	if closed {
		err = ErrClosed
	} else {
		// Both files at once: one round trip to the disk instead of two.
		// Recovery drops an .idx entry whose record did not survive, so
		// the order in which they reach the disk does not matter.
		idxErr := make(chan error, 1)
		go func() { idxErr <- idx.Sync() }()
		err = errors.Join(dat.Sync(), <-idxErr)
	}

	g.mu.Lock()
	g.inFlight = false
	if err == nil && target > g.synced {
		g.synced = target
	}
	g.cond.Broadcast()
	g.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sync volume %d: %w", v.id, err)
	}
	return nil
}
