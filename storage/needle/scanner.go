package needle

import (
	"errors"
	"fmt"
	"io"
)

// scanBufSize is how much the Scanner reads at a time, so small needles cost
// one read per many records rather than two per record.
const scanBufSize = 1 << 20

// Scanner walks the records of a .dat file in order, for recovery, index
// rebuilds and compaction. It stops at the first torn or corrupt record and
// reports it through Err with the record's offset, so a caller can cut the
// file back to Offset().
type Scanner struct {
	r      io.ReaderAt
	v      Version
	end    int64
	next   int64 // offset of the record Next will read
	off    int64 // offset of the current record
	buf    []byte
	bufOff int64 // file offset of buf[0]
	record []byte
	needle Needle
	err    error
	verify bool
}

// NewScanner returns a Scanner over the records in [start, end) of r, written
// in version v. start is where the first needle begins (the super block's
// Len()); end is usually the file size.
func NewScanner(r io.ReaderAt, start, end int64, v Version) *Scanner {
	return &Scanner{r: r, v: v, end: end, next: start, off: start, verify: true}
}

// SkipChecksum makes the Scanner check lengths only, not checksums: for
// callers that want metadata and will verify data themselves on read.
func (s *Scanner) SkipChecksum() { s.verify = false }

// Next reads the next record. It returns false at the end of the range or
// on error; Err tells which.
func (s *Scanner) Next() bool {
	if s.err != nil {
		return false
	}
	if !s.v.Valid() {
		s.err = fmt.Errorf("version %d: %w", s.v, ErrVersion)
		return false
	}
	s.off = s.next
	if s.off >= s.end {
		return false
	}
	hdr, err := s.window(s.off, HeaderSize)
	if err != nil {
		s.err = err
		return false
	}
	_, _, size, _ := ParseHeader(hdr)
	n := RecordLen(size, s.v)
	if size > MaxSize || n > s.end-s.off {
		s.err = fmt.Errorf("record at %d: size %d runs past end %d: %w", s.off, size, s.end, ErrCorrupt)
		return false
	}
	rec, err := s.window(s.off, int(n))
	if err != nil {
		s.err = err
		return false
	}
	s.needle = Needle{}
	if err := s.needle.decode(rec, s.v, s.verify); err != nil {
		s.err = fmt.Errorf("record at %d: %w", s.off, err)
		return false
	}
	s.record = rec
	s.next = s.off + n
	return true
}

// window returns the n bytes at file offset off, reading a block ahead into
// the Scanner's buffer when they are not already there.
func (s *Scanner) window(off int64, n int) ([]byte, error) {
	if off >= s.bufOff && off+int64(n) <= s.bufOff+int64(len(s.buf)) {
		i := off - s.bufOff
		return s.buf[i : i+int64(n)], nil
	}
	want := max(n, scanBufSize)
	if rem := s.end - off; int64(want) > rem {
		want = int(rem)
	}
	if want < n {
		return nil, fmt.Errorf("record at %d: %d bytes left, need %d: %w", off, s.end-off, n, ErrCorrupt)
	}
	if cap(s.buf) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	got, err := s.r.ReadAt(s.buf, off)
	s.buf, s.bufOff = s.buf[:got], off
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("record at %d: file ends after %d bytes, need %d: %w", off, got, n, ErrCorrupt)
		}
		return nil, fmt.Errorf("needle: read at %d: %w", off, err)
	}
	return s.buf[:n], nil
}

// Needle returns the current record's needle. Its byte slices alias the
// Scanner's buffer and are valid until the next call to Next.
func (s *Scanner) Needle() *Needle { return &s.needle }

// Record returns the current record's raw bytes, padding included (what
// compaction copies), valid until the next call to Next.
func (s *Scanner) Record() []byte { return s.record }

// Offset returns the offset of the current record; after Next returns false
// it is where the scan stopped: the end, or the start of the bad record.
func (s *Scanner) Offset() int64 { return s.off }

// Err returns the error that stopped the scan, or nil at a clean end. A torn
// or corrupt record wraps ErrCorrupt; a failing reader's error is wrapped as
// is.
func (s *Scanner) Err() error { return s.err }
