package needle

import (
	"errors"
	"testing"
	"time"
)

func TestParseTTL(t *testing.T) {
	cases := []struct {
		in      string
		want    TTL
		str     string
		minutes uint32
	}{
		{"", TTL{}, "", 0},
		{"3m", TTL{3, TTLMinute}, "3m", 3},
		{"4h", TTL{4, TTLHour}, "4h", 240},
		{"5d", TTL{5, TTLDay}, "5d", 5 * 1440},
		{"6w", TTL{6, TTLWeek}, "6w", 6 * 10080},
		{"7M", TTL{7, TTLMonth}, "7M", 7 * 43200},
		{"8y", TTL{8, TTLYear}, "8y", 8 * 525600},
		{"15", TTL{15, TTLMinute}, "15m", 15},
		{"255d", TTL{255, TTLDay}, "255d", 255 * 1440},
		{"0m", TTL{}, "", 0},
		{"0", TTL{}, "", 0},
		{"007h", TTL{7, TTLHour}, "7h", 420},
	}
	for _, c := range cases {
		got, err := ParseTTL(c.in)
		if err != nil {
			t.Errorf("ParseTTL(%q): %v", c.in, err)
			continue
		}
		if got != c.want || got.String() != c.str || got.Minutes() != c.minutes ||
			got.Duration() != time.Duration(c.minutes)*time.Minute {
			t.Errorf("ParseTTL(%q) = %+v %q %d", c.in, got, got.String(), got.Minutes())
		}
		b := got.Bytes()
		back, err := TTLFromBytes(b[:])
		if err != nil || back != got {
			t.Errorf("TTLFromBytes(%v) = %+v, %v", b, back, err)
		}
	}
	if b := (TTL{3, TTLHour}).Bytes(); b != [2]byte{3, 2} {
		t.Errorf("Bytes = %v", b)
	}
}

func TestParseTTLErrors(t *testing.T) {
	for _, in := range []string{"m", "3x", "3s", "256m", "256", "-1m", "+1m", "1.5h", "h3", "3mm", " 3m", "3 m", "99999999999999999999m"} {
		if got, err := ParseTTL(in); !errors.Is(err, ErrBadTTL) {
			t.Errorf("ParseTTL(%q) = %+v, %v; want ErrBadTTL", in, got, err)
		}
	}
	for _, b := range [][]byte{nil, {1}, {1, 7}, {1, 255}, {1, 2, 3}} {
		if _, err := TTLFromBytes(b); !errors.Is(err, ErrBadTTL) {
			t.Errorf("TTLFromBytes(%v): err = %v", b, err)
		}
	}
}
