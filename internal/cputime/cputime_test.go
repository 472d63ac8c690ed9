package cputime

import "testing"

// Burning CPU shows as CPU time.
func TestProcessGrowsWithWork(t *testing.T) {
	before := Process()
	x := uint64(1)
	for i := 0; i < 50_000_000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	if x == 0 {
		t.Log(x) // keep the loop
	}
	if after := Process(); after <= before {
		t.Fatalf("CPU time %v then %v after 50M multiplications", before, after)
	}
}
