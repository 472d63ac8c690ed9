//go:build linux

package localput

import (
	"errors"
	"fmt"
	"net"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// requiredSeals are the seals a server insists on before it maps a
// client's memfd: with the size fixed, no page of the mapping can vanish
// under the server (reading a punched hole gives zeros, not SIGBUS).
const requiredSeals = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL

// Supported says whether this platform has arenas (memfd and SCM_RIGHTS).
const Supported = true

// Arena is a client's shared memory: a memfd of fixed size, sealed
// against shrinking and growing, mapped read-write.
type Arena struct {
	fd  int
	mem []byte
}

// NewArena creates an arena of size bytes. Its pages take memory only
// once written.
func NewArena(size int) (*Arena, error) {
	if size <= 0 {
		return nil, fmt.Errorf("localput: arena size %d", size)
	}
	fd, err := unix.MemfdCreate("weed-chunks", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("localput: memfd_create: %w", err)
	}
	fail := func(what string, err error) (*Arena, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("localput: %s: %w", what, err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return fail("ftruncate", err)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, requiredSeals); err != nil {
		return fail("seal", err)
	}
	mem, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap", err)
	}
	return &Arena{fd: fd, mem: mem}, nil
}

// Bytes is the arena's memory.
func (a *Arena) Bytes() []byte { return a.mem }

// Offset is where p starts in the arena, when all of p lies in it.
func (a *Arena) Offset(p []byte) (uint64, bool) {
	if a == nil || len(p) == 0 || len(a.mem) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(a.mem)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	if at < base || at-base > uintptr(len(a.mem)) || uintptr(len(p)) > uintptr(len(a.mem))-(at-base) {
		return 0, false
	}
	return uint64(at - base), true
}

// Discard gives the memory of p (a slice of the arena) back to the
// system; it reads as zeros until written again.
func (a *Arena) Discard(p []byte) error {
	off, ok := a.Offset(p)
	if !ok {
		return errors.New("localput: discard of memory outside the arena")
	}
	return unix.Fallocate(a.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(off), int64(len(p)))
}

// Release gives all the arena's memory back and closes its file; the
// mapping stays (reading zeros) so a slice still held elsewhere cannot
// fault. Servers that mapped it keep their own mappings.
func (a *Arena) Release() error {
	err := unix.Fallocate(a.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, int64(len(a.mem)))
	return errors.Join(err, unix.Close(a.fd))
}

// Close unmaps the arena and closes its file. No slice of it may be used
// afterwards.
func (a *Arena) Close() error {
	err := unix.Munmap(a.mem)
	a.mem = nil
	return errors.Join(err, unix.Close(a.fd))
}

// SendHello opens conn's conversation: a Hello naming the arena, with its
// memfd passed alongside.
func (a *Arena) SendHello(conn *net.UnixConn) error {
	frame := AppendHello(make([]byte, 0, HelloLen), Hello{Version: Version, ArenaSize: uint64(len(a.mem))})
	n, _, err := conn.WriteMsgUnix(frame, unix.UnixRights(a.fd), nil)
	if err == nil && n != len(frame) {
		err = fmt.Errorf("localput: hello: wrote %d of %d bytes", n, len(frame))
	}
	return err
}

// Mapping is a server's read-only view of a client's arena.
type Mapping struct{ mem []byte }

// ReceiveHello reads the Hello a client opens conn with, checks the memfd
// that came with it (sealed, of the size the Hello says, at most maxSize)
// and maps it read-only.
func ReceiveHello(conn *net.UnixConn, maxSize uint64) (*Mapping, error) {
	buf := make([]byte, HelloLen)
	oob := make([]byte, unix.CmsgSpace(4*4)) // room for a few fds, all closed
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("localput: read hello: %w", err)
	}
	fds, ferr := rights(oob[:oobn])
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	if ferr != nil {
		return nil, ferr
	}
	for n < len(buf) { // the rest of the frame, without ancillary data
		k, err := conn.Read(buf[n:])
		if err != nil {
			return nil, fmt.Errorf("localput: read hello: %w", err)
		}
		n += k
	}
	kind, body, _, err := SplitFrame(buf)
	if err != nil {
		return nil, err
	}
	if kind != KindHello {
		return nil, fmt.Errorf("%w: kind %d before the hello", ErrCorrupt, kind)
	}
	h, err := DecodeHello(body)
	if err != nil {
		return nil, err
	}
	if h.Version != Version {
		return nil, fmt.Errorf("localput: protocol version %d, want %d", h.Version, Version)
	}
	if len(fds) != 1 {
		return nil, fmt.Errorf("localput: hello came with %d descriptors, want 1", len(fds))
	}
	if h.ArenaSize == 0 || h.ArenaSize > maxSize || h.ArenaSize > uint64(int(^uint(0)>>1)) {
		return nil, fmt.Errorf("localput: arena of %d bytes (at most %d)", h.ArenaSize, maxSize)
	}
	fd := fds[0]
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil {
		return nil, fmt.Errorf("localput: the descriptor is not a sealable memfd: %w", err)
	}
	if seals&(unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
		return nil, fmt.Errorf("localput: the memfd is not sealed against resizing (seals %#x)", seals)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("localput: fstat: %w", err)
	}
	if st.Size < 0 || uint64(st.Size) != h.ArenaSize {
		return nil, fmt.Errorf("localput: memfd of %d bytes, hello says %d", st.Size, h.ArenaSize)
	}
	mem, err := unix.Mmap(fd, 0, int(h.ArenaSize), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("localput: mmap: %w", err)
	}
	return &Mapping{mem: mem}, nil
}

// rights returns the descriptors passed in a control message.
func rights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("%w: control message: %w", ErrCorrupt, err)
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return fds, fmt.Errorf("%w: rights: %w", ErrCorrupt, err)
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// Slice is the n bytes at off of the mapping.
func (m *Mapping) Slice(off uint64, n uint32) ([]byte, error) {
	if off > uint64(len(m.mem)) || uint64(n) > uint64(len(m.mem))-off {
		return nil, fmt.Errorf("localput: %d bytes at %d are outside the arena of %d", n, off, len(m.mem))
	}
	return m.mem[off : off+uint64(n) : off+uint64(n)], nil
}

// Close unmaps the arena; no slice of it may be used afterwards.
func (m *Mapping) Close() error {
	err := unix.Munmap(m.mem)
	m.mem = nil
	return err
}

// PeerUID is the user id of the process at the other end of conn.
func PeerUID(conn *net.UnixConn) (uint32, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if cerr != nil {
		return 0, cerr
	}
	return cred.Uid, nil
}

// MayConnect says whether a peer of user id uid may use a server run by
// this process: the same user, or root.
func MayConnect(uid uint32) bool { return uid == 0 || int(uid) == os.Getuid() }
