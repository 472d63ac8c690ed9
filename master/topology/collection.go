package topology

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Collections returns the names of collections with at least one volume,
// sorted ("" is the default collection).
func (t *Topology) Collections() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	seen := map[string]bool{}
	for key := range t.layouts {
		seen[key.Collection] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// CollectionStats is what /collection/info reports.
type CollectionStats struct {
	Collection  string `json:"Collection"`
	FileCount   uint64 `json:"FileCount"`   // live files, counted once per volume
	TotalSize   uint64 `json:"TotalSize"`   // bytes on disk over every copy
	UsedSize    uint64 `json:"UsedSize"`    // live bytes, counted once per volume
	VolumeCount int    `json:"VolumeCount"` // distinct volumes
}

// CollectionStats sums a collection over the copies live nodes reported.
func (t *Topology) CollectionStats(name string) (CollectionStats, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	st := CollectionStats{Collection: name}
	found := false
	for key, l := range t.layouts {
		if key.Collection != name {
			continue
		}
		found = true
		for id, reps := range l.replicas {
			st.VolumeCount++
			var largest VolumeInfo
			for _, n := range reps {
				v := n.volumes[id]
				st.TotalSize += v.Size
				if v.Size >= largest.Size {
					largest = v
				}
			}
			st.FileCount += largest.FileCount - min(largest.DeleteCount, largest.FileCount)
			st.UsedSize += largest.Size - min(largest.DeletedByteCount, largest.Size)
		}
	}
	if !found {
		return st, fmt.Errorf("topology: collection %s does not exist: %w", name, ErrUnknownCollection)
	}
	return st, nil
}

// CollectionServers returns the URLs of live nodes holding a volume of the
// collection, sorted: where DeleteCollection admin calls go.
func (t *Topology) CollectionServers(name string) ([]string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	urls := map[string]bool{}
	found := false
	for key, l := range t.layouts {
		if key.Collection != name {
			continue
		}
		found = true
		for _, reps := range l.replicas {
			for _, n := range reps {
				urls[n.url] = true
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("topology: collection %s does not exist: %w", name, ErrUnknownCollection)
	}
	return slices.Sorted(maps.Keys(urls)), nil
}

// DeleteCollection forgets every volume of the collection on every node
// (after the servers were told to delete them). It returns the ids dropped.
func (t *Topology) DeleteCollection(name string) ([]uint32, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []uint32
	for _, n := range t.nodes {
		for id, v := range n.volumes {
			if v.Collection == name {
				t.removeReplica(n, id)
				n.dropVolume(id)
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("topology: collection %s does not exist: %w", name, ErrUnknownCollection)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// Node describes a volume server for listings and admin calls.
type Node struct {
	Location
	Alive      bool
	LastSeen   time.Time      // time of the last heartbeat
	MaxVolumes map[string]int // by normalized disk type
	Volumes    []uint32       // sorted
}

// Nodes lists every known volume server, live or dead, by URL.
func (t *Topology) Nodes() []Node {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]Node, 0, len(t.nodes))
	for _, url := range slices.Sorted(maps.Keys(t.nodes)) {
		n := t.nodes[url]
		out = append(out, Node{Location: n.location(), Alive: n.alive, LastSeen: n.lastSeen,
			MaxVolumes: maps.Clone(n.maxVolumes), Volumes: slices.Sorted(maps.Keys(n.volumes))})
	}
	return out
}
