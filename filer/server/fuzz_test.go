package server_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/pb"
)

func frame(ev *pb.EntryEvent) []byte {
	b, _ := proto.Marshal(ev)
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

// FuzzReadEvent: any bytes from the network give events or an error,
// never a panic, and what a frame held comes back.
func FuzzReadEvent(f *testing.F) {
	f.Add(frame(&pb.EntryEvent{TsNs: 1}))
	f.Add(frame(&pb.EntryEvent{TsNs: 5, NewEntry: &pb.Entry{FullPath: "/a/b", Chunks: []*pb.FileChunk{{FileId: "3,01", Size: 9}}}}))
	f.Add(append(frame(&pb.EntryEvent{}), frame(&pb.EntryEvent{OldEntry: &pb.Entry{FullPath: "/x"}})...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x05, 0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for i := 0; i < 1000; i++ {
			ev, err := server.ReadEvent(r)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, filer.ErrCorrupt) {
					t.Fatalf("error %v is neither a cut stream nor ErrCorrupt", err)
				}
				return
			}
			// A decoded event re-encodes to a frame that decodes the same.
			again, err := server.ReadEvent(bufio.NewReader(bytes.NewReader(frame(ev))))
			if err != nil || !proto.Equal(ev, again) {
				t.Fatalf("re-read of %v: %v %v", ev, again, err)
			}
		}
	})
}
