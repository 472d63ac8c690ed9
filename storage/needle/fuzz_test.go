package needle_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"weedfs.dev/weed/storage/needle"
)

// fixtureRecords returns the raw records of the SeaweedFS fixture volume
// (a copy of it), as fuzz seeds.
func fixtureRecords(f *testing.F) [][]byte {
	dir := copyFixture(f)
	dat, err := os.ReadFile(filepath.Join(dir, "fx_1.dat"))
	if err != nil {
		f.Fatal(err)
	}
	s := needle.NewScanner(bytes.NewReader(dat), 8, int64(len(dat)), needle.Version3)
	var out [][]byte
	for s.Next() && len(out) < 20 {
		out = append(out, bytes.Clone(s.Record()))
	}
	if s.Err() != nil {
		f.Fatal(s.Err())
	}
	return out
}

func FuzzNeedleDecode(f *testing.F) {
	for _, rec := range fixtureRecords(f) {
		f.Add(rec, uint8(3))
	}
	n := needle.Needle{Cookie: 1, ID: 2, Data: []byte("seed"), Name: []byte("n"), Mime: []byte("m"), LastModified: 9, TTL: needle.TTL{Count: 1, Unit: needle.TTLDay}, Pairs: []byte("{}")}
	for _, v := range []needle.Version{needle.Version2, needle.Version3} {
		b, _ := n.Append(nil, v)
		f.Add(b, uint8(v))
		f.Add(b[:len(b)-3], uint8(v))
	}
	v1 := needle.Needle{Cookie: 1, ID: 2, Data: []byte("v1")}
	b1, _ := v1.Append(nil, needle.Version1)
	f.Add(b1, uint8(1))
	f.Add([]byte{}, uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, ver uint8) {
		v := needle.Version(ver)
		n, err := needle.Decode(b, v)
		if err != nil {
			if !errors.Is(err, needle.ErrCorrupt) && !errors.Is(err, needle.ErrVersion) {
				t.Fatalf("error %v wraps neither ErrCorrupt nor ErrVersion", err)
			}
			return
		}
		rec := b[:needle.RecordLen(n.Size, v)]
		storedCRC := n.Checksum
		again := *n
		enc, err := again.Append(nil, v)
		if err != nil {
			t.Fatalf("decoded needle does not re-encode: %v", err)
		}
		if n.Size > 0 && storedCRC != needle.CRC(n.Data) {
			// Legacy checksum form: Append writes the raw CRC.
			binary.BigEndian.PutUint32(enc[needle.HeaderSize+int(n.Size):], storedCRC)
		}
		pad := needle.PaddingLen(n.Size, v)
		if len(enc) != len(rec) || !bytes.Equal(enc[:len(enc)-pad], rec[:len(rec)-pad]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", enc, rec)
		}
		around := *n
		parts, split, err := around.AppendAround([]byte("prefix"), v)
		if err != nil {
			t.Fatalf("AppendAround fails where Append does not: %v", err)
		}
		joined := append(append(bytes.Clone(parts[len("prefix"):split]), n.Data...), parts[split:]...)
		if n.Size > 0 && storedCRC != needle.CRC(n.Data) {
			binary.BigEndian.PutUint32(joined[needle.HeaderSize+int(n.Size):], storedCRC)
		}
		if !bytes.Equal(joined, enc) {
			t.Fatalf("AppendAround around the data differs from Append:\n got %x\nwant %x", joined, enc)
		}
		back, err := needle.Decode(enc, v)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if back.ID != n.ID || back.Cookie != n.Cookie || back.Size != n.Size || !bytes.Equal(back.Data, n.Data) ||
			back.Flags != n.Flags || !bytes.Equal(back.Name, n.Name) || !bytes.Equal(back.Pairs, n.Pairs) ||
			back.TTL != n.TTL || back.LastModified != n.LastModified || back.AppendAtNs != n.AppendAtNs {
			t.Fatalf("decode(encode(x)) != x: %+v vs %+v", back, n)
		}
	})
}

func FuzzScanner(f *testing.F) {
	recs := fixtureRecords(f)
	f.Add(bytes.Join(recs[:5], nil))
	f.Add(bytes.Join(recs[:3], nil)[:200])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := needle.NewScanner(bytes.NewReader(b), 0, int64(len(b)), needle.Version3)
		prev := int64(-1)
		for s.Next() {
			if s.Offset() <= prev || s.Offset()%8 != 0 {
				t.Fatalf("offset %d after %d", s.Offset(), prev)
			}
			prev = s.Offset()
			rec := s.Record()
			if !bytes.Equal(rec, b[s.Offset():s.Offset()+int64(len(rec))]) {
				t.Fatal("Record is not the file's bytes")
			}
			if _, err := needle.Decode(rec, needle.Version3); err != nil {
				t.Fatalf("scanned record does not decode: %v", err)
			}
		}
		if err := s.Err(); err != nil && !errors.Is(err, needle.ErrCorrupt) {
			t.Fatalf("err = %v", err)
		}
		if s.Err() == nil && s.Offset() != int64(len(b)) {
			t.Fatalf("clean stop at %d of %d", s.Offset(), len(b))
		}
	})
}

func FuzzFileID(f *testing.F) {
	for _, s := range []string{"3,01637037d6", "4,010c18c0eb_199.jpg", "1,0a5edaa744_1", "0,ffffffffffffffffffffffff", ",", "3,", "3,1234567", "x,y_z.w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := needle.ParseFileID(s)
		if err != nil {
			if !errors.Is(err, needle.ErrBadFileID) {
				t.Fatalf("error %v does not wrap ErrBadFileID", err)
			}
			return
		}
		if id.Key == 0 {
			return // formats as a bare cookie, which does not parse
		}
		back, err := needle.ParseFileID(id.String())
		if err != nil || back != id {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, id, id.String(), back, err)
		}
	})
}

func FuzzTTL(f *testing.F) {
	for _, s := range []string{"", "3m", "4h", "255y", "7M", "15", "0", "3x", "256d"} {
		f.Add(s, []byte{3, 2})
	}
	f.Fuzz(func(t *testing.T, s string, b []byte) {
		if ttl, err := needle.ParseTTL(s); err == nil {
			back, err := needle.ParseTTL(ttl.String())
			if err != nil || back != ttl {
				t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, ttl, ttl.String(), back, err)
			}
			if ttl.IsEmpty() != (ttl.Minutes() == 0) {
				t.Fatalf("%+v: IsEmpty %v, Minutes %d", ttl, ttl.IsEmpty(), ttl.Minutes())
			}
		} else if !errors.Is(err, needle.ErrBadTTL) {
			t.Fatalf("error %v does not wrap ErrBadTTL", err)
		}
		if ttl, err := needle.TTLFromBytes(b); err == nil {
			if got := ttl.Bytes(); !bytes.Equal(got[:], b) {
				t.Fatalf("TTLFromBytes(%x).Bytes() = %x", b, got)
			}
		} else if !errors.Is(err, needle.ErrBadTTL) {
			t.Fatalf("error %v does not wrap ErrBadTTL", err)
		}
	})
}
