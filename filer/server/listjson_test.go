package server

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
)

// The hand-written listing JSON is what encoding/json makes of it.
func TestListingJSONMatchesEncodingJSON(t *testing.T) {
	now := time.Unix(1_700_000_000, 5)
	l := listing{Version: "v \"1\"", Path: "/a<b>", Limit: 2, LastFileName: "ü", ShouldDisplayLoadMore: true,
		Entries: []*filer.Entry{
			{FullPath: "/a<b>/f", Mode: 0o644, Mtime: now, FileSize: 3, Chunks: []filer.Chunk{{Fid: "3,01637037d6", Size: 3}}},
			{FullPath: "/a<b>/d", Mode: os.ModeDir | 0o755, Mtime: now, Extended: map[string][]byte{"Seaweed-X": []byte("y")}},
		}}
	for _, l := range []listing{l, {Path: "/", Entries: []*filer.Entry{}, EmptyFolder: true}} {
		got, err := l.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(&l)
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, got)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}
