package sequence_test

import (
	"context"
	"fmt"

	"weedfs.dev/weed/master/sequence"
)

func Example() {
	// On a master, the Reserver proposes ReserveKeys through Raft; here the
	// counter lives in memory.
	seq := sequence.New(&sequence.MemoryReserver{}, 100)
	defer seq.Close()
	seq.Observe(41) // a volume server already holds key 41

	ctx := context.Background()
	one, _ := seq.Next(ctx, 1)   // a single key
	batch, _ := seq.Next(ctx, 5) // /dir/assign?count=5: five consecutive keys
	fmt.Println(one, batch)
	// Output: 42 43
}
