package filer_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/filertest"
)

// syncLog is a store that records, in order, which writes asked to be
// synced: "put <key> sync" / "put <key> nosync", "commit sync" / "commit
// nosync".
type syncLog struct {
	filer.Store
	mu  sync.Mutex
	ops []string
}

func (s *syncLog) note(op string, ctx context.Context) {
	mode := "nosync"
	if filer.SyncWanted(ctx) {
		mode = "sync"
	}
	s.mu.Lock()
	s.ops = append(s.ops, op+" "+mode)
	s.mu.Unlock()
}

func (s *syncLog) KvPut(ctx context.Context, key, value []byte) error {
	s.note("put "+string(key), ctx)
	return s.Store.KvPut(ctx, key, value)
}

func (s *syncLog) CommitTx(ctx context.Context) error {
	s.note("commit", ctx)
	return s.Store.CommitTx(ctx)
}

// A save made with NoSync that drops chunks queues their deletion in an
// unsynced commit; before the deletion loop deletes them it makes the
// store sync, so a crash cannot bring back an entry whose chunks are gone.
func TestDeletionSyncsNoSyncCommitsFirst(t *testing.T) {
	c := filertest.Start(t, 1, 8)
	s := &syncLog{Store: newStore(t)}
	f := newFiler(t, c, s, "f1")
	ctx := context.Background()
	e, err := f.WriteFile(ctx, "/a.bin", bytes.NewReader(randomBytes(7, 200<<10)), filer.FileAttrs{}, filer.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Chunks) < 2 {
		t.Fatalf("%d chunks, want several", len(e.Chunks))
	}
	drain(t, f)
	s.mu.Lock()
	s.ops = nil
	s.mu.Unlock()

	cut := *e
	cut.Chunks = e.Chunks[:1]
	cut.FileSize = cut.Chunks[0].Size
	if err := f.SaveEntry(filer.NoSync(ctx), &cut); err != nil {
		t.Fatal(err)
	}
	drain(t, f)
	s.mu.Lock()
	ops := strings.Join(s.ops, "\n")
	s.mu.Unlock()
	commit := strings.Index(ops, "commit nosync")
	barrier := strings.Index(ops, "put sb/f1 sync")
	if commit < 0 || barrier < commit {
		t.Fatalf("want an unsynced commit, then a synced barrier before deletion; store saw:\n%s", ops)
	}
	for _, ch := range e.Chunks[1:] {
		if _, _, err := c.Client.Read(ctx, ch.Fid, client.ReadOptions{}); err == nil {
			t.Errorf("dropped chunk %s still readable after the drain", ch.Fid)
		}
	}
}
