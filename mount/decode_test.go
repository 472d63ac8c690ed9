package mount

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
)

func frame(t testing.TB, e *filer.Entry) []byte {
	b, err := proto.Marshal(filer.ToPB(e))
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

func TestReadFramesRoundTrip(t *testing.T) {
	in := []*filer.Entry{
		{FullPath: "/a/b", Mode: 0o644, FileSize: 3, Content: []byte("abc")},
		{FullPath: "/a/c", Mode: 0o644, FileSize: 10, Chunks: []filer.Chunk{{Fid: "3,01637037d6", Size: 10}}},
	}
	var buf []byte
	for _, e := range in {
		buf = append(buf, frame(t, e)...)
	}
	var out []*filer.Entry
	if err := readFrames(bufio.NewReader(bytes.NewReader(buf)), func(e *filer.Entry) { out = append(out, e) }); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].FullPath != "/a/b" || string(out[0].Content) != "abc" || out[1].Chunks[0].Fid != "3,01637037d6" {
		t.Fatalf("decoded %+v", out)
	}
	// A frame cut short is an error, not a silent end.
	if err := readFrames(bufio.NewReader(bytes.NewReader(buf[:len(buf)-2])), func(*filer.Entry) {}); err == nil {
		t.Fatal("cut frame accepted")
	}
}

// FuzzReadFrames: listing frames from the network never panic, and every
// entry handed out has a normalised path.
func FuzzReadFrames(f *testing.F) {
	f.Add(frame(f, &filer.Entry{FullPath: "/x", Mode: 0o644, Content: []byte("hi")}))
	f.Add(frame(f, &filer.Entry{FullPath: "/d", Mode: filer.DefaultDirMode}))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{3, 0x0a, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = readFrames(bufio.NewReader(bytes.NewReader(b)), func(e *filer.Entry) {
			if p, err := filer.NormalizePath(e.FullPath); err != nil || p != e.FullPath {
				t.Fatalf("entry with path %q handed out", e.FullPath)
			}
		})
	})
}

// naiveRead lays chunks byte by byte, later over earlier.
func naiveRead(chunks []filer.Chunk, size int64) []int {
	owner := make([]int, size)
	for i := range owner {
		owner[i] = -1
	}
	for i, c := range chunks {
		for b := c.Offset; b < c.Offset+int64(c.Size) && b < size; b++ {
			owner[b] = i
		}
	}
	return owner
}

func TestBuildViewMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 500; round++ {
		const size = 200
		var chunks []filer.Chunk
		for i := rng.IntN(8); i > 0; i-- {
			off := rng.Int64N(size)
			chunks = append(chunks, filer.Chunk{Fid: string(rune('a' + len(chunks))), Offset: off, Size: uint64(rng.Int64N(size - off + 1))})
		}
		want := naiveRead(chunks, size)
		v := buildView(chunks)
		got := make([]int, size)
		for i := range got {
			got[i] = -1
		}
		for i := 1; i < len(v); i++ {
			if v[i].start < v[i-1].stop {
				t.Fatalf("round %d: pieces overlap: %+v", round, v)
			}
		}
		for _, p := range v {
			idx := int(p.chunk.Fid[0] - 'a')
			for b := p.start; b < p.stop; b++ {
				got[b] = idx
			}
		}
		for b := range want {
			if got[b] != want[b] {
				t.Fatalf("round %d: byte %d from chunk %d, want %d (chunks %+v)", round, b, got[b], want[b], chunks)
			}
		}
	}
}

func TestTruncateEntry(t *testing.T) {
	e := &filer.Entry{FileSize: 30, Chunks: []filer.Chunk{{Fid: "a", Offset: 0, Size: 10}, {Fid: "b", Offset: 10, Size: 10}, {Fid: "c", Offset: 20, Size: 10}}}
	truncateEntry(e, 15)
	if e.FileSize != 15 || len(e.Chunks) != 2 || e.Chunks[1].Size != 5 {
		t.Fatalf("after truncate to 15: %+v", e)
	}
	// Growing again must not bring back the clipped bytes.
	truncateEntry(e, 40)
	v := buildView(e.Chunks)
	if last := v[len(v)-1]; last.stop != 15 {
		t.Fatalf("visible bytes end at %d, want 15", last.stop)
	}
	c := &filer.Entry{FileSize: 5, Content: []byte("hello")}
	truncateEntry(c, 2)
	if string(c.Content) != "he" || c.FileSize != 2 {
		t.Fatalf("inline truncate: %+v", c)
	}
	truncateEntry(c, 4)
	if !bytes.Equal(c.Content, []byte("he\x00\x00")) {
		t.Fatalf("inline grow: %q", c.Content)
	}
}
