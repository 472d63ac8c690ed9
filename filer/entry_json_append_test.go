package filer

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// referenceJSON is the entry through encoding/json and entryJSON: the
// bytes AppendJSON must reproduce.
func referenceJSON(e *Entry) ([]byte, error) {
	j := entryJSON{
		FullPath: e.FullPath, Mtime: e.Mtime, Crtime: e.Crtime, Ctime: e.Mtime, Atime: e.Mtime,
		Mode: e.Mode, Uid: e.UID, Gid: e.GID, Mime: e.Mime, TtlSec: e.TTLSec,
		SymlinkTarget: e.SymlinkTarget, Md5: e.Md5, FileSize: e.FileSize,
		Extended: e.Extended, Content: e.Content,
	}
	for _, c := range e.Chunks {
		j.Chunks = append(j.Chunks, chunkJSON{FileID: c.Fid, Offset: c.Offset, Size: c.Size,
			ModifiedTsNs: c.ModifiedTsNs, ETag: c.ETag, Fid: parseFid(c.Fid), IsChunkManifest: c.IsManifest})
	}
	return json.Marshal(&j)
}

func checkAppendJSON(t *testing.T, e *Entry) {
	t.Helper()
	want, werr := referenceJSON(e)
	got, gerr := e.AppendJSON(nil)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%+v: AppendJSON error %v, encoding/json error %v", e, gerr, werr)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("AppendJSON differs from encoding/json:\ngot  %s\nwant %s", got, want)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	odd := time.FixedZone("LMT", 561) // an offset with seconds
	entries := []*Entry{
		fullEntry(),
		{FullPath: "/empty"},
		{FullPath: "/dir", Mode: os.ModeDir | 0o755, Mtime: time.Unix(1, 0).In(paris)},
		{FullPath: "/a<b>&\"c\\d\"\n\x01é\xff\u2028", Mime: "text/html; <x>", Md5: []byte{}, Content: []byte{},
			Extended: map[string][]byte{"b": nil, "a": []byte("x"), "é<": {0xff}, "": {}}},
		{FullPath: "/t", Mtime: time.Unix(0, 0).In(odd), Crtime: time.Date(2026, 5, 6, 7, 8, 9, 1000, time.UTC)},
		{FullPath: "/far", Mtime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{FullPath: "/neg", Mtime: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{FullPath: "/c", TTLSec: -5, UID: 1 << 31, GID: 42, FileSize: 1 << 63, Chunks: []Chunk{
			{}, {Fid: "not a fid", Offset: -3}, {Fid: "3,01637037d6_2", ETag: "\"q\""},
			{Fid: "0,0000000000000000", IsManifest: true}, {Fid: "4294967295,ffffffffffffffffffffffff", Size: 1},
		}},
	}
	for _, e := range entries {
		checkAppendJSON(t, e)
	}
	if _, err := (&Entry{FullPath: "/far", Mtime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).AppendJSON(nil); err == nil {
		t.Fatal("a year past 9999 must fail as encoding/json does")
	}
}

// FuzzAppendJSON: for entries made of arbitrary strings, bytes and
// numbers, AppendJSON writes exactly what encoding/json writes.
func FuzzAppendJSON(f *testing.F) {
	f.Add("/docs/a.txt", "text/plain", "36,0ab47563d9f77a", "e", []byte{1, 2}, int64(1_700_000_000_123_456_789), uint32(0o640), int64(14), false)
	f.Add("/a<&>\"\\", "\x00\xff", "3,01637037d6_2", "", []byte(nil), int64(-1), uint32(os.ModeDir|0o755), int64(-7), true)
	f.Add("", "", "", "", []byte{}, int64(0), uint32(0), int64(0), false)
	f.Fuzz(func(t *testing.T, path, mime, fid, etag string, data []byte, ns int64, mode uint32, off int64, manifest bool) {
		e := &Entry{
			FullPath: path, Mode: os.FileMode(mode), UID: uint32(ns), GID: mode, Mime: mime,
			Mtime: time.Unix(0, ns).UTC(), Crtime: time.Unix(ns%1e9, 0).In(time.FixedZone("z", int(off%86400))),
			FileSize: uint64(off), Md5: data, TTLSec: int32(off), SymlinkTarget: etag, Content: data,
			Extended: map[string][]byte{mime: data, etag: nil},
			Chunks:   []Chunk{{Fid: fid, Offset: off, Size: uint64(ns), ModifiedTsNs: ns, ETag: etag, IsManifest: manifest}},
		}
		if len(data)%2 == 0 {
			e.Extended, e.Chunks = nil, nil
		}
		checkAppendJSON(t, e)
	})
}
