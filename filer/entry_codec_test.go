package filer

import (
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

func fullEntry() *Entry {
	return &Entry{
		FullPath:      "/docs/a.txt",
		Mode:          0o640,
		UID:           7,
		GID:           8,
		Mtime:         time.Unix(1_700_000_000, 123_456_789),
		Crtime:        time.Unix(1_600_000_000, 1),
		Mime:          "text/plain",
		FileSize:      14,
		Md5:           []byte{1, 2, 3},
		TTLSec:        60,
		SymlinkTarget: "/x",
		Collection:    "c",
		Replication:   "010",
		Extended:      map[string][]byte{"Seaweed-Owner": []byte("bob")},
		Content:       []byte("hi"),
		Chunks: []Chunk{
			{Fid: "36,0ab47563d9f77a", Offset: 0, Size: 14, ModifiedTsNs: 99, ETag: "e"},
			{Fid: "37,01637037d6", Offset: 14, Size: 1, ModifiedTsNs: 100, IsManifest: true},
		},
	}
}

func TestEntryRoundTrip(t *testing.T) {
	for _, e := range []*Entry{fullEntry(), {FullPath: "/empty"}, {FullPath: "/dir", Mode: os.ModeDir | 0o755}} {
		b, err := EncodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeEntry(e.FullPath, b)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Mtime.Equal(e.Mtime) || !got.Crtime.Equal(e.Crtime) {
			t.Errorf("%s: times %v %v, want %v %v", e.FullPath, got.Mtime, got.Crtime, e.Mtime, e.Crtime)
		}
		g, w := *got, *e
		g.Mtime, g.Crtime, w.Mtime, w.Crtime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("round trip:\n got  %+v\n want %+v", g, w)
		}
		if got.IsDirectory() != e.IsDirectory() {
			t.Errorf("%s: IsDirectory changed", e.FullPath)
		}
	}
}

// The path lives in the store's key, not in the value.
func TestEncodeLeavesPathOut(t *testing.T) {
	b, err := EncodeEntry(fullEntry())
	if err != nil {
		t.Fatal(err)
	}
	var m pb.Entry
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.FullPath != "" {
		t.Errorf("stored bytes hold the path %q", m.FullPath)
	}
	if got := ToPB(fullEntry()).FullPath; got != "/docs/a.txt" {
		t.Errorf("ToPB path = %q", got)
	}
	if got := FromPB(ToPB(fullEntry())).FullPath; got != "/docs/a.txt" {
		t.Errorf("FromPB path = %q", got)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, b := range [][]byte{{0xff}, {0x0a, 0x05, 'a'}, {0x22, 0x80}} {
		if _, err := DecodeEntry("/x", b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeEntry(%x) = %v, want ErrCorrupt", b, err)
		}
	}
}

// FuzzDecodeEntry: any bytes decode or fail with ErrCorrupt, never panic,
// and what decodes encodes and decodes again to the same entry.
func FuzzDecodeEntry(f *testing.F) {
	b, _ := EncodeEntry(fullEntry())
	f.Add(b)
	b, _ = EncodeEntry(&Entry{Mode: os.ModeDir})
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x22, 0x02, 0x10, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry("/f", b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		b2, err := EncodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := DecodeEntry("/f", b2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e2.MarshalJSON(); err != nil {
			t.Fatalf("JSON of a decoded entry: %v", err)
		}
		if e2.FileSize != e.FileSize || e2.Mode != e.Mode || len(e2.Chunks) != len(e.Chunks) || !e2.Mtime.Equal(e.Mtime) {
			t.Fatalf("re-encode changed the entry: %+v vs %+v", e, e2)
		}
	})
}
