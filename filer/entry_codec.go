package filer

import (
	"fmt"
	"os"
	"time"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/pb"
)

// How stores keep an entry: the protobuf pb.Entry (pb/filer.proto) without
// its path, which the store's key already holds. Times are kept as unix
// seconds plus nanoseconds (mtime, mtime_ns), so a round trip keeps them to
// the nanosecond; a zero time.Time is kept as 0 and read back as zero.
// Encoding and decoding are pure; DecodeEntry never panics on any bytes
// and wraps ErrCorrupt.

// EncodeEntry returns the bytes a store keeps for e (without e.FullPath).
func EncodeEntry(e *Entry) ([]byte, error) {
	m := ToPB(e)
	m.FullPath = ""
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("filer: encode entry %s: %w", e.FullPath, err)
	}
	return b, nil
}

// DecodeEntry decodes bytes made by EncodeEntry into the entry at path. It
// keeps no reference to b (protobuf copies what it decodes), so a store may
// pass bytes it will reuse.
func DecodeEntry(path string, b []byte) (*Entry, error) {
	var m pb.Entry
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode entry %s: %v: %w", path, err, ErrCorrupt)
	}
	e := FromPB(&m)
	e.FullPath = path
	return e, nil
}

// ToPB converts e to its protobuf form, path included (as change-feed
// events carry it). The message shares e's byte slices and map: encode it
// before changing e.
func ToPB(e *Entry) *pb.Entry {
	m := &pb.Entry{
		IsDirectory: e.IsDirectory(),
		Extended:    e.Extended,
		Content:     e.Content,
		FullPath:    e.FullPath,
		Attributes: &pb.FuseAttributes{
			FileSize:      e.FileSize,
			FileMode:      uint32(e.Mode),
			Uid:           e.UID,
			Gid:           e.GID,
			Mime:          e.Mime,
			Replication:   e.Replication,
			Collection:    e.Collection,
			TtlSec:        e.TTLSec,
			SymlinkTarget: e.SymlinkTarget,
			Md5:           e.Md5,
		},
	}
	m.Attributes.Mtime, m.Attributes.MtimeNs = splitTime(e.Mtime)
	m.Attributes.Crtime, m.Attributes.CrtimeNs = splitTime(e.Crtime)
	if len(e.Chunks) > 0 {
		m.Chunks = make([]*pb.FileChunk, len(e.Chunks))
		for i, c := range e.Chunks {
			m.Chunks[i] = &pb.FileChunk{
				FileId:          c.Fid,
				Offset:          c.Offset,
				Size:            c.Size,
				ModifiedTsNs:    c.ModifiedTsNs,
				ETag:            c.ETag,
				IsChunkManifest: c.IsManifest,
			}
		}
	}
	return m
}

// FromPB converts a protobuf entry (nil gives an empty entry); the entry
// shares the message's byte slices and map. A missing
// attributes message leaves the attributes zero; is_directory sets the
// dir bit even when file_mode lacks it.
func FromPB(m *pb.Entry) *Entry {
	e := &Entry{FullPath: m.GetFullPath()}
	if m == nil {
		return e
	}
	if len(m.Extended) > 0 {
		e.Extended = m.Extended
	}
	if len(m.Content) > 0 {
		e.Content = m.Content
	}
	if a := m.Attributes; a != nil {
		e.FileSize = a.FileSize
		e.Mode = os.FileMode(a.FileMode)
		e.UID, e.GID = a.Uid, a.Gid
		e.Mime = a.Mime
		e.Replication, e.Collection = a.Replication, a.Collection
		e.TTLSec = a.TtlSec
		e.SymlinkTarget = a.SymlinkTarget
		if len(a.Md5) > 0 {
			e.Md5 = a.Md5
		}
		e.Mtime = joinTime(a.Mtime, a.MtimeNs)
		e.Crtime = joinTime(a.Crtime, a.CrtimeNs)
	}
	if m.IsDirectory {
		e.Mode |= os.ModeDir
	}
	if len(m.Chunks) > 0 {
		e.Chunks = make([]Chunk, 0, len(m.Chunks))
		for _, c := range m.Chunks {
			if c == nil {
				continue
			}
			e.Chunks = append(e.Chunks, Chunk{
				Fid:          c.FileId,
				Offset:       c.Offset,
				Size:         c.Size,
				ModifiedTsNs: c.ModifiedTsNs,
				ETag:         c.ETag,
				IsManifest:   c.IsChunkManifest,
			})
		}
	}
	return e
}

func splitTime(t time.Time) (sec, nsec int64) {
	if t.IsZero() {
		return 0, 0
	}
	return t.Unix(), int64(t.Nanosecond())
}

// joinTime reads back splitTime's halves; an out-of-range nanosecond part
// (only in corrupt or foreign bytes) is folded in by time.Unix.
func joinTime(sec, nsec int64) time.Time {
	if sec == 0 && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, nsec)
}
