package state

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// maxSnapshotBytes bounds what Restore reads: a million volume records of
// a few hundred bytes fit far below it.
const maxSnapshotBytes = 1 << 30

// Snapshot writes the state as a pb.MasterSnapshot. The bytes depend only
// on the state: records sorted by id, deterministic protobuf encoding.
func (s *State) Snapshot(w io.Writer) error {
	s.mu.RLock()
	snap := &pb.MasterSnapshot{
		MaxVolumeId:       s.maxVolumeID,
		MaxKey:            s.maxKey,
		ReadOnlyVolumeIds: slices.Sorted(maps.Keys(s.readOnly)),
	}
	for _, id := range slices.Sorted(maps.Keys(s.volumes)) {
		snap.Volumes = append(snap.Volumes, s.volumes[id].record())
	}
	s.mu.RUnlock()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(snap)
	if err != nil {
		return fmt.Errorf("state: encoding snapshot: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("state: writing snapshot: %w", err)
	}
	return nil
}

// Restore replaces the state with a snapshot. On error the state is
// unchanged.
func (s *State) Restore(r io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(r, maxSnapshotBytes+1))
	if err != nil {
		return fmt.Errorf("state: reading snapshot: %w", err)
	}
	if len(b) > maxSnapshotBytes {
		return fmt.Errorf("state: snapshot above %d bytes: %w", maxSnapshotBytes, ErrCorrupt)
	}
	var snap pb.MasterSnapshot
	if err := proto.Unmarshal(b, &snap); err != nil {
		return fmt.Errorf("state: %w: %w", ErrCorrupt, err)
	}
	volumes := make(map[uint32]Volume, len(snap.GetVolumes()))
	for _, rec := range snap.GetVolumes() {
		id := rec.GetId()
		switch {
		case id == 0 || id > snap.GetMaxVolumeId():
			return fmt.Errorf("state: snapshot volume id %d (max %d): %w", id, snap.GetMaxVolumeId(), ErrCorrupt)
		case rec.GetReplicaPlacement() > 255:
			return fmt.Errorf("state: snapshot volume %d placement %d: %w", id, rec.GetReplicaPlacement(), ErrCorrupt)
		}
		if _, dup := volumes[id]; dup {
			return fmt.Errorf("state: snapshot volume %d twice: %w", id, ErrCorrupt)
		}
		volumes[id] = volumeFrom(rec)
	}
	readOnly := make(map[uint32]bool, len(snap.GetReadOnlyVolumeIds()))
	for _, id := range snap.GetReadOnlyVolumeIds() {
		if id == 0 {
			return fmt.Errorf("state: snapshot read-only mark on volume 0: %w", ErrCorrupt)
		}
		readOnly[id] = true
	}
	s.mu.Lock()
	s.maxVolumeID, s.maxKey = snap.GetMaxVolumeId(), snap.GetMaxKey()
	s.volumes, s.readOnly = volumes, readOnly
	s.mu.Unlock()
	return nil
}
