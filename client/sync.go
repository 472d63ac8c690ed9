package client

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// SyncVolumes asks the volume server at serverURL ("host:port" or
// "http://host:port") to make every write and delete it has acknowledged on
// the volumes ids durable, and returns once they are. An id the server does
// not hold fails the call with ErrNotFound (and nothing is synced); a
// server outside whose white list the caller is fails it with ErrForbidden.
// It is idempotent, so safe to retry.
func (c *Client) SyncVolumes(ctx context.Context, serverURL string, ids []uint32) error {
	if len(ids) == 0 {
		return nil
	}
	body, err := proto.Marshal(&pb.SyncVolumesRequest{VolumeIds: ids})
	if err != nil {
		return fmt.Errorf("sync volumes on %s: %w", serverURL, err)
	}
	base := serverURL
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+pb.AdminPrefix+pb.AdminSync, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sync volumes on %s: %w", serverURL, err)
	}
	req.Header.Set("Content-Type", pb.ContentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("sync volumes on %s: %w", serverURL, err)
	}
	defer resp.Body.Close()
	// The protobuf reply is empty; decodeReply turns a failure's JSON
	// {"error": ...} into an *apiError.
	if err := decodeReply(resp, nil); err != nil {
		return fmt.Errorf("sync volumes on %s: %w", serverURL, err)
	}
	return nil
}
