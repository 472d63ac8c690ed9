package superblock

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func readFixtureVIF(t *testing.T) []byte {
	t.Helper()
	for _, dir := range []string{"../../../shared/fixtures/seaweedfs-v3", "/work/shared/fixtures/seaweedfs-v3"} {
		if b, err := os.ReadFile(filepath.Join(dir, "fx_1.vif")); err == nil {
			// Work on a copy in a temp dir, as for every fixture.
			p := filepath.Join(t.TempDir(), "fx_1.vif")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	t.Fatal("fixture fx_1.vif not found")
	return nil
}

func TestVolumeInfoFixture(t *testing.T) {
	b := readFixtureVIF(t)
	vi, err := ParseVolumeInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	if vi.Version != 3 || vi.Replication != "" || vi.BytesOffset != 4 || vi.DatFileSize != 0 ||
		vi.ExpireAtSec != 0 || vi.ReadOnly || vi.ReadOnlyCanDelete || string(vi.Files) != "[]" || vi.Unknown != nil {
		t.Fatalf("parsed %+v", vi)
	}
	out, err := vi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, b) {
		t.Fatalf("Marshal differs from SeaweedFS's file:\n%s\n---\n%s", out, b)
	}
	fresh, err := NewVolumeInfo(3, "").Marshal()
	if err != nil || !bytes.Equal(fresh, b) {
		t.Fatalf("NewVolumeInfo(3, \"\") marshals as\n%s", fresh)
	}
}

func TestVolumeInfoRoundTrip(t *testing.T) {
	vi := VolumeInfo{
		Version: 3, Replication: "001", BytesOffset: 4, DatFileSize: 1 << 40, ExpireAtSec: 1<<64 - 1,
		ReadOnly: true, ReadOnlyCanDelete: true,
		Files:         []byte(`[{"backendType":"s3","key":"k"}]`),
		EcShardConfig: []byte(`{"dataShards":10,"parityShards":4}`),
		Unknown:       map[string]json.RawMessage{"zNew": []byte(`{"a":[1,2]}`), "aNew": []byte(`"x"`)},
	}
	b, err := vi.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseVolumeInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("second Marshal differs:\n%s\n%s", again, b)
	}
	if got.DatFileSize != vi.DatFileSize || got.ExpireAtSec != vi.ExpireAtSec || !got.ReadOnly || got.Replication != "001" ||
		len(got.Unknown) != 2 || !bytes.Contains(b, []byte(`"datFileSize": "1099511627776"`)) {
		t.Fatalf("round trip %+v\n%s", got, b)
	}
	// Numbers are accepted where protobuf-JSON writes strings.
	n, err := ParseVolumeInfo([]byte(`{"version":2,"datFileSize":12,"expireAtSec":"5"}`))
	if err != nil || n.Version != 2 || n.DatFileSize != 12 || n.ExpireAtSec != 5 {
		t.Fatalf("numbers: %+v %v", n, err)
	}
}

func TestVolumeInfoErrors(t *testing.T) {
	for _, in := range []string{``, `[]`, `null`, `{`, `{"version":"x"}`, `{"version":-1}`, `{"version":4294967296}`,
		`{"replication":5}`, `{"readOnly":"yes"}`, `{"datFileSize":"-1"}`, `{"expireAtSec":1.5}`} {
		if _, err := ParseVolumeInfo([]byte(in)); !errors.Is(err, ErrBadVolumeInfo) {
			t.Errorf("ParseVolumeInfo(%s): err = %v", in, err)
		}
	}
}
