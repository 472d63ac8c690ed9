package wal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

func seedRecords() [][]byte {
	e, _ := proto.Marshal(&raftpb.Entry{Index: 7, Term: 3, Data: []byte("hello")})
	hs, _ := proto.Marshal(&raftpb.HardState{Term: 3, Vote: 1, Commit: 6})
	return [][]byte{
		appendRecord(nil, recordEntry, e),
		appendRecord(nil, recordHardState, hs),
		appendRecord(nil, recordCompact, encodeMark(mark{5, 2})),
		appendRecord(nil, recordReset, encodeMark(mark{9, 4})),
		appendRecord(nil, recordEntry, nil),
		{},
		{1, 0, 0, 0},
	}
}

// FuzzWALRecord: decoding one record never panics, and what decodes
// re-encodes to the same bytes.
func FuzzWALRecord(f *testing.F) {
	for _, s := range seedRecords() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, payload, n, err := decodeRecord(b)
		if err != nil {
			return
		}
		if n > len(b) || n != headerSize+len(payload) {
			t.Fatalf("decoded %d bytes of %d with a %d-byte payload", n, len(b), len(payload))
		}
		if again := appendRecord(nil, typ, payload); !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encoding gives %x, read %x", again, b[:n])
		}
		switch typ {
		case recordEntry:
			decodeEntry(payload)
		case recordHardState:
			decodeHardState(payload)
		default:
			decodeMark(payload)
		}
	})
}

// FuzzWALOpen: arbitrary bytes as the segments of a WAL never panic Open; it
// either errors with raft.ErrCorrupt or opens a log whose entries all read
// back.
func FuzzWALOpen(f *testing.F) {
	var valid []byte
	for _, s := range seedRecords()[:4] {
		valid = append(valid, s...)
	}
	f.Add(valid, []byte{})
	// A real two-segment log.
	dir := f.TempDir()
	w, err := Open(dir, Options{SegmentSize: 200})
	if err != nil {
		f.Fatal(err)
	}
	for i := uint64(1); i <= 12; i++ {
		if err := w.Append(makeEntries(i, i, 1+i/5)); err != nil {
			f.Fatal(err)
		}
	}
	w.SaveHardState(&raftpb.HardState{Term: 3, Vote: 2, Commit: 10})
	w.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "wal-*.log"))
	if len(files) >= 2 {
		a, _ := os.ReadFile(files[0])
		b, _ := os.ReadFile(files[1])
		f.Add(a, b)
		f.Add(a[:len(a)-3], b)
		f.Add(a, b[:len(b)/2])
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, segmentFile(1)), first, 0o644)
		if len(second) > 0 {
			os.WriteFile(filepath.Join(dir, segmentFile(2)), second, 0o644)
		}
		// Durability is not what is fuzzed: skip the fsyncs.
		noSync := func(*os.File) error { return nil }
		w, err := open(dir, Options{SegmentSize: 1 << 16}, noSync)
		if err != nil {
			if !errors.Is(err, raft.ErrCorrupt) {
				t.Fatalf("open failed without ErrCorrupt: %v", err)
			}
			return
		}
		defer w.Close()
		fi, _ := w.FirstIndex()
		li, _ := w.LastIndex()
		if li >= fi {
			ents, err := w.Entries(fi, li+1, ^uint64(0))
			if err != nil || uint64(len(ents)) != li-fi+1 {
				t.Fatalf("opened [%d, %d] but Entries gave %d, %v", fi, li, len(ents), err)
			}
			for k, e := range ents {
				if e.Index != fi+uint64(k) {
					t.Fatalf("entry %d has index %d", fi+uint64(k), e.Index)
				}
			}
		}
		if li == ^uint64(0) {
			return
		}
		// The opened WAL accepts an append and reopens to the same end.
		if err := w.Append([]*raftpb.Entry{{Index: li + 1, Term: 1 << 40}}); err != nil {
			t.Fatalf("append after open: %v", err)
		}
		w.Close()
		w2, err := open(dir, Options{SegmentSize: 1 << 16}, noSync)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if l2, _ := w2.LastIndex(); l2 != li+1 {
			t.Fatalf("reopen has last %d, want %d", l2, li+1)
		}
		w2.Close()
	})
}
