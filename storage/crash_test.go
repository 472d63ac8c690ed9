package storage

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"weedfs.dev/weed/storage/vfs"
)

// crashSeeds is how many workloads TestCrashRecovery runs; make test keeps
// the default, a longer run passes e.g. -crash.seeds=200.
var crashSeeds = flag.Int("crash.seeds", 2, "workloads TestCrashRecovery cuts the power in")

// crashOp is one step of a crash-test workload.
type crashOp struct {
	del    bool
	key    uint64
	cookie uint32
	size   int
	seed   uint64
	fsync  bool
}

// keyState is what a key reads back as in the model.
type keyState struct {
	present bool
	deleted bool
	cookie  uint32
	size    int
	seed    uint64
}

// crashWorkload builds a deterministic mix of new writes of various sizes
// (empty ones too), overwrites, rewrites of deleted keys and deletes, a
// third of them with fsync.
func crashWorkload(seed uint64, n int) []crashOp {
	r := rand.New(rand.NewPCG(seed, 1))
	// The last size is written around its data (a vectored write).
	sizes := []int{0, 1, 9, 100, 333, 4000, minWrittenAround + 1000}
	state := map[uint64]keyState{}
	var ops []crashOp
	for len(ops) < n {
		key := uint64(r.IntN(10) + 1)
		st := state[key]
		op := crashOp{key: key, fsync: r.IntN(3) == 0, seed: uint64(len(ops)) + seed<<16}
		switch {
		case st.present && !st.deleted && r.IntN(3) == 0:
			op.del, op.cookie = true, st.cookie
			st.deleted = true
		default:
			op.cookie = st.cookie
			if !st.present || st.deleted {
				op.cookie = r.Uint32()
			}
			op.size = sizes[r.IntN(len(sizes))]
			st = keyState{present: true, cookie: op.cookie, size: op.size, seed: op.seed}
		}
		state[key] = st
		ops = append(ops, op)
	}
	return ops
}

// applyModel returns the model state after each prefix of ops: states[i]
// is the state after the first i ops.
func applyModel(ops []crashOp) []map[uint64]keyState {
	states := []map[uint64]keyState{{}}
	for _, op := range ops {
		next := map[uint64]keyState{}
		for k, s := range states[len(states)-1] {
			next[k] = s
		}
		if op.del {
			s := next[op.key]
			s.deleted = true
			next[op.key] = s
		} else {
			next[op.key] = keyState{present: true, cookie: op.cookie, size: op.size, seed: op.seed}
		}
		states = append(states, next)
	}
	return states
}

// runCrashWorkload applies ops until one fails. It returns how many were
// attempted (the failing one included), how many are covered by an
// acknowledged fsync (every append before a sync is in it), and the error.
func runCrashWorkload(v *Volume, ops []crashOp) (attempted, durable int, err error) {
	ctx := context.Background()
	for i, op := range ops {
		var err error
		if op.del {
			_, err = v.Delete(ctx, op.key, op.cookie, DeleteOptions{Fsync: op.fsync})
		} else {
			_, err = v.Write(ctx, newTestNeedle(op.key, op.cookie, op.size, op.seed), WriteOptions{Fsync: op.fsync})
		}
		if err != nil {
			return i + 1, durable, err
		}
		if op.fsync {
			durable = i + 1
		}
	}
	return len(ops), durable, nil
}

// volumeMatches reports whether every key reads back as in want.
func volumeMatches(v *Volume, want map[uint64]keyState, keys []uint64) error {
	ctx := context.Background()
	for _, k := range keys {
		s := want[k]
		cookie := s.cookie
		n, err := v.Read(ctx, k, cookie, ReadOptions{})
		switch {
		case !s.present:
			if !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("key %d: want not found, got %v", k, err)
			}
		case s.deleted:
			if !errors.Is(err, ErrDeleted) {
				return fmt.Errorf("key %d: want deleted, got %v", k, err)
			}
		case err != nil:
			return fmt.Errorf("key %d: %w", k, err)
		case !bytes.Equal(n.Data, testData(s.size, s.seed)):
			return fmt.Errorf("key %d: wrong bytes", k)
		}
	}
	return nil
}

// TestCrashRecovery cuts the power before every file operation of a
// workload, in both crash modes, reopens the volume from what survived and
// checks that it opens, that it holds exactly the state after some prefix
// of the operations, no shorter than the last acknowledged fsync (so every
// durable write reads back byte-exact, durable deletes stay deleted and no
// needle ever reads back wrong), and that it takes new writes.
func TestCrashRecovery(t *testing.T) {
	for seed := uint64(1); seed <= uint64(*crashSeeds); seed++ {
		ops := crashWorkload(seed, 40)
		states := applyModel(ops)
		keys := make([]uint64, 0, 11)
		for k := uint64(1); k <= 11; k++ {
			keys = append(keys, k)
		}

		// A clean run counts the file operations.
		clean := vfs.NewCrashFS()
		v := mustCreate(t, clean, "/", VolumeOptions{})
		if got, _, err := runCrashWorkload(v, ops); err != nil {
			t.Fatalf("clean run failed at op %d: %v", got, err)
		}
		if err := volumeMatches(v, states[len(ops)], keys); err != nil {
			t.Fatalf("clean run: %v", err)
		}
		total := clean.Ops()
		t.Logf("seed %d: %d file operations", seed, total)

		for crashAt := 1; crashAt <= total; crashAt++ {
			for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefixOfLastWrite} {
				name := fmt.Sprintf("seed %d crash at %d mode %d", seed, crashAt, mode)
				cfs := vfs.NewCrashFS()
				cfs.SetCrashAt(crashAt)
				v, err := CreateVolume(cfs, "/", "c", 1, VolumeOptions{})
				created := err == nil
				attempted, durable := 0, 0
				if created {
					attempted, durable, _ = runCrashWorkload(v, ops)
				}
				cut := crashAt
				after := cfs.CrashWith(vfs.CrashOptions{Mode: mode, TornLen: func(_ string, n int) int { return (cut * 131) % (n + 1) }})
				rv, err := OpenVolume(after, "/", "c", 1, VolumeOptions{})
				if err != nil {
					if created {
						t.Fatalf("%s: reopen after an acknowledged create: %v", name, err)
					}
					if !errors.Is(err, ErrVolumeNotFound) && !errors.Is(err, ErrCorrupt) {
						t.Fatalf("%s: reopen of a half-created volume: %v", name, err)
					}
					continue
				}
				matched := -1
				var lastErr error
				for k := attempted; k >= durable; k-- {
					if lastErr = volumeMatches(rv, states[k], keys); lastErr == nil {
						matched = k
						break
					}
				}
				if matched < 0 {
					t.Fatalf("%s: state matches no prefix in [%d, %d] (last mismatch: %v)", name, durable, attempted, lastErr)
				}
				// The recovered volume takes new writes and keeps them.
				mustWrite(t, rv, newTestNeedle(1000, 5, 123, 1000), WriteOptions{Fsync: true})
				if err := rv.Close(); err != nil {
					t.Fatalf("%s: close: %v", name, err)
				}
				again := mustOpen(t, after, "/", VolumeOptions{})
				checkRead(t, again, 1000, 5, testData(123, 1000))
				if err := volumeMatches(again, states[matched], keys); err != nil {
					t.Fatalf("%s: second reopen: %v", name, err)
				}
				again.Close()
			}
		}
	}
}

// TestCrashDuringRecovery crashes a workload, then cuts the power again at
// every file operation of the recovery that follows: the third boot must
// still find a state after some prefix of the workload no shorter than
// the last acknowledged fsync.
func TestCrashDuringRecovery(t *testing.T) {
	ops := crashWorkload(3, 30)
	states := applyModel(ops)
	keys := allKeys(11)
	clean := vfs.NewCrashFS()
	v := mustCreate(t, clean, "/", VolumeOptions{})
	runCrashWorkload(v, ops)
	total := clean.Ops()
	tested := 0
	for crashAt := 10; crashAt <= total; crashAt += 3 {
		cfs := vfs.NewCrashFS()
		cfs.SetCrashAt(crashAt)
		v, err := CreateVolume(cfs, "/", "c", 1, VolumeOptions{})
		if err != nil {
			continue
		}
		attempted, durable, _ := runCrashWorkload(v, ops)
		first := cfs.Crash(vfs.KeepPrefixOfLastWrite)
		// How many operations does recovery take here?
		probe := first.Crash(vfs.KeepPrefixOfLastWrite)
		start := probe.Ops()
		pv, err := OpenVolume(probe, "/", "c", 1, VolumeOptions{})
		if err != nil {
			t.Fatalf("crash at %d: first reopen: %v", crashAt, err)
		}
		pv.Close()
		recoveryOps := probe.Ops() - start
		for second := 1; second <= recoveryOps; second++ {
			boot := first.Crash(vfs.KeepPrefixOfLastWrite)
			boot.SetCrashAt(boot.Ops() + second)
			if rv, err := OpenVolume(boot, "/", "c", 1, VolumeOptions{}); err == nil {
				rv.Close()
			}
			for _, mode := range []vfs.CrashMode{vfs.DropUnsynced, vfs.KeepPrefixOfLastWrite} {
				name := fmt.Sprintf("crash at %d, again at recovery op %d, mode %d", crashAt, second, mode)
				third := boot.Crash(mode)
				rv, err := OpenVolume(third, "/", "c", 1, VolumeOptions{})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				matched := false
				for k := attempted; k >= durable && !matched; k-- {
					matched = volumeMatches(rv, states[k], keys) == nil
				}
				if !matched {
					t.Fatalf("%s: state matches no prefix in [%d, %d]", name, durable, attempted)
				}
				mustWrite(t, rv, newTestNeedle(1000, 5, 10, 1000), WriteOptions{})
				rv.Close()
				tested++
			}
		}
	}
	t.Logf("%d double-crash cases", tested)
}
