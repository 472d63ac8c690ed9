package filer

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestFidListRoundTrip(t *testing.T) {
	in := []string{"3,01637037d6", "41,0aae62c14cd4b6", "7,1f2e3d4c5b6a7980_2"}
	out, err := decodeFids(encodeFids(in))
	if err != nil || len(out) != len(in) {
		t.Fatalf("decode: %v %v", out, err)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Fatalf("fid %d: %q, want %q", i, out[i], in[i])
		}
	}
	for _, bad := range []string{"3,01\n\n4,02", "x,01", "3,", ",01", "3,0g", "3,01\x00", string(bytes.Repeat([]byte("1"), 70)) + ",1"} {
		if _, err := decodeFids([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode %q: %v, want ErrCorrupt", bad, err)
		}
	}
	if f, err := decodeFids(nil); err != nil || f != nil {
		t.Fatalf("empty list: %v %v", f, err)
	}
}

func TestTimeKeysOrder(t *testing.T) {
	var k timeKeys
	t0 := time.Unix(1_700_000_000, 5)
	a := k.next(eventPrefix, t0)
	b := k.next(eventPrefix, t0)
	c := k.next(eventPrefix, t0.Add(time.Nanosecond))
	if bytes.Compare(a, b) >= 0 || bytes.Compare(b, c) >= 0 {
		t.Fatalf("keys not increasing: %x %x %x", a, b, c)
	}
	if bytes.Compare(timeKey(eventPrefix, t0), a) > 0 || bytes.Compare(timeKey(eventPrefix, t0.Add(1)), b) <= 0 {
		t.Fatal("scan start keys do not bracket the keys of their time")
	}
	if got, err := keyTime(eventPrefix, c); err != nil || !got.Equal(t0.Add(time.Nanosecond)) {
		t.Fatalf("keyTime = %v, %v", got, err)
	}
	if _, err := keyTime(eventPrefix, []byte("ev/short")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short key: %v", err)
	}
}

func FuzzDecodeFids(f *testing.F) {
	f.Add([]byte("3,01637037d6\n4,0a"))
	f.Add([]byte(""))
	f.Add([]byte("\n"))
	f.Add([]byte("1,_\n2,ff_3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fids, err := decodeFids(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes.
		if !bytes.Equal(encodeFids(fids), b) {
			t.Fatalf("round trip of %q gives %q", b, encodeFids(fids))
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01, 0x12, 0x02, 0xa2, 0x01})
	f.Add([]byte{0x1a, 0x05, 0xa2, 0x01, 0x02, 0x2f, 0x61})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		EventMatches(ev, "/a")
	})
}
