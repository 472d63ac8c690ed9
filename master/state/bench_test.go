package state

import (
	"bytes"
	"testing"

	"weedfs.dev/weed/raft/raftpb"
)

// BenchmarkApplyReserveKeys: decoding and applying one ReserveKeys entry,
// the command a busy leader proposes most.
func BenchmarkApplyReserveKeys(b *testing.B) {
	s := New()
	data, err := Encode(ReserveKeysCommand(10000, 0))
	if err != nil {
		b.Fatal(err)
	}
	e := &raftpb.Entry{Data: data}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Apply(e).(KeyRange); !ok {
			b.Fatal("not a key range")
		}
	}
}

// BenchmarkSnapshot10k: a snapshot of 10,000 volume records.
func BenchmarkSnapshot10k(b *testing.B) {
	s := New()
	for id := uint32(1); id <= 10000; id++ {
		apply(b, s, CreateVolumeCommand(Volume{ID: id, Collection: "c", Servers: []string{"10.0.0.1:8080", "10.0.0.2:8080"}}))
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := s.Snapshot(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
