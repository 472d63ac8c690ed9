package superblock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// ErrBadVolumeInfo is wrapped by every .vif parsing error.
var ErrBadVolumeInfo = errors.New("superblock: bad volume info")

// VolumeInfo is the .vif file SeaweedFS keeps next to a volume: its
// VolumeInfo protobuf message in protobuf-JSON form (camelCase names, 64-bit
// integers as strings, every field written). Fields we do not interpret
// (remote tier files, erasure coding config, and any field a newer SeaweedFS
// adds) are kept as raw JSON and written back unchanged.
type VolumeInfo struct {
	Files             json.RawMessage // remote tier files; "[]" when none
	Version           uint32          // needle version
	Replication       string          // placement string, "" or "001"...
	BytesOffset       uint32          // width of idx offsets: 4
	DatFileSize       int64
	ExpireAtSec       uint64
	ReadOnly          bool
	EcShardConfig     json.RawMessage // "null" when none
	ReadOnlyCanDelete bool
	// Unknown holds fields not listed above, by JSON name.
	Unknown map[string]json.RawMessage
}

// NewVolumeInfo returns the .vif content SeaweedFS writes for a fresh volume.
func NewVolumeInfo(version uint32, replication string) VolumeInfo {
	return VolumeInfo{Version: version, Replication: replication, BytesOffset: 4}
}

// vifField names, in the order SeaweedFS writes them.
const (
	fieldFiles             = "files"
	fieldVersion           = "version"
	fieldReplication       = "replication"
	fieldBytesOffset       = "bytesOffset"
	fieldDatFileSize       = "datFileSize"
	fieldExpireAtSec       = "expireAtSec"
	fieldReadOnly          = "readOnly"
	fieldEcShardConfig     = "ecShardConfig"
	fieldReadOnlyCanDelete = "readOnlyCanDelete"
)

// ParseVolumeInfo decodes a .vif file. Missing fields take their zero value;
// 64-bit integers are accepted as JSON strings or numbers.
func ParseVolumeInfo(b []byte) (VolumeInfo, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return VolumeInfo{}, fmt.Errorf("%w: %w", ErrBadVolumeInfo, err)
	}
	if raw == nil {
		return VolumeInfo{}, fmt.Errorf("not a JSON object: %w", ErrBadVolumeInfo)
	}
	var vi VolumeInfo
	var err error
	take := func(name string) (json.RawMessage, bool) {
		v, ok := raw[name]
		delete(raw, name)
		return v, ok && !bytes.Equal(v, []byte("null"))
	}
	if v, ok := raw[fieldFiles]; ok {
		vi.Files = v
		delete(raw, fieldFiles)
	}
	if v, ok := raw[fieldEcShardConfig]; ok {
		vi.EcShardConfig = v
		delete(raw, fieldEcShardConfig)
	}
	if v, ok := take(fieldVersion); ok && err == nil {
		err = jsonUint(v, 32, func(u uint64) { vi.Version = uint32(u) })
	}
	if v, ok := take(fieldReplication); ok && err == nil {
		err = json.Unmarshal(v, &vi.Replication)
	}
	if v, ok := take(fieldBytesOffset); ok && err == nil {
		err = jsonUint(v, 32, func(u uint64) { vi.BytesOffset = uint32(u) })
	}
	if v, ok := take(fieldDatFileSize); ok && err == nil {
		err = jsonUint(v, 63, func(u uint64) { vi.DatFileSize = int64(u) })
	}
	if v, ok := take(fieldExpireAtSec); ok && err == nil {
		err = jsonUint(v, 64, func(u uint64) { vi.ExpireAtSec = u })
	}
	if v, ok := take(fieldReadOnly); ok && err == nil {
		err = json.Unmarshal(v, &vi.ReadOnly)
	}
	if v, ok := take(fieldReadOnlyCanDelete); ok && err == nil {
		err = json.Unmarshal(v, &vi.ReadOnlyCanDelete)
	}
	if err != nil {
		return VolumeInfo{}, fmt.Errorf("%w: %w", ErrBadVolumeInfo, err)
	}
	if len(raw) > 0 {
		vi.Unknown = raw
	}
	return vi, nil
}

// jsonUint decodes an unsigned integer of at most bits bits written as a
// JSON number or a JSON string, as protobuf-JSON does for 64-bit values.
func jsonUint(v json.RawMessage, bits int, set func(uint64)) error {
	s := string(v)
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
	}
	u, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return fmt.Errorf("integer %s: %w", v, err)
	}
	set(u)
	return nil
}

// Marshal encodes vi as SeaweedFS writes a .vif: every field, in its order,
// indented by two spaces, 64-bit integers as strings, no final newline.
// Unknown fields follow, sorted by name.
func (vi VolumeInfo) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n")
	first := true
	field := func(name string, value []byte) error {
		if !first {
			b.WriteString(",\n")
		}
		first = false
		b.WriteString("  ")
		key, _ := json.Marshal(name) // a string always marshals
		b.Write(key)
		b.WriteString(": ")
		var ind bytes.Buffer
		if err := json.Indent(&ind, value, "  ", "  "); err != nil {
			return fmt.Errorf("superblock: field %s: %w", name, err)
		}
		b.Write(ind.Bytes())
		return nil
	}
	str := func(s string) []byte { q, _ := json.Marshal(s); return q }
	files := vi.Files
	if len(files) == 0 {
		files = json.RawMessage("[]")
	}
	ec := vi.EcShardConfig
	if len(ec) == 0 {
		ec = json.RawMessage("null")
	}
	fields := []struct {
		name  string
		value []byte
	}{
		{fieldFiles, files},
		{fieldVersion, []byte(strconv.FormatUint(uint64(vi.Version), 10))},
		{fieldReplication, str(vi.Replication)},
		{fieldBytesOffset, []byte(strconv.FormatUint(uint64(vi.BytesOffset), 10))},
		{fieldDatFileSize, str(strconv.FormatInt(vi.DatFileSize, 10))},
		{fieldExpireAtSec, str(strconv.FormatUint(vi.ExpireAtSec, 10))},
		{fieldReadOnly, []byte(strconv.FormatBool(vi.ReadOnly))},
		{fieldEcShardConfig, ec},
		{fieldReadOnlyCanDelete, []byte(strconv.FormatBool(vi.ReadOnlyCanDelete))},
	}
	for _, f := range fields {
		if err := field(f.name, f.value); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(vi.Unknown))
	for name := range vi.Unknown {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := field(name, vi.Unknown[name]); err != nil {
			return nil, err
		}
	}
	b.WriteString("\n}")
	return b.Bytes(), nil
}
