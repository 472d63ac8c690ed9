package growth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"weedfs.dev/weed/master/state"
	"weedfs.dev/weed/master/topology"
	"weedfs.dev/weed/pb"
)

// ErrClosed: the grower was closed.
var ErrClosed = errors.New("growth: closed")

// Allocator makes the admin calls to volume servers.
type Allocator interface {
	AllocateVolume(ctx context.Context, url string, req *pb.AllocateVolumeRequest) error
	DeleteVolume(ctx context.Context, url string, req *pb.DeleteVolumeRequest) error
}

// IDs issues and records volumes through the replicated state
// (state.Client implements it).
type IDs interface {
	NextVolumeIDs(ctx context.Context, count, atLeast uint32) (state.VolumeIDs, error)
	RecordVolume(ctx context.Context, v state.Volume) error
}

// Options are the growth parameters of /dir/assign and /vol/grow.
type Options struct {
	topology.WriteOption
	// Count of volumes to create; 0 means topology.GrowthCount.
	Count              int
	Preallocate        int64
	MemoryMapMaxSizeMB uint32
}

// Grower creates volumes. It is safe for concurrent use; Close stops
// background growths.
type Grower struct {
	topo  *topology.Topology
	ids   IDs
	alloc Allocator
	log   *slog.Logger

	// ctx bounds background growths; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	run sync.Mutex // held for a whole growth: one at a time

	mu      sync.Mutex
	pending map[topology.LayoutKey]*Pending // background growths by layout
	closed  bool
}

// New returns a Grower.
func New(topo *topology.Topology, ids IDs, alloc Allocator, log *slog.Logger) *Grower {
	ctx, cancel := context.WithCancel(context.Background())
	return &Grower{topo: topo, ids: ids, alloc: alloc, log: log, ctx: ctx, cancel: cancel,
		pending: map[topology.LayoutKey]*Pending{}}
}

// Grow creates volumes now and returns how many it created. When fewer
// than asked could be placed or allocated, it returns the count created
// and the error (wrapping topology.ErrNoFreeSlots when slots ran out).
func (g *Grower) Grow(ctx context.Context, o Options) (int, error) {
	g.run.Lock()
	defer g.run.Unlock()
	if g.isClosed() {
		return 0, ErrClosed
	}
	count := o.Count
	if count <= 0 {
		count = topology.GrowthCount(o.Placement)
	}
	plans, planErr := g.topo.PlanGrowth(o.WriteOption, count)
	if len(plans) == 0 {
		return 0, planErr
	}
	ids, err := g.ids.NextVolumeIDs(ctx, uint32(len(plans)), g.topo.MaxVolumeID()+1)
	if err != nil {
		return 0, fmt.Errorf("growth: volume ids: %w", err)
	}
	for i, plan := range plans {
		id := ids.First + uint32(i)
		if err := g.create(ctx, id, o, plan); err != nil {
			return i, err
		}
	}
	return len(plans), planErr
}

// create allocates volume id on every server of plan, records it and adds
// it to the topology.
func (g *Grower) create(ctx context.Context, id uint32, o Options, plan []topology.Location) error {
	req := &pb.AllocateVolumeRequest{
		VolumeId: id, Collection: o.Collection, Preallocate: o.Preallocate,
		ReplicaPlacement: uint32(o.Placement.Byte()), Ttl: topology.TTLToUint32(o.TTL),
		MemoryMapMaxSizeMb: o.MemoryMapMaxSizeMB, DiskType: topology.DiskTypeName(topology.NormalizeDiskType(o.DiskType)),
	}
	errs := make([]error, len(plan))
	var wg sync.WaitGroup
	for i, loc := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.alloc.AllocateVolume(ctx, loc.URL, req)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		g.undo(id, plan, errs)
		return fmt.Errorf("growth: allocating volume %d: %w", id, err)
	}
	servers := make([]string, len(plan))
	for i, loc := range plan {
		servers[i] = loc.URL
	}
	rec := state.Volume{ID: id, Collection: o.Collection, ReplicaPlacement: uint32(o.Placement.Byte()),
		TTL: topology.TTLToUint32(o.TTL), DiskType: topology.NormalizeDiskType(o.DiskType), Servers: servers}
	if err := g.ids.RecordVolume(ctx, rec); err != nil {
		// The servers hold the volume and will report it; only the record
		// is missing, which a later leader can rebuild from heartbeats.
		return fmt.Errorf("growth: recording volume %d: %w", id, err)
	}
	info := topology.VolumeInfo{ID: id, Collection: o.Collection, Placement: o.Placement, TTL: o.TTL,
		DiskType: o.DiskType, Version: 3}
	for _, url := range servers {
		if err := g.topo.AddVolume(url, info); err != nil {
			g.log.Warn("growth: volume allocated but not added to the topology", "volume", id, "server", url, "err", err)
		}
	}
	g.log.Info("growth: volume created", "volume", id, "collection", o.Collection,
		"replication", o.Placement.String(), "servers", servers)
	return nil
}

// undo deletes the copies of a volume that were allocated before another
// copy failed, so no half-placed volume lingers. Best effort.
func (g *Grower) undo(id uint32, plan []topology.Location, errs []error) {
	for i, loc := range plan {
		if errs[i] != nil {
			continue
		}
		// A fresh context: the request's may be what failed the growth.
		ctx, cancel := context.WithCancel(g.ctx)
		err := g.alloc.DeleteVolume(ctx, loc.URL, &pb.DeleteVolumeRequest{VolumeId: id, OnlyEmpty: true})
		cancel()
		if err != nil {
			g.log.Warn("growth: deleting a half-placed volume", "volume", id, "server", loc.URL, "err", err)
		}
	}
}

func (g *Grower) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// Pending is a background growth.
type Pending struct {
	done  chan struct{}
	grown int
	err   error
}

// Done is closed when the growth ended.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Result is how many volumes were created and the error, once Done.
func (p *Pending) Result() (int, error) {
	<-p.done
	return p.grown, p.err
}

// Background starts growing the option's layout unless a growth of that
// layout is already running, in which case it returns that one.
func (g *Grower) Background(o Options) *Pending {
	key := o.Key()
	g.mu.Lock()
	defer g.mu.Unlock()
	if p := g.pending[key]; p != nil {
		return p
	}
	p := &Pending{done: make(chan struct{})}
	if g.closed {
		p.err = ErrClosed
		close(p.done)
		return p
	}
	g.pending[key] = p
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		p.grown, p.err = g.Grow(g.ctx, o)
		g.mu.Lock()
		delete(g.pending, key)
		g.mu.Unlock()
		close(p.done)
	}()
	return p
}

// Growing reports whether a background growth of the layout is running.
func (g *Grower) Growing(key topology.LayoutKey) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pending[key] != nil
}

// Close cancels background growths and waits for them.
func (g *Grower) Close() error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.wg.Wait()
	return nil
}
