package superblock

import (
	"errors"
	"testing"
)

func TestParseReplicaPlacement(t *testing.T) {
	cases := []struct {
		in     string
		want   ReplicaPlacement
		str    string
		b      byte
		copies int
	}{
		{"", ReplicaPlacement{}, "000", 0, 1},
		{"0", ReplicaPlacement{}, "000", 0, 1},
		{"1", ReplicaPlacement{SameRack: 1}, "001", 1, 2},
		{"10", ReplicaPlacement{DiffRack: 1}, "010", 10, 2},
		{"001", ReplicaPlacement{SameRack: 1}, "001", 1, 2},
		{"010", ReplicaPlacement{DiffRack: 1}, "010", 10, 2},
		{"100", ReplicaPlacement{DiffDataCenter: 1}, "100", 100, 2},
		{"200", ReplicaPlacement{DiffDataCenter: 2}, "200", 200, 3},
		{"110", ReplicaPlacement{DiffDataCenter: 1, DiffRack: 1}, "110", 110, 3},
		{"099", ReplicaPlacement{DiffRack: 9, SameRack: 9}, "099", 99, 19},
		{"255", ReplicaPlacement{DiffDataCenter: 2, DiffRack: 5, SameRack: 5}, "255", 255, 13},
	}
	for _, c := range cases {
		got, err := ParseReplicaPlacement(c.in)
		if err != nil {
			t.Errorf("ParseReplicaPlacement(%q): %v", c.in, err)
			continue
		}
		if got != c.want || got.String() != c.str || got.Byte() != c.b || got.CopyCount() != c.copies || !got.Valid() {
			t.Errorf("ParseReplicaPlacement(%q) = %+v %q %d %d", c.in, got, got.String(), got.Byte(), got.CopyCount())
		}
		if back := PlacementFromByte(c.b); back != got {
			t.Errorf("PlacementFromByte(%d) = %+v, want %+v", c.b, back, got)
		}
	}
}

func TestParseReplicaPlacementErrors(t *testing.T) {
	for _, in := range []string{"abc", "a", "0a1", "256", "300", "999", "0000", "1000", "-1", " 01", "01 ", "1.0"} {
		_, err := ParseReplicaPlacement(in)
		if !errors.Is(err, ErrBadPlacement) {
			t.Errorf("ParseReplicaPlacement(%q): err = %v, want ErrBadPlacement", in, err)
			continue
		}
		if want := "unexpected replication type: " + in; err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
		var pe *PlacementError
		if !errors.As(err, &pe) || pe.Input != in {
			t.Errorf("errors.As PlacementError failed for %q", in)
		}
	}
}

func TestPlacementFromEveryByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		p := PlacementFromByte(byte(b))
		if !p.Valid() || p.Byte() != byte(b) {
			t.Fatalf("byte %d: %+v -> %d", b, p, p.Byte())
		}
		back, err := ParseReplicaPlacement(p.String())
		if err != nil || back != p {
			t.Fatalf("byte %d: %q parses as %+v, %v", b, p.String(), back, err)
		}
	}
}
