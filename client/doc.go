// Package client is the Go client of weed, used by the command line, the
// filer, the mount and users' programs. It speaks only the documented HTTP
// API (SeaweedFS-compatible): /dir/assign and /dir/lookup on masters, and
// blob POST/GET/DELETE on volume servers, plus our admin sync call
// (SyncVolumes: fsync of volumes, for a mount's fsync).
//
// It owns the volume-location cache (refreshed when a read misses), the
// choice of master (the next one is tried when one does not answer), the
// multipart upload encoding, and the chunk-manifest format of large files.
// It retries only idempotent operations: lookups, reads, deletes, and
// uploads to a fid (re-uploading the same bytes to the same fid is a no-op
// on the volume server); it never retries an assign, whose keys would be
// spent again for nothing.
package client
