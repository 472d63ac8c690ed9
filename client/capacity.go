package client

import "context"

// Capacity is the cluster's room as the master's /dir/status tells it.
type Capacity struct {
	// MaxVolumes and FreeVolumes count volume slots on live servers.
	MaxVolumes, FreeVolumes int64
	// VolumeSizeLimit is the size at which a volume takes no more writes.
	VolumeSizeLimit uint64
	// UsedSize is the bytes the volumes hold, every replica counted.
	UsedSize uint64
}

// Capacity asks a master for the cluster's room (weed's masters only:
// SeaweedFS's /dir/status has no size limit or used size, which then read
// as 0).
func (c *Client) Capacity(ctx context.Context) (Capacity, error) {
	var st struct {
		Topology struct {
			Max, Free int64
		}
		VolumeSizeLimit, UsedSize uint64
	}
	if _, err := c.masterGet(ctx, "/dir/status", nil, &st); err != nil {
		return Capacity{}, err
	}
	return Capacity{MaxVolumes: st.Topology.Max, FreeVolumes: st.Topology.Free,
		VolumeSizeLimit: st.VolumeSizeLimit, UsedSize: st.UsedSize}, nil
}
