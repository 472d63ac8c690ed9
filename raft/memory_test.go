package raft

import (
	"errors"
	"io"
	"testing"

	"weedfs.dev/weed/raft/raftpb"
)

func ents(from, to, term uint64) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := from; i <= to; i++ {
		out = append(out, &raftpb.Entry{Index: i, Term: term, Data: []byte{byte(i)}})
	}
	return out
}

func TestMemoryLogStore(t *testing.T) {
	s := NewMemoryLogStore()
	must(t, s.Append(ents(1, 10, 1)))
	// A suffix is replaced.
	must(t, s.Append(ents(6, 7, 2)))
	if last, _ := s.LastIndex(); last != 7 {
		t.Fatalf("last %d after replacing from 6, want 7", last)
	}
	if tm, _ := s.Term(6); tm != 2 {
		t.Fatalf("term(6) %d, want 2", tm)
	}
	if err := s.Append(ents(9, 9, 2)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append with a gap: %v", err)
	}
	// Size limit: at least one entry, then as many as fit.
	got, err := s.Entries(1, 8, 2)
	must(t, err)
	if len(got) != 2 || got[0].Index != 1 {
		t.Fatalf("entries with a 2-byte budget: %v", got)
	}
	if got, _ := s.Entries(3, 4, 0); len(got) != 1 {
		t.Fatalf("zero budget must still return one entry: %v", got)
	}
	must(t, s.Compact(4, 1))
	if first, _ := s.FirstIndex(); first != 5 {
		t.Fatalf("first %d after compacting 4, want 5", first)
	}
	if tm, err := s.Term(4); err != nil || tm != 1 {
		t.Fatalf("term of the compaction point: %d %v", tm, err)
	}
	if _, err := s.Term(3); !errors.Is(err, ErrCompacted) {
		t.Fatalf("term below the compaction point: %v", err)
	}
	if _, err := s.Entries(4, 6, 0); !errors.Is(err, ErrCompacted) {
		t.Fatalf("entries below first: %v", err)
	}
	if _, err := s.Term(8); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("term past last: %v", err)
	}
	must(t, s.Reset(20, 3))
	if first, _ := s.FirstIndex(); first != 21 {
		t.Fatalf("first %d after reset at 20", first)
	}
	if last, _ := s.LastIndex(); last != 20 {
		t.Fatalf("last %d after reset at 20", last)
	}
	must(t, s.Append(ents(21, 22, 3)))
	if tm, _ := s.Term(20); tm != 3 {
		t.Fatalf("term(20) %d after reset", tm)
	}
}

func TestMemoryStableAndSnapshotStores(t *testing.T) {
	st := NewMemoryStableStore()
	hs := &raftpb.HardState{Term: 3, Vote: 2, Commit: 7}
	must(t, st.SaveHardState(hs))
	hs.Term = 99 // the store keeps its own copy
	got, err := st.HardState()
	must(t, err)
	if got.Term != 3 || got.Vote != 2 || got.Commit != 7 {
		t.Fatalf("hard state %v", got)
	}

	sn := NewMemorySnapshotStore()
	if _, _, err := sn.Latest(); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("empty store: %v", err)
	}
	sink, err := sn.Create(&raftpb.SnapshotMeta{Index: 5, Term: 2})
	must(t, err)
	_, err = sink.Write([]byte("state"))
	must(t, err)
	canceled, err := sn.Create(&raftpb.SnapshotMeta{Index: 9, Term: 2})
	must(t, err)
	_, err = canceled.Write([]byte("nope"))
	must(t, err)
	must(t, canceled.Cancel())
	if _, _, err := sn.Latest(); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("snapshot visible before Close: %v", err)
	}
	must(t, sink.Close())
	meta, r, err := sn.Latest()
	must(t, err)
	data, _ := io.ReadAll(r)
	if meta.Index != 5 || meta.Size != 5 || string(data) != "state" {
		t.Fatalf("latest %v %q", meta, data)
	}
}
