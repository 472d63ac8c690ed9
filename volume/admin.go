package volume

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
	"weedfs.dev/weed/storage/superblock"
)

// adminOp decodes its request from body and returns the response message.
type adminOp func(r *http.Request, body []byte) (proto.Message, error)

func (s *Server) adminOps() map[string]adminOp {
	return map[string]adminOp{
		pb.AdminAllocate:         s.adminAllocate,
		pb.AdminDelete:           s.adminDelete,
		pb.AdminReadonly:         s.adminReadonly,
		pb.AdminWritable:         s.adminWritable,
		pb.AdminVacuumCheck:      s.adminVacuumCheck,
		pb.AdminVacuumCompact:    s.adminVacuumCompact,
		pb.AdminVacuumCommit:     s.adminVacuumCommit,
		pb.AdminVacuumCleanup:    s.adminVacuumCleanup,
		pb.AdminDeleteCollection: s.adminDeleteCollection,
		pb.AdminVolumeCopy:       s.adminCopy,
		pb.AdminSync:             s.adminSync,
	}
}

// errAdminRequest is a malformed admin request.
var errAdminRequest = errors.New("bad admin request")

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == pb.AdminPrefix+filesPath && r.Method == http.MethodGet {
		s.handleFiles(w, r)
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, r, http.StatusMethodNotAllowed, errors.New("admin calls are POST"))
		return
	}
	op, ok := s.adminOps()[strings.TrimPrefix(r.URL.Path, pb.AdminPrefix)]
	if !ok {
		writeError(w, r, http.StatusNotFound, fmt.Errorf("no admin operation %q", r.URL.Path))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, r, http.StatusBadRequest, err)
		return
	}
	// Admin calls change the store too: a graceful stop waits for them
	// (a compaction notices the request's end and stops early).
	s.changes.RLock()
	defer s.changes.RUnlock()
	if s.stopping.Load() {
		writeError(w, r, http.StatusServiceUnavailable, errors.New("volume server is stopping"))
		return
	}
	switch strings.TrimPrefix(r.URL.Path, pb.AdminPrefix) {
	case pb.AdminAllocate, pb.AdminDelete, pb.AdminDeleteCollection: // quick; not a copy, which takes long
		s.hb.sending.Lock()
		defer s.hb.sending.Unlock()
	}
	resp, err := op(r, body)
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, errAdminRequest):
			status = http.StatusBadRequest
		case errors.Is(err, storage.ErrVolumeNotFound):
			status = http.StatusNotFound
		case errors.Is(err, storage.ErrVolumeExists):
			status = http.StatusConflict
		}
		writeError(w, r, status, err)
		return
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		writeError(w, r, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", pb.ContentType)
	w.Write(b)
}

func decodeAdmin(body []byte, m proto.Message) error {
	if err := proto.Unmarshal(body, m); err != nil {
		return fmt.Errorf("%w: %w", errAdminRequest, err)
	}
	return nil
}

func ttlFromWire(v uint32) (needle.TTL, error) {
	t, err := needle.TTLFromBytes([]byte{byte(v >> 8), byte(v)})
	if err != nil {
		return needle.TTL{}, fmt.Errorf("%w: %w", errAdminRequest, err)
	}
	return t, nil
}

func (s *Server) adminAllocate(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.AllocateVolumeRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	if req.GetReplicaPlacement() > 255 {
		return nil, fmt.Errorf("%w: replica placement %d", errAdminRequest, req.GetReplicaPlacement())
	}
	placement := superblock.PlacementFromByte(byte(req.GetReplicaPlacement()))
	ttl, err := ttlFromWire(req.GetTtl())
	if err != nil {
		return nil, err
	}
	if _, err := s.store.AllocateVolume(req.GetCollection(), req.GetVolumeId(), placement, ttl); err != nil {
		return nil, err
	}
	s.log.Info("volume allocated", "volume", req.GetVolumeId(), "collection", req.GetCollection(), "replication", placement.String())
	s.beatSoon()
	return &pb.AllocateVolumeResponse{}, nil
}

func (s *Server) adminDelete(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.DeleteVolumeRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	if req.GetOnlyEmpty() {
		v, err := s.store.Volume(req.GetVolumeId())
		if err != nil {
			return nil, err
		}
		if v.Info().LiveCount > 0 {
			return nil, fmt.Errorf("volume %d holds live needles", req.GetVolumeId())
		}
	}
	if err := s.store.DeleteVolume(req.GetVolumeId()); err != nil {
		return nil, err
	}
	s.beatSoon()
	return &pb.DeleteVolumeResponse{}, nil
}

func (s *Server) adminReadonly(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.MarkReadonlyRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	if err := s.store.MarkReadOnly(req.GetVolumeId()); err != nil {
		return nil, err
	}
	s.beatSoon()
	return &pb.MarkReadonlyResponse{}, nil
}

func (s *Server) adminWritable(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.MarkWritableRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	if err := s.store.MarkWritable(req.GetVolumeId()); err != nil {
		return nil, err
	}
	s.beatSoon()
	return &pb.MarkWritableResponse{}, nil
}

func (s *Server) adminVacuumCheck(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.VacuumCheckRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	v, err := s.store.Volume(req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	return &pb.VacuumCheckResponse{GarbageRatio: v.GarbageRatio()}, nil
}

func (s *Server) adminVacuumCompact(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.VacuumCompactRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	v, err := s.store.Volume(req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	before := v.Info().Size
	if err := v.Compact(r.Context()); err != nil {
		return nil, err
	}
	return &pb.VacuumCompactResponse{ProcessedBytes: before}, nil
}

func (s *Server) adminVacuumCommit(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.VacuumCommitRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	v, err := s.store.Volume(req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	if err := v.CommitCompact(r.Context()); err != nil {
		return nil, err
	}
	i := v.Info()
	s.beatSoon()
	return &pb.VacuumCommitResponse{ReadOnly: i.ReadOnly, VolumeSize: uint64(i.Size)}, nil
}

func (s *Server) adminVacuumCleanup(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.VacuumCleanupRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	v, err := s.store.Volume(req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	if err := v.CleanupCompact(); err != nil {
		return nil, err
	}
	return &pb.VacuumCleanupResponse{}, nil
}

func (s *Server) adminDeleteCollection(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.DeleteCollectionRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	if err := s.store.DeleteCollection(req.GetCollection()); err != nil {
		return nil, err
	}
	s.beatSoon()
	return &pb.DeleteCollectionResponse{}, nil
}

// adminSync makes the writes and deletes acknowledged so far on the named
// volumes durable. It is guarded like writes (the white list), not only for
// masters: a mount on a client machine calls it for its fsync. It changes
// nothing, so it needs no more.
func (s *Server) adminSync(r *http.Request, body []byte) (proto.Message, error) {
	var req pb.SyncVolumesRequest
	if err := decodeAdmin(body, &req); err != nil {
		return nil, err
	}
	// Every id must be known before any is synced: an unknown one is the
	// caller's error (404), whatever else it asked for.
	seen := map[uint32]bool{}
	var vols []*storage.Volume
	for _, id := range req.GetVolumeIds() {
		if seen[id] {
			continue
		}
		seen[id] = true
		v, err := s.store.Volume(id)
		if err != nil {
			return nil, err
		}
		vols = append(vols, v)
	}
	// The fsyncs of different volumes overlap in the disk's queue.
	errs := make(chan error, len(vols))
	for _, v := range vols {
		go func() { errs <- v.Sync() }()
	}
	var all []error
	for range vols {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return nil, err
	}
	return &pb.SyncVolumesResponse{}, nil
}
