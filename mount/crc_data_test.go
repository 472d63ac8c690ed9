package mount

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/client/localput"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/storage/needle"
)

// crcFS is an FS without FUSE or filer whose chunks go to a volume server
// of this process through its same-host socket.
func crcFS(t *testing.T, chunk int64) *FS {
	t.Helper()
	if !localput.Supported {
		t.Skip("same-host uploads need Linux")
	}
	maddr := startLocalCluster(t)
	fsys := &FS{
		opt:     Options{ChunkSize: chunk, IOTimeout: 10 * time.Second, Fsync: true},
		log:     slog.New(slog.DiscardHandler),
		blobs:   client.New([]string{maddr}, client.Options{}),
		chunkw:  client.NewChunkWriter(2),
		bufs:    newBufferPool(int(chunk), 4),
		uploads: make(chan struct{}, 2),
		active:  map[*openFile]struct{}{},
		ctx:     context.Background(),
	}
	t.Cleanup(fsys.chunkw.Close)
	return fsys
}

// wantCRC checks the running checksum of w: known and right when known
// says so, lost otherwise.
func wantCRC(t *testing.T, what string, w *wbuf, known bool) {
	t.Helper()
	got := w.dataCRC()
	switch {
	case !known && got != nil:
		t.Fatalf("%s: checksum %08x kept, want it lost", what, *got)
	case known && got == nil:
		t.Fatalf("%s: checksum lost, want it kept", what)
	case known && *got != needle.CRC(w.data[w.start:w.end]):
		t.Fatalf("%s: running checksum %08x, that of bytes [%d,%d) is %08x", what, *got, w.start, w.end, needle.CRC(w.data[w.start:w.end]))
	}
}

// A write buffer's running CRC-32C is that of its bytes after in-order
// writes, from any start in the chunk; an overwrite or a write before
// its start loses it for good; a hole starts a new buffer with its own.
func TestWriteBufferCRC(t *testing.T) {
	const cs = 1 << 20
	fsys := crcFS(t, cs)
	f := newOpenFile(fsys, &filer.Entry{FullPath: "/crc"})
	rng := rand.New(rand.NewPCG(21, 1))
	bytesOf := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	// In order from 100 into the second chunk, pieces of odd sizes.
	off := int64(cs + 100)
	for _, n := range []int{1, 4095, 7, 20000, 64 << 10, 3*(64<<10) + 5, 500000, 1} {
		f.write(bytesOf(n), off)
		off += int64(n)
		wantCRC(t, "in-order writes", f.active, true)
	}
	a := f.active
	// An overwrite inside: lost, and appends after it do not bring it back.
	f.write(bytesOf(10), cs+1000)
	wantCRC(t, "overwrite", a, false)
	f.write(bytesOf(10), off)
	wantCRC(t, "append after an overwrite", a, false)

	// A hole seals the buffer: the next one sums its own bytes.
	f.write(bytesOf(300), 3*cs+5000)
	if f.active == a {
		t.Fatal("a write past a hole went into the same buffer")
	}
	b := f.active
	wantCRC(t, "first write after a hole", b, true)
	// A write ending where the buffer starts (before it): lost.
	f.write(bytesOf(100), 3*cs+4900)
	if f.active != b {
		t.Fatal("a write just before the buffer's start went elsewhere")
	}
	wantCRC(t, "write before the start", b, false)

	// A whole chunk written in order is sealed with its sum.
	f.write(bytesOf(cs), 5*cs)
	c := f.sealed[len(f.sealed)-1]
	if c.base != 5*cs || c.start != 0 || c.end != cs {
		t.Fatalf("last sealed buffer [%d,%d) at %d, want the whole chunk at %d", c.start, c.end, c.base, 5*cs)
	}
	wantCRC(t, "whole chunk", c, true)
}

// A file written through the write path with random overwrites,
// appends and holes is uploaded (chunks with a running CRC sent as the
// needle's checksum, the rest summed by the server) and reads back as
// written: each chunk's checksum, checked on every read, is right.
func TestUploadsWithRunningCRCReadBack(t *testing.T) {
	const cs = 256 << 10
	fsys := crcFS(t, cs)
	f := newOpenFile(fsys, &filer.Entry{FullPath: "/mixed"})
	rng := rand.New(rand.NewPCG(21, 2))
	want := make([]byte, 0, 4*cs)
	write := func(off int64, n int) {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.mu.Lock()
		f.write(b, off)
		f.mu.Unlock()
		if end := int(off) + n; end > len(want) {
			want = append(want, make([]byte, end-len(want))...)
		}
		copy(want[off:], b)
	}
	for i := 0; i < 300; i++ {
		switch end := int64(len(want)); {
		case rng.IntN(4) == 0 && end > 0: // overwrite
			write(rng.Int64N(end), 1+rng.IntN(9000))
		case rng.IntN(10) == 0: // a hole
			write(end+rng.Int64N(20000), 1+rng.IntN(9000))
		default: // append
			write(end, 1+rng.IntN(9000))
		}
	}
	f.waitUploads()
	f.mu.Lock()
	f.drain()
	err, chunks := f.err, f.entry.Chunks
	f.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if fsys.chunkw.LocalPuts() != uint64(len(chunks)) {
		t.Fatalf("%d of %d chunks went through the socket", fsys.chunkw.LocalPuts(), len(chunks))
	}
	// Later chunks win where they overlap, as the file's view lays them.
	got := make([]byte, len(want))
	for _, c := range chunks {
		b, _, err := fsys.blobs.Read(context.Background(), c.Fid, client.ReadOptions{})
		if err != nil {
			t.Fatalf("chunk %s at %d: %v", c.Fid, c.Offset, err)
		}
		if c.ETag != needle.ETag(needle.CRC(b)) {
			t.Fatalf("chunk %s: etag %s, not that of its bytes", c.Fid, c.ETag)
		}
		copy(got[c.Offset:], b)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%d chunks read back differ from the %d bytes written", len(chunks), len(want))
	}
}

// BenchmarkWriteBufferFill is the copy of one 1 MiB FUSE write into a
// write buffer with its running CRC, against the copy alone. Buffers
// rotate through 64 MiB, cold as the mount's are.
//
//	go test -run XXX -bench WriteBufferFill -benchtime 2000x ./mount
func BenchmarkWriteBufferFill(b *testing.B) {
	const size, span = 1 << 20, 64 << 20
	dst := make([]byte, span)
	src := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(src)
	for i := range dst {
		dst[i] = byte(i)
	}
	for _, c := range []struct {
		name string
		fill func(w *wbuf, in int64, p []byte)
	}{
		{"copy", func(w *wbuf, in int64, p []byte) { copy(w.data[in:], p) }},
		{"copy-then-sum", func(w *wbuf, in int64, p []byte) {
			copy(w.data[in:], p)
			w.crc = needle.UpdateCRC(w.crc, w.data[in:in+int64(len(p))])
		}},
		{"copy-pieces-sum", func(w *wbuf, in int64, p []byte) {
			for len(p) > 0 {
				n := min(len(p), 64<<10)
				copy(w.data[in:], p[:n])
				w.crc = needle.UpdateCRC(w.crc, w.data[in:in+int64(n)])
				in += int64(n)
				p = p[n:]
			}
		}},
		{"fill", (*wbuf).fill},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			at := 0
			for b.Loop() {
				w := &wbuf{data: dst[at : at+size]}
				c.fill(w, 0, src)
				at = (at + size) % span
			}
		})
	}
}
