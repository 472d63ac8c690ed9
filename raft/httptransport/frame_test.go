package httptransport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

func sampleMessages() []*raftpb.Message {
	return []*raftpb.Message{
		{Type: raftpb.MessageType_MSG_HEARTBEAT, ClusterId: 7, From: 1, To: 2, Term: 3, Commit: 9},
		{Type: raftpb.MessageType_MSG_APP, ClusterId: 7, From: 1, To: 2, Term: 3, LogTerm: 2, Index: 10,
			Entries: []*raftpb.Entry{{Term: 3, Index: 11, Data: []byte("hello")}, {Term: 3, Index: 12, Type: raftpb.EntryType_ENTRY_NOOP}}},
		{Type: raftpb.MessageType_MSG_APP_RESP, ClusterId: 7, From: 2, To: 1, Reject: true, RejectHint: 4, HintTerm: 1},
		{},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	var buf []byte
	var err error
	for _, m := range sampleMessages() {
		if buf, err = appendFrame(buf, m); err != nil {
			t.Fatal(err)
		}
	}
	fr := frameReader{r: bytes.NewReader(buf)}
	for i, want := range sampleMessages() {
		got, err := fr.readMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("message %d: got %v, want %v", i, got, want)
		}
	}
	if _, err := fr.readMessage(); err != io.EOF {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func TestFrameLayout(t *testing.T) {
	m := &raftpb.Message{Type: raftpb.MessageType_MSG_VOTE, Term: 5}
	payload, _ := proto.Marshal(m)
	frame, err := appendFrame([]byte("xy"), m)
	if err != nil {
		t.Fatal(err)
	}
	if string(frame[:2]) != "xy" {
		t.Fatal("appendFrame overwrote the prefix")
	}
	if n := binary.BigEndian.Uint32(frame[2:6]); n != uint32(len(payload)) {
		t.Fatalf("length field %d, want %d", n, len(payload))
	}
	if !bytes.Equal(frame[6:], payload) {
		t.Fatal("payload is not the protobuf encoding")
	}
}

func TestFrameErrors(t *testing.T) {
	good, _ := appendFrame(nil, sampleMessages()[1])
	tooLong := binary.BigEndian.AppendUint32(nil, MaxFrameSize+1)
	lying := binary.BigEndian.AppendUint32(nil, MaxFrameSize) // claims 64 MiB, carries 3 bytes
	lying = append(lying, 1, 2, 3)
	garbage := append(binary.BigEndian.AppendUint32(nil, 3), 0xff, 0xff, 0xff)
	for name, in := range map[string][]byte{
		"torn header":  good[:2],
		"torn payload": good[:len(good)-1],
		"too long":     tooLong,
		"lying length": lying,
		"garbage":      garbage,
	} {
		fr := frameReader{r: bytes.NewReader(in)}
		if _, err := fr.readMessage(); !errors.Is(err, ErrBadFrame) {
			t.Errorf("%s: err %v, want ErrBadFrame", name, err)
		}
	}
}

// FuzzReadMessages decodes arbitrary stream bodies: never a panic, and every
// decoded message re-encodes to a frame that decodes to the same message.
func FuzzReadMessages(f *testing.F) {
	var all []byte
	for _, m := range sampleMessages() {
		one, _ := appendFrame(nil, m)
		f.Add(one)
		all = append(all, one...)
	}
	f.Add(all)
	f.Add(all[:len(all)-3])
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, body []byte) {
		fr := frameReader{r: bytes.NewReader(body)}
		for i := 0; i < 1000; i++ {
			m, err := fr.readMessage()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrBadFrame) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			again, err := appendFrame(nil, m)
			if err != nil {
				t.Fatal(err)
			}
			back, err := (&frameReader{r: bytes.NewReader(again)}).readMessage()
			if err != nil || !proto.Equal(back, m) {
				t.Fatalf("re-encoded message does not round-trip: %v", err)
			}
		}
	})
}

// FuzzChunkReader reads arbitrary snapshot bodies after a valid first
// chunk: never a panic, and io.EOF only after a chunk marked last whose
// offsets were all consistent.
func FuzzChunkReader(f *testing.F) {
	var body []byte
	body, _ = appendFrame(body, &raftpb.SnapshotChunk{Offset: 3, Data: []byte("def")})
	body, _ = appendFrame(body, &raftpb.SnapshotChunk{Offset: 6, Data: []byte("g"), Last: true})
	f.Add(body)
	f.Add(body[:7])
	bad, _ := appendFrame(nil, &raftpb.SnapshotChunk{Offset: 9, Data: []byte("x"), Last: true})
	f.Add(bad)
	f.Fuzz(func(t *testing.T, rest []byte) {
		cr := &chunkReader{fr: &frameReader{r: bytes.NewReader(rest)}, cur: []byte("abc"), off: 3}
		data, err := io.ReadAll(io.LimitReader(cr, 1<<20))
		if err != nil {
			return
		}
		if !cr.last || len(data) < 3 || string(data[:3]) != "abc" {
			t.Fatalf("clean end without a last chunk (last=%v, %d bytes)", cr.last, len(data))
		}
		if uint64(len(data)) != cr.off && len(data) < 1<<20 {
			t.Fatalf("read %d bytes, offsets say %d", len(data), cr.off)
		}
	})
}
