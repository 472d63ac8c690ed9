package idx

import (
	"bytes"
	"errors"
	"testing"
)

func TestEntryGolden(t *testing.T) {
	// The tombstone of key 5 in the SeaweedFS fixture volume's .idx.
	want := []byte{0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0xbf, 0xff, 0xff, 0xff, 0xff}
	e := Entry{Key: 5, Offset: 0xbf, Size: Tombstone}
	got := e.Append([]byte("x"))
	if !bytes.Equal(got[1:], want) || got[0] != 'x' {
		t.Fatalf("Append = %x", got)
	}
	d, err := Decode(want)
	if err != nil || d != e {
		t.Fatalf("Decode = %+v, %v", d, err)
	}
	if !d.IsDeleted() || d.ActualOffset() != 0xbf*8 {
		t.Fatalf("IsDeleted %v ActualOffset %d", d.IsDeleted(), d.ActualOffset())
	}
	live := Entry{Key: 1, Offset: 1, Size: 0x3f9}
	if live.IsDeleted() || live.ActualOffset() != 8 {
		t.Fatalf("live entry %+v", live)
	}
	// Size 0 is a live empty file, not a deletion.
	if (Entry{Key: 7, Offset: 0xd6, Size: 0}).IsDeleted() {
		t.Fatal("empty file counted as deleted")
	}
	// SeaweedFS reads Size as int32: any negative size is a deletion.
	if !(Entry{Size: 0x80000000}).IsDeleted() {
		t.Fatal("negative size not deleted")
	}
}

func TestDecodeShort(t *testing.T) {
	b := Entry{Key: 1}.Append(nil)
	for i := 0; i < EntrySize; i++ {
		if _, err := Decode(b[:i]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("len %d: err = %v", i, err)
		}
	}
}

func TestToOffset(t *testing.T) {
	for _, c := range []struct {
		actual int64
		want   uint32
	}{{0, 0}, {8, 1}, {0x6b0, 0xd6}, {MaxVolumeSize - 8, 1<<32 - 1}} {
		got, err := ToOffset(c.actual)
		if err != nil || got != c.want {
			t.Errorf("ToOffset(%d) = %d, %v; want %d", c.actual, got, err, c.want)
		}
		if back := (Entry{Offset: got}).ActualOffset(); back != c.actual {
			t.Errorf("ActualOffset(%d) = %d", got, back)
		}
	}
	for _, bad := range []int64{1, 7, 12, -8, MaxVolumeSize, MaxVolumeSize + 8, 1 << 62} {
		if _, err := ToOffset(bad); !errors.Is(err, ErrBadOffset) {
			t.Errorf("ToOffset(%d): err = %v", bad, err)
		}
	}
}
