package filer

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The JSON shape SeaweedFS shows (SEAWEEDFS-WIRE.md §5.3).
func TestEntryJSONShape(t *testing.T) {
	e := &Entry{
		FullPath: "/docs/hello.txt",
		Mode:     0o660,
		Mtime:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Crtime:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Mime:     "text/plain",
		FileSize: 14,
		Md5:      []byte{0xde, 0xad},
		Extended: map[string][]byte{"Seaweed-Owner": []byte("bob")},
		Chunks: []Chunk{
			{Fid: "36,0ab47563d9f77a", Size: 14, ModifiedTsNs: 1700000000000000001, ETag: "3q2+7w=="},
			{Fid: "7,01637037d6", Offset: 14, Size: 3},
		},
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	order := []string{`"FullPath"`, `"Mtime"`, `"Crtime"`, `"Ctime"`, `"Atime"`, `"Mode"`, `"Uid"`, `"Gid"`, `"Mime"`,
		`"TtlSec"`, `"UserName"`, `"GroupNames"`, `"SymlinkTarget"`, `"Md5"`, `"FileSize"`, `"Rdev"`, `"Inode"`,
		`"Extended"`, `"chunks"`, `"HardLinkId"`, `"HardLinkCounter"`, `"Content"`, `"Remote"`, `"Quota"`, `"WORMEnforcedAtTsNs"`}
	at := -1
	for _, k := range order {
		i := strings.Index(s, k+":")
		if i <= at {
			t.Fatalf("key %s missing or out of order in %s", k, s)
		}
		at = i
	}
	for _, want := range []string{
		`"FullPath":"/docs/hello.txt"`,
		`"Mtime":"2026-01-02T03:04:05Z"`,
		`"Mode":432`,
		`"Md5":"3q0="`,
		`"Extended":{"Seaweed-Owner":"Ym9i"}`,
		`{"file_id":"36,0ab47563d9f77a","size":14,"modified_ts_ns":1700000000000000001,"e_tag":"3q2+7w==","fid":{"volume_id":36,"file_key":701557,"cookie":1675229050}}`,
		`{"file_id":"7,01637037d6","offset":14,"size":3,"fid":{"volume_id":7,"file_key":1,"cookie":1668298710}}`,
		`"GroupNames":null`,
		`"Content":null`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}

	dir, err := json.Marshal(&Entry{FullPath: "/docs", Mode: os.ModeDir | 0o755})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dir), `"Mode":2147484141`) || strings.Contains(string(dir), `"chunks"`) {
		t.Errorf("folder JSON: %s", dir)
	}

	var back Entry
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Chunks, e.Chunks) || back.FileSize != 14 || back.Mode != 0o660 || !back.Mtime.Equal(e.Mtime) ||
		string(back.Extended["Seaweed-Owner"]) != "bob" {
		t.Errorf("JSON round trip: %+v", back)
	}
}

func TestParseFid(t *testing.T) {
	cases := []struct {
		fid  string
		want *fidJSON
	}{
		{"36,0ab47563d9f77a", &fidJSON{36, 701557, 1675229050}},
		{"3,01637037d6", &fidJSON{3, 1, 0x637037d6}},
		{"3,01637037d6_2", &fidJSON{3, 1, 0x637037d6}},
		{"3,637037d6", nil}, // no key digits
		{"3,zz637037d6", nil},
		{"x,01637037d6", nil},
		{"01637037d6", nil},
		{"", nil},
	}
	for _, c := range cases {
		if got := parseFid(c.fid); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseFid(%q) = %+v, want %+v", c.fid, got, c.want)
		}
	}
}

// FuzzEntryJSON: any bytes unmarshal or fail, never panic, and an entry
// that unmarshals marshals again to JSON that gives the same entry.
func FuzzEntryJSON(f *testing.F) {
	b, _ := json.Marshal(fullEntry())
	f.Add(b)
	f.Add([]byte(`{"FullPath":"/d","Mode":2147484141,"chunks":[{"file_id":"1,01637037d6"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Entry
		if json.Unmarshal(b, &e) != nil {
			return
		}
		out, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("marshal of an unmarshalled entry: %v", err)
		}
		var e2 Entry
		if err := json.Unmarshal(out, &e2); err != nil {
			t.Fatalf("own JSON does not unmarshal: %v\n%s", err, out)
		}
		if e2.FullPath != e.FullPath || e2.FileSize != e.FileSize || len(e2.Chunks) != len(e.Chunks) || e2.Mode != e.Mode {
			t.Fatalf("JSON round trip changed the entry:\n%+v\n%+v", e, e2)
		}
	})
}
