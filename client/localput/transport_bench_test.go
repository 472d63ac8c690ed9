//go:build linux

package localput

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"testing"

	"weedfs.dev/weed/internal/cputime"
	"weedfs.dev/weed/storage/needle"
)

// The potential of each same-host transport for a 4 MiB chunk, before
// any storage: the receiver ends with the chunk's bytes readable and
// their CRC-32C computed (what the volume server needs to append a
// needle). Sub-benchmarks report CPU-µs per chunk of both sides (one
// process), so their ratios hold on a busy machine:
//
//	go test -run XXX -bench Transport -benchtime 200x -count 3 ./client/localput/
const benchChunk = 4 << 20

func BenchmarkTransport(b *testing.B) {
	b.Run("tcp", func(b *testing.B) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		benchStream(b, ln, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
	})
	b.Run("unix", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "s")
		ln, err := net.Listen("unix", path)
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		benchStream(b, ln, func() (net.Conn, error) { return net.Dial("unix", path) })
	})
	b.Run("memfd", benchMemfd)
}

// benchStream sends the chunk's bytes through the socket; the receiver
// reads them into its buffer, checksumming each piece as it lands (as
// the volume server does), and answers one byte.
func benchStream(b *testing.B, ln net.Listener, dial func() (net.Conn, error)) {
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, benchChunk)
		for {
			var sum uint32
			for got := 0; got < len(buf); {
				k, err := c.Read(buf[got:])
				if err != nil {
					return
				}
				sum = needle.UpdateCRC(sum, buf[got:got+k])
				got += k
			}
			if _, err := c.Write([]byte{byte(sum)}); err != nil {
				return
			}
		}
	}()
	c, err := dial()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	data := make([]byte, benchChunk)
	for i := range data {
		data[i] = byte(i)
	}
	var ack [1]byte
	b.SetBytes(benchChunk)
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(data); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, ack[:]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// benchMemfd passes the arena once, then a Put frame per chunk; the
// receiver checksums the bytes from its mapping and answers a Reply.
func benchMemfd(b *testing.B) {
	path := filepath.Join(b.TempDir(), "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		m, err := ReceiveHello(c, 1<<30)
		if err != nil {
			return
		}
		defer m.Close()
		br := bufio.NewReader(c)
		var buf, out []byte
		for {
			var body []byte
			var kind byte
			if kind, body, buf, err = ReadFrame(br, buf); err != nil || kind != KindPut {
				return
			}
			p, err := DecodePut(body)
			if err != nil {
				return
			}
			data, err := m.Slice(p.Offset, p.Length)
			if err != nil {
				return
			}
			sum := needle.UpdateCRC(0, data)
			out = AppendReply(out[:0], Reply{Status: 201, Size: sum})
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}()
	a, err := NewArena(benchChunk)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	for i := range a.Bytes() {
		a.Bytes()[i] = byte(i)
	}
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := a.SendHello(c); err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReader(c)
	var frame, buf []byte
	b.SetBytes(benchChunk)
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		frame, err = AppendPut(frame[:0], Put{Offset: 0, Length: benchChunk, Fid: "3,01637037d6"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		var kind byte
		if kind, _, buf, err = ReadFrame(br, buf); err != nil || kind != KindReply {
			b.Fatal(kind, err)
		}
	}
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
