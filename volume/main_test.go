package volume_test

import (
	"testing"

	"weedfs.dev/weed/internal/testcluster"
)

// TestMain removes the weed binary the process tests built.
func TestMain(m *testing.M) { testcluster.Main(m) }
