package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// storeWorkload allocates volume 1, writes to it, deletes it, allocates it
// again and writes, stopping at the first error. It returns how many of
// its steps were acknowledged.
func storeWorkload(s *Store) int {
	ctx := context.Background()
	steps := []func() error{
		func() error {
			_, err := s.AllocateVolume("c", 1, superblock.ReplicaPlacement{}, needle.TTL{})
			return err
		},
		func() error {
			_, err := s.Write(ctx, 1, newTestNeedle(1, 1, 300, 1), WriteOptions{Fsync: true})
			return err
		},
		func() error { return s.DeleteVolume(1) },
		func() error {
			_, err := s.AllocateVolume("c", 1, superblock.ReplicaPlacement{}, needle.TTL{})
			return err
		},
		func() error {
			_, err := s.Write(ctx, 1, newTestNeedle(2, 2, 300, 2), WriteOptions{Fsync: true})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			return i
		}
	}
	return len(steps)
}

// TestStoreCrash cuts the power before every file operation of volume
// allocation, writing and deletion: the store always reopens; volume 1 is
// absent or whole (each needle reads back exact or not at all); what was
// acknowledged holds; and volume 1 can then be allocated or written again.
func TestStoreCrash(t *testing.T) {
	ctx := context.Background()
	open := func(fs vfs.FS) (*Store, error) {
		return OpenStore(ctx, fs, []DiskLocation{{Dir: "/data", MaxVolumes: 2}}, nil, StoreOptions{})
	}
	clean := vfs.NewCrashFS()
	s, err := open(clean)
	if err != nil {
		t.Fatal(err)
	}
	if n := storeWorkload(s); n != 5 {
		t.Fatalf("clean run stopped at step %d", n)
	}
	total := clean.Ops()
	for crashAt := 1; crashAt <= total; crashAt++ {
		for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefixOfLastWrite} {
			name := fmt.Sprintf("crash at %d mode %d", crashAt, mode)
			cfs := vfs.NewCrashFS()
			cfs.SetCrashAt(crashAt)
			acked := 0
			if s, err := open(cfs); err == nil {
				acked = storeWorkload(s)
			}
			s, err := open(cfs.Crash(mode))
			if err != nil {
				t.Fatalf("%s: reopen: %v", name, err)
			}
			v, err := s.Volume(1)
			switch {
			case err == nil:
				// Needle 1 belongs to the first volume, needle 2 to the
				// second: each reads back exact or not at all.
				for k := uint64(1); k <= 2; k++ {
					n, err := v.Read(ctx, k, uint32(k), ReadOptions{})
					if err == nil && !bytes.Equal(n.Data, testData(300, k)) {
						t.Fatalf("%s: needle %d reads back wrong", name, k)
					}
					if err != nil && !errors.Is(err, ErrNotFound) {
						t.Fatalf("%s: needle %d: %v", name, k, err)
					}
					if acked == 2 && k == 1 && err != nil || acked == 5 && k == 2 && err != nil {
						t.Fatalf("%s: acknowledged needle %d lost: %v", name, k, err)
					}
					// After an acknowledged delete, only a new, empty
					// volume 1 may be there.
					if acked >= 3 && k == 1 && err == nil {
						t.Fatalf("%s: the deleted volume came back", name)
					}
				}
			case errors.Is(err, ErrVolumeNotFound):
				if acked == 1 || acked == 2 || acked >= 4 {
					t.Fatalf("%s: volume 1 lost after %d acknowledged steps", name, acked)
				}
				if _, err := s.AllocateVolume("c", 1, superblock.ReplicaPlacement{}, needle.TTL{}); err != nil {
					t.Fatalf("%s: allocate again: %v", name, err)
				}
			default:
				t.Fatal(err)
			}
			if _, err := s.Write(ctx, 1, newTestNeedle(9, 9, 10, 9), WriteOptions{}); err != nil {
				t.Fatalf("%s: write after reopen: %v", name, err)
			}
			s.Close()
		}
	}
}
