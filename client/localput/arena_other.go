//go:build !linux

package localput

import (
	"errors"
	"net"
)

// Supported says whether this platform has arenas (memfd and SCM_RIGHTS).
const Supported = false

var errUnsupported = errors.New("localput: shared-memory uploads need Linux")

// Arena is a client's shared memory (Linux only).
type Arena struct{}

// NewArena fails: there is no memfd here.
func NewArena(size int) (*Arena, error) { return nil, errUnsupported }

func (a *Arena) Bytes() []byte                      { return nil }
func (a *Arena) Offset(p []byte) (uint64, bool)     { return 0, false }
func (a *Arena) Discard(p []byte) error             { return errUnsupported }
func (a *Arena) Release() error                     { return errUnsupported }
func (a *Arena) Close() error                       { return errUnsupported }
func (a *Arena) SendHello(conn *net.UnixConn) error { return errUnsupported }

// Mapping is a server's view of a client's arena (Linux only).
type Mapping struct{}

func ReceiveHello(conn *net.UnixConn, maxSize uint64) (*Mapping, error) { return nil, errUnsupported }
func (m *Mapping) Slice(off uint64, n uint32) ([]byte, error)           { return nil, errUnsupported }
func (m *Mapping) Close() error                                         { return errUnsupported }
func PeerUID(conn *net.UnixConn) (uint32, error)                        { return 0, errUnsupported }
func MayConnect(uid uint32) bool                                        { return false }
