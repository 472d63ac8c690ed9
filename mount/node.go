package mount

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"weedfs.dev/weed/filer"
)

// node is one file, folder or symlink the kernel knows. Its path is its
// place in go-fuse's tree, which renames keep up to date.
type node struct {
	fs.Inode
	fsys *FS

	mu   sync.Mutex
	file *openFile // while handles are open on a regular file
	// kids are the child nodes handed to the kernel and not yet
	// forgotten: two lookups or creates racing for one name must get
	// one inode, and go-fuse adds a child to its tree only after they
	// return. parent and name say where this node is kept (under
	// parent.mu).
	kids   map[string]*node
	parent *node
	name   string
	// unlinked is set when the entry was deleted through this mount, so a
	// handle still open does not bring it back when it commits.
	unlinked atomic.Bool
	// unsynced: the last save of the entry was not durable (close,
	// chmod...); an fsync saves it again, durably.
	unsynced atomic.Bool
}

var (
	_ fs.NodeLookuper      = (*node)(nil)
	_ fs.NodeGetattrer     = (*node)(nil)
	_ fs.NodeSetattrer     = (*node)(nil)
	_ fs.NodeReaddirer     = (*node)(nil)
	_ fs.NodeMkdirer       = (*node)(nil)
	_ fs.NodeRmdirer       = (*node)(nil)
	_ fs.NodeCreater       = (*node)(nil)
	_ fs.NodeOpener        = (*node)(nil)
	_ fs.NodeUnlinker      = (*node)(nil)
	_ fs.NodeRenamer       = (*node)(nil)
	_ fs.NodeSymlinker     = (*node)(nil)
	_ fs.NodeReadlinker    = (*node)(nil)
	_ fs.NodeGetxattrer    = (*node)(nil)
	_ fs.NodeSetxattrer    = (*node)(nil)
	_ fs.NodeListxattrer   = (*node)(nil)
	_ fs.NodeRemovexattrer = (*node)(nil)
	_ fs.NodeStatfser      = (*node)(nil)
	_ fs.NodeOnForgetter   = (*node)(nil)
)

func (n *node) path() string {
	if p, ok := n.fsys.nodePath(n); ok {
		return p
	}
	return n.fsys.filerPath(n.Path(nil))
}

func (n *node) childPath(name string) string { return filer.Join(n.path(), name) }

func (n *node) openFile() *openFile {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.file
}

// entry is what the node is now: the open file's working entry, else the
// cached or filer's entry.
func (n *node) entry(ctx context.Context) (*filer.Entry, error) {
	if f := n.openFile(); f != nil {
		return f.snapshot(), nil
	}
	return n.fsys.lookup(ctx, n.path())
}

func callerIDs(ctx context.Context) (uid, gid uint32) {
	if c, ok := fuse.FromContext(ctx); ok {
		return c.Uid, c.Gid
	}
	return 0, 0
}

// newChild returns the inode for child name holding e, reusing the one
// the tree has when it is of the same kind (so inode numbers stay put).
func (n *node) newChild(ctx context.Context, name string, e *filer.Entry) *fs.Inode {
	k := kind(e)
	n.mu.Lock()
	defer n.mu.Unlock()
	if c := n.kids[name]; c != nil && c.StableAttr().Mode == k && !c.unlinked.Load() {
		return &c.Inode
	}
	if ch := n.GetChild(name); ch != nil && ch.StableAttr().Mode == k {
		if c, ok := ch.Operations().(*node); ok && !c.unlinked.Load() {
			return ch
		}
	}
	c := &node{fsys: n.fsys, parent: n, name: name}
	if n.kids == nil {
		n.kids = map[string]*node{}
	}
	n.kids[name] = c
	return n.NewInode(ctx, c, fs.StableAttr{Mode: k})
}

// OnForget runs when the kernel forgot the node: it leaves its parent's
// kids.
func (n *node) OnForget() {
	for {
		n.mu.Lock()
		p, name := n.parent, n.name
		n.mu.Unlock()
		if p == nil {
			return
		}
		p.mu.Lock()
		n.mu.Lock()
		if n.parent == p && n.name == name {
			if p.kids[name] == n {
				delete(p.kids, name)
			}
			n.parent = nil
			n.mu.Unlock()
			p.mu.Unlock()
			return
		}
		n.mu.Unlock()
		p.mu.Unlock()
	}
}

// dropKid forgets the child name (deleted, or moved away).
func (n *node) dropKid(name string) *node {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := n.kids[name]
	delete(n.kids, name)
	return c
}

// adoptKid records c as the child name of n after a rename.
func (n *node) adoptKid(name string, c *node) {
	n.mu.Lock()
	if n.kids == nil {
		n.kids = map[string]*node{}
	}
	n.kids[name] = c
	c.mu.Lock()
	c.parent, c.name = n, name
	c.mu.Unlock()
	n.mu.Unlock()
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	defer n.fsys.stats.since("fuse lookup", time.Now())
	e, err := n.fsys.lookup(n.fsys.opCtx(), n.childPath(name))
	if err != nil {
		return nil, errno(err)
	}
	ch := n.newChild(ctx, name, e)
	if cn, ok := ch.Operations().(*node); ok {
		if f := cn.openFile(); f != nil {
			e = f.snapshot()
		}
	}
	fillAttr(e, &out.Attr)
	return ch, 0
}

func (n *node) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	defer n.fsys.stats.since("fuse getattr", time.Now())
	e, err := n.entry(n.fsys.opCtx())
	if err != nil {
		return errno(err)
	}
	fillAttr(e, &out.Attr)
	return 0
}

// update changes the node's entry with fn and saves it, returning once
// the filer applied it. An open file's working entry is changed; while
// the file holds written bytes not yet saved, the change is saved with
// them by the next close (so a program that writes, then sets times and
// modes on the open file, as tar does, costs one save).
func (n *node) update(fn func(e *filer.Entry) syscall.Errno) (*filer.Entry, syscall.Errno) {
	ctx := n.fsys.opCtx()
	if f := n.openFile(); f != nil {
		f.mu.Lock()
		e := f.entry.Clone()
		if en := fn(e); en != 0 {
			f.mu.Unlock()
			return nil, en
		}
		if sameEntry(e, f.entry) {
			// Nothing changes (tar's chown to the owner it has).
			f.mu.Unlock()
			return e, 0
		}
		writing := f.dirty()
		f.entry = e
		f.gen++
		f.viewOK = false
		f.mu.Unlock()
		if !writing {
			if err := f.flush(ctx, n, false); err != nil {
				return nil, errno(err)
			}
		}
		return f.snapshot(), 0
	}
	e, err := n.fsys.lookupFull(ctx, n.path())
	if err != nil {
		return nil, errno(err)
	}
	was := e
	e = e.Clone()
	if en := fn(e); en != 0 {
		return nil, en
	}
	if sameEntry(e, was) {
		return e, 0 // nothing changes: no save
	}
	if err := n.fsys.save(ctx, n, e, false); err != nil {
		return nil, errno(err)
	}
	return e, 0
}

func (n *node) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	defer n.fsys.stats.since("fuse setattr", time.Now())
	if n.fsys.opt.ReadOnly {
		return syscall.EROFS
	}
	// kill: the kernel asks the mount to clear suid/sgid (killpriv.go),
	// with the truncate, or else with the other changes.
	kill := in.Valid&fuse.FATTR_KILL_SUIDGID != 0
	if size, ok := in.GetSize(); ok {
		if f := n.openFile(); f != nil {
			if err := f.truncate(n.fsys.opCtx(), n, size, kill); err != nil {
				return errno(err)
			}
		} else if _, en := n.update(func(e *filer.Entry) syscall.Errno {
			if e.IsDirectory() {
				return syscall.EISDIR
			}
			truncateEntry(e, size)
			if kill {
				killEntry(e)
			}
			e.Mtime = time.Now()
			return 0
		}); en != 0 {
			return en
		}
		kill = false
	}
	mode, setMode := in.GetMode()
	uid, setUID := in.GetUID()
	gid, setGID := in.GetGID()
	mtime, setMtime := in.GetMTime()
	if setMode || setUID || setGID || setMtime || kill {
		if _, en := n.update(func(e *filer.Entry) syscall.Errno {
			if setMode {
				e.Mode = withPerm(e, mode)
			}
			if setUID {
				e.UID = uid
			}
			if setGID {
				e.GID = gid
			}
			if setMtime {
				e.Mtime = mtime
			}
			if kill {
				killEntry(e)
			}
			return 0
		}); en != 0 {
			return en
		}
	}
	if en := n.Getattr(ctx, fh, out); en != 0 {
		return en
	}
	// go-fuse fills these in for GETATTR only: without them the kernel
	// would take inode number 0 and ask for the attributes again at once.
	out.Ino = n.StableAttr().Ino
	out.SetTimeout(kernelTimeout)
	return 0
}

func (n *node) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	defer n.fsys.stats.since("fuse readdir", time.Now())
	dir := n.path()
	// Entries this mount made and not saved yet are part of the folder.
	// They are taken before the listing: one saved in between is then in
	// the listing.
	staged := n.fsys.wb.children(dir)
	seq := n.fsys.meta.eventSeq()
	var children []*filer.Entry
	err := n.fsys.filer.list(n.fsys.opCtx(), dir, func(e *filer.Entry) { children = append(children, e) })
	if errors.Is(err, filer.ErrNotFound) && n.fsys.wb.get(dir) != nil {
		err = nil // made here, not saved yet: only staged children
	}
	if err != nil {
		return nil, errno(err)
	}
	n.fsys.meta.putDirAfter(dir, children, seq)
	if len(staged) > 0 {
		names := make(map[string]int, len(children))
		for i, e := range children {
			names[e.Name()] = i
		}
		for _, e := range staged {
			if i, ok := names[e.Name()]; ok {
				children[i] = e
			} else {
				children = append(children, e)
			}
		}
	}
	list := make([]fuse.DirEntry, len(children))
	for i, e := range children {
		list[i] = fuse.DirEntry{Name: e.Name(), Mode: kind(e)}
	}
	return fs.NewListDirStream(list), 0
}

// create makes a new entry at the child name unless one is there: saved
// before it returns, unless it is a file being opened (staged: its save
// comes with the close, or after writeBackDelay).
func (n *node) create(ctx context.Context, name string, e *filer.Entry, open bool) (*node, *fs.Inode, syscall.Errno) {
	if n.fsys.opt.ReadOnly {
		return nil, nil, syscall.EROFS
	}
	p := n.childPath(name)
	if _, err := n.fsys.lookup(n.fsys.opCtx(), p); err == nil {
		return nil, nil, syscall.EEXIST
	} else if !errors.Is(err, filer.ErrNotFound) {
		return nil, nil, errno(err)
	}
	now := time.Now()
	e.FullPath, e.Mtime, e.Crtime = p, now, now
	e.UID, e.GID = callerIDs(ctx)
	ch := n.newChild(ctx, name, e)
	cn := ch.Operations().(*node)
	if open {
		n.fsys.stage(cn, e, false, false)
		return cn, ch, 0
	}
	if err := n.fsys.save(n.fsys.opCtx(), cn, e, false); err != nil {
		// Forget the child: the kernel gets an error, not the inode.
		if c := n.dropKid(name); c != nil {
			c.unlinked.Store(true)
		}
		n.fsys.meta.invalidate(e.FullPath)
		return nil, nil, errno(err)
	}
	return cn, ch, 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	defer n.fsys.stats.since("fuse mkdir", time.Now())
	e := &filer.Entry{Mode: os.ModeDir | goMode(mode&0o7777)}
	_, ch, en := n.create(ctx, name, e, false)
	if en != 0 {
		return nil, en
	}
	n.fsys.meta.markEmpty(e.FullPath)
	fillAttr(e, &out.Attr)
	return ch, 0
}

func (n *node) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	defer n.fsys.stats.since("fuse symlink", time.Now())
	e := &filer.Entry{Mode: os.ModeSymlink | 0o777, SymlinkTarget: target}
	_, ch, en := n.create(ctx, name, e, false)
	if en != 0 {
		return nil, en
	}
	fillAttr(e, &out.Attr)
	return ch, 0
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	defer n.fsys.stats.since("fuse readlink", time.Now())
	e, err := n.entry(n.fsys.opCtx())
	if err != nil {
		return nil, errno(err)
	}
	if e.SymlinkTarget == "" {
		return nil, syscall.EINVAL
	}
	return []byte(e.SymlinkTarget), 0
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	defer n.fsys.stats.since("fuse create", time.Now())
	e := &filer.Entry{Mode: goMode(mode & 0o7777)}
	cn, ch, en := n.create(ctx, name, e, true)
	if en == syscall.EEXIST && flags&syscall.O_EXCL == 0 {
		// Made elsewhere since the kernel looked: open that one.
		ch, en := n.Lookup(ctx, name, out)
		if en != 0 {
			return nil, nil, 0, en
		}
		cn, ok := ch.Operations().(*node)
		if !ok || ch.StableAttr().Mode != syscall.S_IFREG {
			return nil, nil, 0, syscall.EISDIR
		}
		fh, ff, en := cn.Open(ctx, flags)
		return ch, fh, ff, en
	}
	if en != 0 {
		return nil, nil, 0, en
	}
	h := cn.acquire(e)
	fillAttr(e, &out.Attr)
	return ch, h, openFlags(flags), 0
}

// acquire returns a handle on the node's open-file state, making it from
// e when no handle is open.
func (n *node) acquire(e *filer.Entry) *handle {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.file == nil {
		n.addFile(e)
	}
	n.file.opens++
	return &handle{n: n, f: n.file}
}

// addFile makes the open-file state from e. n.mu is held.
func (n *node) addFile(e *filer.Entry) {
	n.file = newOpenFile(n.fsys, e)
	n.fsys.filesMu.Lock()
	n.fsys.open[n.file] = n
	n.fsys.filesMu.Unlock()
}

// acquireOrLoad is acquire for an existing file: with no open-file state
// it is made from the entry looked up under n.mu, so a release that
// commits and drops the state cannot slip in between.
func (n *node) acquireOrLoad() (*handle, error) {
	p := n.path()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.file == nil {
		e, err := n.fsys.lookupFull(n.fsys.opCtx(), p)
		if err != nil {
			return nil, err
		}
		if e.IsDirectory() {
			return nil, syscall.EISDIR
		}
		n.addFile(e)
	}
	n.file.opens++
	return &handle{n: n, f: n.file}, nil
}

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	defer n.fsys.stats.since("fuse open", time.Now())
	write := flags&(syscall.O_WRONLY|syscall.O_RDWR) != 0 || flags&syscall.O_TRUNC != 0
	if n.fsys.opt.ReadOnly && write {
		return nil, 0, syscall.EROFS
	}
	h, err := n.acquireOrLoad()
	if err != nil {
		return nil, 0, errno(err)
	}
	if flags&syscall.O_TRUNC != 0 {
		kill := n.fsys.raw.killRequested(ctx)
		if err := h.f.truncate(n.fsys.opCtx(), n, 0, kill); err != nil {
			h.Release(ctx)
			return nil, 0, errno(err)
		}
	}
	return h, openFlags(flags), 0
}

// remove deletes the child name (a folder only when empty).
func (n *node) remove(name string) syscall.Errno {
	if n.fsys.opt.ReadOnly {
		return syscall.EROFS
	}
	p := n.childPath(name)
	if err := n.fsys.settle(); err != nil {
		return errno(err)
	}
	n.fsys.tree.Lock()
	defer n.fsys.tree.Unlock()
	if err := n.fsys.filer.remove(n.fsys.opCtx(), p, false); err != nil {
		return errno(err)
	}
	if ch := n.GetChild(name); ch != nil {
		if cn, ok := ch.Operations().(*node); ok {
			cn.unlinked.Store(true)
		}
	}
	if c := n.dropKid(name); c != nil {
		c.unlinked.Store(true)
	}
	n.fsys.meta.remove(p)
	return 0
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	defer n.fsys.stats.since("fuse unlink", time.Now())
	return n.remove(name)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	defer n.fsys.stats.since("fuse rmdir", time.Now())
	return n.remove(name)
}

func (n *node) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	defer n.fsys.stats.since("fuse rename", time.Now())
	if n.fsys.opt.ReadOnly {
		return syscall.EROFS
	}
	if flags&fs.RENAME_EXCHANGE != 0 {
		return syscall.EINVAL
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	ctx2 := n.fsys.opCtx()
	if err := n.fsys.settle(); err != nil {
		return errno(err)
	}
	from, to := n.childPath(name), np.childPath(newName)
	src, err := n.fsys.lookup(ctx2, from)
	if err != nil {
		return errno(err)
	}
	dst, err := n.fsys.filer.find(ctx2, to)
	switch {
	case errors.Is(err, filer.ErrNotFound):
		dst = nil
	case err != nil:
		return errno(err)
	case flags&renameNoReplace != 0:
		return syscall.EEXIST
	case src.IsDirectory() && !dst.IsDirectory():
		return syscall.ENOTDIR
	case !src.IsDirectory() && dst.IsDirectory():
		return syscall.EISDIR
	}
	n.fsys.tree.Lock()
	defer n.fsys.tree.Unlock()
	if err := n.fsys.filer.rename(ctx2, from, to); err != nil {
		if dst != nil && dst.IsDirectory() && errors.Is(err, filer.ErrConflict) {
			return syscall.ENOTEMPTY
		}
		return errno(err)
	}
	if dst != nil {
		if ch := np.GetChild(newName); ch != nil {
			if cn, ok := ch.Operations().(*node); ok && ch != n.GetChild(name) {
				cn.unlinked.Store(true)
			}
		}
		if c := np.dropKid(newName); c != nil {
			c.unlinked.Store(true)
		}
	}
	if c := n.dropKid(name); c != nil {
		c.unlinked.Store(false)
		np.adoptKid(newName, c)
	}
	n.fsys.meta.remove(from)
	n.fsys.meta.invalidate(to)
	return 0
}

// renameNoReplace is RENAME_NOREPLACE of renameat2(2).
const renameNoReplace = 0x1

// xattrPrefix keeps extended attributes apart from other Extended keys
// (the Seaweed-* headers of HTTP uploads).
const xattrPrefix = "xattr-"

const (
	xattrCreate  = 0x1
	xattrReplace = 0x2
)

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	defer n.fsys.stats.since("fuse getxattr", time.Now())
	e, err := n.entry(n.fsys.opCtx())
	if err != nil {
		return 0, errno(err)
	}
	v, ok := e.Extended[xattrPrefix+attr]
	if !ok {
		return 0, fs.ENOATTR
	}
	if len(dest) == 0 {
		return uint32(len(v)), 0
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

func (n *node) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	defer n.fsys.stats.since("fuse setxattr", time.Now())
	if n.fsys.opt.ReadOnly {
		return syscall.EROFS
	}
	_, en := n.update(func(e *filer.Entry) syscall.Errno {
		_, ok := e.Extended[xattrPrefix+attr]
		if ok && flags&xattrCreate != 0 {
			return syscall.EEXIST
		}
		if !ok && flags&xattrReplace != 0 {
			return fs.ENOATTR
		}
		if e.Extended == nil {
			e.Extended = map[string][]byte{}
		}
		e.Extended[xattrPrefix+attr] = append([]byte(nil), data...)
		return 0
	})
	return en
}

func (n *node) Removexattr(ctx context.Context, attr string) syscall.Errno {
	defer n.fsys.stats.since("fuse removexattr", time.Now())
	if n.fsys.opt.ReadOnly {
		return syscall.EROFS
	}
	_, en := n.update(func(e *filer.Entry) syscall.Errno {
		if _, ok := e.Extended[xattrPrefix+attr]; !ok {
			return fs.ENOATTR
		}
		delete(e.Extended, xattrPrefix+attr)
		return 0
	})
	return en
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	defer n.fsys.stats.since("fuse listxattr", time.Now())
	e, err := n.entry(n.fsys.opCtx())
	if err != nil {
		return 0, errno(err)
	}
	var names []byte
	for k := range e.Extended {
		if len(k) > len(xattrPrefix) && k[:len(xattrPrefix)] == xattrPrefix {
			names = append(names, k[len(xattrPrefix):]...)
			names = append(names, 0)
		}
	}
	if len(dest) == 0 {
		return uint32(len(names)), 0
	}
	if len(dest) < len(names) {
		return uint32(len(names)), syscall.ERANGE
	}
	return uint32(copy(dest, names)), 0
}

// Statfs reports the cluster's capacity as the master tells it (see
// fillStatfs).
func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	c, known := n.fsys.capacity(ctx)
	fillStatfs(out, c, known)
	return 0
}
