package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	segmentPrefix = "wal-"
	segmentSuffix = ".log"
	tempSuffix    = ".tmp"
	nameDigits    = 20
)

// segment is one open segment file. The WAL writes only to the last one.
type segment struct {
	name uint64 // the number in the file name; names strictly increase
	path string
	f    *os.File // open read-write for the WAL's lifetime
	size int64    // bytes of valid records
}

func segmentFile(name uint64) string {
	return fmt.Sprintf("%s%0*d%s", segmentPrefix, nameDigits, name, segmentSuffix)
}

// parseSegmentFile returns the name number of a segment file name.
func parseSegmentFile(file string) (uint64, bool) {
	if !strings.HasPrefix(file, segmentPrefix) || !strings.HasSuffix(file, segmentSuffix) {
		return 0, false
	}
	digits := strings.TrimSuffix(strings.TrimPrefix(file, segmentPrefix), segmentSuffix)
	if len(digits) != nameDigits {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// listSegments returns the segment names in dir in replay order and removes
// leftover temporary files of segments that were never completed.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list %s: %w", dir, err)
	}
	var names []uint64
	for _, e := range ents {
		file := e.Name()
		if strings.HasPrefix(file, segmentPrefix) && strings.HasSuffix(file, segmentSuffix+tempSuffix) {
			if err := os.Remove(filepath.Join(dir, file)); err != nil {
				return nil, fmt.Errorf("wal: remove incomplete segment: %w", err)
			}
			continue
		}
		if n, ok := parseSegmentFile(file); ok {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names, nil
}

// createSegment writes a new segment holding header durably under a
// temporary name, then renames it into place and syncs the directory, so a
// segment file either does not exist or holds its complete header.
func createSegment(dir string, name uint64, header []byte, sync func(*os.File) error) (*segment, error) {
	path := filepath.Join(dir, segmentFile(name))
	tmp := path + tempSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	fail := func(err error) (*segment, error) {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("wal: create segment %s: %w", path, err)
	}
	if _, err := f.Write(header); err != nil {
		return fail(err)
	}
	if err := sync(f); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return &segment{name: name, path: path, f: f, size: int64(len(header))}, nil
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("wal: open dir for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal: sync dir %s: %w", dir, err)
	}
	return nil
}

// makeDir creates dir if needed; a new directory's entry in its parent is
// synced, so the log is not lost with it.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("wal: %w", err)
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}
