package storage

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
	"weedfs.dev/weed/storage/vfs"
)

func TestParseVolumeFileName(t *testing.T) {
	tests := []struct {
		name       string
		collection string
		id         uint32
		ok         bool
	}{
		{"1.dat", "", 1, true},
		{"fx_1.dat", "fx", 1, true},
		{"pics_2014_05_42.dat", "pics_2014_05", 42, true},
		{"4294967295.dat", "", 4294967295, true},
		{"4294967296.dat", "", 0, false},
		{"_3.dat", "", 0, false},
		{"c_.dat", "", 0, false},
		{"c_01.dat", "", 0, false},
		{"c_+1.dat", "", 0, false},
		{"c_1.idx", "", 0, false},
		{"c_1.dat.tmp", "", 0, false},
		{".dat", "", 0, false},
		{"c_x.dat", "", 0, false},
	}
	for _, tt := range tests {
		c, id, ok := ParseVolumeFileName(tt.name)
		if c != tt.collection || id != tt.id || ok != tt.ok {
			t.Errorf("ParseVolumeFileName(%q) = %q, %d, %v; want %q, %d, %v", tt.name, c, id, ok, tt.collection, tt.id, tt.ok)
		}
	}
}

func TestStore(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	fs := vfs.Default()
	ctx := context.Background()
	for _, c := range []struct {
		dir        string
		collection string
		id         uint32
	}{{a, "pics_2014", 5}, {b, "", 6}, {b, "dup", 5}} {
		v, err := CreateVolume(fs, c.dir, c.collection, c.id, VolumeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, v, newTestNeedle(1, uint32(c.id), 100, uint64(c.id)), WriteOptions{})
		v.Close()
	}
	s, err := OpenStore(ctx, fs, []DiskLocation{{Dir: a, MaxVolumes: 2}, {Dir: b, MaxVolumes: 4}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint32
	for _, v := range s.Volumes() {
		ids = append(ids, v.ID())
	}
	if !slices.Equal(ids, []uint32{5, 6}) {
		t.Fatalf("volumes %v, want [5 6] (the duplicate 5 skipped)", ids)
	}
	if v, _ := s.Volume(5); v.Collection() != "pics_2014" || v.Dir() != a {
		t.Fatalf("volume 5: collection %q in %s", v.Collection(), v.Dir())
	}
	if got := s.Locations(); got[0].FreeSlots != 1 || got[1].FreeSlots != 3 || got[1].Volumes != 1 {
		t.Fatalf("locations %+v", got)
	}

	// Allocation goes to the folder with most free slots.
	p, _ := superblock.ParseReplicaPlacement("001")
	v7, err := s.AllocateVolume("col", 7, p, needle.TTL{})
	if err != nil {
		t.Fatal(err)
	}
	if v7.Dir() != b || v7.SuperBlock().Placement != p {
		t.Fatalf("volume 7 in %s with %v", v7.Dir(), v7.SuperBlock().Placement)
	}
	if _, err := s.AllocateVolume("col", 7, p, needle.TTL{}); !errors.Is(err, ErrVolumeExists) {
		t.Fatalf("allocating an existing id: %v", err)
	}
	for id := uint32(8); id <= 10; id++ {
		if _, err := s.AllocateVolume("col", id, p, needle.TTL{}); err != nil {
			t.Fatalf("allocate %d: %v", id, err)
		}
	}
	if _, err := s.AllocateVolume("col", 11, p, needle.TTL{}); !errors.Is(err, ErrNoFreeSlot) {
		t.Fatalf("allocating past every folder's maximum: %v", err)
	}
	if got := s.Locations(); got[0].FreeSlots != 0 || got[1].FreeSlots != 0 {
		t.Fatalf("locations after filling %+v", got)
	}

	// Needles through the store.
	if _, err := s.Write(ctx, 7, newTestNeedle(3, 3, 50, 3), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Read(ctx, 7, 3, 3, ReadOptions{})
	if err != nil || !bytes.Equal(n.Data, testData(50, 3)) {
		t.Fatalf("read through the store: %v", err)
	}
	if size, err := s.Delete(ctx, 7, 3, 3, DeleteOptions{}); err != nil || size == 0 {
		t.Fatalf("delete through the store: %d %v", size, err)
	}
	_, err = s.Read(ctx, 99, 1, 1, ReadOptions{})
	wantErr(t, err, ErrVolumeNotFound, "read of an absent volume")
	if err := s.MarkReadOnly(7); err != nil {
		t.Fatal(err)
	}
	_, err = s.Write(ctx, 7, newTestNeedle(4, 4, 5, 4), WriteOptions{})
	wantErr(t, err, ErrReadOnly, "write to a volume marked read-only")
	if err := s.MarkWritable(7); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(ctx, 7, newTestNeedle(4, 4, 5, 4), WriteOptions{}); err != nil {
		t.Fatal(err)
	}

	// Deleting a volume removes its files and frees its slot.
	if err := s.DeleteVolume(6); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".dat", ".idx", ".vif"} {
		if _, err := os.Stat(filepath.Join(b, "6"+ext)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("6%s after DeleteVolume: %v", ext, err)
		}
	}
	if err := s.DeleteVolume(6); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatalf("second DeleteVolume: %v", err)
	}
	if err := s.DeleteCollection("col"); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Volumes()); got != 1 {
		t.Fatalf("%d volumes after deleting collection col, want 1", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopen: what is left comes back.
	s, err = OpenStore(ctx, fs, []DiskLocation{{Dir: a, MaxVolumes: 2}, {Dir: b}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if vs := s.Volumes(); len(vs) != 1 || vs[0].ID() != 5 {
		t.Fatalf("after reopen: %d volumes", len(vs))
	}
	if got := s.Locations()[1].MaxVolumes; got != DefaultMaxVolumes {
		t.Fatalf("default max volumes %d", got)
	}
	n, err = s.Read(ctx, 5, 1, 5, ReadOptions{})
	if err != nil || !bytes.Equal(n.Data, testData(100, 5)) {
		t.Fatalf("read after reopen: %v", err)
	}
}

// manifestLine is one needle of fixtures/seaweedfs-v3/manifest.tsv.
type manifestLine struct {
	fid, name, state, sha, etag, note string
}

func readManifest(t *testing.T, dir string) []manifestLine {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []manifestLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 6 {
			t.Fatalf("manifest line %q", sc.Text())
		}
		lines = append(lines, manifestLine{c[0], c[1], c[2], c[3], strings.Trim(c[4], `"`), c[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// copyFixture copies the real SeaweedFS volume to a temp dir.
func copyFixture(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "shared", "fixtures", "seaweedfs-v3")
	if _, err := os.Stat(src); err != nil {
		src = "/work/shared/fixtures/seaweedfs-v3"
	}
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture not available: %v", err)
		}
		t.Skipf("fixture not available: %v", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// mimeOfNote returns the mime type a manifest note names, "" if none.
func mimeOfNote(note string) string {
	for _, prefix := range []string{"multipart ", "raw PUT "} {
		if rest, ok := strings.CutPrefix(note, prefix); ok {
			return strings.TrimRight(strings.Fields(rest)[0], ",")
		}
	}
	return ""
}

// TestStoreServesSeaweedFSVolume is the compatibility acceptance test: a
// store opened on a copy of a volume SeaweedFS wrote serves every needle as
// SeaweedFS did, then takes new needles that survive a reopen.
func TestStoreServesSeaweedFSVolume(t *testing.T) {
	dir := copyFixture(t)
	lines := readManifest(t, dir)
	ctx := context.Background()
	s, err := OpenStore(ctx, vfs.Default(), []DiskLocation{{Dir: dir}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Volume(1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Collection() != "fx" || v.Version() != needle.Version3 {
		t.Fatalf("fixture volume: collection %q version %d", v.Collection(), v.Version())
	}
	checkManifest(t, s, lines)

	// Append to the copy, reopen, read old and new.
	fid, _ := needle.ParseFileID("1,ffff00001234abcd")
	n := newTestNeedle(fid.Key, fid.Cookie, 777, 777)
	if _, err := s.Write(ctx, 1, n, WriteOptions{Fsync: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenStore(ctx, vfs.Default(), []DiskLocation{{Dir: dir}}, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkManifest(t, s, lines)
	got, err := s.Read(ctx, 1, fid.Key, fid.Cookie, ReadOptions{})
	if err != nil || !bytes.Equal(got.Data, testData(777, 777)) {
		t.Fatalf("new needle after reopen: %v", err)
	}

	// Vacuum the SeaweedFS volume: the super block records revision 1 as
	// SeaweedFS's does (03 00 0000 0001 0000), and everything live stays.
	v, _ = s.Volume(1)
	if err := v.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.CommitCompact(ctx); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 8)
	f, err := os.Open(filepath.Join(dir, "fx_1.dat"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.ReadFull(f, head); err != nil {
		t.Fatal(err)
	}
	if want := []byte{3, 0, 0, 0, 0, 1, 0, 0}; !bytes.Equal(head, want) {
		t.Fatalf("super block after vacuum % x, want % x", head, want)
	}
	checkManifest(t, s, lines)
	if got, err := s.Read(ctx, 1, fid.Key, fid.Cookie, ReadOptions{}); err != nil || !bytes.Equal(got.Data, testData(777, 777)) {
		t.Fatalf("new needle after vacuum: %v", err)
	}
}

func mustVolume(t *testing.T, s *Store, id uint32) *Volume {
	t.Helper()
	v, err := s.Volume(id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func checkManifest(t *testing.T, s *Store, lines []manifestLine) {
	t.Helper()
	ctx := context.Background()
	batch := 0
	for _, l := range lines {
		fid, err := needle.ParseFileID(l.fid)
		if err != nil {
			t.Fatalf("%s: %v", l.fid, err)
		}
		n, err := s.Read(ctx, fid.VolumeID, fid.Key, fid.Cookie, ReadOptions{})
		if l.state == "deleted" {
			if !errors.Is(err, ErrDeleted) && !(errors.Is(err, ErrNotFound) && mustVolume(t, s, fid.VolumeID).Info().CompactionRevision > 0) {
				t.Fatalf("%s: deleted needle reads as %v", l.fid, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", l.fid, err)
		}
		data := n.Data
		if n.IsGzipped() {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", l.fid, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", l.fid, err)
			}
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != l.sha {
			t.Errorf("%s: sha256 of the data differs", l.fid)
		}
		if got := needle.ETag(n.Checksum); got != l.etag {
			t.Errorf("%s: etag %s, want %s", l.fid, got, l.etag)
		}
		wantName := l.name
		if wantName == "-" {
			wantName = l.fid // a raw PUT stores the fid as the name
		}
		// An empty needle has no body, so SeaweedFS stored no name for it.
		if n.Size > 0 && string(n.Name) != wantName {
			t.Errorf("%s: name %q, want %q", l.fid, n.Name, wantName)
		}
		if m := mimeOfNote(l.note); len(n.Mime) > 0 && m != "" && string(n.Mime) != m {
			t.Errorf("%s: mime %q, want %q", l.fid, n.Mime, m)
		}
		switch l.name {
		case "owned.txt":
			if string(n.Pairs) != `{"Owner":"alice"}` {
				t.Errorf("%s: pairs %q", l.fid, n.Pairs)
			}
		case "dated.txt":
			if n.LastModified != 1600000000 {
				t.Errorf("%s: last modified %d", l.fid, n.LastModified)
			}
		case "v2.txt":
			if !strings.Contains(l.note, "second version") {
				t.Errorf("%s: manifest changed", l.fid)
			}
		}
		if strings.Contains(l.fid, "_") {
			batch++
		}
	}
	if batch != 199 {
		t.Fatalf("%d batch fids checked, want 199", batch)
	}
}

// TestNewVolumeInfoMatchesSeaweedFS: the .vif of a new volume is byte for
// byte the one SeaweedFS wrote for the fixture volume.
func TestNewVolumeInfoMatchesSeaweedFS(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(copyFixture(t), "fx_1.vif"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	v, err := CreateVolume(vfs.Default(), dir, "fx", 1, VolumeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	got, err := os.ReadFile(filepath.Join(dir, "fx_1.vif"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf(".vif\n%s\nwant\n%s", got, want)
	}
}

func TestOpenStoreManyVolumes(t *testing.T) {
	dirs := []string{t.TempDir(), t.TempDir()}
	for id := uint32(1); id <= 12; id++ {
		v, err := CreateVolume(vfs.Default(), dirs[id%2], "many_col", id, VolumeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, v, newTestNeedle(uint64(id), id, 64, uint64(id)), WriteOptions{})
		v.Close()
	}
	// One volume whose super block is garbage is skipped, not fatal.
	if err := os.WriteFile(filepath.Join(dirs[0], "13.dat"), []byte{77, 0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	locs := []DiskLocation{{Dir: dirs[0], MaxVolumes: 10}, {Dir: dirs[1], MaxVolumes: 10}}
	s, err := OpenStore(context.Background(), vfs.Default(), locs, nil, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := len(s.Volumes()); n != 12 {
		t.Fatalf("%d volumes loaded, want 12", n)
	}
	for id := uint32(1); id <= 12; id++ {
		n, err := s.Read(context.Background(), id, uint64(id), id, ReadOptions{})
		if err != nil || !bytes.Equal(n.Data, testData(64, uint64(id))) {
			t.Fatalf("volume %d: %v", id, err)
		}
	}
	for i, l := range s.Locations() {
		if l.Volumes != 6 || l.FreeSlots != 4 {
			t.Fatalf("location %d: %+v", i, l)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenStore(ctx, vfs.Default(), locs, nil, StoreOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("OpenStore with a cancelled context: %v", err)
	}
}
