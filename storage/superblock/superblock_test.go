package superblock

import (
	"bytes"
	"errors"
	"testing"

	"weedfs.dev/weed/storage/needle"
)

func TestSuperBlockGolden(t *testing.T) {
	// Observed by SEAWEEDFS-WIRE §6.1: a fresh volume, then after one vacuum.
	fresh := SuperBlock{Version: needle.Version3}
	if got := fresh.Bytes(); !bytes.Equal(got, []byte{3, 0, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("fresh = %x", got)
	}
	vac := SuperBlock{Version: needle.Version3, CompactionRevision: 1}
	if got := vac.Bytes(); !bytes.Equal(got, []byte{3, 0, 0, 0, 0, 1, 0, 0}) {
		t.Fatalf("vacuumed = %x", got)
	}
	full := SuperBlock{
		Version:            needle.Version3,
		Placement:          ReplicaPlacement{DiffDataCenter: 1, DiffRack: 1},
		TTL:                needle.TTL{Count: 3, Unit: needle.TTLDay},
		CompactionRevision: 0x0102,
	}
	if got := full.Bytes(); !bytes.Equal(got, []byte{3, 110, 3, 3, 1, 2, 0, 0}) {
		t.Fatalf("full = %x", got)
	}
	if full.Len() != Size {
		t.Fatalf("Len = %d", full.Len())
	}
}

func TestSuperBlockRoundTrip(t *testing.T) {
	cases := []SuperBlock{
		{Version: needle.Version3},
		{Version: needle.Version2, Placement: PlacementFromByte(200), TTL: needle.TTL{Count: 255, Unit: needle.TTLYear}, CompactionRevision: 65535},
		{Version: needle.Version1, Placement: PlacementFromByte(1)},
		{Version: needle.Version3, Extra: []byte{0x0a, 0x02, 0x08, 0x01}},
		{Version: needle.Version3, Extra: bytes.Repeat([]byte{7}, 8)},
		{Version: needle.Version3, Extra: bytes.Repeat([]byte{7}, 13)},
	}
	for _, s := range cases {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		b := s.Bytes()
		if len(b) != s.Len() || s.Len()%8 != 0 || s.Len() < Size+len(s.Extra) {
			t.Fatalf("%+v: %d bytes, Len %d", s, len(b), s.Len())
		}
		got, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != s.Version || got.Placement != s.Placement || got.TTL != s.TTL ||
			got.CompactionRevision != s.CompactionRevision || !bytes.Equal(got.Extra, s.Extra) || got.Len() != s.Len() {
			t.Fatalf("round trip: %+v -> %+v", s, got)
		}
		// Padding after Extra may be absent from the input.
		if _, err := Parse(b[:Size+len(s.Extra)]); err != nil {
			t.Fatalf("without padding: %v", err)
		}
	}
}

func TestSuperBlockParseErrors(t *testing.T) {
	good := SuperBlock{Version: needle.Version3, Extra: []byte{1, 2, 3, 4}}.Bytes()
	for i := 0; i < Size; i++ {
		if _, err := Parse(good[:i]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("short %d: err = %v", i, err)
		}
	}
	if _, err := Parse(good[:Size+3]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("extra past input: %v", err)
	}
	for _, v := range []byte{0, 4, 0xff} {
		b := bytes.Clone(good)
		b[0] = v
		if _, err := Parse(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("version byte %d: err = %v", v, err)
		}
	}
	b := bytes.Clone(good)
	b[3] = 9 // unknown TTL unit
	if _, err := Parse(b); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad ttl unit: %v", err)
	}
	// Version 1 ignores the extra size field.
	v1 := []byte{1, 0, 0, 0, 0, 0, 0xff, 0xff}
	s, err := Parse(v1)
	if err != nil || s.Extra != nil || s.Len() != Size {
		t.Fatalf("v1: %+v %v", s, err)
	}
}

func TestSuperBlockValidate(t *testing.T) {
	bad := []SuperBlock{
		{Version: 0},
		{Version: 4},
		{Version: needle.Version3, Placement: ReplicaPlacement{DiffDataCenter: 3}},
		{Version: needle.Version3, Placement: ReplicaPlacement{SameRack: 10}},
		{Version: needle.Version3, TTL: needle.TTL{Count: 1, Unit: 7}},
		{Version: needle.Version3, Extra: make([]byte, 1<<16)},
		{Version: needle.Version1, Extra: []byte{1}},
	}
	for _, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", s)
		}
	}
}
