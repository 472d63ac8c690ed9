package mount

import (
	"sort"

	"weedfs.dev/weed/filer"
)

// piece is a visible part of a file: bytes [start, stop) come from chunk
// (at stop-start bytes from the chunk's own offset start-chunk.Offset).
type piece struct {
	start, stop int64
	chunk       filer.Chunk
}

// view is the visible layout of a chunk list: later chunks override
// earlier ones where they overlap; gaps read as zeros. Built once per
// entry version and then read-only.
type view []piece

func buildView(chunks []filer.Chunk) view {
	var vis []piece
	for _, c := range chunks {
		cs, ce := c.Offset, c.Offset+int64(c.Size)
		if ce <= cs {
			continue
		}
		// vis is sorted and disjoint: find the overlapped run.
		i := sort.Search(len(vis), func(i int) bool { return vis[i].stop > cs })
		j := i
		for j < len(vis) && vis[j].start < ce {
			j++
		}
		var repl []piece
		if i < j && vis[i].start < cs {
			p := vis[i]
			p.stop = cs
			repl = append(repl, p)
		}
		repl = append(repl, piece{cs, ce, c})
		if i < j && vis[j-1].stop > ce {
			p := vis[j-1]
			p.start = ce
			repl = append(repl, p)
		}
		vis = append(vis[:i], append(repl, vis[j:]...)...)
	}
	return vis
}

// find returns the index of the first piece ending after off.
func (v view) find(off int64) int {
	return sort.Search(len(v), func(i int) bool { return v[i].stop > off })
}
