package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/pb"
)

// EventsContentType is the media type of the change-feed stream.
const EventsContentType = "application/x-weed-events"

const defaultHeartbeat = 5 * time.Second

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s only answers GET", eventsPath))
		return
	}
	q := r.URL.Query()
	var o filer.FollowOptions
	o.Heartbeat = defaultHeartbeat
	if v := q.Get("since"); v != "" {
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ns < 0 {
			s.fail(w, r, fmt.Errorf("%w: since %q is not unix nanoseconds", errBadRequest, v))
			return
		}
		o.Since = time.Unix(0, ns)
	}
	if v := q.Get("prefix"); v != "" {
		p, err := filer.NormalizePath(v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		o.Prefix = p
	}
	if v := q.Get("heartbeat"); v != "" {
		sec, err := strconv.ParseFloat(v, 64)
		if err != nil || sec <= 0 || sec > 3600 {
			s.fail(w, r, fmt.Errorf("%w: heartbeat %q is not seconds in (0, 3600]", errBadRequest, v))
			return
		}
		o.Heartbeat = time.Duration(sec * float64(time.Second))
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	w.Header().Set("Content-Type", EventsContentType)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(w, 64<<10)
	var lenBuf [binary.MaxVarintLen64]byte
	err := s.f.Follow(ctx, o, func(ev *pb.EntryEvent) error {
		b, err := proto.Marshal(ev)
		if err != nil {
			return err
		}
		n := binary.PutUvarint(lenBuf[:], uint64(len(b)))
		bw.Write(lenBuf[:n])
		bw.Write(b)
		// Flush each event: a follower waits on it. Bursts still share
		// packets through the buffered writer of the connection.
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	})
	if err != nil && ctx.Err() == nil {
		s.log.Debug("event stream ended", "err", err)
	}
}

// ReadEvent reads one frame of the change-feed stream from r.
func ReadEvent(r *bufio.Reader) (*pb.EntryEvent, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, err
		}
		return nil, fmt.Errorf("event frame length: %v: %w", err, filer.ErrCorrupt)
	}
	if n > maxEventLen {
		return nil, fmt.Errorf("event frame of %d bytes is over %d: %w", n, maxEventLen, filer.ErrCorrupt)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return filer.DecodeEvent(b)
}

// maxEventLen bounds one frame a reader accepts (an entry with many
// chunks and both its old and new forms).
const maxEventLen = 64 << 20
