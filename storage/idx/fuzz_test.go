package idx

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzIdxEntry(f *testing.F) {
	f.Add(Entry{Key: 5, Offset: 0xbf, Size: Tombstone}.Append(nil))
	f.Add(Entry{Key: 1, Offset: 1, Size: 0x3f9}.Append(nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) || len(b) >= EntrySize {
				t.Fatalf("len %d: err = %v", len(b), err)
			}
			return
		}
		if enc := e.Append(nil); !bytes.Equal(enc, b[:EntrySize]) {
			t.Fatalf("Append(Decode(%x)) = %x", b[:EntrySize], enc)
		}
		if off, err := ToOffset(e.ActualOffset()); err != nil || off != e.Offset {
			t.Fatalf("offset %d round trips as %d, %v", e.Offset, off, err)
		}
	})
}

func FuzzWalk(f *testing.F) {
	var seed []byte
	for i := 0; i < 5; i++ {
		seed = Entry{Key: uint64(i), Offset: uint32(i), Size: uint32(i * 10)}.Append(seed)
	}
	f.Add(seed)
	f.Add(seed[:EntrySize*2+7])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		i := 0
		err := Walk(bytes.NewReader(b), func(e Entry) error {
			want, derr := Decode(b[i*EntrySize:])
			if derr != nil || e != want {
				t.Fatalf("entry %d = %+v, want %+v (%v)", i, e, want, derr)
			}
			i++
			return nil
		})
		if i != len(b)/EntrySize {
			t.Fatalf("%d entries from %d bytes", i, len(b))
		}
		var te *TornError
		if len(b)%EntrySize == 0 {
			if err != nil {
				t.Fatalf("whole entries: err = %v", err)
			}
		} else if !errors.As(err, &te) || te.Entries != int64(i) || te.Trailing != len(b)%EntrySize || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("torn tail: err = %v", err)
		}
	})
}
