package superblock

import (
	"errors"
	"strconv"
)

// ErrBadPlacement is wrapped by every replica placement parsing error.
var ErrBadPlacement = errors.New("superblock: bad replica placement")

// PlacementError reports a replica placement string that cannot be parsed.
// Its message is SeaweedFS's own ("unexpected replication type: abc"), so
// HTTP handlers can return it as is; it matches ErrBadPlacement with
// errors.Is.
type PlacementError struct{ Input string }

func (e *PlacementError) Error() string { return "unexpected replication type: " + e.Input }

// Is makes errors.Is(err, ErrBadPlacement) true.
func (e *PlacementError) Is(target error) bool { return target == ErrBadPlacement }

// ReplicaPlacement says how many extra copies of a volume live where.
type ReplicaPlacement struct {
	DiffDataCenter uint8 // x: copies in other data centers
	DiffRack       uint8 // y: copies on other racks of the same data center
	SameRack       uint8 // z: copies on other servers of the same rack
}

// ParseReplicaPlacement parses "xyz", zero-filling missing leading digits.
// Each digit is 0-9 and x*100+y*10+z must fit a byte.
func ParseReplicaPlacement(s string) (ReplicaPlacement, error) {
	if len(s) > 3 {
		return ReplicaPlacement{}, &PlacementError{Input: s}
	}
	var d [3]uint8
	off := 3 - len(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return ReplicaPlacement{}, &PlacementError{Input: s}
		}
		d[off+i] = c - '0'
	}
	if int(d[0])*100+int(d[1])*10+int(d[2]) > 255 {
		return ReplicaPlacement{}, &PlacementError{Input: s}
	}
	return ReplicaPlacement{DiffDataCenter: d[0], DiffRack: d[1], SameRack: d[2]}, nil
}

// PlacementFromByte decodes the super block's placement byte.
func PlacementFromByte(b byte) ReplicaPlacement {
	return ReplicaPlacement{DiffDataCenter: b / 100, DiffRack: b / 10 % 10, SameRack: b % 10}
}

// Byte returns the super block's placement byte x*100+y*10+z. It is only
// meaningful for a placement that ParseReplicaPlacement or PlacementFromByte
// returned (Valid).
func (p ReplicaPlacement) Byte() byte {
	return byte(int(p.DiffDataCenter)*100 + int(p.DiffRack)*10 + int(p.SameRack))
}

// Valid reports whether every digit is 0-9 and the byte value fits.
func (p ReplicaPlacement) Valid() bool {
	return p.DiffDataCenter <= 9 && p.DiffRack <= 9 && p.SameRack <= 9 &&
		int(p.DiffDataCenter)*100+int(p.DiffRack)*10+int(p.SameRack) <= 255
}

// CopyCount returns the number of copies of each volume: x+y+z+1.
func (p ReplicaPlacement) CopyCount() int {
	return int(p.DiffDataCenter) + int(p.DiffRack) + int(p.SameRack) + 1
}

// String returns the three-digit form, "001". A placement that is not Valid
// prints each count in full, which ParseReplicaPlacement rejects.
func (p ReplicaPlacement) String() string {
	return strconv.Itoa(int(p.DiffDataCenter)) + strconv.Itoa(int(p.DiffRack)) + strconv.Itoa(int(p.SameRack))
}
