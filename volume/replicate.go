package volume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/needle"
)

// errReplicas is a write or delete that did not reach every replica.
var errReplicas = errors.New("replication failed")

// peers returns the other servers holding vol, insisting that all copies
// its placement asks for are known: a write to fewer copies would be
// acknowledged with less redundancy than the client asked for.
func (s *Server) peers(ctx context.Context, vol *storage.Volume) ([]client.Location, error) {
	copies := vol.SuperBlock().Placement.CopyCount()
	if copies <= 1 {
		return nil, nil
	}
	locs, err := s.client.Lookup(ctx, vol.ID())
	if err == nil && len(locs) < copies {
		s.client.Invalidate(vol.ID())
		locs, err = s.client.Lookup(ctx, vol.ID())
	}
	if err != nil {
		return nil, fmt.Errorf("%w: look up replicas of volume %d: %w", errReplicas, vol.ID(), err)
	}
	if len(locs) < copies {
		return nil, fmt.Errorf("%w: volume %d has %d of its %d copies", errReplicas, vol.ID(), len(locs), copies)
	}
	self := map[string]bool{s.cfg.addr(): true, s.cfg.PublicURL: true}
	var others []client.Location
	for _, l := range locs {
		if !self[l.URL] {
			others = append(others, l)
		}
	}
	return others, nil
}

// fanOut runs op against every peer in parallel and joins their errors.
func fanOut(peers []client.Location, op func(l client.Location) error) error {
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, l := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := op(l); err != nil {
				errs[i] = fmt.Errorf("%s: %w", l.URL, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", errReplicas, err)
	}
	return nil
}

// replicateWrite sends the needle of u to every other replica of vol.
func (s *Server) replicateWrite(r *http.Request, t target, vol *storage.Volume, u *upload) error {
	peers, err := s.peers(r.Context(), vol)
	if err != nil || len(peers) == 0 {
		return err
	}
	var pairs map[string]string
	if len(u.pairs) > 0 {
		_ = json.Unmarshal(u.pairs, &pairs)
	}
	opts := client.UploadOptions{
		Name: u.name, Mime: u.mime, Pairs: pairs, TTL: ttlString(u.ttl),
		JWT: security.TokenFromRequest(r), Fsync: u.fsync, Manifest: u.manifest,
		Gzipped: u.gzipped, Timestamp: int64(u.lastModified), Replicate: true,
	}
	return fanOut(peers, func(l client.Location) error {
		_, err := s.client.Upload(r.Context(), l.URL, t.fidText, u.data, opts)
		return err
	})
}

// replicateDelete deletes the needle on every other replica of vol.
func (s *Server) replicateDelete(r *http.Request, t target, vol *storage.Volume) error {
	peers, err := s.peers(r.Context(), vol)
	if err != nil || len(peers) == 0 {
		return err
	}
	jwt := security.TokenFromRequest(r)
	return fanOut(peers, func(l client.Location) error {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodDelete, "http://"+l.URL+"/"+t.fidText+"?type=replicate", nil)
		if err != nil {
			return err
		}
		if jwt != "" {
			req.Header.Set("Authorization", "Bearer "+jwt)
		}
		resp, err := s.client.HTTP().Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusNotFound {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	})
}

// deleteChunks deletes every chunk a manifest needle lists and returns the
// file's logical size.
func (s *Server) deleteChunks(r *http.Request, n *needle.Needle) (int64, error) {
	data := n.Data
	if n.IsGzipped() {
		var err error
		if data, err = gunzip(data); err != nil {
			return 0, err
		}
	}
	m, err := client.ParseManifest(data)
	if err != nil {
		return 0, err
	}
	for _, ch := range m.Chunks {
		// The caller's token names the manifest; each chunk gets its own.
		jwt, err := security.Sign(s.cfg.Security.Write, ch.Fid, s.now())
		if err != nil {
			return 0, err
		}
		if err := s.client.Delete(r.Context(), ch.Fid, jwt); err != nil {
			return 0, fmt.Errorf("delete chunk %s: %w", ch.Fid, err)
		}
	}
	return m.Size, nil
}

func ttlString(t needle.TTL) string {
	if t == (needle.TTL{}) {
		return ""
	}
	return t.String()
}
