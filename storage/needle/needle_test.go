package needle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// observedNeedle is shaped like the needle SEAWEEDFS-WIRE §6.2 observed: 14
// bytes of data, a name, a mime type, a modification time and one pair, for
// a body of 72 bytes (4+14+1 + 1+name + 1+mime + 5 + 2+pairs, with
// name+mime+pairs = 44).
func observedNeedle() *Needle {
	n := &Needle{Cookie: 0x0c18c0eb, ID: 1, Data: []byte("hello, world!\n"), AppendAtNs: 0x18eb8d006ae29fab}
	n.SetName([]byte("greeting.txt"))            // 12
	n.SetMime([]byte("text/plain"))              // 10
	n.SetLastModified(1600000000)                // 5 bytes
	n.SetPairs([]byte(`{"Owner":"alice-bob!"}`)) // 22: 12+10+22 = 44
	return n
}

func TestObservedNeedleGolden(t *testing.T) {
	n := observedNeedle()
	got, err := n.Append(nil, Version3)
	if err != nil {
		t.Fatal(err)
	}
	// Build the record by hand from the byte table.
	var want []byte
	want = binary.BigEndian.AppendUint32(want, 0x0c18c0eb)
	want = binary.BigEndian.AppendUint64(want, 1)
	want = binary.BigEndian.AppendUint32(want, 72)
	want = binary.BigEndian.AppendUint32(want, 14)
	want = append(want, "hello, world!\n"...)
	want = append(want, 0x2e)
	want = append(want, 12)
	want = append(want, "greeting.txt"...)
	want = append(want, 10)
	want = append(want, "text/plain"...)
	want = append(want, 0x00, 0x5f, 0x5e, 0x10, 0x00) // 1600000000 in 5 bytes
	want = binary.BigEndian.AppendUint16(want, 22)
	want = append(want, `{"Owner":"alice-bob!"}`...)
	want = binary.BigEndian.AppendUint32(want, CRC([]byte("hello, world!\n")))
	want = binary.BigEndian.AppendUint64(want, 0x18eb8d006ae29fab)
	want = append(want, 0, 0, 0, 0) // 16+72+4+8 = 100: 4 bytes of padding
	if len(want) != 104 {
		t.Fatalf("hand-built record is %d bytes, want 104", len(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Append:\n got %x\nwant %x", got, want)
	}
	if n.Size != 72 || n.Flags != 0x2e {
		t.Fatalf("Size %d Flags %#x, want 72 0x2e", n.Size, n.Flags)
	}
	if RecordLen(72, Version3) != 104 {
		t.Fatalf("RecordLen(72) = %d, want 104", RecordLen(72, Version3))
	}
	d, err := Decode(want, Version3)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Name) != "greeting.txt" || string(d.Mime) != "text/plain" || d.LastModified != 1600000000 ||
		string(d.Pairs) != `{"Owner":"alice-bob!"}` || string(d.Data) != "hello, world!\n" || d.Flags != 0x2e ||
		d.Checksum != CRC(d.Data) || d.AppendAtNs != 0x18eb8d006ae29fab || d.Cookie != 0x0c18c0eb || d.ID != 1 {
		t.Fatalf("Decode gave %+v", d)
	}
}

func TestCRCKnownValues(t *testing.T) {
	// CRC-32C check value from the Castagnoli paper / RFC 3720.
	if got := CRC([]byte("123456789")); got != 0xe3069283 {
		t.Fatalf("CRC(123456789) = %08x, want e3069283", got)
	}
	if got := ETag(0xd9407886); got != "d9407886" {
		t.Fatalf("ETag = %q", got)
	}
	if got := ETag(0x00000a0b); got != "00000a0b" {
		t.Fatalf("ETag = %q", got)
	}
}

func TestPaddingAndRecordLen(t *testing.T) {
	for size := uint32(0); size < 64; size++ {
		for _, v := range []Version{Version1, Version2, Version3} {
			p := PaddingLen(size, v)
			if p < 1 || p > 8 {
				t.Fatalf("PaddingLen(%d, v%d) = %d, want 1..8", size, v, p)
			}
			l := RecordLen(size, v)
			if l%8 != 0 {
				t.Fatalf("RecordLen(%d, v%d) = %d, not a multiple of 8", size, v, l)
			}
			fixed := int64(HeaderSize + ChecksumSize)
			if v == Version3 {
				fixed += TimestampSize
			}
			if l != fixed+int64(size)+int64(p) {
				t.Fatalf("RecordLen(%d, v%d) = %d, want %d", size, v, l, fixed+int64(size)+int64(p))
			}
		}
	}
	if got := RecordLen(0, Version3); got != 32 {
		t.Fatalf("tombstone RecordLen = %d, want 32", got)
	}
	// 16+4+4 = 24 is already aligned: SeaweedFS still adds 8 bytes.
	if got := PaddingLen(4, Version2); got != 8 {
		t.Fatalf("PaddingLen(4, v2) = %d, want 8", got)
	}
}

func TestRoundTripAllVersions(t *testing.T) {
	cases := []struct {
		name string
		v    Version
		n    Needle
	}{
		{"v3 data only", Version3, Needle{Cookie: 7, ID: 9, Data: []byte("x"), AppendAtNs: 5}},
		{"v3 gzip manifest ttl", Version3, Needle{Cookie: 1, ID: 2, Data: bytes.Repeat([]byte{0xab}, 1000), Flags: FlagGzip | FlagChunkManifest, TTL: TTL{Count: 3, Unit: TTLDay}}},
		{"v3 empty flagged name", Version3, Needle{Cookie: 1, ID: 2, Data: []byte("d"), Flags: FlagHasName}},
		{"v3 max name mime", Version3, Needle{Cookie: 1, ID: 2, Data: []byte("d"), Name: bytes.Repeat([]byte("n"), 255), Mime: bytes.Repeat([]byte("m"), 255), LastModified: 1<<40 - 1}},
		{"v3 max pairs", Version3, Needle{Cookie: 1, ID: 2, Data: []byte("d"), Pairs: bytes.Repeat([]byte("p"), MaxPairsLen)}},
		{"v2 all fields", Version2, Needle{Cookie: 0xffffffff, ID: 1<<64 - 1, Data: []byte("data"), Name: []byte("a"), Mime: []byte("b"), LastModified: 42, TTL: TTL{Count: 255, Unit: TTLYear}, Pairs: []byte("{}")}},
		{"v1 data", Version1, Needle{Cookie: 3, ID: 4, Data: []byte("version one")}},
		{"v3 tombstone keeps checksum", Version3, Needle{Cookie: 3, ID: 4, Checksum: 0x34d98e25, AppendAtNs: 99}},
		{"v2 empty", Version2, Needle{Cookie: 3, ID: 4}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.n
			b, err := n.Append([]byte("prefix"), c.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b[:6]) != "prefix" {
				t.Fatal("Append overwrote dst")
			}
			rec := b[6:]
			if int64(len(rec)) != RecordLen(n.Size, c.v) || len(rec)%8 != 0 {
				t.Fatalf("record %d bytes, RecordLen %d", len(rec), RecordLen(n.Size, c.v))
			}
			if l, _ := c.n.EncodedLen(c.v); l != int64(len(rec)) {
				t.Fatalf("EncodedLen %d, record %d", l, len(rec))
			}
			d, err := Decode(rec, c.v)
			if err != nil {
				t.Fatal(err)
			}
			assertSame(t, &n, d, c.v)
			again, err := d.Append(nil, c.v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, rec) {
				t.Fatalf("re-encoding differs:\n%x\n%x", again, rec)
			}
		})
	}
}

// assertSame fails unless got carries everything version v stores of want.
func assertSame(t *testing.T, want, got *Needle, v Version) {
	t.Helper()
	if got.Cookie != want.Cookie || got.ID != want.ID || got.Size != want.Size || got.Checksum != want.Checksum {
		t.Fatalf("header/checksum: got %+v want %+v", got, want)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("data differs")
	}
	if v == Version3 && got.AppendAtNs != want.AppendAtNs {
		t.Fatalf("AppendAtNs %d want %d", got.AppendAtNs, want.AppendAtNs)
	}
	if v == Version1 || len(want.Data) == 0 {
		return
	}
	if got.Flags != want.Flags || !bytes.Equal(got.Name, want.Name) || !bytes.Equal(got.Mime, want.Mime) ||
		got.LastModified != want.LastModified || got.TTL != want.TTL || !bytes.Equal(got.Pairs, want.Pairs) {
		t.Fatalf("metadata: got %+v want %+v", got, want)
	}
}

func TestAppendRejectsOversizedFields(t *testing.T) {
	cases := []struct {
		name string
		v    Version
		n    Needle
		want error
	}{
		{"name 256", Version3, Needle{Data: []byte("d"), Name: make([]byte, 256)}, ErrTooLarge},
		{"mime 256", Version3, Needle{Data: []byte("d"), Mime: make([]byte, 256)}, ErrTooLarge},
		{"pairs 64 KiB", Version3, Needle{Data: []byte("d"), Pairs: make([]byte, 1<<16)}, ErrTooLarge},
		{"lastmod past 5 bytes", Version3, Needle{Data: []byte("d"), LastModified: 1 << 40}, ErrTooLarge},
		{"v1 with name", Version1, Needle{Data: []byte("d"), Name: []byte("n")}, ErrVersion},
		{"version 4", Version(4), Needle{Data: []byte("d")}, ErrVersion},
		{"version 0", Version(0), Needle{Data: []byte("d")}, ErrVersion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("keep")
			out, err := c.n.Append(dst, c.v)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed on error: %q", out)
			}
		})
	}
}

func TestAppendSetsFlagsOfFilledFields(t *testing.T) {
	n := Needle{Data: []byte("d"), Name: []byte("n"), TTL: TTL{Count: 1, Unit: TTLHour}}
	b, err := n.Append(nil, Version3)
	if err != nil {
		t.Fatal(err)
	}
	if n.Flags != FlagHasName|FlagHasTTL {
		t.Fatalf("Flags %#x", n.Flags)
	}
	d, err := Decode(b, Version3)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Name) != "n" || d.TTL != (TTL{Count: 1, Unit: TTLHour}) {
		t.Fatalf("decoded %+v", d)
	}
}

func TestLegacyChecksumAccepted(t *testing.T) {
	n := Needle{Cookie: 1, ID: 2, Data: []byte("legacy")}
	b, err := n.Append(nil, Version2)
	if err != nil {
		t.Fatal(err)
	}
	off := HeaderSize + int(n.Size)
	binary.BigEndian.PutUint32(b[off:], legacyCRC(CRC(n.Data)))
	d, err := Decode(b, Version2)
	if err != nil {
		t.Fatalf("legacy CRC rejected: %v", err)
	}
	if string(d.Data) != "legacy" {
		t.Fatal("wrong data")
	}
}

func TestDecodeBadInput(t *testing.T) {
	n := observedNeedle()
	good, err := n.Append(nil, Version3)
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation fails with ErrCorrupt.
	for i := 0; i < len(good); i++ {
		if _, err := Decode(good[:i], Version3); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: err = %v", i, err)
		}
	}
	// A flipped data bit is a checksum error.
	bad := bytes.Clone(good)
	bad[HeaderSize+5] ^= 1
	if _, err := Decode(bad, Version3); !errors.Is(err, ErrChecksum) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped data: err = %v", err)
	}
	// A flipped checksum byte too.
	bad = bytes.Clone(good)
	bad[HeaderSize+int(n.Size)] ^= 0x80
	if _, err := Decode(bad, Version3); !errors.Is(err, ErrChecksum) {
		t.Fatalf("flipped checksum: err = %v", err)
	}
	// Size past the end of the input.
	bad = bytes.Clone(good)
	binary.BigEndian.PutUint32(bad[12:], 1<<30)
	if _, err := Decode(bad, Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge size: err = %v", err)
	}
	binary.BigEndian.PutUint32(bad[12:], 0xfffffff0)
	if _, err := Decode(bad, Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("negative size: err = %v", err)
	}
	// DataSize past the body.
	bad = bytes.Clone(good)
	binary.BigEndian.PutUint32(bad[HeaderSize:], 73)
	if _, err := Decode(bad, Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("DataSize past body: err = %v", err)
	}
	// A flag announcing a field the body has no room for.
	bad = bytes.Clone(good)
	bad[HeaderSize+4+14] |= FlagHasTTL
	if _, err := Decode(bad, Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("extra flag: err = %v", err)
	}
	// A flag removed leaves unexplained bytes.
	bad = bytes.Clone(good)
	bad[HeaderSize+4+14] &^= FlagHasPairs
	if _, err := Decode(bad, Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("missing flag: err = %v", err)
	}
	// Unknown TTL unit.
	tn := Needle{Data: []byte("d"), TTL: TTL{Count: 1, Unit: TTLMinute}}
	tb, _ := tn.Append(nil, Version3)
	tb[HeaderSize+4+1+1+1] = 9
	if _, err := Decode(tb, Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad ttl unit: err = %v", err)
	}
	// Unknown version.
	if _, err := Decode(good, Version(7)); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 7: err = %v", err)
	}
	// Garbage never panics and never succeeds with a wrong checksum.
	g := make([]byte, 256)
	for i := range g {
		g[i] = byte(i * 37)
	}
	for i := 0; i <= len(g); i++ {
		if d, err := Decode(g[:i], Version3); err == nil && d.Size > 0 && !checksumMatches(d.Checksum, d.Data) {
			t.Fatalf("garbage accepted with bad checksum")
		}
	}
}

func TestDecodeMetaSkipsChecksumOnly(t *testing.T) {
	n := observedNeedle()
	b, _ := n.Append(nil, Version3)
	b[HeaderSize+5] ^= 1
	d, err := DecodeMeta(b, Version3)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Name) != string(n.Name) || d.Size != n.Size {
		t.Fatalf("meta %+v", d)
	}
	if _, err := DecodeMeta(b[:20], Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short meta: %v", err)
	}
}

func TestParseHeader(t *testing.T) {
	n := Needle{Cookie: 0xdeadbeef, ID: 0x0102030405060708, Data: []byte("abc")}
	b, _ := n.Append(nil, Version3)
	c, id, size, err := ParseHeader(b)
	if err != nil || c != 0xdeadbeef || id != 0x0102030405060708 || size != n.Size {
		t.Fatalf("ParseHeader = %x %x %d %v", c, id, size, err)
	}
	if _, _, _, err := ParseHeader(b[:15]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short header: %v", err)
	}
}

func TestEmptyRecordsAllVersions(t *testing.T) {
	for _, v := range []Version{Version1, Version2, Version3} {
		n := Needle{Cookie: 9, ID: 10, Checksum: 0x1234, AppendAtNs: 77, Name: []byte("dropped")}
		if v == Version1 {
			n.Name = nil
		}
		b, err := n.Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if n.Size != 0 || int64(len(b)) != RecordLen(0, v) {
			t.Fatalf("v%d: Size %d, %d bytes", v, n.Size, len(b))
		}
		d, err := Decode(b, v)
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsEmpty() || d.Checksum != 0x1234 || d.Data != nil || d.Name != nil {
			t.Fatalf("v%d: %+v", v, d)
		}
		if (v == Version3) != (d.AppendAtNs == 77) {
			t.Fatalf("v%d: AppendAtNs %d", v, d.AppendAtNs)
		}
	}
}

func TestEncodedLenErrors(t *testing.T) {
	n := Needle{Data: []byte("d"), Mime: make([]byte, 300)}
	if _, err := n.EncodedLen(Version3); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if _, err := n.EncodedLen(0); !errors.Is(err, ErrVersion) {
		t.Fatalf("err = %v", err)
	}
}

func TestBodyWithEmptyDataIsCorrupt(t *testing.T) {
	// A 6-byte body announcing DataSize 0; SeaweedFS never writes a body
	// for empty data.
	n := Needle{Data: []byte("x")}
	b, _ := n.Append(nil, Version3)
	binary.BigEndian.PutUint32(b[HeaderSize:], 0)
	if _, err := Decode(b, Version3); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v", err)
	}
}
