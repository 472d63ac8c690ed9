package httptransport

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// errRejected: a well-formed request or message that this peer refuses
// (another cluster, another recipient, a local-only message type).
var errRejected = errors.New("httptransport: rejected")

// Handler serves the peer requests (see the package doc). Mount it under
// Config.PathPrefix; it routes on the last path element, so the prefix may
// be anything. The server must not set a ReadTimeout: streams are long-lived.
func (t *Transport) Handler() http.Handler { return http.HandlerFunc(t.serveHTTP) }

func (t *Transport) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, errors.New("POST only"))
		return
	}
	route := path.Base(r.URL.Path)
	if route != "stream" && route != "snapshot" {
		writeError(w, http.StatusNotFound, fmt.Errorf("no raft endpoint %q", route))
		return
	}
	if err := t.checkHeaders(r); err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	h := t.getHandler()
	if h == nil {
		writeError(w, http.StatusServiceUnavailable, ErrClosed)
		return
	}
	if from, err := strconv.ParseUint(r.Header.Get(HeaderFrom), 10, 64); err == nil {
		t.learnPeer(from, r.Header.Get(HeaderFromAddr))
	}
	var status int
	var err error
	if route == "stream" {
		status, err = t.serveStream(r, h)
	} else {
		status, err = t.serveSnapshot(r, h)
	}
	if err != nil {
		t.cfg.Logger.Warn("raft request failed", "route", route, "remote", r.RemoteAddr, "status", status, "err", err)
		writeError(w, status, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (t *Transport) checkHeaders(r *http.Request) error {
	cid, err := strconv.ParseUint(r.Header.Get(HeaderClusterID), 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s header: %w", HeaderClusterID, errRejected)
	}
	if cid != t.cfg.ClusterID {
		return fmt.Errorf("cluster %d, this is cluster %d: %w", cid, t.cfg.ClusterID, errRejected)
	}
	return nil
}

// checkMessage refuses messages not meant for this peer over the wire.
func (t *Transport) checkMessage(m *raftpb.Message) error {
	switch {
	case m.ClusterId != t.cfg.ClusterID:
		return fmt.Errorf("message of cluster %d: %w", m.ClusterId, errRejected)
	case t.cfg.ID != 0 && m.To != t.cfg.ID:
		return fmt.Errorf("message to %d reached %d: %w", m.To, t.cfg.ID, errRejected)
	case m.Type == raftpb.MessageType_MSG_SNAP_STATUS, m.Type == raftpb.MessageType_MSG_UNREACHABLE:
		return fmt.Errorf("local message type %v on the wire: %w", m.Type, errRejected)
	}
	return nil
}

// serveStream hands every message of the body to the driver until the
// sender ends the stream.
func (t *Transport) serveStream(r *http.Request, h raft.Handler) (int, error) {
	fr := frameReader{r: bufio.NewReaderSize(r.Body, 64<<10)}
	for {
		m, err := fr.readMessage()
		if err == io.EOF {
			return http.StatusNoContent, nil
		}
		if err != nil {
			return http.StatusBadRequest, err
		}
		if err := t.checkMessage(m); err != nil {
			return http.StatusBadRequest, err
		}
		if m.Type == raftpb.MessageType_MSG_SNAP {
			return http.StatusBadRequest, fmt.Errorf("MSG_SNAP on a stream: %w", errRejected)
		}
		h.Receive(m)
	}
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
