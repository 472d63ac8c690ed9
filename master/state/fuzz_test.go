package state

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/raft/raftpb"
)

func marshalSnapshot(s *pb.MasterSnapshot) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(s)
}

// FuzzApply: any entry bytes give a result without panicking, the maxima
// never go down, and an error result leaves the state unchanged.
func FuzzApply(f *testing.F) {
	for _, c := range randomCommands(3, 40) {
		b, _ := Encode(c)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x02, 0x08, 0x00})
	f.Add([]byte{0x1a, 0x04, 0x08, 0x09, 0x10, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New()
		for _, c := range randomCommands(5, 10) {
			apply(t, s, c)
		}
		key, vol := s.MaxKey(), s.MaxVolumeID()
		before := snapshotBytes(t, s)
		r := s.Apply(&raftpb.Entry{Data: data})
		if s.MaxKey() < key || s.MaxVolumeID() < vol {
			t.Fatal("a maximum went down")
		}
		if _, isErr := r.(error); isErr && !bytes.Equal(before, snapshotBytes(t, s)) {
			t.Fatalf("error result %v but the state changed", r)
		}
	})
}

// FuzzRestore: any bytes either restore or fail with the state unchanged;
// a restored state snapshots and restores again to the same bytes.
func FuzzRestore(f *testing.F) {
	for seed := uint64(0); seed < 4; seed++ {
		s := New()
		for _, c := range randomCommands(seed, 50) {
			apply(f, s, c)
		}
		f.Add(snapshotBytes(f, s))
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x05, 0x1a, 0x02, 0x10, 0x09})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New()
		apply(t, s, ReserveKeysCommand(3, 0))
		before := snapshotBytes(t, s)
		if err := s.Restore(bytes.NewReader(data)); err != nil {
			if !bytes.Equal(before, snapshotBytes(t, s)) {
				t.Fatal("failed Restore changed the state")
			}
			return
		}
		once := snapshotBytes(t, s)
		again := New()
		if err := again.Restore(bytes.NewReader(once)); err != nil {
			t.Fatalf("own snapshot does not restore: %v", err)
		}
		if !bytes.Equal(once, snapshotBytes(t, again)) {
			t.Fatal("snapshot of a restored snapshot differs")
		}
	})
}
