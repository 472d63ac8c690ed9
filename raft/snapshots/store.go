package snapshots

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// File and folder names; part of the on-disk layout.
const (
	folderPrefix = "snapshot-"
	tempSuffix   = ".tmp"
	dataFile     = "data"
	metaFileName = "meta"
	nameDigits   = 20
)

// Store is a raft.SnapshotStore on files. Its methods are safe for
// concurrent use.
type Store struct {
	dir    string
	retain int

	mu sync.Mutex // orders Close's rename and pruning against Latest
}

var _ raft.SnapshotStore = (*Store)(nil)

// Open opens the store in dir, creating it if needed, keeping the newest
// retain snapshots, and deletes snapshots a crash left incomplete.
func Open(dir string, retain int) (*Store, error) {
	if retain < 1 {
		return nil, fmt.Errorf("snapshots: retain %d, want at least 1", retain)
	}
	if err := makeDir(dir); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	removed := false
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), folderPrefix) && strings.HasSuffix(e.Name(), tempSuffix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("snapshots: remove incomplete snapshot: %w", err)
			}
			removed = true
		}
	}
	if removed {
		if err := syncDir(dir); err != nil {
			return nil, err
		}
	}
	return &Store{dir: dir, retain: retain}, nil
}

// id orders snapshots: by index, then term.
type id struct{ index, term uint64 }

func (a id) less(b id) bool {
	return a.index < b.index || (a.index == b.index && a.term < b.term)
}

func folderName(x id) string {
	return fmt.Sprintf("%s%0*d-%0*d", folderPrefix, nameDigits, x.index, nameDigits, x.term)
}

func parseFolderName(name string) (id, bool) {
	rest, ok := strings.CutPrefix(name, folderPrefix)
	if !ok || len(rest) != 2*nameDigits+1 || rest[nameDigits] != '-' {
		return id{}, false
	}
	index, err1 := strconv.ParseUint(rest[:nameDigits], 10, 64)
	term, err2 := strconv.ParseUint(rest[nameDigits+1:], 10, 64)
	if err1 != nil || err2 != nil {
		return id{}, false
	}
	return id{index, term}, true
}

// list returns the complete snapshots, newest first.
func (s *Store) list() ([]id, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	var ids []id
	for _, e := range ents {
		if x, ok := parseFolderName(e.Name()); ok && e.IsDir() {
			ids = append(ids, x)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[j].less(ids[i]) })
	return ids, nil
}

// Latest opens the newest complete snapshot after checking its meta and the
// checksum and size of its data; the caller closes the reader.
func (s *Store) Latest() (*raftpb.SnapshotMeta, io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := s.list()
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, raft.ErrNoSnapshot
	}
	return s.open(ids[0])
}

func (s *Store) open(x id) (*raftpb.SnapshotMeta, io.ReadCloser, error) {
	folder := filepath.Join(s.dir, folderName(x))
	metaPath := filepath.Join(folder, metaFileName)
	b, err := os.ReadFile(metaPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("snapshots: %s missing: %w", metaPath, raft.ErrCorrupt)
		}
		return nil, nil, fmt.Errorf("snapshots: %w", err)
	}
	mf, err := decodeMeta(b)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshots: %s: %w", metaPath, err)
	}
	if mf.meta.Index != x.index || mf.meta.Term != x.term {
		return nil, nil, fmt.Errorf("snapshots: %s holds index %d term %d, its folder says %d, %d: %w",
			metaPath, mf.meta.Index, mf.meta.Term, x.index, x.term, raft.ErrCorrupt)
	}
	dataPath := filepath.Join(folder, dataFile)
	f, err := os.Open(dataPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("snapshots: %s missing: %w", dataPath, raft.ErrCorrupt)
		}
		return nil, nil, fmt.Errorf("snapshots: %w", err)
	}
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("snapshots: read %s: %w", dataPath, err)
	}
	if uint64(n) != mf.meta.Size || h.Sum32() != mf.dataCRC {
		f.Close()
		return nil, nil, fmt.Errorf("snapshots: %s: %d bytes with checksum %08x, meta says %d bytes with %08x: %w",
			dataPath, n, h.Sum32(), mf.meta.Size, mf.dataCRC, raft.ErrCorrupt)
	}
	return mf.meta, f, nil
}

// prune deletes all but the newest retain snapshots, with mu held.
func (s *Store) prune() error {
	ids, err := s.list()
	if err != nil {
		return err
	}
	if len(ids) <= s.retain {
		return nil
	}
	for _, x := range ids[s.retain:] {
		// Renamed first, so a crash in the middle of the removal leaves a
		// folder that Open deletes, not a complete-looking one.
		final := filepath.Join(s.dir, folderName(x))
		doomed := final + "-pruned" + tempSuffix
		if err := os.Rename(final, doomed); err != nil {
			return fmt.Errorf("snapshots: prune: %w", err)
		}
		if err := os.RemoveAll(doomed); err != nil {
			return fmt.Errorf("snapshots: prune: %w", err)
		}
	}
	return syncDir(s.dir)
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("snapshots: open dir for sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("snapshots: sync dir %s: %w", dir, err)
	}
	return nil
}

// makeDir creates dir if needed; a new directory's entry in its parent is
// synced, so snapshots are not lost with it.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("snapshots: %w", err)
	}
	return syncDir(filepath.Dir(filepath.Clean(dir)))
}
