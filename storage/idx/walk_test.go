package idx

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

func entriesFile(t *testing.T, n int) ([]Entry, string) {
	t.Helper()
	var es []Entry
	var b []byte
	for i := 0; i < n; i++ {
		e := Entry{Key: uint64(i)*0x9e3779b97f4a7c15 + 1, Offset: uint32(i + 1), Size: uint32(i * 3)}
		if i%7 == 6 {
			e.Size = Tombstone
		}
		es = append(es, e)
		b = e.Append(b)
	}
	p := filepath.Join(t.TempDir(), "1.idx")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return es, p
}

func TestWalkFile(t *testing.T) {
	// More entries than one read block, so block boundaries are crossed.
	n := walkBufSize/EntrySize*2 + 123
	want, p := entriesFile(t, n)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	i := 0
	err = Walk(f, func(e Entry) error {
		if e != want[i] {
			t.Fatalf("entry %d = %+v, want %+v", i, e, want[i])
		}
		i++
		return nil
	})
	if err != nil || i != n {
		t.Fatalf("Walk: %d entries, %v", i, err)
	}
}

func TestWalkOddReads(t *testing.T) {
	want, p := entriesFile(t, 100)
	b, _ := os.ReadFile(p)
	for name, r := range map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(b)),
		"half":     iotest.HalfReader(bytes.NewReader(b)),
		"data+EOF": iotest.DataErrReader(bytes.NewReader(b)),
		"empty":    bytes.NewReader(nil),
	} {
		var got []Entry
		err := Walk(r, func(e Entry) error { got = append(got, e); return nil })
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "empty" {
			if len(got) != 0 {
				t.Fatalf("empty: %d entries", len(got))
			}
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d entries, want %d", name, len(got), len(want))
		}
	}
}

func TestWalkTornTail(t *testing.T) {
	_, p := entriesFile(t, 10)
	b, _ := os.ReadFile(p)
	for cut := 1; cut < EntrySize; cut++ {
		data := b[:9*EntrySize+cut]
		seen := 0
		err := Walk(bytes.NewReader(data), func(Entry) error { seen++; return nil })
		var te *TornError
		if !errors.As(err, &te) || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut %d: err = %v", cut, err)
		}
		if te.Entries != 9 || te.Trailing != cut || seen != 9 {
			t.Fatalf("cut %d: %+v after %d entries", cut, te, seen)
		}
	}
}

func TestWalkStopsOnCallbackError(t *testing.T) {
	_, p := entriesFile(t, 10)
	b, _ := os.ReadFile(p)
	stop := errors.New("stop")
	seen := 0
	err := Walk(bytes.NewReader(b), func(Entry) error {
		seen++
		if seen == 3 {
			return stop
		}
		return nil
	})
	if err != stop || seen != 3 {
		t.Fatalf("err %v after %d", err, seen)
	}
}

func TestWalkReadError(t *testing.T) {
	_, p := entriesFile(t, 10)
	b, _ := os.ReadFile(p)
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(b[:5*EntrySize]), iotest.ErrReader(boom))
	seen := 0
	err := Walk(r, func(Entry) error { seen++; return nil })
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) || seen != 5 {
		t.Fatalf("err %v after %d", err, seen)
	}
}

// stuckReader never makes progress.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestWalkNoProgress(t *testing.T) {
	if err := Walk(stuckReader{}, func(Entry) error { return nil }); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v", err)
	}
}
