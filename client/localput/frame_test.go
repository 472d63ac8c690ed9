package localput

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestPutRoundTrip(t *testing.T) {
	for _, want := range []Put{
		{Fsync: true, Offset: 1 << 40, Length: 4 << 20, Timestamp: 1700000000,
			Fid: "3,01637037d6", TTL: "3d", JWT: strings.Repeat("j", 1000), Name: "a.txt", Mime: "text/plain"},
		{Offset: 7, Length: 9, Fid: "1,02", HasCRC: true, CRC: 0xe3069283},
		{Fsync: true, Offset: 7, Length: 0, Fid: "1,02", HasCRC: true}, // the CRC of nothing is 0
	} {
		b, err := AppendPut(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		kind, body, rest, err := SplitFrame(b)
		if err != nil || kind != KindPut || len(rest) != 0 {
			t.Fatalf("split: kind %d rest %d err %v", kind, len(rest), err)
		}
		got, err := DecodePut(body)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		// ReadFrame sees the same frame from a stream.
		k2, body2, _, err := ReadFrame(bytes.NewReader(b), nil)
		if err != nil || k2 != KindPut || !bytes.Equal(body2, body) {
			t.Fatalf("ReadFrame: kind %d err %v", k2, err)
		}
	}
}

// The CRC sits at its place in the byte table, big-endian, with its flag;
// a Put without the flag carries a zero field whatever CRC says.
func TestPutCRCLayout(t *testing.T) {
	b, err := AppendPut(nil, Put{Fsync: true, Length: 3, Fid: "1,02", HasCRC: true, CRC: 0x01020304})
	if err != nil {
		t.Fatal(err)
	}
	if b[5] != flagFsync|flagCRC || !bytes.Equal(b[26:30], []byte{1, 2, 3, 4}) || b[30] != 4 || string(b[31:35]) != "1,02" {
		t.Fatalf("frame % x: flags or crc or fid not where the table says", b)
	}
	b, err = AppendPut(nil, Put{Length: 3, Fid: "1,02", CRC: 0x01020304})
	if err != nil {
		t.Fatal(err)
	}
	if b[5] != 0 || !bytes.Equal(b[26:30], []byte{0, 0, 0, 0}) {
		t.Fatalf("frame % x: a crc not given was sent", b)
	}
	// A non-zero field without the flag does not decode.
	b[29] = 1
	_, body, _, _ := SplitFrame(b)
	if _, err := DecodePut(body); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("crc without its flag: err %v", err)
	}
}

func TestPutRefusesLongFields(t *testing.T) {
	for _, p := range []Put{{Fid: strings.Repeat("f", 256)}, {JWT: strings.Repeat("j", 1<<16)}, {Mime: strings.Repeat("m", 300)}} {
		if _, err := AppendPut(nil, p); err == nil {
			t.Errorf("AppendPut accepted fields of %d/%d/%d bytes", len(p.Fid), len(p.JWT), len(p.Mime))
		}
	}
}

func TestReplyAndHelloRoundTrip(t *testing.T) {
	r := Reply{Status: 201, Size: 12345, ETag: "abcd1234", Name: "3,01", Mime: "image/png", Error: ""}
	kind, body, _, err := SplitFrame(AppendReply(nil, r))
	if err != nil || kind != KindReply {
		t.Fatal(kind, err)
	}
	if got, err := DecodeReply(body); err != nil || got != r {
		t.Fatalf("reply: got %+v, %v", got, err)
	}
	// An error text too long for the frame is cut, and the frame decodes.
	long := Reply{Status: 500, Error: strings.Repeat("e", 1<<17)}
	kind, body, _, err = SplitFrame(AppendReply(nil, long))
	if err != nil || kind != KindReply {
		t.Fatal(kind, err)
	}
	if got, err := DecodeReply(body); err != nil || got.Status != 500 || len(got.Error) == 0 || len(got.Error) >= 1<<16 {
		t.Fatalf("long reply: %d bytes of error, %v", len(got.Error), err)
	}
	h := Hello{Version: Version, ArenaSize: 32 << 20}
	b := AppendHello(nil, h)
	if len(b) != HelloLen {
		t.Fatalf("hello is %d bytes, want %d", len(b), HelloLen)
	}
	kind, body, _, err = SplitFrame(b)
	if err != nil || kind != KindHello {
		t.Fatal(kind, err)
	}
	if got, err := DecodeHello(body); err != nil || got != h {
		t.Fatalf("hello: got %+v, %v", got, err)
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	b, err := AppendPut(nil, Put{Offset: 1, Length: 2, Fid: "1,02", Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	_, body, _, _ := SplitFrame(b)
	for i := 0; i < len(body); i++ { // every truncation
		if _, err := DecodePut(body[:i]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("put cut to %d bytes: err %v", i, err)
		}
	}
	if _, err := DecodePut(append(bytes.Clone(body), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("put with a trailing byte: err %v", err)
	}
	if _, _, _, err := SplitFrame([]byte{0, 0, 0, 0, 1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("empty body: err %v", err)
	}
	if _, _, _, err := SplitFrame([]byte{0, 0, 0, 9, 1}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short frame: err %v", err)
	}
	if _, _, _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0, 0, 0, 1}), nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge length: err %v", err)
	}
}

// Decoding any bytes never panics, and what decodes re-encodes to the
// same frame.
func FuzzDecode(f *testing.F) {
	put, _ := AppendPut(nil, Put{Fsync: true, Offset: 8, Length: 4096, Timestamp: 9, Fid: "3,01637037d6", TTL: "1m", JWT: "a.b.c", Name: "x", Mime: "text/plain"})
	f.Add(put)
	put, _ = AppendPut(nil, Put{Offset: 1 << 22, Length: 4 << 20, Fid: "7,0102", HasCRC: true, CRC: 0xdeadbeef})
	f.Add(put)
	put, _ = AppendPut(nil, Put{Fsync: true, Length: 1, Fid: "7,0102", HasCRC: true, CRC: 0})
	f.Add(put)
	f.Add(AppendReply(nil, Reply{Status: 201, Size: 7, ETag: "e", Name: "n", Mime: "m", Error: "boom"}))
	f.Add(AppendHello(nil, Hello{Version: 1, ArenaSize: 1 << 25}))
	f.Add([]byte{0, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, body, _, err := SplitFrame(b)
		if err != nil {
			return
		}
		_, _, _, _ = ReadFrame(bytes.NewReader(b), nil)
		switch kind {
		case KindPut:
			p, err := DecodePut(body)
			if err != nil {
				return
			}
			again, err := AppendPut(nil, p)
			if err != nil {
				t.Fatalf("decoded put does not encode: %v", err)
			}
			if _, body2, _, _ := SplitFrame(again); body[0]&^(flagFsync|flagCRC) == 0 && !bytes.Equal(body2, body) {
				t.Fatalf("put re-encodes differently")
			}
		case KindReply:
			r, err := DecodeReply(body)
			if err != nil {
				return
			}
			if _, body2, _, _ := SplitFrame(AppendReply(nil, r)); !bytes.Equal(body2, body) {
				t.Fatalf("reply re-encodes differently")
			}
		case KindHello:
			_, _ = DecodeHello(body)
		}
	})
}
