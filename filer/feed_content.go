package filer

import (
	"context"
	"hash/crc32"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// Events as stored leave out the inline content of their entries: a
// small file's save wrote its content twice, in the entry and in the
// event, and the second copy cost as much again in the log, memtables
// and compactions of the store. Live followers get the whole event from
// the filer's log of recent events; a follower reading an event back from
// the store gets new_entry's content from the entry when it still holds
// the same bytes (pb.EntryEvent's new_content_* fields).

// castagnoli is the CRC-32C table (hardware-assisted on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeStored encodes ev as the store keeps it: without the inline
// content of its entries, marked so. ev is changed only for the call.
func encodeStored(ev *pb.EntryEvent) ([]byte, error) {
	var oldContent, newContent []byte
	if ev.OldEntry != nil && len(ev.OldEntry.Content) > 0 {
		oldContent, ev.OldEntry.Content = ev.OldEntry.Content, nil
		ev.OldContentOmitted = true
	}
	if ev.NewEntry != nil && len(ev.NewEntry.Content) > 0 {
		newContent, ev.NewEntry.Content = ev.NewEntry.Content, nil
		ev.NewContentOmitted = true
		ev.NewContentCrc32C = crc32.Checksum(newContent, castagnoli)
	}
	b, err := proto.Marshal(ev)
	if oldContent != nil {
		ev.OldEntry.Content, ev.OldContentOmitted = oldContent, false
	}
	if newContent != nil {
		ev.NewEntry.Content, ev.NewContentOmitted, ev.NewContentCrc32C = newContent, false, 0
	}
	return b, err
}

// restoreContent gives an event read back from the store its new entry's
// content from the entry at that path, when that entry holds bytes of the
// recorded CRC-32C (the same version, or a later one with the same
// content). It reports whether it changed ev.
func (f *Filer) restoreContent(ctx context.Context, ev *pb.EntryEvent) bool {
	if !ev.NewContentOmitted || ev.NewEntry == nil {
		return false
	}
	cur, err := f.store.FindEntry(ctx, ev.NewEntry.FullPath)
	if err != nil || len(cur.Content) == 0 || crc32.Checksum(cur.Content, castagnoli) != ev.NewContentCrc32C {
		return false
	}
	ev.NewEntry.Content = cur.Content
	ev.NewContentOmitted, ev.NewContentCrc32C = false, 0
	return true
}
