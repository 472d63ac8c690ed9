package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

// smallVolume writes needles 1..5 (1000 bytes each) into dir and closes it.
func smallVolume(t *testing.T, dir string) {
	t.Helper()
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{})
	for k := uint64(1); k <= 5; k++ {
		mustWrite(t, v, newTestNeedle(k, 1, 1000, k), WriteOptions{})
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBadSuperBlock(t *testing.T) {
	for _, tc := range []struct {
		name string
		dat  []byte
	}{
		{"empty", nil},
		{"3 bytes", []byte{3, 0, 0}},
		{"7 bytes", []byte{3, 0, 0, 0, 0, 0, 0}},
		{"version 0", []byte{0, 0, 0, 0, 0, 0, 0, 0}},
		{"version 4", []byte{4, 0, 0, 0, 0, 0, 0, 0}},
		{"version 255", []byte{255, 0, 0, 0, 0, 0, 0, 0}},
		{"extra past the end", []byte{3, 0, 0, 0, 0, 0, 0, 200, 1, 2}},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "c_1.dat"), tc.dat, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := OpenVolume(vfs.Default(), dir, "c", 1, VolumeOptions{})
		if !errors.Is(err, ErrCorrupt) || !errors.Is(err, superblock.ErrCorrupt) {
			t.Errorf("%s: OpenVolume = %v, want ErrCorrupt and superblock.ErrCorrupt", tc.name, err)
		}
	}
	_, err := OpenVolume(vfs.Default(), t.TempDir(), "c", 1, VolumeOptions{})
	wantErr(t, err, ErrVolumeNotFound, "open of a missing volume")
}

func TestFlippedDataByteIsNeverServed(t *testing.T) {
	dir := t.TempDir()
	smallVolume(t, dir)
	datName := filepath.Join(dir, "c_1.dat")
	b, err := os.ReadFile(datName)
	if err != nil {
		t.Fatal(err)
	}
	// Needle 3 is the third record; flip a byte of its data.
	recLen := needle.RecordLen(binary.BigEndian.Uint32(b[8+12:]), needle.Version3)
	off := 8 + 2*recLen + needle.HeaderSize + 4 + 500
	b[off] ^= 0x40
	if err := os.WriteFile(datName, b, 0o644); err != nil {
		t.Fatal(err)
	}
	v := mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	n, err := v.Read(context.Background(), 3, 1, ReadOptions{})
	if n != nil || !errors.Is(err, ErrCorrupt) || !errors.Is(err, needle.ErrCorrupt) || !errors.Is(err, needle.ErrChecksum) {
		t.Fatalf("read of a needle with a flipped byte: %v, needle %v", err, n != nil)
	}
	for _, k := range []uint64{1, 2, 4, 5} {
		checkRead(t, v, k, 1, testData(1000, k))
	}
	// Uploading the same content again heals it (the damaged copy is not
	// taken for an identical one).
	res := mustWrite(t, v, newTestNeedle(3, 1, 1000, 3), WriteOptions{})
	if res.Unchanged {
		t.Fatal("rewrite over a corrupt copy reported unchanged")
	}
	checkRead(t, v, 3, 1, testData(1000, 3))
	// Break needle 4 the same way and compact.
	v.Close()
	b, _ = os.ReadFile(datName)
	b[off+recLen] ^= 0x40
	os.WriteFile(datName, b, 0o644)
	v = mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	if _, err := v.Read(context.Background(), 4, 1, ReadOptions{}); !errors.Is(err, needle.ErrChecksum) {
		t.Fatalf("needle 4 after flipping a byte: %v", err)
	}
	// Compaction drops the unreadable needle instead of copying it.
	if err := v.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := v.CommitCompact(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = v.Read(context.Background(), 4, 1, ReadOptions{})
	wantErr(t, err, ErrNotFound, "unreadable needle after compaction")
	checkRead(t, v, 3, 1, testData(1000, 3))
	checkRead(t, v, 5, 1, testData(1000, 5))
}

func TestCorruptIndexEntries(t *testing.T) {
	dir := t.TempDir()
	smallVolume(t, dir)
	idxName := filepath.Join(dir, "c_1.idx")
	b, err := os.ReadFile(idxName)
	if err != nil {
		t.Fatal(err)
	}
	// Entry 2 (needle 2) now points at needle 4's record; entry 3
	// (needle 3) points far past the end of .dat with a huge size.
	e4, _ := idx.Decode(b[3*idx.EntrySize:])
	binary.BigEndian.PutUint32(b[1*idx.EntrySize+8:], e4.Offset)
	binary.BigEndian.PutUint32(b[2*idx.EntrySize+8:], 0x7fff0000)
	binary.BigEndian.PutUint32(b[2*idx.EntrySize+12:], 0x7fff0000)
	if err := os.WriteFile(idxName, b, 0o644); err != nil {
		t.Fatal(err)
	}
	v := mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	for _, k := range []uint64{2, 3} {
		_, err := v.Read(context.Background(), k, 1, ReadOptions{})
		wantErr(t, err, ErrCorrupt, "read through a corrupt index entry")
	}
	for _, k := range []uint64{1, 4, 5} {
		checkRead(t, v, k, 1, testData(1000, k))
	}
	_, err = v.Delete(context.Background(), 3, 1, DeleteOptions{})
	wantErr(t, err, ErrCorrupt, "delete through a corrupt index entry")
}

func TestGarbageFiles(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	for i := range 20 {
		dir := t.TempDir()
		smallVolume(t, dir)
		datName, idxName := filepath.Join(dir, "c_1.dat"), filepath.Join(dir, "c_1.idx")
		dat, _ := os.ReadFile(datName)
		idxb, _ := os.ReadFile(idxName)
		switch i % 4 {
		case 0: // garbage appended to .dat
			dat = append(dat, garbage(r.IntN(3000))...)
		case 1: // garbage appended to .idx, torn
			idxb = append(idxb, garbage(r.IntN(100))...)
		case 2: // .idx all garbage
			idxb = garbage(r.IntN(200))
		case 3: // .dat cut anywhere after the super block
			dat = dat[:8+r.IntN(len(dat)-8)]
		}
		os.WriteFile(datName, dat, 0o644)
		os.WriteFile(idxName, idxb, 0o644)
		v, err := OpenVolume(vfs.Default(), dir, "c", 1, VolumeOptions{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("case %d: open error %v does not wrap ErrCorrupt", i, err)
			}
			continue
		}
		// Whatever reads back is exact; the volume takes writes.
		for k := uint64(1); k <= 5; k++ {
			n, err := v.Read(context.Background(), k, 1, ReadOptions{})
			if err == nil && string(n.Data) != string(testData(1000, k)) {
				t.Fatalf("case %d: needle %d reads back wrong", i, k)
			}
		}
		mustWrite(t, v, newTestNeedle(77, 7, 10, 77), WriteOptions{})
		checkRead(t, v, 77, 7, testData(10, 77))
		v.Close()
	}
}

func TestCorruptVolumeInfoIsReplaced(t *testing.T) {
	dir := t.TempDir()
	smallVolume(t, dir)
	vif := filepath.Join(dir, "c_1.vif")
	if err := os.WriteFile(vif, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	v := mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	checkRead(t, v, 1, 1, testData(1000, 1))
	b, _ := os.ReadFile(vif)
	if _, err := superblock.ParseVolumeInfo(b); err != nil {
		t.Fatalf(".vif not rewritten: %v", err)
	}
}

// FuzzOpenVolume opens a volume from arbitrary .dat and .idx bytes: it must
// fail with ErrCorrupt or open; an open volume never panics on reads, never
// serves bytes whose checksum fails, takes a write and reads it back.
func FuzzOpenVolume(f *testing.F) {
	cfs := vfs.NewCrashFS()
	v := mustCreate(f, cfs, "/", VolumeOptions{})
	for k := uint64(1); k <= 4; k++ {
		mustWrite(f, v, newTestNeedle(k, 1, int(k*k*10), k), WriteOptions{})
	}
	v.Delete(context.Background(), 2, 1, DeleteOptions{})
	v.Close()
	dat, _ := cfs.ReadFile("/c_1.dat")
	idxb, _ := cfs.ReadFile("/c_1.idx")
	f.Add(dat, idxb)
	f.Add(dat[:len(dat)-7], idxb)
	f.Add(dat, idxb[:len(idxb)-3])
	f.Add(dat, []byte{})
	f.Add(dat[:8], idxb)
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0}, idxb)
	f.Fuzz(func(t *testing.T, dat, idxb []byte) {
		if len(dat) > 1<<20 || len(idxb) > 1<<16 {
			return
		}
		fs := vfs.NewCrashFS()
		for name, b := range map[string][]byte{"/c_1.dat": dat, "/c_1.idx": idxb} {
			f, err := fs.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt(b, 0)
			f.Close()
		}
		v, err := OpenVolume(fs, "/", "c", 1, VolumeOptions{})
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		defer v.Close()
		var keys []uint64
		v.nm.Ascend(func(k uint64, _ mapValue) bool {
			keys = append(keys, k)
			return len(keys) < 1000
		})
		for _, k := range keys {
			n, err := v.Read(context.Background(), k, 0, ReadOptions{ReadDeleted: true})
			if err == nil && len(n.Data) > 0 && needle.CRC(n.Data) != n.Checksum {
				t.Fatalf("needle %x served with a bad checksum", k)
			}
			if m, size, err := v.ReadMeta(context.Background(), k, 0, ReadOptions{ReadDeleted: true}); err == nil && n != nil && (size != uint32(len(n.Data)) || m.Checksum != n.Checksum) {
				t.Fatalf("needle %x: meta disagrees with the record", k)
			}
		}
		// Only data: version 1 volumes have no room for metadata.
		if _, err := v.Write(context.Background(), &needle.Needle{ID: 1 << 30, Cookie: 9, Data: testData(33, 1)}, WriteOptions{}); err != nil {
			t.Fatalf("write after open: %v", err)
		}
		checkRead(t, v, 1<<30, 9, testData(33, 1))
	})
}
