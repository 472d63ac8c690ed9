package needlemap

import "fmt"

// MaxSize is the largest needle size the map stores. Needle sizes are int32
// on disk (SeaweedFS), so the top bit of a uint32 size never belongs to a
// live needle: Load treats such a size (the tombstone 0xFFFFFFFF included)
// as a delete, as SeaweedFS does, and Set does the same.
const MaxSize = 1<<31 - 1

// Value is where a needle lives in the .dat file.
type Value struct {
	// Offset is the needle's position in 8-byte units (bytes = Offset*8).
	Offset uint32
	// Size is the needle's Size field. A deleted needle keeps the size and
	// offset it had before the delete, so it can still be read on request.
	Size    uint32
	deleted bool
}

// Deleted reports whether the needle was deleted.
func (v Value) Deleted() bool { return v.deleted }

// ByteOffset is the needle's position in bytes.
func (v Value) ByteOffset() int64 { return int64(v.Offset) * 8 }

func (v Value) String() string {
	if v.deleted {
		return fmt.Sprintf("{off %d size %d deleted}", v.Offset, v.Size)
	}
	return fmt.Sprintf("{off %d size %d}", v.Offset, v.Size)
}

// Stats are the counters SeaweedFS keeps beside its needle map, updated
// incrementally with its rules:
//
//   - a put adds 1 to FileCount and its size to ContentSize; if it
//     overwrites a live needle, that needle's size moves to DeletedSize and
//     DeletedCount grows by 1;
//   - a delete adds 1 to DeletedCount and the live size it removes (0 if the
//     key was absent or already deleted) to DeletedSize;
//   - MaxKey is the largest key ever put or deleted.
//
// So ContentSize counts every needle put since the .idx began, and
// DeletedSize/ContentSize is the garbage ratio vacuum looks at.
//
// One deliberate difference: SeaweedFS's loader takes a .idx entry of size
// 0 (an empty needle) for a delete, so an empty file it served disappears
// after a restart. Here it is a live needle of size 0, counted as a put
// (the fixture volume's empty.dat stays readable).
type Stats struct {
	FileCount    uint64
	DeletedCount uint64
	ContentSize  uint64
	DeletedSize  uint64
	MaxKey       uint64
	// Live is the number of keys whose needle is not deleted.
	Live int
}

// GarbageRatio is DeletedSize/ContentSize, 0 for an empty map.
func (s Stats) GarbageRatio() float64 {
	if s.ContentSize == 0 {
		return 0
	}
	return float64(s.DeletedSize) / float64(s.ContentSize)
}
