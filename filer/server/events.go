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

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/pb"
)

// EventsContentType is the media type of the change-feed stream.
const EventsContentType = "application/x-weed-events"

// SignatureParam is the query parameter naming a client's signature (a
// non-zero int32): on a mount write it is recorded in the change's event,
// on GET /internal/events the stream leaves out events carrying it, so a
// mount does not get back its own changes.
const SignatureParam = "signature"

// parseSignature reads a SignatureParam value.
func parseSignature(v string) (int32, error) {
	sig, err := strconv.ParseInt(v, 10, 32)
	if err != nil || sig == 0 {
		return 0, fmt.Errorf("%w: %s %q is not a non-zero int32", errBadRequest, SignatureParam, v)
	}
	return int32(sig), nil
}

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
	if v := q.Get(SignatureParam); v != "" {
		sig, err := parseSignature(v)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		o.SkipSignature = sig
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
	// The header goes out at once: a client waiting for the answer needs
	// not wait for the first event.
	if err := rc.Flush(); err != nil {
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var lenBuf [binary.MaxVarintLen64]byte
	// Events go out when the follower has sent all it found (a burst of
	// commits shares writes), a heartbeat alone at once.
	o.Idle = func() error {
		if bw.Buffered() == 0 {
			return nil
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	err := s.f.FollowEncoded(ctx, o, func(b []byte) error {
		n := binary.PutUvarint(lenBuf[:], uint64(len(b)))
		bw.Write(lenBuf[:n])
		_, err := bw.Write(b)
		return err
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
