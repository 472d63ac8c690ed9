package needle_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weedfs.dev/weed/storage/idx"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
)

const fixtureDir = "../../../shared/fixtures/seaweedfs-v3"

// copyFixture copies the real SeaweedFS volume to a temp dir and returns it.
func copyFixture(t testing.TB) string {
	t.Helper()
	src := fixtureDir
	if _, err := os.Stat(src); err != nil {
		src = "/work/shared/fixtures/seaweedfs-v3"
	}
	dst := t.TempDir()
	for _, name := range []string{"fx_1.dat", "fx_1.idx", "fx_1.vif", "manifest.tsv"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

type scanned struct {
	off    int64
	needle needle.Needle
	raw    []byte
}

func TestFixtureVolume(t *testing.T) {
	dir := copyFixture(t)
	dat, err := os.ReadFile(filepath.Join(dir, "fx_1.dat"))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := superblock.Parse(dat)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Version != needle.Version3 || sb.Placement.String() != "000" || !sb.TTL.IsEmpty() || sb.CompactionRevision != 0 || sb.Len() != 8 {
		t.Fatalf("super block %+v", sb)
	}
	if !bytes.Equal(sb.Bytes(), dat[:8]) {
		t.Fatalf("super block re-encodes as %x, file has %x", sb.Bytes(), dat[:8])
	}

	// Every record, by offset, re-encoded byte for byte except padding.
	f, err := os.Open(filepath.Join(dir, "fx_1.dat"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := needle.NewScanner(f, int64(sb.Len()), int64(len(dat)), sb.Version)
	byOffset := map[int64]scanned{}
	for s.Next() {
		n := *s.Needle()
		n.Data, n.Name, n.Mime, n.Pairs = bytes.Clone(n.Data), bytes.Clone(n.Name), bytes.Clone(n.Mime), bytes.Clone(n.Pairs)
		raw := bytes.Clone(s.Record())
		byOffset[s.Offset()] = scanned{off: s.Offset(), needle: n, raw: raw}

		re := n
		enc, err := re.Append(nil, sb.Version)
		if err != nil {
			t.Fatalf("re-encode at %d: %v", s.Offset(), err)
		}
		pad := needle.PaddingLen(n.Size, sb.Version)
		if len(enc) != len(raw) || !bytes.Equal(enc[:len(enc)-pad], raw[:len(raw)-pad]) {
			t.Fatalf("record at %d re-encodes differently:\n got %x\nwant %x", s.Offset(), enc, raw)
		}
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if s.Offset() != int64(len(dat)) {
		t.Fatalf("scan stopped at %d of %d", s.Offset(), len(dat))
	}

	// Every idx entry points at a record with its key; the last entry per
	// key decides liveness.
	idxFile, err := os.Open(filepath.Join(dir, "fx_1.idx"))
	if err != nil {
		t.Fatal(err)
	}
	defer idxFile.Close()
	last := map[uint64]idx.Entry{}
	entries := 0
	err = idx.Walk(idxFile, func(e idx.Entry) error {
		entries++
		r, ok := byOffset[e.ActualOffset()]
		if !ok {
			t.Fatalf("idx entry %+v points at no record", e)
		}
		if r.needle.ID != e.Key {
			t.Fatalf("idx entry %+v points at needle %x", e, r.needle.ID)
		}
		if e.IsDeleted() {
			if r.needle.Size != 0 {
				t.Fatalf("tombstone entry %+v points at a needle of size %d", e, r.needle.Size)
			}
		} else if r.needle.Size != e.Size {
			t.Fatalf("idx entry %+v, needle size %d", e, r.needle.Size)
		}
		last[e.Key] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries != len(byOffset) {
		t.Fatalf("%d idx entries, %d records", entries, len(byOffset))
	}

	// Every manifest line against the needle the index names.
	mf, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	lines := 0
	sc := bufio.NewScanner(mf)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 6 {
			t.Fatalf("manifest line %q", sc.Text())
		}
		lines++
		fid, name, state, sum, etag := cols[0], cols[1], cols[2], cols[3], strings.Trim(cols[4], `"`)
		id, err := needle.ParseFileID(fid)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := last[id.Key]
		if !ok {
			t.Fatalf("%s: no idx entry", fid)
		}
		if state == "deleted" {
			if !e.IsDeleted() {
				t.Fatalf("%s: deleted in manifest, live in idx", fid)
			}
			// The data is still in the .dat before the tombstone.
			found := false
			for _, r := range byOffset {
				if r.needle.ID == id.Key && r.needle.Size > 0 && hexSHA(t, &r.needle) == sum {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s: deleted data not found in .dat", fid)
			}
			continue
		}
		if e.IsDeleted() {
			t.Fatalf("%s: live in manifest, deleted in idx", fid)
		}
		n := byOffset[e.ActualOffset()].needle
		if n.Cookie != id.Cookie {
			t.Fatalf("%s: cookie %08x", fid, n.Cookie)
		}
		if got := needle.ETag(n.Checksum); got != etag {
			t.Fatalf("%s: etag %s, manifest %s", fid, got, etag)
		}
		wantName := name
		if name == "-" {
			wantName = fid // a raw PUT stores the fid as the name
		}
		if n.Size > 0 && string(n.Name) != wantName {
			t.Fatalf("%s: name %q, manifest %q", fid, n.Name, wantName)
		}
		if got := hexSHA(t, &n); got != sum {
			t.Fatalf("%s: sha256 %s, manifest %s", fid, got, sum)
		}
	}
	if lines != 209 {
		t.Fatalf("manifest has %d lines", lines)
	}
}

// hexSHA returns the sha256 of the bytes a GET of n returns: its data,
// decompressed when stored gzipped.
func hexSHA(t *testing.T, n *needle.Needle) string {
	t.Helper()
	data := n.Data
	if n.IsGzipped() {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}
