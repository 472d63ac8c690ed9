// Package redis is the filer.Store kept in Redis, so several filers can
// share one namespace held in memory (with Redis's own persistence).
//
// It owns these keys, all under Options.Prefix (default "weed:"):
//
//	<p>e:<path>   string: filer.EncodeEntry bytes of the entry at path
//	<p>c:<dir>    sorted set: the names of dir's children, all with score 0,
//	              so ZRANGEBYLEX lists them in byte order page by page
//	<p>k:<key>    string: a KV value
//	<p>ki         sorted set: every KV key (score 0), for ordered scans
//
// An insert or delete changes the entry and its folder's set in one
// MULTI/EXEC. DeleteFolderChildren walks the sets depth first (a page of
// names at a time) and is not atomic against concurrent writers in that
// folder: it deletes what it finds.
//
// Transactions are buffered in the filer process: writes made with a
// transaction's context are queued, FindEntry and KvGet on that context see
// them, and CommitTx sends them in one MULTI/EXEC (folders emptied inside
// the transaction are walked just before). Listings and KV scans on a
// transaction's context read what Redis holds, without the transaction's
// own writes. There is no isolation between transactions: the last commit
// wins, so callers lock paths themselves.
//
// An acknowledged write is as durable as the Redis server is configured
// to make it: with the default RDB snapshots a crash of Redis loses the
// last minutes; run it with appendonly yes (appendfsync everysec loses at
// most a second, always loses nothing) when the namespace matters.
//
// Failures to reach Redis (refused or lost connections, a closed client)
// wrap filer.ErrUnavailable. It never touches keys outside its prefix.
package redis
