package snapshots

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"google.golang.org/protobuf/proto"

	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

// Meta file constants; they are part of the on-disk format.
const (
	metaMagic   = "WSNP"
	metaVersion = 1
	metaFixed   = 4 + 1 + 4 + 4 + 4 // every byte but the SnapshotMeta
	maxMetaLen  = 64 << 20          // a configuration of many members fits easily
)

// castagnoli is the CRC-32C table; it is never modified after creation.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// metaFile is what the meta file holds.
type metaFile struct {
	meta    *raftpb.SnapshotMeta
	dataCRC uint32
}

func encodeMeta(m metaFile) ([]byte, error) {
	p, err := proto.Marshal(m.meta)
	if err != nil {
		return nil, fmt.Errorf("snapshots: encode meta: %w", err)
	}
	b := make([]byte, 0, metaFixed+len(p))
	b = append(b, metaMagic...)
	b = append(b, metaVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
	b = append(b, p...)
	b = binary.LittleEndian.AppendUint32(b, m.dataCRC)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return b, nil
}

// decodeMeta parses a meta file; any damage wraps raft.ErrCorrupt.
func decodeMeta(b []byte) (metaFile, error) {
	if len(b) < metaFixed {
		return metaFile{}, fmt.Errorf("meta of %d bytes, shorter than %d: %w", len(b), metaFixed, raft.ErrCorrupt)
	}
	if string(b[0:4]) != metaMagic {
		return metaFile{}, fmt.Errorf("meta magic %q: %w", b[0:4], raft.ErrCorrupt)
	}
	if b[4] != metaVersion {
		return metaFile{}, fmt.Errorf("meta version %d, want %d: %w", b[4], metaVersion, raft.ErrCorrupt)
	}
	n := binary.LittleEndian.Uint32(b[5:9])
	if n > maxMetaLen || int(n) != len(b)-metaFixed {
		return metaFile{}, fmt.Errorf("meta length %d in a file of %d bytes: %w", n, len(b), raft.ErrCorrupt)
	}
	end := 9 + int(n)
	if got, want := crc32.Checksum(b[:end+4], castagnoli), binary.LittleEndian.Uint32(b[end+4:]); got != want {
		return metaFile{}, fmt.Errorf("meta checksum mismatch: %w", raft.ErrCorrupt)
	}
	meta := &raftpb.SnapshotMeta{}
	if err := proto.Unmarshal(b[9:end], meta); err != nil {
		return metaFile{}, fmt.Errorf("meta: %v: %w", err, raft.ErrCorrupt)
	}
	return metaFile{meta: meta, dataCRC: binary.LittleEndian.Uint32(b[end:])}, nil
}
