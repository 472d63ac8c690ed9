package snapshots

import (
	"bufio"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// writeBuffer is the size of a sink's write buffer.
const writeBuffer = 256 << 10

// ErrSinkDone is returned by a sink's Write and Close after Close or Cancel.
var ErrSinkDone = errors.New("snapshots: sink already closed or cancelled")

// Sink receives the data of one snapshot in a temporary folder.
type Sink struct {
	store  *Store
	meta   *raftpb.SnapshotMeta
	folder string // temporary
	f      *os.File
	w      *bufio.Writer // over f: state machines often write in small pieces
	crc    hash.Hash32
	size   uint64
	done   bool // closed or cancelled
}

var _ raft.SnapshotSink = (*Sink)(nil)

// Create starts a snapshot described by meta (its Size is set by Close).
func (s *Store) Create(meta *raftpb.SnapshotMeta) (raft.SnapshotSink, error) {
	if meta == nil {
		return nil, errors.New("snapshots: create without meta")
	}
	folder, err := os.MkdirTemp(s.dir, folderName(id{meta.Index, meta.Term})+"-*"+tempSuffix)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(folder, dataFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		os.RemoveAll(folder)
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	return &Sink{store: s, meta: proto.CloneOf(meta), folder: folder, f: f, w: bufio.NewWriterSize(f, writeBuffer), crc: crc32.New(castagnoli)}, nil
}

// Write appends application bytes to the snapshot.
func (k *Sink) Write(p []byte) (int, error) {
	if k.done {
		return 0, ErrSinkDone
	}
	n, err := k.w.Write(p)
	k.crc.Write(p[:n])
	k.size += uint64(n)
	if err != nil {
		return n, fmt.Errorf("snapshots: write: %w", err)
	}
	return n, nil
}

// Close makes the snapshot durable and the latest, then prunes old ones. On
// error nothing of it remains.
func (k *Sink) Close() error {
	if k.done {
		return ErrSinkDone
	}
	k.done = true
	if err := k.complete(); err != nil {
		k.f.Close()
		os.RemoveAll(k.folder)
		return err
	}
	return nil
}

func (k *Sink) complete() error {
	if err := k.w.Flush(); err != nil {
		return fmt.Errorf("snapshots: write data: %w", err)
	}
	if err := k.f.Sync(); err != nil {
		return fmt.Errorf("snapshots: sync data: %w", err)
	}
	if err := k.f.Close(); err != nil {
		return fmt.Errorf("snapshots: close data: %w", err)
	}
	k.meta.Size = k.size
	b, err := encodeMeta(metaFile{meta: k.meta, dataCRC: k.crc.Sum32()})
	if err != nil {
		return err
	}
	if err := writeSynced(filepath.Join(k.folder, metaFileName), b); err != nil {
		return err
	}
	if err := syncDir(k.folder); err != nil {
		return err
	}
	s := k.store
	s.mu.Lock()
	defer s.mu.Unlock()
	final := filepath.Join(s.dir, folderName(id{k.meta.Index, k.meta.Term}))
	if _, err := os.Stat(final); err == nil {
		// The same index and term is the same state: keep the one there.
		return os.RemoveAll(k.folder)
	}
	if err := os.Rename(k.folder, final); err != nil {
		return fmt.Errorf("snapshots: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	return s.prune()
}

// Cancel abandons the snapshot and removes its files. After a successful
// Close it does nothing, so `defer sink.Cancel()` is safe.
func (k *Sink) Cancel() error {
	if k.done {
		return nil
	}
	k.done = true
	k.f.Close()
	if err := os.RemoveAll(k.folder); err != nil {
		return fmt.Errorf("snapshots: cancel: %w", err)
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("snapshots: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("snapshots: write %s: %w", path, err)
	}
	return nil
}
