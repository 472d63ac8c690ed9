package needle

import (
	"bytes"
	"errors"
	"testing"
)

// AppendAround with the data put in its place is byte for byte Append, for
// every version and mix of optional fields, and sets the same fields.
func TestAppendAroundMatchesAppend(t *testing.T) {
	needles := []Needle{
		{Cookie: 1, ID: 2},
		{Cookie: 1, ID: 2, Checksum: 0xdeadbeef}, // a tombstone
		{Cookie: 3, ID: 4, Data: bytes.Repeat([]byte("x"), 4<<10), AppendAtNs: 77},
		{Cookie: 5, ID: 6, Data: []byte("d"), Name: []byte("name.txt"), Mime: []byte("text/plain"), LastModified: 1 << 33,
			TTL: TTL{Count: 3, Unit: TTLDay}, Pairs: []byte(`{"a":"b"}`), Flags: FlagGzip},
	}
	for _, v := range []Version{Version1, Version2, Version3} {
		for i, n := range needles {
			if v == Version1 && (len(n.Name) > 0 || n.Flags != 0) {
				continue
			}
			a, b := n, n
			want, err := a.Append([]byte("head"), v)
			if err != nil {
				t.Fatal(err)
			}
			out, split, err := b.AppendAround([]byte("head"), v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out[:4], []byte("head")) || split < 4 || split > len(out) {
				t.Fatalf("v%d needle %d: prefix lost or split %d out of range", v, i, split)
			}
			got := append(append(bytes.Clone(out[:split]), n.Data...), out[split:]...)
			if !bytes.Equal(got, want) {
				t.Errorf("v%d needle %d:\n got %x\nwant %x", v, i, got, want)
			}
			if a.Size != b.Size || a.Checksum != b.Checksum || a.Flags != b.Flags {
				t.Errorf("v%d needle %d: fields set differ: %+v vs %+v", v, i, b, a)
			}
		}
	}
}

// A checksum computed piece by piece is the one Append computes, and
// AppendAroundChecksum stores what it is given.
func TestAppendAroundChecksum(t *testing.T) {
	n := Needle{Cookie: 3, ID: 4, Data: bytes.Repeat([]byte("0123456789"), 10000), AppendAtNs: 9}
	var crc uint32
	for p := n.Data; len(p) > 0; p = p[min(len(p), 4096):] {
		crc = UpdateCRC(crc, p[:min(len(p), 4096)])
	}
	if crc != CRC(n.Data) {
		t.Fatalf("UpdateCRC in pieces %08x, CRC %08x", crc, CRC(n.Data))
	}
	a, b := n, n
	want, _ := a.Append(nil, Version3)
	out, split, err := b.AppendAroundChecksum(nil, Version3, crc)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(append(bytes.Clone(out[:split]), n.Data...), out[split:]...); !bytes.Equal(got, want) {
		t.Fatal("AppendAroundChecksum with the right CRC differs from Append")
	}
	c := n
	out, split, _ = c.AppendAroundChecksum(nil, Version3, crc^1)
	rec := append(append(bytes.Clone(out[:split]), n.Data...), out[split:]...)
	if _, err := Decode(rec, Version3); !errors.Is(err, ErrChecksum) {
		t.Fatalf("a record stored with a wrong CRC decodes: %v", err)
	}
}
