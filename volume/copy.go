package volume

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// A volume travels between servers (replica repair, balancing) as one HTTP
// response: GET /admin/files?volume=N streams the .dat and then the .idx as
// CopyFiles writes them, cut into frames so the receiver can tell where one
// file ends without knowing its size in advance:
//
//	kind u8 ('d' .dat bytes, 'i' .idx bytes, 'e' end) | length u32 | bytes
//
// The end frame carries the two sizes (u64 each) so a cut-off stream is
// never taken for a whole volume.
const (
	frameDat = 'd'
	frameIdx = 'i'
	frameEnd = 'e'

	frameHeaderLen = 5
	maxFrameLen    = 4 << 20
	filesPath      = "files"
)

var errBadStream = errors.New("bad volume copy stream")

// frameWriter frames everything written to it as kind.
type frameWriter struct {
	w    *bufio.Writer
	kind byte
	n    int64
}

func (f *frameWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxFrameLen)]
		var hdr [frameHeaderLen]byte
		hdr[0] = f.kind
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(chunk)))
		if _, err := f.w.Write(hdr[:]); err != nil {
			return written, err
		}
		if _, err := f.w.Write(chunk); err != nil {
			return written, err
		}
		written += len(chunk)
		f.n += int64(len(chunk))
		p = p[len(chunk):]
	}
	return written, nil
}

// handleFiles streams a consistent copy of a volume's files.
func (s *Server) handleFiles(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.URL.Query().Get("volume"), 10, 32)
	if err != nil {
		writeError(w, r, http.StatusBadRequest, fmt.Errorf("volume: %w", err))
		return
	}
	vol, err := s.store.Volume(uint32(id))
	if err != nil {
		writeError(w, r, http.StatusNotFound, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	bw := bufio.NewWriterSize(w, 256<<10)
	dat, idx := &frameWriter{w: bw, kind: frameDat}, &frameWriter{w: bw, kind: frameIdx}
	datSize, idxSize, err := vol.CopyFiles(r.Context(), dat, idx)
	if err != nil {
		s.log.Warn("volume copy failed", "volume", id, "err", err)
		return // the missing end frame tells the receiver
	}
	var end [frameHeaderLen + 16]byte
	end[0] = frameEnd
	binary.BigEndian.PutUint32(end[1:], 16)
	binary.BigEndian.PutUint64(end[5:], uint64(datSize))
	binary.BigEndian.PutUint64(end[13:], uint64(idxSize))
	bw.Write(end[:])
	bw.Flush()
}

// frameReader splits a copy stream back into its two files; the .dat part
// must be read to its end before the .idx part.
type frameReader struct {
	r          *bufio.Reader
	kind       byte  // kind of the frame being read
	left       int64 // bytes left in it
	end        bool
	datN, idxN int64
	datSize    int64
	idxSize    int64
}

// next reads the next frame header.
func (f *frameReader) next() error {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return fmt.Errorf("%w: %w", errBadStream, err)
	}
	f.kind, f.left = hdr[0], int64(binary.BigEndian.Uint32(hdr[1:]))
	switch {
	case f.kind == frameEnd && f.left == 16:
		var b [16]byte
		if _, err := io.ReadFull(f.r, b[:]); err != nil {
			return fmt.Errorf("%w: %w", errBadStream, err)
		}
		f.datSize, f.idxSize = int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:]))
		f.end, f.left = true, 0
	case (f.kind == frameDat || f.kind == frameIdx) && f.left <= maxFrameLen:
	default:
		return fmt.Errorf("%w: frame %q of %d bytes", errBadStream, f.kind, f.left)
	}
	return nil
}

// part returns a reader of the frames of kind. It ends (io.EOF) at the end
// frame or at a frame of the other kind, which it leaves for the other part.
func (f *frameReader) part(kind byte) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		for f.left == 0 || f.kind != kind {
			if f.end || f.left > 0 {
				return 0, io.EOF
			}
			if err := f.next(); err != nil {
				return 0, err
			}
		}
		n, err := f.r.Read(p[:min(int64(len(p)), f.left)])
		f.left -= int64(n)
		if kind == frameDat {
			f.datN += int64(n)
		} else {
			f.idxN += int64(n)
		}
		if err == io.EOF {
			err = fmt.Errorf("%w: cut off", errBadStream)
		}
		return n, err
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// adminCopy fetches a volume from another server and serves it from here.
func (s *Server) adminCopy(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.VolumeCopyRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	if req.GetSourceDataNode() == "" {
		return nil, fmt.Errorf("%w: no source", errAdminRequest)
	}
	if err := s.copyFrom(r.Context(), req.GetSourceDataNode(), req.GetCollection(), req.GetVolumeId()); err != nil {
		return nil, err
	}
	s.beatSoon()
	return &pb.VolumeCopyResponse{}, nil
}

func (s *Server) copyFrom(ctx context.Context, source, collection string, id uint32) error {
	u := "http://" + source + pb.AdminPrefix + filesPath + "?volume=" + strconv.FormatUint(uint64(id), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.HTTP().Do(req)
	if err != nil {
		return fmt.Errorf("copy volume %d from %s: %w", id, source, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("copy volume %d from %s: HTTP %d: %s", id, source, resp.StatusCode, b)
	}
	fr := &frameReader{r: bufio.NewReaderSize(resp.Body, 256<<10)}
	idx := &checkedEnd{fr: fr, r: fr.part(frameIdx)}
	if _, err := s.store.ReceiveVolume(ctx, collection, id, fr.part(frameDat), idx); err != nil {
		return fmt.Errorf("copy volume %d from %s: %w", id, source, err)
	}
	s.log.Info("volume copied", "volume", id, "from", source, "bytes", fr.datN+fr.idxN)
	return nil
}

// checkedEnd ends the .idx part only at a whole stream: the end frame must
// be there and its sizes must match what was received.
type checkedEnd struct {
	fr *frameReader
	r  io.Reader
}

func (c *checkedEnd) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		if !c.fr.end {
			return n, fmt.Errorf("%w: .dat bytes after the .idx", errBadStream)
		}
		if c.fr.datN != c.fr.datSize || c.fr.idxN != c.fr.idxSize {
			return n, fmt.Errorf("%w: got %d+%d bytes, sender copied %d+%d", errBadStream, c.fr.datN, c.fr.idxN, c.fr.datSize, c.fr.idxSize)
		}
	}
	return n, err
}
