package sim

import (
	"strings"
	"testing"
)

// TestCheckerCatchesBugs shows the checks can fail: each injected driver or
// state machine bug must be caught within a bounded number of seeds, by the
// check that guards against it.
func TestCheckerCatchesBugs(t *testing.T) {
	cases := []struct {
		bug  Bug
		name string
		want string // substring of the violation
	}{
		{BugStaleRead, "stale read", errNotLinearizable.Error()},
		{BugCorruptApply, "corrupt apply", "state machine safety"},
		{BugForgetVote, "forget vote", ""},
		{BugSendBeforePersist, "send before persist", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for seed := int64(0); seed < 400; seed++ {
				_, err := Run(Options{Seed: seed, Bug: tc.bug})
				if err == nil {
					continue
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("seed %d: caught by the wrong check: %v", seed, err)
				}
				t.Logf("caught at seed %d: %.200s", seed, err)
				return
			}
			t.Fatalf("bug %q went unnoticed for 400 seeds", tc.name)
		})
	}
}
