package state

import (
	"maps"
	"slices"
)

// MaxVolumeID is the highest volume id issued or recorded.
func (s *State) MaxVolumeID() uint32 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.maxVolumeID
}

// MaxKey is the highest needle key reserved.
func (s *State) MaxKey() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.maxKey
}

// Volume returns the record of volume id.
func (s *State) Volume(id uint32) (Volume, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.volumes[id]
	v.Servers = slices.Clone(v.Servers)
	return v, ok
}

// Volumes returns every volume record, by ascending id.
func (s *State) Volumes() []Volume {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Volume, 0, len(s.volumes))
	for _, id := range slices.Sorted(maps.Keys(s.volumes)) {
		v := s.volumes[id]
		v.Servers = slices.Clone(v.Servers)
		out = append(out, v)
	}
	return out
}

// ReadOnly reports whether an operator marked volume id read-only.
func (s *State) ReadOnly(id uint32) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.readOnly[id]
}

// ReadOnlyVolumes returns the ids marked read-only, ascending.
func (s *State) ReadOnlyVolumes() []uint32 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.readOnly))
}
