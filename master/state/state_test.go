package state

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"weedfs.dev/weed/pb"
	"weedfs.dev/weed/raft/raftpb"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// apply encodes cmd into a log entry and applies it, as the Raft driver would.
func apply(t testing.TB, s *State, cmd *pb.MasterCommand) any {
	t.Helper()
	b, err := Encode(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return s.Apply(&raftpb.Entry{Index: 1, Term: 1, Data: b})
}

func snapshotBytes(t testing.TB, s *State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReserveKeysNeverOverlap(t *testing.T) {
	s := New()
	steps := []struct {
		count, atLeast uint64
		want           KeyRange
	}{
		{1, 0, KeyRange{1, 1}},
		{10, 0, KeyRange{2, 10}},
		{5, 3, KeyRange{12, 5}},      // atLeast below what is reserved: ignored
		{5, 1000, KeyRange{1000, 5}}, // keys a volume server already holds are skipped
		{100, 0, KeyRange{1005, 100}},
	}
	for i, st := range steps {
		got := apply(t, s, ReserveKeysCommand(st.count, st.atLeast))
		if got != st.want {
			t.Fatalf("step %d: got %v, want %v", i, got, st.want)
		}
	}
	if s.MaxKey() != 1104 {
		t.Fatalf("MaxKey %d, want 1104", s.MaxKey())
	}
}

func TestNextVolumeID(t *testing.T) {
	s := New()
	if got := apply(t, s, NextVolumeIDCommand(1, 0)); got != (VolumeIDs{1, 1}) {
		t.Fatalf("got %v", got)
	}
	if got := apply(t, s, NextVolumeIDCommand(3, 0)); got != (VolumeIDs{2, 3}) {
		t.Fatalf("got %v", got)
	}
	if got := apply(t, s, NextVolumeIDCommand(1, 50)); got != (VolumeIDs{50, 1}) {
		t.Fatalf("at_least 50: got %v", got)
	}
	if got := apply(t, s, NextVolumeIDCommand(2, 7)); got != (VolumeIDs{51, 2}) {
		t.Fatalf("at_least below max: got %v", got)
	}
	if s.MaxVolumeID() != 52 {
		t.Fatalf("MaxVolumeID %d, want 52", s.MaxVolumeID())
	}
}

func TestVolumeRecords(t *testing.T) {
	s := New()
	v := Volume{ID: 7, Collection: "pics", ReplicaPlacement: 1, TTL: 3<<8 | 4, DiskType: "ssd",
		Servers: []string{"127.0.0.1:8080", "127.0.0.1:8081"}}
	if got := apply(t, s, CreateVolumeCommand(v)); got != nil {
		t.Fatalf("create: %v", got)
	}
	got, ok := s.Volume(7)
	if !ok || !reflect.DeepEqual(got, v) {
		t.Fatalf("Volume(7) = %+v, %v; want %+v", got, ok, v)
	}
	if s.MaxVolumeID() != 7 {
		t.Fatalf("a recorded id raises MaxVolumeID: got %d", s.MaxVolumeID())
	}
	// The next issued id is above the recorded one.
	if r := apply(t, s, NextVolumeIDCommand(1, 0)); r != (VolumeIDs{8, 1}) {
		t.Fatalf("got %v, want id 8", r)
	}
	got.Servers[0] = "changed" // callers get copies
	if again, _ := s.Volume(7); again.Servers[0] != "127.0.0.1:8080" {
		t.Fatal("Volume returned a slice aliasing the state")
	}
	if r := apply(t, s, DeleteVolumeCommand(7)); r != nil {
		t.Fatalf("delete: %v", r)
	}
	if _, ok := s.Volume(7); ok {
		t.Fatal("volume 7 still recorded after delete")
	}
	if r := apply(t, s, DeleteVolumeCommand(7)); !isErr(r, ErrUnknownVolume) {
		t.Fatalf("second delete: got %v, want ErrUnknownVolume", r)
	}
	if s.MaxVolumeID() != 8 {
		t.Fatalf("deleting never lowers MaxVolumeID: got %d", s.MaxVolumeID())
	}
}

func TestDeleteCollection(t *testing.T) {
	s := New()
	for id, col := range map[uint32]string{1: "a", 2: "b", 3: "a", 4: "", 5: "a"} {
		apply(t, s, CreateVolumeCommand(Volume{ID: id, Collection: col, Servers: []string{"x:1"}}))
	}
	apply(t, s, MarkReadOnlyCommand(3, true))
	apply(t, s, MarkReadOnlyCommand(2, true))
	got := apply(t, s, DeleteCollectionCommand("a"))
	want := CollectionDeleted{Name: "a", Volumes: []uint32{1, 3, 5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	var ids []uint32
	for _, v := range s.Volumes() {
		ids = append(ids, v.ID)
	}
	if !reflect.DeepEqual(ids, []uint32{2, 4}) {
		t.Fatalf("remaining volumes %v, want [2 4]", ids)
	}
	if s.ReadOnly(3) || !s.ReadOnly(2) {
		t.Fatal("read-only marks: deleted volume 3 must lose its mark, 2 must keep it")
	}
	if got := apply(t, s, DeleteCollectionCommand("nosuch")); !reflect.DeepEqual(got, CollectionDeleted{Name: "nosuch", Volumes: []uint32{}}) {
		t.Fatalf("unknown collection: got %+v", got)
	}
}

func TestMarkReadOnly(t *testing.T) {
	s := New()
	apply(t, s, MarkReadOnlyCommand(9, true))
	apply(t, s, MarkReadOnlyCommand(4, true))
	if !s.ReadOnly(9) || !reflect.DeepEqual(s.ReadOnlyVolumes(), []uint32{4, 9}) {
		t.Fatalf("marks %v", s.ReadOnlyVolumes())
	}
	apply(t, s, MarkReadOnlyCommand(9, false))
	if s.ReadOnly(9) || !reflect.DeepEqual(s.ReadOnlyVolumes(), []uint32{4}) {
		t.Fatalf("after clearing 9: marks %v", s.ReadOnlyVolumes())
	}
}

func isErr(r any, target error) bool {
	err, ok := r.(error)
	return ok && errors.Is(err, target)
}

// TestBadCommandsChangeNothing: every malformed or impossible command gives
// an error result and leaves the state byte-for-byte as it was.
func TestBadCommandsChangeNothing(t *testing.T) {
	s := New()
	apply(t, s, ReserveKeysCommand(10, 0))
	apply(t, s, NextVolumeIDCommand(3, 0))
	apply(t, s, CreateVolumeCommand(Volume{ID: 2, Collection: "c", Servers: []string{"h:1"}}))
	before := snapshotBytes(t, s)

	full := New()
	apply(t, full, ReserveKeysCommand(5, math.MaxUint64-4)) // the last 5 keys
	apply(t, full, NextVolumeIDCommand(1, math.MaxUint32))

	raw := []struct {
		name string
		data []byte
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}},
		{"truncated", []byte{0x0a, 0x05, 0x08}},
		{"empty command", nil},
	}
	for _, c := range raw {
		if r := s.Apply(&raftpb.Entry{Data: c.data}); !isErr(r, ErrBadCommand) {
			t.Errorf("%s: got %v, want ErrBadCommand", c.name, r)
		}
	}
	if r := s.Apply(nil); !isErr(r, ErrBadCommand) {
		t.Errorf("nil entry: got %v", r)
	}
	cmds := []struct {
		name string
		s    *State
		cmd  *pb.MasterCommand
		want error
	}{
		{"reserve 0 keys", s, ReserveKeysCommand(0, 0), ErrBadCommand},
		{"keys overflow", s, ReserveKeysCommand(math.MaxUint64, 0), ErrExhausted},
		{"keys exhausted", full, ReserveKeysCommand(1, 0), ErrExhausted},
		{"0 volume ids", s, NextVolumeIDCommand(0, 0), ErrBadCommand},
		{"volume ids overflow", s, NextVolumeIDCommand(math.MaxUint32, 0), ErrExhausted},
		{"volume ids exhausted", full, NextVolumeIDCommand(1, 0), ErrExhausted},
		{"create id 0", s, CreateVolumeCommand(Volume{}), ErrBadCommand},
		{"placement above a byte", s, CreateVolumeCommand(Volume{ID: 5, ReplicaPlacement: 256}), ErrBadCommand},
		{"delete unknown", s, DeleteVolumeCommand(99), ErrUnknownVolume},
		{"mark volume 0", s, MarkReadOnlyCommand(0, true), ErrBadCommand},
		{"unknown op", s, &pb.MasterCommand{Command: &pb.MasterCommand_VolumeRecord{
			VolumeRecord: &pb.VolumeRecord{Id: 3, Op: 9}}}, ErrBadCommand},
	}
	fullBefore := snapshotBytes(t, full)
	for _, c := range cmds {
		if r := apply(t, c.s, c.cmd); !isErr(r, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, r, c.want)
		}
	}
	if !bytes.Equal(before, snapshotBytes(t, s)) || !bytes.Equal(fullBefore, snapshotBytes(t, full)) {
		t.Fatal("a rejected command changed the state")
	}
}

// randomCommands makes a reproducible mix of every command kind.
func randomCommands(seed uint64, n int) []*pb.MasterCommand {
	r := rand.New(rand.NewPCG(seed, 0))
	cols := []string{"", "a", "b", "pics"}
	var out []*pb.MasterCommand
	for i := 0; i < n; i++ {
		switch r.IntN(6) {
		case 0:
			out = append(out, ReserveKeysCommand(uint64(r.IntN(10000)+1), uint64(r.IntN(3))*uint64(r.IntN(1e6))))
		case 1:
			out = append(out, NextVolumeIDCommand(uint32(r.IntN(7)+1), uint32(r.IntN(2)*r.IntN(500))))
		case 2, 3:
			servers := []string{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"}[:r.IntN(3)+1]
			out = append(out, CreateVolumeCommand(Volume{ID: uint32(r.IntN(300) + 1),
				Collection: cols[r.IntN(len(cols))], ReplicaPlacement: uint32(r.IntN(3)),
				TTL: uint32(r.IntN(2) * 0x0304), DiskType: []string{"", "ssd"}[r.IntN(2)], Servers: servers}))
		case 4:
			if r.IntN(2) == 0 {
				out = append(out, DeleteVolumeCommand(uint32(r.IntN(300)+1)))
			} else {
				out = append(out, DeleteCollectionCommand(cols[r.IntN(len(cols))]))
			}
		case 5:
			out = append(out, MarkReadOnlyCommand(uint32(r.IntN(300)+1), r.IntN(3) > 0))
		}
	}
	return out
}

// TestSnapshotRestoreRoundTrip: a restored state equals the original, in
// bytes and in behaviour (the same next commands give the same results).
func TestSnapshotRestoreRoundTrip(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		cmds := randomCommands(seed, 400)
		a := New()
		for _, c := range cmds[:300] {
			apply(t, a, c)
		}
		snap := snapshotBytes(t, a)
		b := New()
		apply(t, b, ReserveKeysCommand(1e9, 0)) // state that Restore must replace
		if err := b.Restore(bytes.NewReader(snap)); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !bytes.Equal(snap, snapshotBytes(t, b)) {
			t.Fatalf("seed %d: restored state snapshots differently", seed)
		}
		if !reflect.DeepEqual(a.Volumes(), b.Volumes()) || a.MaxKey() != b.MaxKey() ||
			a.MaxVolumeID() != b.MaxVolumeID() || !reflect.DeepEqual(a.ReadOnlyVolumes(), b.ReadOnlyVolumes()) {
			t.Fatalf("seed %d: restored getters differ", seed)
		}
		for i, c := range cmds[300:] {
			ra, rb := apply(t, a, c), apply(t, b, c)
			if !reflect.DeepEqual(ra, rb) {
				t.Fatalf("seed %d command %d: results %v and %v differ", seed, i, ra, rb)
			}
		}
	}
}

// TestSnapshotDeterministic: replicas applying the same commands write the
// same snapshot bytes (map iteration order must not leak into them).
func TestSnapshotDeterministic(t *testing.T) {
	cmds := randomCommands(42, 500)
	var first []byte
	for replica := 0; replica < 5; replica++ {
		s := New()
		for _, c := range cmds {
			apply(t, s, c)
		}
		b := snapshotBytes(t, s)
		if replica == 0 {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatalf("replica %d wrote different snapshot bytes", replica)
		}
	}
}

// TestMonotonic: over random commands, reserved keys and issued volume ids
// never overlap and the maxima never go down.
func TestMonotonic(t *testing.T) {
	s := New()
	var lastKey uint64
	var lastVolume uint32
	for _, c := range randomCommands(7, 3000) {
		switch r := apply(t, s, c).(type) {
		case KeyRange:
			if r.Start <= lastKey {
				t.Fatalf("key range %v starts at or below %d", r, lastKey)
			}
			lastKey = r.Start + r.Count - 1
		case VolumeIDs:
			if r.First <= lastVolume {
				t.Fatalf("volume ids %v start at or below %d", r, lastVolume)
			}
		}
		if s.MaxKey() < lastKey || s.MaxVolumeID() < lastVolume {
			t.Fatal("a maximum went down")
		}
		lastKey, lastVolume = s.MaxKey(), s.MaxVolumeID()
	}
}

func TestRestoreRejectsCorrupt(t *testing.T) {
	s := New()
	apply(t, s, ReserveKeysCommand(10, 0))
	before := snapshotBytes(t, s)
	rec := func(id uint32) *pb.VolumeRecord { return &pb.VolumeRecord{Id: id, Servers: []string{"h:1"}} }
	cases := map[string]*pb.MasterSnapshot{
		"volume id 0":        {MaxVolumeId: 3, Volumes: []*pb.VolumeRecord{rec(0)}},
		"volume above max":   {MaxVolumeId: 3, Volumes: []*pb.VolumeRecord{rec(4)}},
		"duplicate volume":   {MaxVolumeId: 3, Volumes: []*pb.VolumeRecord{rec(2), rec(2)}},
		"placement overflow": {MaxVolumeId: 3, Volumes: []*pb.VolumeRecord{{Id: 1, ReplicaPlacement: 300}}},
		"read-only 0":        {MaxVolumeId: 3, ReadOnlyVolumeIds: []uint32{0}},
	}
	for name, snap := range cases {
		var buf bytes.Buffer
		data, err := marshalSnapshot(snap)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(data)
		if err := s.Restore(&buf); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
	if err := s.Restore(bytes.NewReader([]byte{0xff, 0x01})); !errors.Is(err, ErrCorrupt) {
		t.Errorf("garbage: got %v, want ErrCorrupt", err)
	}
	if !bytes.Equal(before, snapshotBytes(t, s)) {
		t.Fatal("a rejected snapshot changed the state")
	}
}

// TestGoldenSnapshot pins the snapshot encoding: Raft keeps these bytes on
// disk, so a renumbered field or changed order must fail here.
func TestGoldenSnapshot(t *testing.T) {
	s := New()
	for _, c := range randomCommands(1, 60) {
		apply(t, s, c)
	}
	got := snapshotBytes(t, s)
	path := filepath.Join("testdata", "snapshot.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("snapshot bytes differ from %s (run with -update only for an intended format change)", path)
	}
	restored := New()
	if err := restored.Restore(bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(restored.Volumes(), s.Volumes()) {
		t.Fatal("golden snapshot restores to different volumes")
	}
}
