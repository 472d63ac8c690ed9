package state

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"weedfs.dev/weed/master/sequence"
	"weedfs.dev/weed/raft"
	"weedfs.dev/weed/raft/raftpb"
)

var _ raft.FSM = (*State)(nil)

// localProposer applies commands straight to a State, in order, as a
// committed single-node Raft log would.
type localProposer struct {
	mu    sync.Mutex
	s     *State
	index uint64
	fail  error
}

func (p *localProposer) Propose(ctx context.Context, cmd []byte) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail != nil {
		return nil, p.fail
	}
	p.index++
	return p.s.Apply(&raftpb.Entry{Index: p.index, Term: 1, Data: cmd}), nil
}

func TestClientDecodesResults(t *testing.T) {
	s := New()
	c := Client{P: &localProposer{s: s}}
	ctx := context.Background()
	start, err := c.Reserve(ctx, 100, 0)
	if err != nil || start != 1 {
		t.Fatalf("Reserve: %d, %v", start, err)
	}
	if start, _ = c.Reserve(ctx, 10, 5000); start != 5000 {
		t.Fatalf("Reserve above a floor: %d", start)
	}
	ids, err := c.NextVolumeIDs(ctx, 3, 0)
	if err != nil || ids != (VolumeIDs{1, 3}) {
		t.Fatalf("NextVolumeIDs: %v, %v", ids, err)
	}
	v := Volume{ID: 2, Collection: "c", Servers: []string{"a:1"}}
	if err := c.RecordVolume(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkReadOnly(ctx, 2, true); err != nil || !s.ReadOnly(2) {
		t.Fatalf("MarkReadOnly: %v", err)
	}
	if got, err := c.DeleteCollection(ctx, "c"); err != nil || !reflect.DeepEqual(got, []uint32{2}) {
		t.Fatalf("DeleteCollection: %v, %v", got, err)
	}
	if err := c.ForgetVolume(ctx, 2); !errors.Is(err, ErrUnknownVolume) {
		t.Fatalf("ForgetVolume of a dropped record: %v, want ErrUnknownVolume", err)
	}
	if _, err := c.Reserve(ctx, 0, 0); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("Reserve 0: %v, want the state's error", err)
	}
}

func TestClientPassesProposeErrors(t *testing.T) {
	p := &localProposer{s: New(), fail: raft.ErrNotLeader}
	if _, err := (Client{P: p}).Reserve(context.Background(), 1, 0); !errors.Is(err, raft.ErrNotLeader) {
		t.Fatalf("got %v, want raft.ErrNotLeader", err)
	}
}

// TestSequencerOverReplicatedState: the sequencer, reserving through the
// state machine, never issues a key twice across leader changes, and
// snapshots carry the reservation to a new leader.
func TestSequencerOverReplicatedState(t *testing.T) {
	ctx := context.Background()
	s := New()
	seen := map[uint64]bool{}
	for leader := 0; leader < 3; leader++ {
		seq := sequence.New(Client{P: &localProposer{s: s}}, 64)
		for i := 0; i < 100; i++ {
			k, err := seq.Next(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			for j := k; j < k+3; j++ {
				if seen[j] {
					t.Fatalf("leader %d: key %d issued twice", leader, j)
				}
				seen[j] = true
			}
		}
		seq.Close()
		// The next leader starts from a snapshot of the replicated state.
		var buf bytes.Buffer
		if err := s.Snapshot(&buf); err != nil {
			t.Fatal(err)
		}
		s = New()
		if err := s.Restore(&buf); err != nil {
			t.Fatal(err)
		}
	}
}
