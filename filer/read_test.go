package filer

import "testing"

func TestSpans(t *testing.T) {
	e := &Entry{FileSize: 100, Chunks: []Chunk{
		{Fid: "1,a", Offset: 0, Size: 50},
		{Fid: "1,b", Offset: 50, Size: 40},
		{Fid: "1,c", Offset: 20, Size: 10}, // written later: overrides 20..30 of a
	}}
	got := spans(e, 10, 85)
	want := []span{
		{fid: "1,a", offset: 10, length: 10},
		{fid: "1,c", offset: 0, length: 10},
		{fid: "1,a", offset: 30, length: 20},
		{fid: "1,b", offset: 0, length: 40},
		{length: 5}, // 90..95: a hole reads as zeros
	}
	if len(got) != len(want) {
		t.Fatalf("spans = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("span %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	var total int64
	for _, s := range spans(e, 0, 100) {
		total += s.length
	}
	if total != 100 {
		t.Fatalf("spans of the whole file cover %d bytes", total)
	}
}
