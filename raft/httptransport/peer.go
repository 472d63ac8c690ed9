package httptransport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
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
// stream breaks or the peer is stopped; it returns how many writes
// succeeded and why it ended.
func (p *peer) stream(first *raftpb.Message) (int, error) {
	ctx, cancel := context.WithCancel(p.ctx)
	defer cancel()
	p.t.mu.Lock()
	url := p.url
	p.streamCancel = cancel
	p.t.mu.Unlock()

	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"stream", pr)
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

	done := make(chan error, 1)
	go func() {
		resp, err := p.t.cfg.Client.Do(req)
		if err == nil {
			body := drainBody(resp.Body)
			if resp.StatusCode != http.StatusNoContent {
				err = fmt.Errorf("httptransport: peer %d answered %s: %s", p.id, resp.Status, body)
			} else {
				err = errStreamEnded
			}
		}
		pr.CloseWithError(err) // unblocks a write in progress
		done <- err
	}()

	writes := 0
	buf := make([]byte, 0, 64<<10)
	m := first
	for {
		buf = p.appendMessage(buf, m)
	batch:
		for len(buf) < maxBatch {
			select {
			case m = <-p.queue:
				buf = p.appendMessage(buf, m)
			default:
				break batch
			}
		}
		if len(buf) > 0 {
			if _, err := pw.Write(buf); err != nil {
				cancel()
				return writes, <-done
			}
			writes++
			buf = buf[:0]
		}
		select {
		case m = <-p.queue:
		case err := <-done:
			return writes, err
		case <-ctx.Done():
			pw.CloseWithError(ctx.Err())
			return writes, <-done
		}
	}
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
