package needle

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeVolume writes an 8-byte stand-in super block and the records of ns
// to a file in a temp dir and returns its path and the record offsets.
func writeVolume(t *testing.T, ns []Needle, v Version) (string, []int64) {
	t.Helper()
	buf := make([]byte, 8)
	var offs []int64
	for i := range ns {
		offs = append(offs, int64(len(buf)))
		var err error
		if buf, err = ns[i].Append(buf, v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "1.dat")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, offs
}

func testNeedles() []Needle {
	var ns []Needle
	for i := 0; i < 50; i++ {
		n := Needle{Cookie: uint32(i * 7), ID: uint64(i + 1), Data: bytes.Repeat([]byte{byte(i)}, i*97%500+1), AppendAtNs: uint64(i)}
		if i%3 == 0 {
			n.SetName([]byte(fmt.Sprintf("file-%d", i)))
		}
		if i%10 == 9 {
			n.Data = nil // a tombstone
			n.Checksum = 0xabcdef
		}
		ns = append(ns, n)
	}
	// One record bigger than the scanner's read-ahead block.
	ns = append(ns, Needle{Cookie: 1, ID: 999, Data: bytes.Repeat([]byte("big"), scanBufSize/2)})
	return ns
}

func TestScannerReadsEveryRecord(t *testing.T) {
	for _, v := range []Version{Version2, Version3} {
		ns := testNeedles()
		path, offs := writeVolume(t, ns, v)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		s := NewScanner(f, 8, st.Size(), v)
		i := 0
		for s.Next() {
			if i >= len(ns) {
				t.Fatalf("more records than written")
			}
			if s.Offset() != offs[i] {
				t.Fatalf("record %d at %d, want %d", i, s.Offset(), offs[i])
			}
			assertSame(t, &ns[i], s.Needle(), v)
			if int64(len(s.Record())) != RecordLen(ns[i].Size, v) {
				t.Fatalf("record %d raw length %d", i, len(s.Record()))
			}
			i++
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		if i != len(ns) || s.Offset() != st.Size() {
			t.Fatalf("read %d of %d records, stopped at %d of %d", i, len(ns), s.Offset(), st.Size())
		}
	}
}

func TestScannerStopsAtTornTail(t *testing.T) {
	ns := testNeedles()[:6]
	path, offs := writeVolume(t, ns, Version3)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := offs[len(offs)-1]
	// Cut the file at every length inside the last record.
	for cut := last + 1; cut < int64(len(full)); cut++ {
		r := bytes.NewReader(full[:cut])
		s := NewScanner(r, 8, cut, Version3)
		count := 0
		for s.Next() {
			count++
		}
		if !errors.Is(s.Err(), ErrCorrupt) {
			t.Fatalf("cut at %d: err = %v, want ErrCorrupt", cut, s.Err())
		}
		if count != len(ns)-1 || s.Offset() != last {
			t.Fatalf("cut at %d: %d records, offset %d; want %d, %d", cut, count, s.Offset(), len(ns)-1, last)
		}
	}
}

func TestScannerStopsAtCorruptRecord(t *testing.T) {
	ns := testNeedles()[:6]
	path, offs := writeVolume(t, ns, Version3)
	b, _ := os.ReadFile(path)
	b[offs[2]+HeaderSize+6] ^= 0xff // inside record 2's data
	s := NewScanner(bytes.NewReader(b), 8, int64(len(b)), Version3)
	count := 0
	for s.Next() {
		count++
	}
	if !errors.Is(s.Err(), ErrChecksum) || count != 2 || s.Offset() != offs[2] {
		t.Fatalf("err %v after %d records at %d; want checksum error after 2 at %d", s.Err(), count, s.Offset(), offs[2])
	}
	// SkipChecksum walks past it.
	s = NewScanner(bytes.NewReader(b), 8, int64(len(b)), Version3)
	s.SkipChecksum()
	count = 0
	for s.Next() {
		count++
	}
	if s.Err() != nil || count != len(ns) {
		t.Fatalf("SkipChecksum: err %v after %d records", s.Err(), count)
	}
}

// failingReader returns an I/O error past a limit.
type failingReader struct {
	b     []byte
	limit int64
}

var errDisk = errors.New("disk on fire")

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit {
		return 0, errDisk
	}
	return copy(p, f.b[off:]), nil
}

func TestScannerReportsReadErrors(t *testing.T) {
	ns := testNeedles()[:3]
	path, _ := writeVolume(t, ns, Version3)
	b, _ := os.ReadFile(path)
	s := NewScanner(failingReader{b: b, limit: 10}, 8, int64(len(b)), Version3)
	if s.Next() {
		t.Fatal("Next succeeded on a failing reader")
	}
	if !errors.Is(s.Err(), errDisk) || errors.Is(s.Err(), ErrCorrupt) {
		t.Fatalf("err = %v, want the reader's error, not ErrCorrupt", s.Err())
	}
}

func TestScannerEmptyRange(t *testing.T) {
	s := NewScanner(bytes.NewReader(nil), 8, 8, Version3)
	if s.Next() || s.Err() != nil || s.Offset() != 8 {
		t.Fatalf("empty range: next, err %v, offset %d", s.Err(), s.Offset())
	}
}
