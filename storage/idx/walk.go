package idx

import (
	"errors"
	"fmt"
	"io"
)

// walkBufSize is the block Walk reads at a time: 64 Ki entries.
const walkBufSize = EntrySize << 16

// maxIdleReads is how many empty reads in a row Walk tolerates, as
// bufio.Reader does.
const maxIdleReads = 100

// TornError reports a .idx that ends with a partial entry, as a crash in the
// middle of an append leaves it. Callers cut the file to Entries*EntrySize.
// It wraps ErrCorrupt.
type TornError struct {
	Entries  int64 // whole entries before the partial one
	Trailing int   // bytes of the partial entry
}

func (e *TornError) Error() string {
	return fmt.Sprintf("idx: torn tail: %d trailing bytes after %d whole entries", e.Trailing, e.Entries)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *TornError) Unwrap() error { return ErrCorrupt }

// Walk calls fn for each whole entry read from r, in order, reading in large
// blocks without allocating per entry. An error from fn stops the walk and is
// returned as is. A trailing partial entry is reported as a *TornError after
// fn has seen every whole entry; a read error is wrapped.
func Walk(r io.Reader, fn func(Entry) error) error {
	buf := make([]byte, walkBufSize)
	var entries int64
	have := 0 // bytes in buf not yet consumed (a partial entry)
	idle := 0
	for {
		n, err := r.Read(buf[have:])
		if n == 0 && err == nil {
			// A reader that keeps returning nothing would spin forever.
			if idle++; idle >= maxIdleReads {
				return fmt.Errorf("idx: read after %d entries: %w", entries, io.ErrNoProgress)
			}
			continue
		}
		idle = 0
		have += n
		whole := have / EntrySize * EntrySize
		for i := 0; i < whole; i += EntrySize {
			if ferr := fn(decode(buf[i : i+EntrySize])); ferr != nil {
				return ferr
			}
		}
		entries += int64(whole / EntrySize)
		have = copy(buf, buf[whole:have])
		if err != nil {
			if errors.Is(err, io.EOF) {
				if have > 0 {
					return &TornError{Entries: entries, Trailing: have}
				}
				return nil
			}
			return fmt.Errorf("idx: read after %d entries: %w", entries, err)
		}
	}
}
