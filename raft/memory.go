package raft

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// MemoryLogStore is a LogStore held in memory: for tests, the simulation and
// nodes that keep no state across restarts. Append is "durable" as soon as it
// returns, which is exactly what the core's contract needs. It is safe for
// concurrent use.
type MemoryLogStore struct {
	mu sync.Mutex
	// snapIndex, snapTerm: the entry just before ents (the last compacted one).
	// Invariant: ents[i].Index == snapIndex+1+i.
	snapIndex, snapTerm uint64
	ents                []*raftpb.Entry
}

// NewMemoryLogStore returns an empty log.
func NewMemoryLogStore() *MemoryLogStore { return &MemoryLogStore{} }

// FirstIndex implements LogReader.
func (s *MemoryLogStore) FirstIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapIndex + 1, nil
}

// LastIndex implements LogReader.
func (s *MemoryLogStore) LastIndex() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapIndex + uint64(len(s.ents)), nil
}

// Term implements LogReader.
func (s *MemoryLogStore) Term(i uint64) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case i < s.snapIndex:
		return 0, ErrCompacted
	case i == s.snapIndex:
		return s.snapTerm, nil
	case i > s.snapIndex+uint64(len(s.ents)):
		return 0, ErrUnavailable
	}
	return s.ents[i-s.snapIndex-1].Term, nil
}

// Entries implements LogReader.
func (s *MemoryLogStore) Entries(lo, hi, maxBytes uint64) ([]*raftpb.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lo <= s.snapIndex {
		return nil, ErrCompacted
	}
	if hi > s.snapIndex+uint64(len(s.ents))+1 || lo > hi {
		return nil, ErrUnavailable
	}
	src := s.ents[lo-s.snapIndex-1 : hi-s.snapIndex-1]
	return limitSize(src, maxBytes), nil
}

// limitSize returns the longest prefix of ents whose data fits maxBytes, and
// at least one entry. The result is a copy of the slice (entries are shared:
// they are never modified once created).
func limitSize(ents []*raftpb.Entry, maxBytes uint64) []*raftpb.Entry {
	n, size := 0, uint64(0)
	for n < len(ents) {
		size += uint64(len(ents[n].Data))
		if n > 0 && size > maxBytes {
			break
		}
		n++
	}
	return append([]*raftpb.Entry(nil), ents[:n]...)
}

// Append implements LogStore.
func (s *MemoryLogStore) Append(entries []*raftpb.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Index != entries[i-1].Index+1 {
			return fmt.Errorf("raft: memory log append: entries not consecutive at index %d", entries[i].Index)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first := entries[0].Index
	last := s.snapIndex + uint64(len(s.ents))
	if first > last+1 {
		return fmt.Errorf("raft: memory log append at %d leaves a gap after %d: %w", first, last, ErrUnavailable)
	}
	if first <= s.snapIndex {
		// Entries already covered by the snapshot are committed: skip them.
		skip := s.snapIndex + 1 - first
		if skip >= uint64(len(entries)) {
			return nil
		}
		entries = entries[skip:]
		first = entries[0].Index
	}
	// Readers get copies of the slice (limitSize), so the array may be
	// reused in place.
	s.ents = append(s.ents[:first-s.snapIndex-1], entries...)
	return nil
}

// Compact implements LogStore.
func (s *MemoryLogStore) Compact(index, term uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if index <= s.snapIndex {
		return nil
	}
	last := s.snapIndex + uint64(len(s.ents))
	if index > last {
		return fmt.Errorf("raft: memory log compact at %d past last index %d: %w", index, last, ErrUnavailable)
	}
	s.ents = append([]*raftpb.Entry(nil), s.ents[index-s.snapIndex:]...)
	s.snapIndex, s.snapTerm = index, term
	return nil
}

// Reset implements LogStore.
func (s *MemoryLogStore) Reset(index, term uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ents = nil
	s.snapIndex, s.snapTerm = index, term
	return nil
}

// Close implements LogStore.
func (s *MemoryLogStore) Close() error { return nil }

// MemoryStableStore is a StableStore held in memory, safe for concurrent use.
type MemoryStableStore struct {
	mu sync.Mutex
	hs *raftpb.HardState
}

// NewMemoryStableStore returns a store holding the zero HardState.
func NewMemoryStableStore() *MemoryStableStore {
	return &MemoryStableStore{hs: &raftpb.HardState{}}
}

// HardState implements StableStore; it returns a copy.
func (s *MemoryStableStore) HardState() (*raftpb.HardState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return proto.Clone(s.hs).(*raftpb.HardState), nil
}

// SaveHardState implements StableStore; it keeps a copy.
func (s *MemoryStableStore) SaveHardState(hs *raftpb.HardState) error {
	if hs == nil {
		return errors.New("raft: save nil hard state")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hs = proto.Clone(hs).(*raftpb.HardState)
	return nil
}

// Close implements StableStore.
func (s *MemoryStableStore) Close() error { return nil }

// MemorySnapshotStore is a SnapshotStore held in memory that keeps only the
// latest complete snapshot. It is safe for concurrent use.
type MemorySnapshotStore struct {
	mu   sync.Mutex
	meta *raftpb.SnapshotMeta // nil: no snapshot
	data []byte
}

// NewMemorySnapshotStore returns an empty store.
func NewMemorySnapshotStore() *MemorySnapshotStore { return &MemorySnapshotStore{} }

// Create implements SnapshotStore.
func (s *MemorySnapshotStore) Create(meta *raftpb.SnapshotMeta) (SnapshotSink, error) {
	if meta == nil {
		return nil, errors.New("raft: create snapshot without meta")
	}
	return &memorySink{store: s, meta: proto.Clone(meta).(*raftpb.SnapshotMeta)}, nil
}

// Latest implements SnapshotStore.
func (s *MemorySnapshotStore) Latest() (*raftpb.SnapshotMeta, io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		return nil, nil, ErrNoSnapshot
	}
	return proto.Clone(s.meta).(*raftpb.SnapshotMeta), io.NopCloser(bytes.NewReader(s.data)), nil
}

type memorySink struct {
	store *MemorySnapshotStore
	meta  *raftpb.SnapshotMeta
	buf   bytes.Buffer
	done  bool
}

func (k *memorySink) Write(p []byte) (int, error) {
	if k.done {
		return 0, errors.New("raft: write to a closed snapshot sink")
	}
	return k.buf.Write(p)
}

func (k *memorySink) Close() error {
	if k.done {
		return errors.New("raft: snapshot sink closed twice")
	}
	k.done = true
	k.meta.Size = uint64(k.buf.Len())
	k.store.mu.Lock()
	defer k.store.mu.Unlock()
	k.store.meta, k.store.data = k.meta, k.buf.Bytes()
	return nil
}

func (k *memorySink) Cancel() error {
	k.done = true
	k.buf.Reset()
	return nil
}

var (
	_ LogStore      = (*MemoryLogStore)(nil)
	_ StableStore   = (*MemoryStableStore)(nil)
	_ SnapshotStore = (*MemorySnapshotStore)(nil)
)
