package httptransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"weedfs.dev/weed/raft/raftpb"
)

// maxBatch bounds the bytes written to a stream in one write: the messages
// queued while the previous write was in flight go out together, which is
// where pipelining gets its throughput.
const maxBatch = 1 << 20

// errStreamEnded: the peer answered the stream request, so it is over.
var errStreamEnded = errors.New("httptransport: stream ended by peer")

// peer is the outbound side of one peer: a queue and the goroutine that
// writes it to a streaming POST, opening a new one when it breaks.
type peer struct {
	t      *Transport
	id     uint64
	url    string // guarded by t.mu
	queue  chan *raftpb.Message
	ctx    context.Context // canceled by RemovePeer and Close
	cancel context.CancelFunc
	// streamCancel cuts the current stream; guarded by t.mu.
	streamCancel context.CancelFunc
}

func (p *peer) enqueue(m *raftpb.Message) bool {
	select {
	case p.queue <- m:
		return true
	default:
		return false
	}
}

// cancelStream is called with t.mu held.
func (p *peer) cancelStream() {
	if p.streamCancel != nil {
		p.streamCancel()
	}
}

// run opens a stream when there is something to send, and after a failure
// treats the peer as down for RetryInterval, dropping (and reporting) what
// is queued, so the leader's view of it goes to probing instead of piling
// up messages behind a dead connection.
func (p *peer) run() {
	defer p.t.wg.Done()
	wasDown := false
	for {
		var first *raftpb.Message
		select {
		case <-p.ctx.Done():
			return
		case first = <-p.queue:
		}
		sent, err := p.stream(first)
		if p.ctx.Err() != nil {
			return
		}
		if sent > 0 {
			wasDown = false
		}
		if !wasDown {
			p.t.cfg.Logger.Warn("raft peer unreachable", "peer", p.id, "err", err)
			wasDown = true
		}
		p.t.reportUnreachable(p.id)
		if !p.dropFor(p.t.cfg.RetryInterval) {
			return
		}
	}
}

// dropFor drops queued messages for d; false when the peer was stopped.
func (p *peer) dropFor(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return false
		case <-timer.C:
			return true
		case <-p.queue:
			p.t.reportUnreachable(p.id)
		}
	}
}

// stream sends first and then everything queued on one POST until the
// stream breaks or the peer is stopped; it returns how many batches were
// handed to the connection and why it ended. The request body is a
// streamBody: the HTTP client's writer goroutine pulls frames straight
// from the queue, so a message crosses no other goroutine on its way out.
func (p *peer) stream(first *raftpb.Message) (int, error) {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	p.t.mu.Lock()
	url := p.url
	p.streamCancel = cancel
	p.t.mu.Unlock()

	body := &streamBody{p: p, ctx: ctx, first: first}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"stream", body)
	if err != nil {
		return 0, fmt.Errorf("httptransport: stream request to %s: %w", url, err)
	}
	req.ContentLength = -1 // chunked: the body is written as messages arrive
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set(HeaderClusterID, strconv.FormatUint(p.t.cfg.ClusterID, 10))
	req.Header.Set(HeaderFrom, strconv.FormatUint(p.t.cfg.ID, 10))
	if p.t.cfg.Addr != "" {
		req.Header.Set(HeaderFromAddr, p.t.cfg.Addr)
	}
	resp, err := p.t.cfg.Client.Do(req)
	if err == nil {
		text := drainBody(resp.Body)
		if resp.StatusCode != http.StatusNoContent {
			err = fmt.Errorf("httptransport: peer %d answered %s: %s", p.id, resp.Status, text)
		} else {
			err = errStreamEnded
		}
	}
	return int(body.batches.Load()), err
}

// streamBody is the body of a stream request. Each Read takes what is
// queued (up to maxBatch bytes of frames), which the client writes as one
// chunk and flushes: a batch per write, with no copy through a pipe.
type streamBody struct {
	p       *peer
	ctx     context.Context // ends the body (io.EOF): the stream is cut
	first   *raftpb.Message
	buf     []byte // frames not yet returned: buf[off:]
	off     int
	batches atomic.Int64
}

func (b *streamBody) Read(out []byte) (int, error) {
	for b.off == len(b.buf) {
		b.buf, b.off = b.buf[:0], 0
		if b.first != nil {
			b.buf = b.p.appendMessage(b.buf, b.first)
			b.first = nil
		} else {
			select {
			case m := <-b.p.queue:
				b.buf = b.p.appendMessage(b.buf, m)
			case <-b.ctx.Done():
				return 0, io.EOF
			}
		}
	batch:
		for len(b.buf) < maxBatch {
			select {
			case m := <-b.p.queue:
				b.buf = b.p.appendMessage(b.buf, m)
			default:
				break batch
			}
		}
		if len(b.buf) > 0 {
			b.batches.Add(1)
		}
	}
	n := copy(out, b.buf[b.off:])
	b.off += n
	return n, nil
}

// appendMessage frames m onto buf; a message that cannot be encoded is
// dropped and reported.
func (p *peer) appendMessage(buf []byte, m *raftpb.Message) []byte {
	out, err := appendFrame(buf, m)
	if err != nil {
		p.t.cfg.Logger.Warn("raft message dropped", "peer", p.id, "type", m.Type, "err", err)
		p.t.reportUnreachable(p.id)
	}
	return out
}
