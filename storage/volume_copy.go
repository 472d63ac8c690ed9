package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"weedfs.dev/weed/storage/vfs"
)

// copyChunk is how much CopyFiles and ReceiveVolume move at a time between
// checks of their context.
const copyChunk = 1 << 20

// extReceiving marks the files of a volume being received; OpenStore
// removes leftovers of an interrupted transfer.
const extReceiving = ".recv"

// CopyFiles writes a consistent copy of the volume, its .dat and its .idx
// as they were at the call, to dat and idx (for replica repair and volume
// moves). Reads and writes go on meanwhile: both files only grow, so the
// prefixes copied do not change; a compaction waits until the copy ends.
func (v *Volume) CopyFiles(ctx context.Context, dat, idx io.Writer) (datSize, idxSize int64, err error) {
	v.compactMu.Lock()
	defer v.compactMu.Unlock()
	v.mu.RLock()
	closed, datFile, idxFile := v.closed, v.dat, v.idx
	datSize, idxSize = v.datSize, v.idxSize
	v.mu.RUnlock()
	if closed {
		return 0, 0, ErrClosed
	}
	if err := copyCtx(ctx, dat, io.NewSectionReader(datFile, 0, datSize)); err != nil {
		return 0, 0, fmt.Errorf("copy volume %d data: %w", v.id, err)
	}
	if err := copyCtx(ctx, idx, io.NewSectionReader(idxFile, 0, idxSize)); err != nil {
		return 0, 0, fmt.Errorf("copy volume %d index: %w", v.id, err)
	}
	return datSize, idxSize, nil
}

// copyCtx copies r to w in chunks, stopping when ctx ends.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) error {
	buf := make([]byte, copyChunk)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ReceiveVolume creates volume id from the .dat and .idx streams another
// server's CopyFiles produced, in the folder with the most free slots. The
// files are written under temporary names, synced, then renamed into place,
// so a crash never leaves a half volume that OpenStore would load. The
// volume is opened (and so checked and recovered) before it is served.
func (s *Store) ReceiveVolume(ctx context.Context, collection string, id uint32, dat, idx io.Reader) (*Volume, error) {
	if err := checkCollection(collection); err != nil {
		return nil, err
	}
	loc, err := s.reserve(id)
	if err != nil {
		return nil, fmt.Errorf("receive volume %d: %w", id, err)
	}
	v, err := s.receive(ctx, loc.Dir, collection, id, dat, idx)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, id)
	if err != nil {
		loc.count--
		return nil, fmt.Errorf("receive volume %d: %w", id, err)
	}
	if s.closed {
		loc.count--
		return nil, errors.Join(ErrClosed, v.destroy())
	}
	s.volumes[id], s.where[id] = v, loc
	return v, nil
}

func (s *Store) receive(ctx context.Context, dir, collection string, id uint32, dat, idx io.Reader) (_ *Volume, err error) {
	base := FileBase(dir, collection, id)
	if _, err := s.fs.Stat(base + extDat); err == nil {
		return nil, ErrVolumeExists
	}
	defer func() {
		if err != nil {
			_ = removeIfExists(s.fs, base+extDat+extReceiving)
			_ = removeIfExists(s.fs, base+extIdx+extReceiving)
		}
	}()
	if err := receiveFile(ctx, s.fs, base+extDat+extReceiving, dat); err != nil {
		return nil, err
	}
	if err := receiveFile(ctx, s.fs, base+extIdx+extReceiving, idx); err != nil {
		return nil, err
	}
	_ = removeIfExists(s.fs, base+extVif) // a fresh one is written on open
	// The .idx first: the .dat's name is what makes the volume exist.
	if err := s.fs.Rename(base+extIdx+extReceiving, base+extIdx); err != nil {
		return nil, err
	}
	if err := s.fs.Rename(base+extDat+extReceiving, base+extDat); err != nil {
		_ = removeIfExists(s.fs, base+extIdx)
		return nil, err
	}
	if err := s.fs.SyncDir(dir); err != nil {
		return nil, err
	}
	v, err := OpenVolume(s.fs, dir, collection, id, s.volumeOptions())
	if err != nil {
		for _, ext := range []string{extVif, extIdx, extDat} {
			_ = removeIfExists(s.fs, base+ext)
		}
		_ = s.fs.SyncDir(dir)
		return nil, err
	}
	return v, nil
}

// receiveFile writes r to a new file name and syncs it.
func receiveFile(ctx context.Context, fsys vfs.FS, name string, r io.Reader) error {
	f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, filePerm)
	if err != nil {
		return err
	}
	err = copyCtx(ctx, f, r)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
