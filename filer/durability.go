package filer

import "context"

// noSyncKey marks a context whose store writes need not reach stable
// storage before they return.
type noSyncKey struct{}

// NoSync returns a context whose writes (single calls and transaction
// commits) a store may acknowledge before they are on stable storage: they
// are applied and visible to every reader at once, in order with the
// writes before and after them, but a crash of the store's machine (and,
// for the embedded store, of the filer process within milliseconds of the
// return) can lose them, like a write(2) to a local file that was never
// fsynced. The next synced write makes them durable too, since stores
// keep one ordered log.
//
// It is for changes whose caller promises no durability, such as close(2)
// of a file in a mount; fsync(2) uses a plain context. Stores without a
// cheaper unsynced commit (redis) ignore it.
func NoSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, noSyncKey{}, true)
}

// SyncWanted reports whether writes made with ctx must be on stable
// storage before they return (true unless ctx comes from NoSync).
func SyncWanted(ctx context.Context) bool {
	v, _ := ctx.Value(noSyncKey{}).(bool)
	return !v
}

// withSync is ctx with its writes synced even when it comes from NoSync.
func withSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, noSyncKey{}, false)
}
