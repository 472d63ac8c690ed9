package state

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/raft/raftpb"
)

// Errors returned as Apply results (compare with errors.Is).
var (
	ErrBadCommand    = errors.New("state: malformed command")
	ErrExhausted     = errors.New("state: id space exhausted")
	ErrUnknownVolume = errors.New("state: unknown volume")
	ErrCorrupt       = errors.New("state: corrupt snapshot")
)

// Volume is the record of one volume created by growth.
type Volume struct {
	ID               uint32
	Collection       string
	ReplicaPlacement uint32 // the super block byte x*100+y*10+z
	TTL              uint32 // count<<8 | unit, as in the needle TTL
	DiskType         string
	Servers          []string // host:port of each copy, in placement order
}

func (v Volume) record() *pb.VolumeRecord {
	return &pb.VolumeRecord{
		Id: v.ID, Collection: v.Collection, ReplicaPlacement: v.ReplicaPlacement,
		Ttl: v.TTL, DiskType: v.DiskType, Servers: slices.Clone(v.Servers),
	}
}

func volumeFrom(r *pb.VolumeRecord) Volume {
	v := Volume{
		ID: r.GetId(), Collection: r.GetCollection(), ReplicaPlacement: r.GetReplicaPlacement(),
		TTL: r.GetTtl(), DiskType: r.GetDiskType(),
	}
	if len(r.GetServers()) > 0 { // nil, never empty, so records compare equal after a snapshot
		v.Servers = slices.Clone(r.GetServers())
	}
	return v
}

// KeyRange is the result of a ReserveKeys command: keys Start..Start+Count-1.
type KeyRange struct{ Start, Count uint64 }

// VolumeIDs is the result of a NextVolumeID command: ids First..First+Count-1.
type VolumeIDs struct{ First, Count uint32 }

// CollectionDeleted is the result of a DeleteCollection command.
type CollectionDeleted struct {
	Name    string
	Volumes []uint32 // ids whose records were dropped, ascending
}

// State is the master's replicated state machine (raft FSM). Apply,
// Snapshot and Restore are called by the Raft driver; the getters may be
// called concurrently from request handlers.
type State struct {
	mu sync.RWMutex
	// Invariant: maxVolumeID >= every key of volumes; both max values only
	// grow, except through Restore.
	maxVolumeID uint32
	maxKey      uint64
	volumes     map[uint32]Volume
	readOnly    map[uint32]bool // only true values are kept
}

// New returns an empty state: no volume ids or keys issued.
func New() *State {
	return &State{volumes: map[uint32]Volume{}, readOnly: map[uint32]bool{}}
}

// Apply applies one committed log entry and returns its result: a
// KeyRange, VolumeIDs, CollectionDeleted, nil, or an error (the state is
// unchanged when an error is returned).
func (s *State) Apply(e *raftpb.Entry) any {
	if e == nil {
		return fmt.Errorf("state: nil entry: %w", ErrBadCommand)
	}
	var cmd pb.MasterCommand
	if err := proto.Unmarshal(e.GetData(), &cmd); err != nil {
		return fmt.Errorf("state: entry %d: %w: %w", e.GetIndex(), ErrBadCommand, err)
	}
	return s.ApplyCommand(&cmd)
}

// ApplyCommand applies a decoded command (Apply without the decoding).
func (s *State) ApplyCommand(cmd *pb.MasterCommand) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch c := cmd.GetCommand().(type) {
	case *pb.MasterCommand_ReserveKeys:
		return s.reserveKeys(c.ReserveKeys)
	case *pb.MasterCommand_NextVolumeId:
		return s.nextVolumeID(c.NextVolumeId)
	case *pb.MasterCommand_VolumeRecord:
		return s.volumeRecord(c.VolumeRecord)
	case *pb.MasterCommand_DeleteCollection:
		return s.deleteCollection(c.DeleteCollection.GetName())
	case *pb.MasterCommand_MarkReadOnly:
		return s.markReadOnly(c.MarkReadOnly)
	default:
		return fmt.Errorf("state: command without a known kind: %w", ErrBadCommand)
	}
}

func (s *State) reserveKeys(c *pb.ReserveKeys) any {
	count := c.GetCount()
	if count == 0 {
		return fmt.Errorf("state: reserve 0 keys: %w", ErrBadCommand)
	}
	if s.maxKey == math.MaxUint64 {
		return fmt.Errorf("state: reserve %d keys: %w", count, ErrExhausted)
	}
	start := max(s.maxKey+1, c.GetAtLeast())
	if count-1 > math.MaxUint64-start {
		return fmt.Errorf("state: reserve %d keys from %d: %w", count, start, ErrExhausted)
	}
	s.maxKey = start + count - 1
	return KeyRange{Start: start, Count: count}
}

func (s *State) nextVolumeID(c *pb.NextVolumeID) any {
	count := c.GetCount()
	if count == 0 {
		return fmt.Errorf("state: issue 0 volume ids: %w", ErrBadCommand)
	}
	if s.maxVolumeID == math.MaxUint32 {
		return fmt.Errorf("state: issue %d volume ids: %w", count, ErrExhausted)
	}
	first := max(s.maxVolumeID+1, c.GetAtLeast())
	if count-1 > math.MaxUint32-first {
		return fmt.Errorf("state: issue %d volume ids from %d: %w", count, first, ErrExhausted)
	}
	s.maxVolumeID = first + count - 1
	return VolumeIDs{First: first, Count: count}
}

func (s *State) volumeRecord(r *pb.VolumeRecord) any {
	id := r.GetId()
	if id == 0 {
		return fmt.Errorf("state: volume record with id 0: %w", ErrBadCommand)
	}
	switch r.GetOp() {
	case pb.VolumeOp_VOLUME_CREATE:
		if r.GetReplicaPlacement() > 255 {
			return fmt.Errorf("state: volume %d placement %d: %w", id, r.GetReplicaPlacement(), ErrBadCommand)
		}
		s.volumes[id] = volumeFrom(r)
		s.maxVolumeID = max(s.maxVolumeID, id)
		return nil
	case pb.VolumeOp_VOLUME_DELETE:
		if _, ok := s.volumes[id]; !ok {
			return fmt.Errorf("state: delete volume %d: %w", id, ErrUnknownVolume)
		}
		delete(s.volumes, id)
		delete(s.readOnly, id)
		return nil
	default:
		return fmt.Errorf("state: volume record op %d: %w", r.GetOp(), ErrBadCommand)
	}
}

func (s *State) deleteCollection(name string) any {
	res := CollectionDeleted{Name: name, Volumes: []uint32{}}
	for id, v := range s.volumes {
		if v.Collection == name {
			res.Volumes = append(res.Volumes, id)
		}
	}
	slices.Sort(res.Volumes)
	for _, id := range res.Volumes {
		delete(s.volumes, id)
		delete(s.readOnly, id)
	}
	return res
}

func (s *State) markReadOnly(m *pb.MarkReadOnly) any {
	id := m.GetVolumeId()
	if id == 0 {
		return fmt.Errorf("state: read-only mark on volume 0: %w", ErrBadCommand)
	}
	if m.GetReadOnly() {
		s.readOnly[id] = true
	} else {
		delete(s.readOnly, id)
	}
	return nil
}
