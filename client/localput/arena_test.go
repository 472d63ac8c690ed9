//go:build linux

package localput

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pair is a connected pair of Unix stream sockets.
func pair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

func TestArenaSharedWithMapping(t *testing.T) {
	a, err := NewArena(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	copy(a.Bytes()[4096:], "shared bytes")
	client, server := pair(t)
	if err := a.SendHello(client); err != nil {
		t.Fatal(err)
	}
	m, err := ReceiveHello(server, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got, err := m.Slice(4096, 12)
	if err != nil || string(got) != "shared bytes" {
		t.Fatalf("mapping reads %q, %v", got, err)
	}
	// The client's later writes are seen; its discarded pages read zeros.
	copy(a.Bytes()[4096:], "SHARED")
	if string(got[:6]) != "SHARED" {
		t.Fatalf("mapping reads %q after the client wrote", got)
	}
	if err := a.Discard(a.Bytes()[:8192]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, make([]byte, 12)) {
		t.Fatalf("discarded bytes read %q", got)
	}
	for _, r := range [][2]uint64{{1 << 20, 1}, {1<<20 - 1, 2}, {1 << 63, 1}} {
		if _, err := m.Slice(r[0], uint32(r[1])); err == nil {
			t.Errorf("Slice(%d, %d) of a 1 MiB arena succeeded", r[0], r[1])
		}
	}
	if off, ok := a.Offset(a.Bytes()[100:200]); !ok || off != 100 {
		t.Fatalf("Offset of a slice at 100: %d %v", off, ok)
	}
	if _, ok := a.Offset(make([]byte, 10)); ok {
		t.Fatal("Offset of heap memory says it is in the arena")
	}
}

// sendWith sends a Hello for size bytes with fd alongside.
func sendWith(t *testing.T, c *net.UnixConn, fd, size int) {
	t.Helper()
	frame := AppendHello(nil, Hello{Version: Version, ArenaSize: uint64(size)})
	if _, _, err := c.WriteMsgUnix(frame, unix.UnixRights(fd), nil); err != nil {
		t.Fatal(err)
	}
}

// A server maps only a memfd sealed against resizing, of the size the
// Hello says, within its limit.
func TestReceiveHelloRefuses(t *testing.T) {
	unsealed, err := unix.MemfdCreate("unsealed", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(unsealed)
	if err := unix.Ftruncate(unsealed, 1<<20); err != nil {
		t.Fatal(err)
	}
	file, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	file.Truncate(1 << 20)
	good, err := NewArena(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	for _, tc := range []struct {
		name string
		fd   int
		size int
		max  uint64
		want string
	}{
		{"unsealed memfd", unsealed, 1 << 20, 1 << 30, "not sealed"},
		{"regular file", int(file.Fd()), 1 << 20, 1 << 30, "not a sealable memfd"},
		{"size mismatch", good.fd, 2 << 20, 1 << 30, "hello says"},
		{"over the limit", good.fd, 1 << 20, 1 << 19, "at most"},
	} {
		client, server := pair(t)
		sendWith(t, client, tc.fd, tc.size)
		if _, err := ReceiveHello(server, tc.max); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	// No descriptor at all.
	client, server := pair(t)
	if _, err := client.Write(AppendHello(nil, Hello{Version: Version, ArenaSize: 1 << 20})); err != nil {
		t.Fatal(err)
	}
	if _, err := ReceiveHello(server, 1<<30); err == nil {
		t.Error("a hello without a descriptor was accepted")
	}
}
