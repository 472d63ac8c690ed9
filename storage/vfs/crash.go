package vfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// ErrCrashed is returned by every CrashFS call made at or after the crash
// point set with SetCrashAt: the simulated machine has lost power.
var ErrCrashed = errors.New("vfs: simulated power loss")

// CrashMode says what a reboot keeps of the changes that were never synced.
type CrashMode int

const (
	// DropUnsynced keeps only synced content: every unsynced change is lost.
	DropUnsynced CrashMode = iota
	// KeepPrefixOfLastWrite keeps the synced content, every unsynced change
	// in order, and only a prefix of the last unsynced write: a torn write.
	KeepPrefixOfLastWrite
)

// CrashOptions configure CrashFS.CrashWith.
type CrashOptions struct {
	Mode CrashMode
	// TornLen returns how many of the n bytes of the last unsynced write to
	// the file name survive in mode KeepPrefixOfLastWrite. The result is
	// clamped to [0, n]. Nil keeps n/2.
	TornLen func(name string, n int) int
}

// CrashFS is an in-memory FS that simulates power loss; see the package doc
// for the durability rules. The zero value is not usable: call NewCrashFS.
type CrashFS struct {
	mu sync.Mutex
	// ops counts operations attempted so far, including the failing one.
	ops int
	// crashAt is the sequence number of the first failing operation; 0 means never.
	crashAt int
	// crashed is set once operation crashAt was attempted.
	crashed bool
	// dirs holds every directory; directories are always durable.
	dirs map[string]bool
	// names is the current name space; durable is what a reboot would find.
	names   map[string]*inode
	durable map[string]*inode
}

// inode is one file's content.
// Invariant: data == synced with every change of pending applied in order.
type inode struct {
	data    []byte
	synced  []byte
	pending []change
}

// change is one unsynced write or truncation.
type change struct {
	truncate bool
	off      int64  // write offset, or the new size of a truncation
	data     []byte // written bytes (a private copy)
}

// NewCrashFS returns an empty CrashFS holding only the directories "/" and ".".
func NewCrashFS() *CrashFS {
	return &CrashFS{
		dirs:    map[string]bool{"/": true, ".": true},
		names:   map[string]*inode{},
		durable: map[string]*inode{},
	}
}

var _ FS = (*CrashFS)(nil)

// SetCrashAt makes operation n (counting from 1) and every call after it
// fail with ErrCrashed. n <= 0 disables the crash point.
func (c *CrashFS) SetCrashAt(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.crashAt = n
	if n > 0 && c.ops >= n {
		c.crashed = true
	}
}

// Ops returns how many operations have been attempted so far.
func (c *CrashFS) Ops() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops
}

// Crashed reports whether the crash point has been reached.
func (c *CrashFS) Crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

// step counts one operation and fails it if the power is gone.
// c.mu must be held.
func (c *CrashFS) step() error {
	if c.crashed {
		return ErrCrashed
	}
	c.ops++
	if c.crashAt > 0 && c.ops >= c.crashAt {
		c.crashed = true
		return ErrCrashed
	}
	return nil
}

// alive fails a read-only call once the power is gone. c.mu must be held.
func (c *CrashFS) alive() error {
	if c.crashed {
		return ErrCrashed
	}
	return nil
}

func clean(name string) string { return filepath.Clean(name) }

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

var (
	errIsDir       = errors.New("is a directory")
	errNotDir      = errors.New("not a directory")
	errNotEmpty    = errors.New("directory not empty")
	errReadOnly    = errors.New("file not open for writing")
	errWriteOnly   = errors.New("file not open for reading")
	errAppendAt    = errors.New("WriteAt on a file opened with O_APPEND")
	errNegative    = errors.New("negative offset or size")
	errRenameOfDir = errors.New("CrashFS cannot rename directories")
)

// OpenFile opens or creates name. O_CREATE and O_TRUNC make it an operation.
func (c *CrashFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name = clean(name)
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if err := c.step(); err != nil {
			return nil, pathErr("open", name, err)
		}
	} else if err := c.alive(); err != nil {
		return nil, pathErr("open", name, err)
	}
	if c.dirs[name] {
		return nil, pathErr("open", name, errIsDir)
	}
	ino, ok := c.names[name]
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, pathErr("open", name, fs.ErrExist)
	case !ok && flag&os.O_CREATE == 0:
		return nil, pathErr("open", name, fs.ErrNotExist)
	case !ok:
		if !c.dirs[filepath.Dir(name)] {
			return nil, pathErr("open", name, fs.ErrNotExist)
		}
		ino = &inode{}
		c.names[name] = ino
	}
	f := &crashFile{fs: c, ino: ino, name: name, flag: flag}
	if flag&os.O_TRUNC != 0 && f.writable() {
		ino.apply(change{truncate: true, off: 0})
	}
	return f, nil
}

// Remove removes a file or an empty directory.
func (c *CrashFS) Remove(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	name = clean(name)
	if err := c.step(); err != nil {
		return pathErr("remove", name, err)
	}
	if _, ok := c.names[name]; ok {
		delete(c.names, name)
		return nil
	}
	if !c.dirs[name] {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if len(c.children(name)) > 0 {
		return pathErr("remove", name, errNotEmpty)
	}
	delete(c.dirs, name)
	return nil
}

// Rename moves a file, replacing newname if it exists.
func (c *CrashFS) Rename(oldname, newname string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	oldname, newname = clean(oldname), clean(newname)
	if err := c.step(); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	ino, ok := c.names[oldname]
	switch {
	case c.dirs[oldname] || c.dirs[newname]:
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errRenameOfDir}
	case !ok || !c.dirs[filepath.Dir(newname)]:
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	if oldname == newname {
		return nil
	}
	delete(c.names, oldname)
	c.names[newname] = ino
	return nil
}

// Stat describes a file or directory.
func (c *CrashFS) Stat(name string) (os.FileInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name = clean(name)
	if err := c.alive(); err != nil {
		return nil, pathErr("stat", name, err)
	}
	return c.stat(name)
}

func (c *CrashFS) stat(name string) (os.FileInfo, error) {
	if c.dirs[name] {
		return fileInfo{name: filepath.Base(name), dir: true}, nil
	}
	if ino, ok := c.names[name]; ok {
		return fileInfo{name: filepath.Base(name), size: int64(len(ino.data))}, nil
	}
	return nil, pathErr("stat", name, fs.ErrNotExist)
}

// children lists the full names of the files and directories directly in dir.
func (c *CrashFS) children(dir string) []string {
	var out []string
	for n := range c.names {
		if filepath.Dir(n) == dir {
			out = append(out, n)
		}
	}
	for d := range c.dirs {
		if d != dir && filepath.Dir(d) == dir {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// ReadDir lists dir sorted by name.
func (c *CrashFS) ReadDir(dir string) ([]os.DirEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dir = clean(dir)
	if err := c.alive(); err != nil {
		return nil, pathErr("readdir", dir, err)
	}
	if !c.dirs[dir] {
		if _, ok := c.names[dir]; ok {
			return nil, pathErr("readdir", dir, errNotDir)
		}
		return nil, pathErr("readdir", dir, fs.ErrNotExist)
	}
	var out []os.DirEntry
	for _, n := range c.children(dir) {
		fi, err := c.stat(n)
		if err != nil {
			return nil, err
		}
		out = append(out, fs.FileInfoToDirEntry(fi))
	}
	return out, nil
}

// MkdirAll creates dir and its missing parents; they are durable at once.
func (c *CrashFS) MkdirAll(dir string, perm os.FileMode) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	dir = clean(dir)
	if err := c.step(); err != nil {
		return pathErr("mkdir", dir, err)
	}
	var missing []string
	for d := dir; !c.dirs[d]; d = filepath.Dir(d) {
		if _, ok := c.names[d]; ok {
			return pathErr("mkdir", d, errNotDir)
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for _, d := range missing {
		c.dirs[d] = true
	}
	return nil
}

// SyncDir makes every name currently in dir durable and forgets the durable
// names in dir that are gone.
func (c *CrashFS) SyncDir(dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	dir = clean(dir)
	if err := c.step(); err != nil {
		return pathErr("syncdir", dir, err)
	}
	if !c.dirs[dir] {
		return pathErr("syncdir", dir, fs.ErrNotExist)
	}
	for n := range c.durable {
		if _, ok := c.names[n]; !ok && filepath.Dir(n) == dir {
			delete(c.durable, n)
		}
	}
	for n, ino := range c.names {
		if filepath.Dir(n) == dir {
			c.durable[n] = ino
		}
	}
	return nil
}

// syncInode makes ino's content and every name change about it durable.
// c.mu must be held.
func (c *CrashFS) syncInode(ino *inode) {
	ino.sync()
	for n, cur := range c.names {
		if cur == ino {
			c.durable[n] = ino
		}
	}
	for n, d := range c.durable {
		if d != ino {
			continue
		}
		// ino was removed from n, or replaced there by a rename: that
		// change concerned ino, so it is durable now.
		if cur, ok := c.names[n]; ok {
			c.durable[n] = cur
		} else {
			delete(c.durable, n)
		}
	}
}

// ReadFile returns the current content of name. It is not an operation, but
// it fails with ErrCrashed after the crash point.
func (c *CrashFS) ReadFile(name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	name = clean(name)
	if err := c.alive(); err != nil {
		return nil, pathErr("read", name, err)
	}
	ino, ok := c.names[name]
	if !ok {
		return nil, pathErr("read", name, fs.ErrNotExist)
	}
	return append([]byte(nil), ino.data...), nil
}

// Crash returns the file system a reboot would find after power loss now,
// with the torn length of KeepPrefixOfLastWrite left at half. c itself is
// not changed and may keep being used.
func (c *CrashFS) Crash(mode CrashMode) *CrashFS {
	return c.CrashWith(CrashOptions{Mode: mode})
}

// CrashWith is Crash with every option.
func (c *CrashFS) CrashWith(opt CrashOptions) *CrashFS {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := NewCrashFS()
	for d := range c.dirs {
		out.dirs[d] = true
	}
	names := make([]string, 0, len(c.durable))
	for n := range c.durable {
		names = append(names, n)
	}
	sort.Strings(names)
	rebooted := map[*inode]*inode{}
	for _, n := range names {
		ino := c.durable[n]
		nino, ok := rebooted[ino]
		if !ok {
			content := ino.afterCrash(n, opt)
			nino = &inode{data: content, synced: append([]byte(nil), content...)}
			rebooted[ino] = nino
		}
		out.names[n] = nino
		out.durable[n] = nino
	}
	return out
}

// afterCrash returns the content a reboot finds for ino, known as name.
func (ino *inode) afterCrash(name string, opt CrashOptions) []byte {
	content := append([]byte(nil), ino.synced...)
	if opt.Mode != KeepPrefixOfLastWrite {
		return content
	}
	last := -1
	for i, ch := range ino.pending {
		if !ch.truncate {
			last = i
		}
	}
	for i, ch := range ino.pending {
		if i == last {
			keep := len(ch.data) / 2
			if opt.TornLen != nil {
				keep = min(max(opt.TornLen(name, len(ch.data)), 0), len(ch.data))
			}
			ch.data = ch.data[:keep]
		}
		content = applyChange(content, ch)
	}
	return content
}

// apply records ch as unsynced and applies it to the current content.
func (ino *inode) apply(ch change) {
	ino.data = applyChange(ino.data, ch)
	ino.pending = append(ino.pending, ch)
}

// sync makes the current content the synced one.
func (ino *inode) sync() {
	if len(ino.pending) == 0 {
		return
	}
	var pendingBytes int
	for _, ch := range ino.pending {
		pendingBytes += len(ch.data)
	}
	// Replaying is cheap for a few small appends; copying is cheaper for
	// many changes over a small file.
	if pendingBytes < len(ino.data) {
		for _, ch := range ino.pending {
			ino.synced = applyChange(ino.synced, ch)
		}
	} else {
		ino.synced = append(ino.synced[:0], ino.data...)
	}
	ino.pending = nil
}

// applyChange applies ch to b, growing it with zeros as needed.
func applyChange(b []byte, ch change) []byte {
	if ch.truncate {
		if ch.off <= int64(len(b)) {
			return b[:ch.off]
		}
		return append(b, make([]byte, ch.off-int64(len(b)))...)
	}
	end := ch.off + int64(len(ch.data))
	if end > int64(len(b)) {
		b = append(b, make([]byte, end-int64(len(b)))...)
	}
	copy(b[ch.off:], ch.data)
	return b
}

// String lists the durable and current names, for test failure messages.
func (c *CrashFS) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sb strings.Builder
	for _, n := range sortedKeys(c.names) {
		sb.WriteString(n)
		if c.durable[n] != c.names[n] {
			sb.WriteString(" (name not durable)")
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func sortedKeys(m map[string]*inode) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
