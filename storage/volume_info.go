package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// VolumeInfo is what heartbeats and /status report about a volume.
type VolumeInfo struct {
	ID                 uint32
	Collection         string
	Size               int64 // bytes of .dat
	FileCount          uint64
	DeleteCount        uint64
	DeletedByteCount   uint64
	ContentSize        uint64
	LiveCount          int
	MaxKey             uint64 // largest needle key seen: the master's sequencer floor
	ReadOnly           bool
	CompactionRevision uint16
	Placement          superblock.ReplicaPlacement
	TTL                needle.TTL
	Version            needle.Version
	ModifiedAt         time.Time
	GarbageRatio       float64 // DeletedByteCount / ContentSize
}

// Info returns the volume's counters and settings.
func (v *Volume) Info() VolumeInfo {
	v.mu.RLock()
	defer v.mu.RUnlock()
	st := v.nm.Stats()
	return VolumeInfo{
		ID:                 v.id,
		Collection:         v.collection,
		Size:               v.datSize,
		FileCount:          st.FileCount,
		DeleteCount:        st.DeletedCount,
		DeletedByteCount:   st.DeletedSize,
		ContentSize:        st.ContentSize,
		LiveCount:          st.Live,
		MaxKey:             st.MaxKey,
		ReadOnly:           v.readOnly,
		CompactionRevision: v.sb.CompactionRevision,
		Placement:          v.sb.Placement,
		TTL:                v.sb.TTL,
		Version:            v.sb.Version,
		ModifiedAt:         v.modTime,
		GarbageRatio:       st.GarbageRatio(),
	}
}

// GarbageRatio returns DeletedSize/ContentSize of the needle map, what the
// master compares with its vacuum threshold.
func (v *Volume) GarbageRatio() float64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.nm.Stats().GarbageRatio()
}

// Expired reports whether a TTL volume has outlived its TTL: nothing was
// written to it for that long, so every needle in it has expired too and
// the master may delete it (SeaweedFS's rule). A volume without TTL never
// expires.
func (v *Volume) Expired(now time.Time) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.sb.TTL.IsEmpty() {
		return false
	}
	return !now.Before(v.modTime.Add(v.sb.TTL.Duration()))
}

// Sync makes every write and delete acknowledged so far durable.
func (v *Volume) Sync() error {
	v.mu.RLock()
	seq, closed := v.writeSeq, v.closed
	v.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return v.waitDurable(seq, true)
}

// ReadOnly reports whether writes are refused.
func (v *Volume) ReadOnly() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.readOnly
}

// SetReadOnly marks the volume read-only (or writable again) and persists
// the mark in the .vif, durably, before returning.
func (v *Volume) SetReadOnly(readOnly bool) error {
	v.wmu.Lock()
	defer v.wmu.Unlock()
	v.mu.RLock()
	closed, vif := v.closed, v.vif
	v.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	vif.ReadOnly = readOnly
	if err := saveVolumeInfo(v.fs, v.dir, v.base(), vif); err != nil {
		return fmt.Errorf("volume %d: %w", v.id, err)
	}
	v.mu.Lock()
	v.vif, v.readOnly = vif, readOnly
	v.mu.Unlock()
	return nil
}

// newVolumeInfo is the .vif of a fresh volume. SeaweedFS leaves the
// replication field empty there (see fixtures/seaweedfs-v3/fx_1.vif).
func newVolumeInfo(ver needle.Version) superblock.VolumeInfo {
	return superblock.NewVolumeInfo(uint32(ver), "")
}

// loadVolumeInfo reads the .vif. A missing one is written fresh, as
// SeaweedFS does; an unreadable one is logged and replaced, losing only the
// read-only mark.
func (v *Volume) loadVolumeInfo() error {
	name := v.base() + extVif
	b, err := readFile(v.fs, name)
	if err == nil {
		vif, perr := superblock.ParseVolumeInfo(b)
		if perr == nil {
			v.vif, v.readOnly = vif, vif.ReadOnly
			return nil
		}
		v.logger.Warn("volume info unreadable: writing a fresh one", "file", name, "err", perr)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	v.vif, v.readOnly = newVolumeInfo(v.sb.Version), false
	return saveVolumeInfo(v.fs, v.dir, v.base(), v.vif)
}

// saveVolumeInfo replaces the .vif atomically and durably: write a
// temporary file, sync it, rename it over the .vif, sync the folder.
func saveVolumeInfo(fsys vfs.FS, dir, base string, vif superblock.VolumeInfo) error {
	b, err := vif.Marshal()
	if err != nil {
		return fmt.Errorf("volume info: %w", err)
	}
	tmp := base + extVif + ".tmp"
	if err := writeFileSync(fsys, tmp, b, os.O_TRUNC); err != nil {
		return fmt.Errorf("write volume info: %w", err)
	}
	if err := fsys.Rename(tmp, base+extVif); err != nil {
		return fmt.Errorf("write volume info: %w", err)
	}
	return fsys.SyncDir(dir)
}
