// Package filer is weed's directory namespace over blobs: it turns the flat
// fid space of the volume servers into files and folders.
//
// It owns the namespace rules (a create makes missing parent folders; a
// file where a folder must be, or the reverse, is ErrConflict; deletes are
// recursive only when asked; renames move whole subtrees entry by entry in
// one store transaction), the cutting of file bodies into chunks uploaded in
// parallel and read back in order with read-ahead, the persistent queue of
// chunks to delete on the volume servers, the record of uploads in flight
// (so chunks of an upload cut off by a crash are found and deleted), and the
// change feed of entry events kept in the store's KV space.
//
// It never speaks HTTP to its own users (package filer/server does), never
// encodes entries itself (entry*.go and the stores do), and never talks to
// volume servers except through the Blobs interface (a *client.Client).
//
// # Bookkeeping keys in the store's KV space
//
//	"dq/"  + ts (8 bytes BE unix ns) + seq (8 bytes BE)   -> fid list: chunks to delete
//	"up/"  + filer id + "/" + start ns (hex) + "-" + seq (hex) -> fid list: a reservation of fids
//	"uu/"  + filer id + "/" + the same suffix + "/" + fid     -> empty: an entry holds this reserved fid
//	"ev/"  + ts (8 bytes BE unix ns) + seq (8 bytes BE)   -> pb.EntryEvent without inline content: the change feed
//	"sb/"  + filer id                                       -> empty: written synced before queued chunks are deleted
//
// # Change feed
//
// Every namespace change records a pb.EntryEvent in the same transaction,
// so the feed is as durable as the change. The stored event leaves out
// the inline content of its entries (feed_content.go); once the
// transaction commits, the whole event is published to an in-memory log
// of this filer's recent events (feed_log.go), from which followers that
// are caught up read it; they read the store only to catch up from an old
// time and, every feedLookBack, for events of other filers sharing the
// store. Follow documents the order followers see.
//
// A fid list is the fids joined by '\n' (a fid is "<volume>,<key><cookie>"
// in hex and never holds a newline); see encodeFids and decodeFids. The
// filer id is Options.ID (weed filer uses its ip:port), so filers sharing a
// store recover only their own uploads; an upload record written after this
// filer started is an upload in progress, not a leftover.
//
// # Small files
//
// A body of at most Options.SaveInsideLimit bytes is kept in the entry's
// Content instead of a blob when the write allows it (SeaweedFS's
// -saveToFilerLimit; weed filer's default is 0, as SeaweedFS's: off).
//
// # Durability
//
// An entry is written only after every chunk of its body is stored. Chunks
// an entry stops referencing (overwrite, delete, append that rewrites
// inline content) are put on the deletion queue in the same store
// transaction as the entry change, before the caller is answered; a
// background loop drains the queue with retries, so a filer restart loses
// no pending deletion. Chunk fids are assigned in batches (count=N) whose
// "up/" record is synced before any of them is sent; the transaction that
// saves an entry marks its chunks' fids under "uu/", a failed upload queues
// its fids for deletion, and a batch whose fids are all settled is removed
// with its markers. A filer that starts queues every unmarked fid of the
// records its previous life left (same filer id): chunks of uploads cut off
// and fids never sent (reserve.go).
package filer
