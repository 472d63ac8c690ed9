package mount

import (
	"context"
	"os"
	"sync"

	"github.com/hanwen/go-fuse/v2/fuse"

	"weedfs.dev/weed/filer"
)

// The mount asks the kernel for FUSE_HANDLE_KILLPRIV_V2: the kernel then
// no longer refreshes a file's attributes (GETATTR) before each chown to
// compute the mode without suid/sgid, and leaves clearing those bits to
// the file system, which it tells so with a flag on the request:
// FATTR_KILL_SUIDGID on SETATTR (every chown of a non-folder; a truncate by
// a caller without CAP_FSETID), FUSE_WRITE_KILL_SUIDGID on WRITE and
// FUSE_OPEN_KILL_SUIDGID on OPEN/CREATE with O_TRUNC (a caller without
// CAP_FSETID). Clearing follows the kernel's own rule (should_remove_suid):
// setuid always, setgid only on a group-executable file (a setgid file
// without group execute marks mandatory locking, not a privilege). The
// security.capability attribute, which the kernel would drop too, is
// never stored: security.* attributes are refused (IgnoreSecurityLabels).

// killPrivileges returns mode without the bits a write, truncate or chown
// drops.
func killPrivileges(mode os.FileMode) os.FileMode {
	mode &^= os.ModeSetuid
	if mode&os.ModeSetgid != 0 && mode&0o010 != 0 {
		mode &^= os.ModeSetgid
	}
	return mode
}

// killEntry clears e's setuid/setgid bits as killPrivileges says and
// reports whether it changed e.
func killEntry(e *filer.Entry) bool {
	if e.IsDirectory() {
		return false
	}
	m := killPrivileges(e.Mode)
	if m == e.Mode {
		return false
	}
	e.Mode = m
	return true
}

// rawFS is go-fuse's node file system with the request flags its fs API
// does not pass on (the kill flags of WRITE, OPEN and CREATE) noted where
// the node's methods can find them: by the request's cancel channel, the
// one thing of a request that reaches them (as fuse.Context.Cancel).
type rawFS struct {
	fuse.RawFileSystem

	mu    sync.Mutex
	kills map[<-chan struct{}]struct{}
}

func newRawFS(inner fuse.RawFileSystem) *rawFS {
	return &rawFS{RawFileSystem: inner, kills: map[<-chan struct{}]struct{}{}}
}

// mark notes that the request of cancel asks to clear suid/sgid, and
// returns the function that forgets it once the request is answered.
func (r *rawFS) mark(cancel <-chan struct{}) func() {
	r.mu.Lock()
	r.kills[cancel] = struct{}{}
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		delete(r.kills, cancel)
		r.mu.Unlock()
	}
}

// killRequested reports whether the request ctx belongs to asks to clear
// suid/sgid.
func (r *rawFS) killRequested(ctx context.Context) bool {
	if r == nil {
		return false
	}
	c, ok := ctx.(*fuse.Context)
	if !ok || c.Cancel == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok = r.kills[c.Cancel]
	return ok
}

func (r *rawFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		defer r.mark(cancel)()
	}
	return r.RawFileSystem.Write(cancel, in, data)
}

func (r *rawFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	if in.WriteFlags&fuse.WRITE_KILL_SUIDGID != 0 {
		defer r.mark(cancel)()
	}
	return r.RawFileSystem.Writev(cancel, in, data)
}

func (r *rawFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if in.Mode&fuse.OPEN_KILL_SUIDGID != 0 {
		defer r.mark(cancel)()
	}
	return r.RawFileSystem.Open(cancel, in, out)
}

func (r *rawFS) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	if in.OpenFlags&fuse.OPEN_KILL_SUIDGID != 0 {
		defer r.mark(cancel)()
	}
	return r.RawFileSystem.Create(cancel, in, name, out)
}
