package volume

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/storage"
)

// heartbeatState is what the heartbeat loop shares with handlers.
type heartbeatState struct {
	// sending is held while a heartbeat is built and delivered, and by the
	// admin calls that add or remove volumes: so no report taken before a
	// volume came or went can reach the master after the call returned
	// (the master registers a grown volume as soon as allocate answers).
	sending sync.Mutex

	mu        sync.Mutex
	leader    string    // master we beat to; "" until one answered
	lastOK    time.Time // last accepted beat
	sizeLimit uint64    // bytes, from the master
	wake      chan struct{}
}

func (h *heartbeatState) init() { h.wake = make(chan struct{}, 1) }

func (h *heartbeatState) connected() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.leader != "" && !h.lastOK.IsZero()
}

// Leader returns the master the server last reported to.
func (s *Server) Leader() string {
	s.hb.mu.Lock()
	defer s.hb.mu.Unlock()
	return s.hb.leader
}

// beatSoon asks for a heartbeat now, as after a volume is added or removed,
// so the master learns of it without waiting a whole interval.
func (s *Server) beatSoon() {
	select {
	case s.hb.wake <- struct{}{}:
	default:
	}
}

// RunHeartbeats reports to the master leader every interval until ctx ends,
// following the leader when masters fail over. Every beat is a full report:
// volume sizes change with every write, and a full list lets a new leader
// rebuild the topology from one beat.
func (s *Server) RunHeartbeats(ctx context.Context) error {
	if len(s.cfg.Masters) == 0 {
		return errors.New("no master to report to")
	}
	next, hops := 0, 0
	target := s.cfg.Masters[0]
	// After a failure the next try comes sooner than a whole interval, so a
	// server started together with its master (or during a failover) is
	// registered as soon as a leader exists.
	retry := 200 * time.Millisecond
	for {
		wait := s.cfg.HeartbeatInterval
		leader, err := s.beat(ctx, target)
		switch {
		case err == nil && leader != "" && leader != target:
			s.log.Info("following master leader", "from", target, "to", leader)
			target = leader
			if hops++; hops < 3 {
				continue // report to the leader right away
			}
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("heartbeat failed", "master", target, "err", err)
			next = (next + 1) % len(s.cfg.Masters)
			target = s.cfg.Masters[next]
			wait, retry = min(retry, wait), min(2*retry, wait)
		default:
			retry = 200 * time.Millisecond
		}
		hops = 0
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-s.hb.wake:
			t.Stop()
		}
	}
}

// beat sends one heartbeat to master and returns the leader it names.
func (s *Server) beat(ctx context.Context, master string) (string, error) {
	s.hb.sending.Lock()
	defer s.hb.sending.Unlock()
	body, err := proto.Marshal(s.heartbeat())
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+master+pb.HeartbeatPath, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", pb.ContentType)
	resp, err := s.client.HTTP().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("master %s: HTTP %d: %.200s", master, resp.StatusCode, b)
	}
	var r pb.HeartbeatResponse
	if err := proto.Unmarshal(b, &r); err != nil {
		return "", fmt.Errorf("master %s: bad heartbeat reply: %w", master, err)
	}
	s.hb.mu.Lock()
	if r.GetLeader() == "" || r.GetLeader() == master {
		s.hb.leader, s.hb.lastOK = master, time.Now()
	}
	if r.GetVolumeSizeLimit() > 0 {
		s.hb.sizeLimit = r.GetVolumeSizeLimit()
	}
	s.hb.mu.Unlock()
	return r.GetLeader(), nil
}

// heartbeat is a full report of the store.
func (s *Server) heartbeat() *pb.Heartbeat {
	hb := &pb.Heartbeat{
		Ip:         s.cfg.IP,
		Port:       uint32(s.cfg.Port),
		PublicUrl:  s.cfg.PublicURL,
		DataCenter: s.cfg.DataCenter,
		Rack:       s.cfg.Rack,
		MaxFileKey: s.store.MaxKey(),
		Full:       true,
	}
	var slots uint32
	for _, l := range s.store.Locations() {
		slots += uint32(l.MaxVolumes)
	}
	hb.Disks = []*pb.DiskCapacity{{DiskType: "hdd", MaxVolumeCount: slots}}
	for _, v := range s.store.Volumes() {
		hb.Volumes = append(hb.Volumes, volumeInformation(v.Info()))
	}
	return hb
}

func volumeInformation(i storage.VolumeInfo) *pb.VolumeInformation {
	return &pb.VolumeInformation{
		Id:               i.ID,
		Size:             uint64(i.Size),
		Collection:       i.Collection,
		FileCount:        i.FileCount,
		DeleteCount:      i.DeleteCount,
		DeletedByteCount: i.DeletedByteCount,
		ReadOnly:         i.ReadOnly,
		ReplicaPlacement: uint32(i.Placement.Byte()),
		Ttl:              uint32(i.TTL.Count)<<8 | uint32(i.TTL.Unit),
		Version:          uint32(i.Version),
		CompactRevision:  uint32(i.CompactionRevision),
		ModifiedAtSecond: i.ModifiedAt.Unix(),
		DiskType:         "hdd",
	}
}
