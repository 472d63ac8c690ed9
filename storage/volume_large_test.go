package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/vfs"
)

// Large needles are written around their data (a vectored write) and read
// into a caller's buffer: the records on disk are the same as Append's, they
// survive a reopen (recovery scans them), and a read through Alloc lands in
// the given buffer with the checksum still checked.
func TestLargeNeedleWriteAndPooledRead(t *testing.T) {
	dir := t.TempDir()
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{})
	sizes := map[uint64]int{1: 4 << 20, 2: 100, 3: minWrittenAround, 4: minWrittenAround - 1, 5: 3<<20 + 7}
	// In key order: needle 1, damaged below, must not be the last record
	// (opening a volume cuts a last record that fails its CRC as torn).
	for k := uint64(1); k <= uint64(len(sizes)); k++ {
		mustWrite(t, v, newTestNeedle(k, 1, sizes[k], k), WriteOptions{})
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	// Byte for byte what Append writes: recovery and SeaweedFS read it.
	dat, err := os.ReadFile(filepath.Join(dir, "c_1.dat"))
	if err != nil {
		t.Fatal(err)
	}
	s := needle.NewScanner(bytes.NewReader(dat), 8, int64(len(dat)), needle.Version3)
	seen := 0
	for s.Next() {
		n := s.Needle()
		want := newTestNeedle(n.ID, 1, sizes[n.ID], n.ID)
		want.AppendAtNs = n.AppendAtNs
		rec, err := want.Append(nil, needle.Version3)
		if err != nil {
			t.Fatal(err)
		}
		if string(rec) != string(s.Record()) {
			t.Errorf("needle %d: record on disk differs from Append's", n.ID)
		}
		seen++
	}
	if s.Err() != nil || seen != len(sizes) {
		t.Fatalf("scanned %d records of %d: %v", seen, len(sizes), s.Err())
	}

	v = mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	for k, size := range sizes {
		checkRead(t, v, k, 1, testData(size, k))
	}
	var asked int
	pool := make([]byte, 5<<20)
	alloc := func(n int) []byte { asked = n; return pool }
	n, err := v.Read(context.Background(), 1, 1, ReadOptions{Alloc: alloc})
	if err != nil {
		t.Fatal(err)
	}
	if asked != int(needle.RecordLen(n.Size, needle.Version3)) {
		t.Errorf("Alloc asked for %d bytes, the record is %d", asked, needle.RecordLen(n.Size, needle.Version3))
	}
	if string(n.Data) != string(testData(4<<20, 1)) {
		t.Fatal("pooled read returned other bytes")
	}
	if start := uintptr(unsafe.Pointer(&pool[0])); uintptr(unsafe.Pointer(&n.Data[0])) < start || uintptr(unsafe.Pointer(&n.Data[0])) >= start+uintptr(len(pool)) {
		t.Error("pooled read did not use the buffer Alloc gave")
	}
	// A buffer too short is not used: the read allocates its own.
	n, err = v.Read(context.Background(), 1, 1, ReadOptions{Alloc: func(int) []byte { return make([]byte, 10) }})
	if err != nil || string(n.Data) != string(testData(4<<20, 1)) {
		t.Fatalf("read with a short Alloc buffer: %v", err)
	}

	// A flipped byte in the middle of the 4 MiB record is caught on a
	// pooled read.
	v.Close()
	off := int64(8)
	for {
		first, err := needle.Decode(dat[off:], needle.Version3)
		if err != nil {
			t.Fatal(err)
		}
		if first.ID == 1 {
			break
		}
		off += needle.RecordLen(first.Size, needle.Version3)
	}
	f, err := os.OpenFile(filepath.Join(dir, "c_1.dat"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	off += needle.HeaderSize + 4 + 2<<20
	var b [1]byte
	f.ReadAt(b[:], off)
	b[0] ^= 1
	f.WriteAt(b[:], off)
	f.Close()
	v = mustOpen(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	_, err = v.Read(context.Background(), 1, 1, ReadOptions{Alloc: alloc})
	if !errors.Is(err, needle.ErrChecksum) {
		t.Fatalf("pooled read of a damaged large needle: %v, want a checksum error", err)
	}
}

// A CRC the caller computed as the data arrived is stored as given: the
// right one gives the record Append would write, a wrong one a record no
// read serves.
func TestWriteWithCallerCRC(t *testing.T) {
	v := mustCreate(t, vfs.Default(), t.TempDir(), VolumeOptions{})
	defer v.Close()
	data := testData(300<<10, 1)
	var crc uint32
	for p := data; len(p) > 0; p = p[min(len(p), 1000):] {
		crc = needle.UpdateCRC(crc, p[:min(len(p), 1000)])
	}
	res := mustWrite(t, v, newTestNeedle(1, 1, len(data), 1), WriteOptions{DataCRC: &crc})
	if res.Checksum != needle.CRC(data) {
		t.Fatalf("stored checksum %08x, want %08x", res.Checksum, needle.CRC(data))
	}
	checkRead(t, v, 1, 1, data)
	// The same bytes again, with the CRC: unchanged.
	if res := mustWrite(t, v, newTestNeedle(1, 1, len(data), 1), WriteOptions{DataCRC: &crc}); !res.Unchanged {
		t.Fatal("identical rewrite with a caller CRC was not found unchanged")
	}
	wrong := crc ^ 0x10
	mustWrite(t, v, newTestNeedle(2, 1, len(data), 2), WriteOptions{DataCRC: &wrong})
	if _, err := v.Read(context.Background(), 2, 1, ReadOptions{}); !errors.Is(err, needle.ErrChecksum) {
		t.Fatalf("needle stored with a wrong caller CRC: read gives %v, want a checksum error", err)
	}
}
