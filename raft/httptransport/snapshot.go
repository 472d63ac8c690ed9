package httptransport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// SendSnapshot implements raft.Transport: the MSG_SNAP and data go out as
// SnapshotChunk frames on their own request, so a large snapshot never
// delays the message stream.
func (t *Transport) SendSnapshot(ctx context.Context, m *raftpb.Message, data io.Reader) error {
	url, err := t.peerURL(m.To)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel) // Close aborts the transfer
	defer stop()

	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"snapshot", pr)
	if err != nil {
		return fmt.Errorf("httptransport: snapshot request to %s: %w", url, err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(HeaderClusterID, strconv.FormatUint(t.cfg.ClusterID, 10))
	req.Header.Set(HeaderFrom, strconv.FormatUint(t.cfg.ID, 10))
	if t.cfg.Addr != "" {
		req.Header.Set(HeaderFromAddr, t.cfg.Addr)
	}

	wrote := make(chan error, 1)
	go func() {
		err := writeChunks(pw, m, data, t.cfg.ChunkSize)
		pw.CloseWithError(err)
		wrote <- err
	}()
	resp, err := t.cfg.Client.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		<-wrote
		return fmt.Errorf("httptransport: snapshot to peer %d: %w", m.To, err)
	}
	body := drainBody(resp.Body)
	pr.CloseWithError(errStreamEnded) // a peer that answered early reads no more
	werr := <-wrote
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("httptransport: snapshot to peer %d: %s: %s", m.To, resp.Status, body)
	}
	if werr != nil {
		return fmt.Errorf("httptransport: snapshot to peer %d: %w", m.To, werr)
	}
	return nil
}

// writeChunks frames m and data as SnapshotChunks of up to size bytes.
func writeChunks(w io.Writer, m *raftpb.Message, data io.Reader, size int) error {
	bw := bufio.NewWriterSize(w, size+64)
	chunk := make([]byte, size)
	var off uint64
	var frame []byte
	for first := true; ; first = false {
		n, err := io.ReadFull(data, chunk)
		last := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !last {
			return fmt.Errorf("read snapshot: %w", err)
		}
		c := &raftpb.SnapshotChunk{Offset: off, Data: chunk[:n], Last: last}
		if first {
			c.Message = m
		}
		frame, err = appendFrame(frame[:0], c)
		if err != nil {
			return err
		}
		if _, err := bw.Write(frame); err != nil {
			return err
		}
		off += uint64(n)
		if last {
			return bw.Flush()
		}
	}
}

// serveSnapshot reads the first chunk, then lets the driver read the data
// from the following ones.
func (t *Transport) serveSnapshot(r *http.Request, h raft.Handler) (int, error) {
	fr := &frameReader{r: bufio.NewReaderSize(r.Body, 64<<10)}
	first := new(raftpb.SnapshotChunk)
	if err := fr.next(first); err != nil {
		if err == io.EOF {
			err = fmt.Errorf("empty snapshot body: %w", ErrBadFrame)
		}
		return http.StatusBadRequest, err
	}
	m := first.Message
	switch {
	case m == nil:
		return http.StatusBadRequest, fmt.Errorf("first snapshot chunk has no message: %w", ErrBadFrame)
	case m.Type != raftpb.MessageType_MSG_SNAP || m.Snapshot == nil:
		return http.StatusBadRequest, fmt.Errorf("snapshot request carries %v: %w", m.Type, errRejected)
	case first.Offset != 0:
		return http.StatusBadRequest, fmt.Errorf("first snapshot chunk at offset %d: %w", first.Offset, ErrBadFrame)
	}
	if err := t.checkMessage(m); err != nil {
		return http.StatusBadRequest, err
	}
	cr := &chunkReader{fr: fr, cur: first.Data, off: uint64(len(first.Data)), last: first.Last}
	if err := h.ReceiveSnapshot(r.Context(), m, cr); err != nil {
		if cr.err != nil && !errors.Is(cr.err, errBodyRead) {
			// The body was torn, reordered or undecodable: the sender's fault.
			return http.StatusBadRequest, cr.err
		}
		return http.StatusInternalServerError, err
	}
	return http.StatusNoContent, nil
}

// errBodyRead: reading the request body failed (the connection broke).
var errBodyRead = errors.New("httptransport: reading snapshot body")

// chunkReader reads the data of consecutive SnapshotChunks as one stream.
// It ends with io.EOF only after a chunk with last=true; a body that ends
// before is io.ErrUnexpectedEOF, so a torn transfer is never taken for a
// complete snapshot.
type chunkReader struct {
	fr   *frameReader
	cur  []byte
	off  uint64 // offset of the byte after cur
	last bool   // cur is the last chunk's data
	err  error  // sticky
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.last {
			return 0, io.EOF
		}
		c.err = c.nextChunk()
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

func (c *chunkReader) nextChunk() error {
	var ch raftpb.SnapshotChunk
	if err := c.fr.next(&ch); err != nil {
		switch {
		case err == io.EOF:
			return fmt.Errorf("snapshot body ended before its last chunk: %w", io.ErrUnexpectedEOF)
		case errors.Is(err, ErrBadFrame):
			return err
		}
		return fmt.Errorf("%w: %w", errBodyRead, err)
	}
	if ch.Message != nil {
		return fmt.Errorf("message in a later snapshot chunk: %w", ErrBadFrame)
	}
	if ch.Offset != c.off {
		return fmt.Errorf("snapshot chunk at offset %d, want %d: %w", ch.Offset, c.off, ErrBadFrame)
	}
	c.cur, c.last = ch.Data, ch.Last
	c.off += uint64(len(ch.Data))
	return nil
}
