package httptransport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft/raftpb"
)

// Wire constants; see the package doc.
const (
	// FrameHeaderSize is the length prefix of every frame.
	FrameHeaderSize = 4
	// MaxFrameSize bounds one frame's payload so a bad length cannot make the
	// reader allocate without limit. Senders keep MSG_APP and snapshot chunks
	// well below it.
	MaxFrameSize = 64 << 20
)

// ErrBadFrame: a frame is torn, too long or does not decode.
var ErrBadFrame = errors.New("httptransport: bad frame")

// appendFrame appends the frame of msg to dst.
func appendFrame(dst []byte, msg proto.Message) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst, err := proto.MarshalOptions{}.MarshalAppend(dst, msg)
	if err != nil {
		return dst[:start], fmt.Errorf("httptransport: encode frame: %w", err)
	}
	n := len(dst) - start - FrameHeaderSize
	if n > MaxFrameSize {
		return dst[:start], fmt.Errorf("httptransport: frame of %d bytes exceeds %d: %w", n, MaxFrameSize, ErrBadFrame)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

// frameReader reads frames from a body, reusing one buffer (protobuf
// decoding copies bytes fields, so decoded messages never alias it).
type frameReader struct {
	r   io.Reader
	hdr [FrameHeaderSize]byte
	buf []byte
}

// next decodes the next frame into msg. It returns io.EOF at a clean end
// (between frames) and an error wrapping ErrBadFrame for anything torn or
// undecodable; read errors of the body are returned wrapped as they are.
func (f *frameReader) next(msg proto.Message) error {
	if _, err := io.ReadFull(f.r, f.hdr[:]); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return fmt.Errorf("torn frame header: %w", ErrBadFrame)
		}
		return err
	}
	n := binary.BigEndian.Uint32(f.hdr[:])
	if n > MaxFrameSize {
		return fmt.Errorf("frame length %d exceeds %d: %w", n, MaxFrameSize, ErrBadFrame)
	}
	if err := f.readPayload(int(n)); err != nil {
		return err
	}
	if err := proto.Unmarshal(f.buf, msg); err != nil {
		return fmt.Errorf("decode frame: %v: %w", err, ErrBadFrame)
	}
	return nil
}

// readPayload reads n bytes into f.buf. A buffer larger than the one in
// hand grows with the bytes that actually arrive, so a lying length costs no
// more memory than the body carries.
func (f *frameReader) readPayload(n int) error {
	if cap(f.buf) >= n {
		f.buf = f.buf[:n]
		if _, err := io.ReadFull(f.r, f.buf); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return fmt.Errorf("torn frame of %d bytes: %w", n, ErrBadFrame)
			}
			return err
		}
		return nil
	}
	var b bytes.Buffer
	b.Grow(min(n, 1<<20))
	got, err := b.ReadFrom(io.LimitReader(f.r, int64(n)))
	if err != nil {
		return err
	}
	if got < int64(n) {
		return fmt.Errorf("torn frame of %d bytes: %w", n, ErrBadFrame)
	}
	f.buf = b.Bytes()
	return nil
}

// readMessage decodes the next raftpb.Message frame.
func (f *frameReader) readMessage() (*raftpb.Message, error) {
	m := new(raftpb.Message)
	if err := f.next(m); err != nil {
		return nil, err
	}
	return m, nil
}
