package pb

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// goldenMessages sets every field, so a renumbered or retyped field changes
// the bytes. Raft logs and snapshots keep MasterCommand bytes on disk, and
// volume servers of another build send heartbeats: both must stay readable.
func goldenMessages() map[string]proto.Message {
	vol := &VolumeInformation{Id: 7, Size: 1 << 20, Collection: "pics", FileCount: 9, DeleteCount: 2,
		DeletedByteCount: 300, ReadOnly: true, ReplicaPlacement: 10, Ttl: 3<<8 | 3, Version: 3,
		CompactRevision: 1, ModifiedAtSecond: 1700000000, DiskType: "ssd", DiskId: 2}
	short := &VolumeShortInformation{Id: 8, Collection: "c", ReplicaPlacement: 1, Version: 3, Ttl: 1<<8 | 2, DiskType: "hdd"}
	return map[string]proto.Message{
		"heartbeat": &Heartbeat{Ip: "10.0.0.1", Port: 8080, PublicUrl: "pub:80", DataCenter: "dc1", Rack: "r1",
			Disks: []*DiskCapacity{{DiskType: "ssd", MaxVolumeCount: 5}}, MaxFileKey: 1234, Full: true,
			Volumes: []*VolumeInformation{vol}, NewVolumes: []*VolumeShortInformation{short},
			DeletedVolumes: []*VolumeShortInformation{short}},
		"heartbeat_response": &HeartbeatResponse{VolumeSizeLimit: 30 << 30, Leader: "m1:9333",
			Peers: []string{"m1:9333", "m2:9333"}, DuplicatedVolumeIds: []uint32{4}, SendFullReport: true},
		"reserve_keys":      &MasterCommand{Command: &MasterCommand_ReserveKeys{ReserveKeys: &ReserveKeys{Count: 10000, AtLeast: 77}}},
		"next_volume_id":    &MasterCommand{Command: &MasterCommand_NextVolumeId{NextVolumeId: &NextVolumeID{Count: 6, AtLeast: 41}}},
		"delete_collection": &MasterCommand{Command: &MasterCommand_DeleteCollection{DeleteCollection: &DeleteCollection{Name: "pics"}}},
		"mark_read_only":    &MasterCommand{Command: &MasterCommand_MarkReadOnly{MarkReadOnly: &MarkReadOnly{VolumeId: 3, ReadOnly: true}}},
		"volume_record": &MasterCommand{Command: &MasterCommand_VolumeRecord{VolumeRecord: &VolumeRecord{
			Op: VolumeOp_VOLUME_DELETE, Id: 5, Collection: "c", ReplicaPlacement: 1, Ttl: 2<<8 | 1,
			DiskType: "ssd", Servers: []string{"a:1", "b:2"}}}},
		"snapshot": &MasterSnapshot{MaxVolumeId: 9, MaxKey: 1 << 40,
			Volumes: []*VolumeRecord{{Id: 2, Collection: "c", Servers: []string{"a:1"}}}, ReadOnlyVolumeIds: []uint32{2, 9}},
		"allocate": &AllocateVolumeRequest{VolumeId: 4, Collection: "c", Preallocate: 1 << 30, ReplicaPlacement: 1,
			Ttl: 1<<8 | 1, MemoryMapMaxSizeMb: 64, DiskType: "hdd"},
		"volume_copy": &VolumeCopyRequest{VolumeId: 4, Collection: "c", ReplicaPlacement: 1, Ttl: 1,
			SourceDataNode: "a:1", DiskType: "ssd"},
	}
}

func TestGoldenEncoding(t *testing.T) {
	path := filepath.Join("testdata", "golden.txt")
	var b strings.Builder
	msgs := goldenMessages()
	names := []string{"heartbeat", "heartbeat_response", "reserve_keys", "next_volume_id", "delete_collection",
		"mark_read_only", "volume_record", "snapshot", "allocate", "volume_copy"}
	for _, name := range names {
		data, err := proto.MarshalOptions{Deterministic: true}.Marshal(msgs[name])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(name + " " + hex.EncodeToString(data) + "\n")
		// And the bytes read back to the same message.
		back := msgs[name].ProtoReflect().New().Interface()
		if err := proto.Unmarshal(data, back); err != nil || !proto.Equal(back, msgs[name]) {
			t.Fatalf("%s does not round-trip: %v", name, err)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Fatalf("encodings differ from %s (a field was renumbered or retyped?)\n got:\n%s", path, b.String())
	}
}
