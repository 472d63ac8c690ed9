package superblock

import (
	"bytes"
	"errors"
	"testing"

	"weedfs.dev/weed/storage/needle"
)

func FuzzSuperBlock(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{3, 0, 0, 0, 0, 1, 0, 0})
	f.Add([]byte{2, 110, 3, 3, 1, 2, 0, 4, 1, 2, 3, 4})
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0xff, 0xff})
	f.Add([]byte{3, 255, 255, 6, 0, 0, 0, 9, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		enc := s.Bytes()
		if len(enc) != s.Len() || s.Len()%8 != 0 {
			t.Fatalf("Bytes %d, Len %d", len(enc), s.Len())
		}
		// Version 1 ignores the extra size field, so compare 6 bytes there.
		n := Size + len(s.Extra)
		if s.Version == needle.Version1 {
			n = 6
		}
		if !bytes.Equal(enc[:n], b[:n]) {
			t.Fatalf("re-encoding differs: %x vs %x", enc[:n], b[:n])
		}
		back, err := Parse(enc)
		if err != nil || back.Version != s.Version || back.Placement != s.Placement || back.TTL != s.TTL ||
			back.CompactionRevision != s.CompactionRevision || !bytes.Equal(back.Extra, s.Extra) {
			t.Fatalf("parse(bytes(x)) != x: %+v vs %+v, %v", back, s, err)
		}
	})
}

func FuzzReplicaPlacement(f *testing.F) {
	for _, s := range []string{"", "1", "01", "001", "010", "100", "200", "255", "256", "abc", "0000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseReplicaPlacement(s)
		if err != nil {
			if !errors.Is(err, ErrBadPlacement) {
				t.Fatalf("error %v does not wrap ErrBadPlacement", err)
			}
			return
		}
		if !p.Valid() || len(p.String()) != 3 || p.String()[3-len(s):] != s {
			t.Fatalf("%q -> %+v %q", s, p, p.String())
		}
		if back := PlacementFromByte(p.Byte()); back != p {
			t.Fatalf("byte round trip %+v -> %+v", p, back)
		}
		back, err := ParseReplicaPlacement(p.String())
		if err != nil || back != p {
			t.Fatalf("string round trip %+v -> %+v, %v", p, back, err)
		}
	})
}

func FuzzVolumeInfo(f *testing.F) {
	f.Add([]byte(seaweedVIF))
	f.Add([]byte(`{"version":2,"datFileSize":12,"x":{"y":[1]}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		vi, err := ParseVolumeInfo(b)
		if err != nil {
			if !errors.Is(err, ErrBadVolumeInfo) {
				t.Fatalf("error %v does not wrap ErrBadVolumeInfo", err)
			}
			return
		}
		out, err := vi.Marshal()
		if err != nil {
			t.Fatalf("parsed info does not marshal: %v", err)
		}
		again, err := ParseVolumeInfo(out)
		if err != nil {
			t.Fatalf("marshalled info does not parse: %v\n%s", err, out)
		}
		out2, err := again.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("marshal not stable:\n%s\n%s", out, out2)
		}
	})
}

// seaweedVIF is the .vif SeaweedFS 4.44 wrote for the fixture volume.
const seaweedVIF = `{
  "files": [],
  "version": 3,
  "replication": "",
  "bytesOffset": 4,
  "datFileSize": "0",
  "expireAtSec": "0",
  "readOnly": false,
  "ecShardConfig": null,
  "readOnlyCanDelete": false
}`
