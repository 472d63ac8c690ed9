package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

func TestCopyAndReceiveVolume(t *testing.T) {
	ctx := context.Background()
	src, err := OpenStore(ctx, vfs.Default(), []DiskLocation{{Dir: t.TempDir()}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	v, err := src.AllocateVolume("pics_2024", 3, superblock.ReplicaPlacement{SameRack: 1}, needle.TTL{})
	if err != nil {
		t.Fatal(err)
	}
	for k := uint64(1); k <= 50; k++ {
		mustWrite(t, v, newTestNeedle(k, 3, int(k*31), k), WriteOptions{})
	}
	for k := uint64(1); k <= 50; k += 7 {
		if _, err := v.Delete(ctx, k, 3, DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A writer keeps appending while the copy runs.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for k := uint64(100); k < 200; k++ {
			if _, err := v.Write(ctx, newTestNeedle(k, 3, 100, k), WriteOptions{}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var dat, idx bytes.Buffer
	datSize, idxSize, err := v.CopyFiles(ctx, &dat, &idx)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if int64(dat.Len()) != datSize || int64(idx.Len()) != idxSize || idxSize%16 != 0 {
		t.Fatalf("copied %d/%d bytes, reported %d/%d", dat.Len(), idx.Len(), datSize, idxSize)
	}

	dstDir := t.TempDir()
	// A leftover of an interrupted transfer is removed on open.
	leftover := filepath.Join(dstDir, "pics_2024_9.dat"+extReceiving)
	if err := os.WriteFile(leftover, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst, err := OpenStore(ctx, vfs.Default(), []DiskLocation{{Dir: dstDir, MaxVolumes: 2}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover transfer file kept: %v", err)
	}
	got, err := dst.ReceiveVolume(ctx, "pics_2024", 3, &dat, &idx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Collection() != "pics_2024" || got.SuperBlock().Placement.String() != "001" {
		t.Fatalf("received volume: %q %v", got.Collection(), got.SuperBlock().Placement)
	}
	for k := uint64(1); k <= 50; k++ {
		if k%7 == 1 {
			_, err := got.Read(ctx, k, 3, ReadOptions{})
			wantErr(t, err, ErrDeleted, "deleted needle in the copy")
			continue
		}
		checkRead(t, got, k, 3, testData(int(k*31), k))
	}
	// Whatever of the concurrent writes made it into the copy is exact.
	for k := uint64(100); k < 200; k++ {
		n, err := got.Read(ctx, k, 3, ReadOptions{})
		if err == nil && !bytes.Equal(n.Data, testData(100, k)) {
			t.Fatalf("needle %d written during the copy reads back wrong", k)
		}
	}
	mustWrite(t, got, newTestNeedle(500, 1, 10, 500), WriteOptions{})

	// A second transfer of the same id is refused; a broken one leaves
	// nothing behind and frees its slot.
	if _, err := dst.ReceiveVolume(ctx, "pics_2024", 3, bytes.NewReader(nil), bytes.NewReader(nil)); !errors.Is(err, ErrVolumeExists) {
		t.Fatalf("receiving an existing id: %v", err)
	}
	if _, err := dst.ReceiveVolume(ctx, "x", 4, bytes.NewReader([]byte{9, 9, 9}), bytes.NewReader(nil)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("receiving a garbage volume: %v", err)
	}
	entries, _ := os.ReadDir(dstDir)
	if len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files after a failed transfer: %v", names)
	}
	if free := dst.Locations()[0].FreeSlots; free != 1 {
		t.Fatalf("free slots %d after a failed transfer, want 1", free)
	}
	dst.Close()
	dst, err = OpenStore(ctx, vfs.Default(), []DiskLocation{{Dir: dstDir}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	n, err := dst.Read(ctx, 3, 500, 1, ReadOptions{})
	if err != nil || !bytes.Equal(n.Data, testData(10, 500)) {
		t.Fatalf("received volume after reopen: %v", err)
	}
}

func TestConcurrentAllocate(t *testing.T) {
	ctx := context.Background()
	s, err := OpenStore(ctx, vfs.Default(), []DiskLocation{{Dir: t.TempDir(), MaxVolumes: 3}, {Dir: t.TempDir(), MaxVolumes: 3}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := map[uint32]int{}
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := uint32(g%8 + 1) // every id wanted by two goroutines
			if _, err := s.AllocateVolume("", id, superblock.ReplicaPlacement{}, needle.TTL{}); err == nil {
				mu.Lock()
				ok[id]++
				mu.Unlock()
			} else if !errors.Is(err, ErrVolumeExists) && !errors.Is(err, ErrNoFreeSlot) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(ok) != 6 {
		t.Fatalf("%d volumes allocated, want 6 (the slots)", len(ok))
	}
	for id, n := range ok {
		if n != 1 {
			t.Fatalf("volume %d allocated %d times", id, n)
		}
	}
	for _, l := range s.Locations() {
		if l.Volumes != 3 || l.FreeSlots != 0 {
			t.Fatalf("location %+v", l)
		}
	}
}
