package needlemap

import (
	"errors"
	"fmt"
	"io"

	"weedfs.dev/weed/storage/idx"
)

// ErrPartialEntry reports a .idx stream whose length is not a multiple of
// idx.EntrySize: its last entry was torn by a crash.
var ErrPartialEntry = errors.New("needlemap: partial idx entry at end")

// Load replays a .idx stream: later entries win, and an entry whose size
// is negative as an int32 (idx.Tombstone among them) or whose offset is 0
// deletes its key, as SeaweedFS's loader does. A trailing partial entry
// makes Load return the map of the whole entries together with an error
// wrapping both ErrPartialEntry and idx.ErrCorrupt (an *idx.TornError).
func Load(r io.Reader) (*Map, error) {
	m := New()
	_, err := m.replay(r)
	return m, err
}

// LoadAt replays the first size bytes of the .idx file f (as Load) and
// returns how many bytes of whole entries it held, so the caller can cut a
// torn tail. A partial last entry is not an error here.
func LoadAt(f io.ReaderAt, size int64) (m *Map, whole int64, err error) {
	m = New()
	whole, err = m.replay(io.NewSectionReader(f, 0, size))
	if errors.Is(err, ErrPartialEntry) {
		err = nil
	}
	return m, whole, err
}

// replay applies the entries of r and returns the bytes of whole entries.
func (m *Map) replay(r io.Reader) (int64, error) {
	var n int64
	err := idx.Walk(r, func(e idx.Entry) error {
		m.apply(e)
		n++
		return nil
	})
	whole := n * idx.EntrySize
	var torn *idx.TornError
	switch {
	case errors.As(err, &torn):
		return whole, fmt.Errorf("%w: %w", ErrPartialEntry, err)
	case err != nil:
		return whole, fmt.Errorf("needlemap: %w", err)
	}
	return whole, nil
}

// apply replays one .idx entry with SeaweedFS's rules.
func (m *Map) apply(e idx.Entry) {
	if e.Offset == 0 || e.IsDeleted() {
		m.Delete(e.Key, e.Offset)
		return
	}
	m.Set(e.Key, e.Offset, e.Size)
}
