package master

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// Bounds of one admin call: a hung volume server must not hold growth or
// vacuum forever, but compacting a 30 GB volume takes minutes.
const (
	adminTimeout   = 30 * time.Second
	compactTimeout = 2 * time.Hour
)

// admin makes one admin call (pb.AdminPrefix+op) to the volume server at
// server (host:port) and decodes its reply into resp.
func (s *Server) admin(ctx context.Context, server, op string, req, resp proto.Message) error {
	timeout := adminTimeout
	if op == pb.AdminVacuumCompact || op == pb.AdminVacuumCommit || op == pb.AdminVolumeCopy {
		timeout = compactTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", op, server, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+server+pb.AdminPrefix+op, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s on %s: %w", op, server, err)
	}
	hr.Header.Set("Content-Type", pb.ContentType)
	res, err := s.http.Do(hr)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", op, server, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s on %s: reading reply: %w", op, server, err)
	}
	if res.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("%.200s", b)
		}
		return fmt.Errorf("%s on %s: HTTP %d: %s", op, server, res.StatusCode, e.Error)
	}
	if err := proto.Unmarshal(b, resp); err != nil {
		return fmt.Errorf("%s on %s: bad reply: %w", op, server, err)
	}
	return nil
}

// onEach runs call for every server at once and returns the first error.
func onEach(servers []string, call func(server string) error) error {
	errs := make(chan error, len(servers))
	for _, sv := range servers {
		go func() { errs <- call(sv) }()
	}
	var first error
	for range servers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
