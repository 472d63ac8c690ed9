package filer

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"time"
)

// entryJSON is an entry as SeaweedFS's filer shows it in JSON listings and
// ?metadata=true (SEAWEEDFS-WIRE.md §5.3): Go's encoding/json of its
// filer.Entry, so field names, order, nulls and base64 []byte follow that
// struct. Fields weed does not model are written with their zero value.
// Names such as Uid and HardLinkId are SeaweedFS's JSON keys, kept as they are.
type entryJSON struct {
	FullPath           string
	Mtime              time.Time
	Crtime             time.Time
	Ctime              time.Time
	Atime              time.Time
	Mode               os.FileMode
	Uid                uint32
	Gid                uint32
	Mime               string
	TtlSec             int32
	UserName           string
	GroupNames         []string
	SymlinkTarget      string
	Md5                []byte
	FileSize           uint64
	Rdev               uint32
	Inode              uint64
	Extended           map[string][]byte
	Chunks             []chunkJSON `json:"chunks,omitempty"`
	HardLinkId         []byte
	HardLinkCounter    int32
	Content            []byte
	Remote             *struct{}
	Quota              int64
	WORMEnforcedAtTsNs int64
}

// chunkJSON is SeaweedFS's filer_pb.FileChunk through encoding/json: every
// field omitempty, the fid also given parsed.
type chunkJSON struct {
	FileID          string   `json:"file_id,omitempty"`
	Offset          int64    `json:"offset,omitempty"`
	Size            uint64   `json:"size,omitempty"`
	ModifiedTsNs    int64    `json:"modified_ts_ns,omitempty"`
	ETag            string   `json:"e_tag,omitempty"`
	Fid             *fidJSON `json:"fid,omitempty"`
	IsChunkManifest bool     `json:"is_chunk_manifest,omitempty"`
}

type fidJSON struct {
	VolumeID uint32 `json:"volume_id,omitempty"`
	FileKey  uint64 `json:"file_key,omitempty"`
	Cookie   uint32 `json:"cookie,omitempty"`
}

// MarshalJSON writes the entry in SeaweedFS's JSON shape (AppendJSON).
// Ctime and Atime, which weed does not keep, are written as Mtime.
func (e *Entry) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(make([]byte, 0, 512))
}

// UnmarshalJSON reads what MarshalJSON writes (and SeaweedFS's own entry
// JSON), keeping the fields weed models.
func (e *Entry) UnmarshalJSON(b []byte) error {
	var j entryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Entry{
		FullPath:      j.FullPath,
		Mode:          j.Mode,
		UID:           j.Uid,
		GID:           j.Gid,
		Mtime:         j.Mtime,
		Crtime:        j.Crtime,
		Mime:          j.Mime,
		FileSize:      j.FileSize,
		Md5:           j.Md5,
		TTLSec:        j.TtlSec,
		SymlinkTarget: j.SymlinkTarget,
		Extended:      j.Extended,
		Content:       j.Content,
	}
	for _, c := range j.Chunks {
		e.Chunks = append(e.Chunks, Chunk{
			Fid:          c.FileID,
			Offset:       c.Offset,
			Size:         c.Size,
			ModifiedTsNs: c.ModifiedTsNs,
			ETag:         c.ETag,
			IsManifest:   c.IsChunkManifest,
		})
	}
	return nil
}

// cookieHexLen is the width of the cookie at the end of a fid's hex part.
const cookieHexLen = 8

// parseFid splits "<volume>,<key hex><cookie 8 hex>" (an optional "_<n>"
// suffix names a sub-needle and is ignored); nil if fid is not one.
func parseFid(fid string) *fidJSON {
	vol, rest, ok := strings.Cut(fid, ",")
	if !ok {
		return nil
	}
	if i := strings.IndexByte(rest, '_'); i >= 0 {
		rest = rest[:i]
	}
	if len(rest) <= cookieHexLen || len(rest) > cookieHexLen+16 {
		return nil
	}
	v, err := strconv.ParseUint(vol, 10, 32)
	if err != nil {
		return nil
	}
	split := len(rest) - cookieHexLen
	key, err := strconv.ParseUint(rest[:split], 16, 64)
	if err != nil {
		return nil
	}
	cookie, err := strconv.ParseUint(rest[split:], 16, 32)
	if err != nil {
		return nil
	}
	return &fidJSON{VolumeID: uint32(v), FileKey: key, Cookie: uint32(cookie)}
}
