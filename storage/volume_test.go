package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

func TestVolumeWriteReadDelete(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default()
	v := mustCreate(t, fs, dir, VolumeOptions{})
	defer v.Close()
	ctx := context.Background()

	sizes := []int{0, 1, 7, 8, 100, 4096, 70000}
	for i, size := range sizes {
		key := uint64(i + 1)
		res := mustWrite(t, v, newTestNeedle(key, 0xc0ffee00+uint32(i), size, key), WriteOptions{})
		if res.Offset%8 != 0 || res.Unchanged {
			t.Fatalf("write %d: result %+v", key, res)
		}
		if want := needle.CRC(testData(size, key)); res.Checksum != want {
			t.Fatalf("write %d: checksum %08x, want %08x", key, res.Checksum, want)
		}
	}
	for i, size := range sizes {
		key := uint64(i + 1)
		n, err := v.Read(ctx, key, 0xc0ffee00+uint32(i), ReadOptions{})
		if err != nil {
			t.Fatalf("read %d: %v", key, err)
		}
		if !bytes.Equal(n.Data, testData(size, key)) {
			t.Fatalf("read %d: wrong data", key)
		}
		if size > 0 && (string(n.Name) != "file-"+strconv.FormatUint(key, 10)+".bin" || string(n.Mime) != "application/octet-stream" || n.LastModified != 1_700_000_000+key) {
			t.Fatalf("read %d: metadata %q %q %d", key, n.Name, n.Mime, n.LastModified)
		}
	}

	_, err := v.Read(ctx, 3, 0xdeadbeef, ReadOptions{})
	wantErr(t, err, ErrCookieMismatch, "read with another cookie")
	_, err = v.Read(ctx, 99, 0, ReadOptions{})
	wantErr(t, err, ErrNotFound, "read of an absent key")

	_, err = v.Delete(ctx, 5, 0xdeadbeef, DeleteOptions{})
	wantErr(t, err, ErrCookieMismatch, "delete with another cookie")
	before := v.Info().Size
	size, err := v.Delete(ctx, 5, 0xc0ffee00+4, DeleteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantSize := newTestNeedle(5, 0, 100, 5)
	if _, err := wantSize.Append(nil, needle.Version3); err != nil {
		t.Fatal(err)
	}
	if size != wantSize.Size {
		t.Fatalf("delete returned size %d, want the needle's Size field %d", size, wantSize.Size)
	}
	if got := v.Info().Size - before; got != 32 {
		t.Fatalf("a tombstone took %d bytes of .dat, want 32", got)
	}
	_, err = v.Read(ctx, 5, 0xc0ffee00+4, ReadOptions{})
	wantErr(t, err, ErrDeleted, "read of a deleted needle")
	n, err := v.Read(ctx, 5, 0xc0ffee00+4, ReadOptions{ReadDeleted: true})
	if err != nil || !bytes.Equal(n.Data, testData(100, 5)) {
		t.Fatalf("readDeleted: %v", err)
	}
	_, err = v.Delete(ctx, 5, 0xc0ffee00+4, DeleteOptions{})
	wantErr(t, err, ErrDeleted, "second delete")
	_, err = v.Delete(ctx, 99, 0, DeleteOptions{})
	wantErr(t, err, ErrNotFound, "delete of an absent key")

	// The tombstone on disk: Size 0, same cookie and key, the old checksum.
	info := v.Info()
	if info.DeleteCount != 1 || info.LiveCount != len(sizes)-1 || info.DeletedByteCount != uint64(wantSize.Size) {
		t.Fatalf("info after delete: %+v", info)
	}
	v.mu.RLock()
	tombOff := v.datSize - 32
	v.mu.RUnlock()
	rec := make([]byte, 32)
	if _, err := v.dat.ReadAt(rec, tombOff); err != nil {
		t.Fatal(err)
	}
	tomb, err := needle.Decode(rec, needle.Version3)
	if err != nil {
		t.Fatal(err)
	}
	if tomb.Size != 0 || tomb.ID != 5 || tomb.Cookie != 0xc0ffee00+4 || tomb.Checksum != needle.CRC(testData(100, 5)) || tomb.AppendAtNs == 0 {
		t.Fatalf("tombstone %+v", tomb)
	}
}

func TestVolumeOverwrite(t *testing.T) {
	dir := t.TempDir()
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{})
	defer v.Close()
	ctx := context.Background()
	mustWrite(t, v, newTestNeedle(7, 42, 500, 1), WriteOptions{})
	size := v.Info().Size

	// Identical content, same cookie: nothing appended.
	res := mustWrite(t, v, newTestNeedle(7, 42, 500, 1), WriteOptions{})
	if !res.Unchanged || v.Info().Size != size {
		t.Fatalf("identical rewrite: %+v, size %d -> %d", res, size, v.Info().Size)
	}
	// Another cookie: refused, nothing appended.
	_, err := v.Write(ctx, newTestNeedle(7, 43, 500, 2), WriteOptions{})
	wantErr(t, err, ErrCookieMismatch, "overwrite with another cookie")
	if v.Info().Size != size {
		t.Fatal("a refused write appended")
	}
	// Same cookie, new content: a new record that wins.
	res = mustWrite(t, v, newTestNeedle(7, 42, 300, 2), WriteOptions{})
	if res.Unchanged || res.Offset != size {
		t.Fatalf("overwrite: %+v, want a record at %d", res, size)
	}
	checkRead(t, v, 7, 42, testData(300, 2))
	if info := v.Info(); info.LiveCount != 1 || info.DeletedByteCount == 0 || info.GarbageRatio <= 0 {
		t.Fatalf("info after overwrite: %+v", info)
	}

	// On a TTL volume a rewrite renews the needle: it is appended.
	ttl, _ := needle.ParseTTL("3d")
	tv, err := CreateVolume(vfs.Default(), dir, "ttl", 2, VolumeOptions{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer tv.Close()
	mustWrite(t, tv, newTestNeedle(1, 1, 50, 1), WriteOptions{})
	res = mustWrite(t, tv, newTestNeedle(1, 1, 50, 1), WriteOptions{})
	if res.Unchanged {
		t.Fatal("identical rewrite on a TTL volume reported unchanged")
	}
}

func TestVolumeReopen(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default()
	p, _ := superblock.ParseReplicaPlacement("010")
	ttl, _ := needle.ParseTTL("5h")
	v := mustCreate(t, fs, dir, VolumeOptions{Placement: p, TTL: ttl})
	ctx := context.Background()
	for k := uint64(1); k <= 50; k++ {
		mustWrite(t, v, newTestNeedle(k, uint32(k), int(k*37), k), WriteOptions{})
	}
	for k := uint64(1); k <= 50; k += 5 {
		if _, err := v.Delete(ctx, k, uint32(k), DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	want := v.Info()
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	_, err := v.Read(ctx, 2, 2, ReadOptions{})
	wantErr(t, err, ErrClosed, "read after close")

	v = mustOpen(t, fs, dir, VolumeOptions{})
	defer v.Close()
	got := v.Info()
	got.ModifiedAt, want.ModifiedAt = time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("info after reopen:\n got %+v\nwant %+v", got, want)
	}
	if got.Placement.String() != "010" || got.TTL.String() != "5h" || got.Version != needle.Version3 {
		t.Fatalf("super block after reopen: %+v", got)
	}
	for k := uint64(1); k <= 50; k++ {
		if k%5 == 1 {
			_, err := v.Read(ctx, k, uint32(k), ReadOptions{})
			wantErr(t, err, ErrDeleted, "deleted after reopen")
			continue
		}
		checkRead(t, v, k, uint32(k), testData(int(k*37), k))
	}
	// The .vif is SeaweedFS's.
	b, err := os.ReadFile(filepath.Join(dir, "c_1.vif"))
	if err != nil {
		t.Fatal(err)
	}
	vif, err := superblock.ParseVolumeInfo(b)
	if err != nil || vif.Version != 3 || vif.BytesOffset != 4 || vif.ReadOnly {
		t.Fatalf(".vif %s: %+v %v", b, vif, err)
	}
	if _, err := CreateVolume(fs, dir, "c", 1, VolumeOptions{}); !errors.Is(err, ErrVolumeExists) {
		t.Fatalf("create over an existing volume: %v", err)
	}
}

func TestVolumeAppendAtNsMonotonic(t *testing.T) {
	dir := t.TempDir()
	clock := time.Unix(2_000_000_000, 0)
	now := func() time.Time { return clock }
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{Now: now})
	var last uint64
	for k := uint64(1); k <= 20; k++ {
		clock = clock.Add(-time.Second) // the clock runs backwards
		n := newTestNeedle(k, 1, 10, k)
		mustWrite(t, v, n, WriteOptions{})
		if n.AppendAtNs <= last {
			t.Fatalf("AppendAtNs %d after %d", n.AppendAtNs, last)
		}
		last = n.AppendAtNs
	}
	v.Close()
	// After a restart the volume continues after the last timestamp.
	v = mustOpen(t, vfs.Default(), dir, VolumeOptions{Now: now})
	defer v.Close()
	n := newTestNeedle(99, 1, 10, 99)
	mustWrite(t, v, n, WriteOptions{})
	if n.AppendAtNs <= last {
		t.Fatalf("AppendAtNs %d after reopen, last was %d", n.AppendAtNs, last)
	}
}

func TestVolumeReadOnly(t *testing.T) {
	dir := t.TempDir()
	fs := vfs.Default()
	v := mustCreate(t, fs, dir, VolumeOptions{})
	mustWrite(t, v, newTestNeedle(1, 1, 10, 1), WriteOptions{})
	if err := v.SetReadOnly(true); err != nil {
		t.Fatal(err)
	}
	_, err := v.Write(context.Background(), newTestNeedle(2, 1, 10, 2), WriteOptions{})
	wantErr(t, err, ErrReadOnly, "write to a read-only volume")
	_, err = v.Delete(context.Background(), 1, 1, DeleteOptions{})
	wantErr(t, err, ErrReadOnly, "delete on a read-only volume")
	checkRead(t, v, 1, 1, testData(10, 1))
	v.Close()

	v = mustOpen(t, fs, dir, VolumeOptions{})
	if !v.ReadOnly() || !v.Info().ReadOnly {
		t.Fatal("read-only mark lost on reopen")
	}
	if err := v.SetReadOnly(false); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, v, newTestNeedle(2, 1, 10, 2), WriteOptions{})
	v.Close()
	v = mustOpen(t, fs, dir, VolumeOptions{})
	defer v.Close()
	if v.ReadOnly() {
		t.Fatal("writable mark lost on reopen")
	}
}

func TestVolumeSizeLimit(t *testing.T) {
	dir := t.TempDir()
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{SizeLimit: 4096})
	defer v.Close()
	var err error
	k := uint64(1)
	for ; k < 100; k++ {
		if _, err = v.Write(context.Background(), newTestNeedle(k, 1, 500, k), WriteOptions{}); err != nil {
			break
		}
	}
	wantErr(t, err, ErrVolumeFull, "write past the size limit")
	if size := v.Info().Size; size > 4096 {
		t.Fatalf(".dat grew to %d past the 4096 limit", size)
	}
	// Earlier needles are intact and deletes still work on a full volume.
	checkRead(t, v, 1, 1, testData(500, 1))
	if _, err := v.Delete(context.Background(), 1, 1, DeleteOptions{}); err != nil {
		t.Fatalf("delete on a full volume: %v", err)
	}
	if v.sizeLimit != 4096 {
		t.Fatal("limit not kept")
	}
	big := mustCreateID(t, dir, 3, VolumeOptions{SizeLimit: 1 << 50})
	defer big.Close()
	if big.sizeLimit != idx.MaxVolumeSize {
		t.Fatalf("limit above 32 GiB kept as %d", big.sizeLimit)
	}
}

func mustCreateID(t *testing.T, dir string, id uint32, opts VolumeOptions) *Volume {
	t.Helper()
	v, err := CreateVolume(vfs.Default(), dir, "", id, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVolumeTTLExpiry(t *testing.T) {
	dir := t.TempDir()
	clock := time.Unix(1_800_000_000, 0)
	v := mustCreate(t, vfs.Default(), dir, VolumeOptions{Now: func() time.Time { return clock }})
	defer v.Close()
	ttl, _ := needle.ParseTTL("3m")
	n := newTestNeedle(1, 1, 10, 1)
	n.SetLastModified(uint64(clock.Unix()))
	n.SetTTL(ttl)
	mustWrite(t, v, n, WriteOptions{})
	got, err := v.Read(context.Background(), 1, 1, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at, ok := ExpiresAt(got)
	if !ok || !at.Equal(clock.Add(3*time.Minute)) {
		t.Fatalf("ExpiresAt = %v %v", at, ok)
	}
	clock = clock.Add(3*time.Minute - time.Second)
	checkRead(t, v, 1, 1, testData(10, 1))
	clock = clock.Add(time.Second)
	_, err = v.Read(context.Background(), 1, 1, ReadOptions{})
	wantErr(t, err, ErrExpired, "read after the TTL")
	wantErr(t, err, ErrNotFound, "read after the TTL")
}

func TestVolumeExpired(t *testing.T) {
	dir := t.TempDir()
	clock := time.Unix(1_900_000_000, 0)
	now := func() time.Time { return clock }
	ttl, _ := needle.ParseTTL("2h")
	v, err := CreateVolume(vfs.Default(), dir, "ttl", 9, VolumeOptions{TTL: ttl, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mustWrite(t, v, newTestNeedle(1, 1, 10, 1), WriteOptions{})
	if v.Expired(clock.Add(2*time.Hour - time.Second)) {
		t.Fatal("expired before its TTL")
	}
	if !v.Expired(clock.Add(2 * time.Hour)) {
		t.Fatal("not expired after its TTL")
	}
	clock = clock.Add(time.Hour)
	mustWrite(t, v, newTestNeedle(2, 1, 10, 2), WriteOptions{})
	if v.Expired(clock.Add(time.Hour)) {
		t.Fatal("a write did not renew the volume")
	}
	plain := mustCreate(t, vfs.Default(), dir, VolumeOptions{})
	defer plain.Close()
	if plain.Expired(clock.Add(1000 * time.Hour)) {
		t.Fatal("a volume without TTL expired")
	}
	if err := plain.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestOlderVersions runs the volume life cycle on needle versions 1 and 2,
// which SeaweedFS still reads: write, delete, reopen with a lost .idx
// tail, compact.
func TestOlderVersions(t *testing.T) {
	for _, ver := range []needle.Version{needle.Version1, needle.Version2, needle.Version3} {
		dir := t.TempDir()
		fs := vfs.Default()
		v := mustCreate(t, fs, dir, VolumeOptions{Version: ver})
		ctx := context.Background()
		for k := uint64(1); k <= 20; k++ {
			n := &needle.Needle{ID: k, Cookie: 8, Data: testData(int(k*17), k)}
			if _, err := v.Write(ctx, n, WriteOptions{}); err != nil {
				t.Fatalf("v%d write %d: %v", ver, k, err)
			}
		}
		for k := uint64(2); k <= 20; k += 4 {
			if _, err := v.Delete(ctx, k, 8, DeleteOptions{}); err != nil {
				t.Fatalf("v%d delete %d: %v", ver, k, err)
			}
		}
		v.Close()
		idxName := filepath.Join(dir, "c_1.idx")
		st, _ := os.Stat(idxName)
		if err := os.Truncate(idxName, st.Size()-3*idx.EntrySize); err != nil {
			t.Fatal(err)
		}
		v = mustOpen(t, fs, dir, VolumeOptions{})
		check := func(stage string) {
			for k := uint64(1); k <= 20; k++ {
				n, err := v.Read(ctx, k, 8, ReadOptions{})
				if k%4 == 2 {
					if !errors.Is(err, ErrDeleted) && !errors.Is(err, ErrNotFound) {
						t.Fatalf("v%d %s: deleted %d reads as %v", ver, stage, k, err)
					}
					continue
				}
				if err != nil || !bytes.Equal(n.Data, testData(int(k*17), k)) {
					t.Fatalf("v%d %s: needle %d: %v", ver, stage, k, err)
				}
			}
		}
		check("after recovery")
		if v.Version() != ver {
			t.Fatalf("version %d after reopen, want %d", v.Version(), ver)
		}
		if err := v.Compact(ctx); err != nil {
			t.Fatal(err)
		}
		if err := v.CommitCompact(ctx); err != nil {
			t.Fatal(err)
		}
		check("after compaction")
		v.Close()
	}
}
