package mount

import "context"

// ObserveVolumeSyncs makes fsys report every set of volumes it syncs
// (fsync and background syncs) to see, before syncing them for real.
// Call it before any write.
func ObserveVolumeSyncs(fsys *FS, see func(vids []uint32)) {
	next := fsys.vsync.sync
	fsys.vsync.mu.Lock()
	fsys.vsync.sync = func(ctx context.Context, vids []uint32) error {
		see(append([]uint32(nil), vids...))
		return next(ctx, vids)
	}
	fsys.vsync.mu.Unlock()
}
