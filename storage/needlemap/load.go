package needlemap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// entrySize is the length of one .idx entry: key u64 | offset u32 | size
// u32, big-endian (the format belongs to storage/idx; the loader decodes it
// in place because it is the hot loop of a volume's start).
const entrySize = 16

// readBlock is how many bytes Load reads at a time.
const readBlock = 1 << 20

// ErrPartialEntry reports a .idx stream whose length is not a multiple of
// 16: its last entry was torn by a crash.
var ErrPartialEntry = errors.New("needlemap: partial idx entry at end")

// Load replays a .idx stream: later entries win, and an entry with a size
// above MaxSize (the tombstone) or offset 0 deletes its key, as SeaweedFS's
// loader does. A trailing partial entry makes Load return the map of the
// whole entries together with an error wrapping ErrPartialEntry.
func Load(r io.Reader) (*Map, error) {
	m := New()
	_, err := m.replay(r)
	return m, err
}

// LoadAt replays the .idx file f of the given size (as Load) and returns
// how many bytes of whole entries it held, so the caller can cut a torn
// tail. A partial last entry is not an error here.
func LoadAt(f io.ReaderAt, size int64) (m *Map, whole int64, err error) {
	m = New()
	n, err := m.replay(io.NewSectionReader(f, 0, size))
	if errors.Is(err, ErrPartialEntry) {
		err = nil
	}
	return m, n, err
}

// replay applies the entries of r and returns the bytes of whole entries.
func (m *Map) replay(r io.Reader) (int64, error) {
	buf := make([]byte, readBlock)
	var done int64
	for {
		n, err := io.ReadFull(r, buf)
		whole := n - n%entrySize
		for i := 0; i < whole; i += entrySize {
			e := buf[i : i+entrySize]
			m.apply(binary.BigEndian.Uint64(e), binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:]))
		}
		done += int64(whole)
		switch {
		case err == io.EOF || (err == io.ErrUnexpectedEOF && whole == n):
			return done, nil
		case err == io.ErrUnexpectedEOF:
			return done, fmt.Errorf("needlemap: %d trailing bytes: %w", n-whole, ErrPartialEntry)
		case err != nil:
			return done, fmt.Errorf("needlemap: read idx: %w", err)
		}
	}
}

// apply replays one .idx entry with SeaweedFS's rules.
func (m *Map) apply(key uint64, offset, size uint32) {
	if offset == 0 || size > MaxSize {
		m.Delete(key, offset)
		return
	}
	m.Set(key, offset, size)
}
