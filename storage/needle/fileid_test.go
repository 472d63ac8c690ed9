package needle

import (
	"errors"
	"testing"
)

func TestParseFileID(t *testing.T) {
	cases := []struct {
		in   string
		want FileID
	}{
		{"3,01637037d6", FileID{VolumeID: 3, Key: 0x01, Cookie: 0x637037d6}},
		{"4,010c18c0eb", FileID{VolumeID: 4, Key: 1, Cookie: 0x0c18c0eb}},
		{"4,010c18c0eb.jpg", FileID{VolumeID: 4, Key: 1, Cookie: 0x0c18c0eb}},
		{"4,010c18c0eb_1", FileID{VolumeID: 4, Key: 2, Cookie: 0x0c18c0eb}},
		{"4,010c18c0eb_199.tar.gz", FileID{VolumeID: 4, Key: 200, Cookie: 0x0c18c0eb}},
		{"1,0a5edaa744_0", FileID{VolumeID: 1, Key: 0x0a, Cookie: 0x5edaa744}},
		{"7,1abcdef01", FileID{VolumeID: 7, Key: 1, Cookie: 0xabcdef01}},
		{"7,ABCDEF0123456789DEADBEEF", FileID{VolumeID: 7, Key: 0xabcdef0123456789, Cookie: 0xdeadbeef}},
		{"4294967295,ffffffffffffffffffffffff", FileID{VolumeID: 1<<32 - 1, Key: 1<<64 - 1, Cookie: 1<<32 - 1}},
		{"5,fffffffffffffffe00000000_1", FileID{VolumeID: 5, Key: 1<<64 - 1}},
	}
	for _, c := range cases {
		got, err := ParseFileID(c.in)
		if err != nil {
			t.Errorf("ParseFileID(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseFileID(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestParseFileIDErrors(t *testing.T) {
	for _, in := range []string{
		"",
		",",
		"3",
		"301637037d6",                       // no comma
		",01637037d6",                       // no volume
		"x,01637037d6",                      // volume not decimal
		"-1,01637037d6",                     // negative volume
		"4294967296,01637037d6",             // volume overflows uint32
		"3,637037d6",                        // cookie only: 8 hex digits
		"3,",                                // nothing
		"3,1234567",                         // too short
		"3,0123456789abcdef0123456789",      // 26 hex: too long
		"3,1234567890abcdef012345678",       // 25 hex: too long
		"3,0g637037d6",                      // non-hex key
		"3,01637037z6",                      // non-hex cookie
		"3,01637037d6_",                     // empty delta
		"3,01637037d6_x",                    // non-decimal delta
		"3,01637037d6_-1",                   // negative delta
		"3,ffffffffffffffff637037d6_1",      // key+delta overflows
		"3,01637037d6_99999999999999999999", // delta overflows
		"3,+1637037d6",                      // sign
		"3,0x1637037d6",                     // prefix
		"3,.jpg",                            // only an extension
	} {
		if _, err := ParseFileID(in); !errors.Is(err, ErrBadFileID) {
			t.Errorf("ParseFileID(%q): err = %v, want ErrBadFileID", in, err)
		}
	}
}

func TestFileIDString(t *testing.T) {
	cases := []struct {
		f    FileID
		want string
	}{
		{FileID{VolumeID: 4, Key: 1, Cookie: 0x0c18c0eb}, "4,010c18c0eb"},
		{FileID{VolumeID: 3, Key: 1, Cookie: 0x637037d6}, "3,01637037d6"},
		{FileID{VolumeID: 1, Key: 0x100, Cookie: 1}, "1,010000000001"},
		{FileID{VolumeID: 1, Key: 0xabc, Cookie: 0}, "1,0abc00000000"},
		{FileID{VolumeID: 0, Key: 1<<64 - 1, Cookie: 1<<32 - 1}, "0,ffffffffffffffffffffffff"},
	}
	for _, c := range cases {
		if got := c.f.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.f, got, c.want)
		}
		back, err := ParseFileID(c.want)
		if err != nil || back != c.f {
			t.Errorf("ParseFileID(%q) = %+v, %v; want %+v", c.want, back, err, c.f)
		}
	}
	// Key 0 formats as the bare cookie, which does not parse: SeaweedFS
	// never issues key 0.
	if got := FormatKeyCookie(0, 0x12345678); got != "12345678" {
		t.Errorf("FormatKeyCookie(0) = %q", got)
	}
}

func TestParseKeyCookie(t *testing.T) {
	k, c, err := ParseKeyCookie("0a5edaa744_5")
	if err != nil || k != 0x0a+5 || c != 0x5edaa744 {
		t.Fatalf("ParseKeyCookie = %x %x %v", k, c, err)
	}
	if _, _, err := ParseKeyCookie("0a5edaa744.jpg"); !errors.Is(err, ErrBadFileID) {
		t.Fatalf("extension is not stripped by ParseKeyCookie: %v", err)
	}
}
