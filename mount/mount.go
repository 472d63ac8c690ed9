package mount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
)

// Defaults of Options.
const (
	DefaultChunkSize       = 4 << 20
	DefaultWriteBuffers    = 8
	DefaultReadCacheChunks = 4
	DefaultUploadParallel  = 4
	DefaultReadAhead       = 2
	DefaultInlineLimit     = 64 << 10
	DefaultOpTimeout       = 5 * time.Second
	DefaultIOTimeout       = 60 * time.Second
	// kernelTimeout is how long the kernel keeps entries and attributes
	// without asking again; the change feed invalidates them sooner.
	kernelTimeout = time.Second
	// idleTrim: after this long without reads or writes the caches give
	// their memory back.
	idleTrim = 10 * time.Second
)

// Options configure a mount.
type Options struct {
	// Filer is the filer's host:port; Masters the masters' (chunks go
	// straight to volume servers).
	Filer   string
	Masters []string
	// FilerPath is the folder of the filer shown at the mount point ("/").
	FilerPath string
	// Dir is the mount point.
	Dir string
	// CacheDir, when set, keeps read chunks on disk too, at most
	// CacheCapacityMB MiB.
	CacheDir        string
	CacheCapacityMB int64
	ReadOnly        bool
	AllowOther      bool
	// ChunkSize is the size of the chunks writes are cut into and of the
	// read cache's windows.
	ChunkSize int64
	// WriteBuffers bounds dirty data: WriteBuffers*ChunkSize bytes.
	WriteBuffers int
	// ReadCacheChunks bounds the memory read cache.
	ReadCacheChunks int
	UploadParallel  int
	// ReadAhead is how many windows sequential reads fetch ahead.
	ReadAhead int
	// InlineLimit: files of at most this many bytes are kept inside their
	// entry instead of in a chunk.
	InlineLimit int64
	// OpTimeout bounds each call to the filer; IOTimeout each chunk
	// upload or read.
	OpTimeout, IOTimeout    time.Duration
	Collection, Replication string
	// Fsync asks volume servers to sync each chunk before answering.
	Fsync bool
	// Debug logs every FUSE request and reply (go-fuse's trace), to see
	// what a workload asks of the mount.
	Debug  bool
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.FilerPath == "" {
		o.FilerPath = "/"
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.WriteBuffers <= 0 {
		o.WriteBuffers = DefaultWriteBuffers
	}
	if o.ReadCacheChunks <= 0 {
		o.ReadCacheChunks = DefaultReadCacheChunks
	}
	if o.UploadParallel <= 0 {
		o.UploadParallel = DefaultUploadParallel
	}
	if o.ReadAhead <= 0 {
		o.ReadAhead = DefaultReadAhead
	}
	if o.InlineLimit == 0 {
		o.InlineLimit = DefaultInlineLimit
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.IOTimeout <= 0 {
		o.IOTimeout = DefaultIOTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// FS is the state of one mount.
type FS struct {
	opt   Options
	log   *slog.Logger
	root  string // normalised FilerPath
	filer *filerClient
	blobs *client.Client
	// capacityCache answers statfs (statfs.go).
	capacityCache capacityCache
	meta          *metaCache
	bufs          *bufferPool
	cache         *chunkCache
	// uploads bounds the chunk uploads in flight.
	uploads chan struct{}
	// vsync tracks the volumes files' chunks went to, for fsync.
	vsync *volumeSyncs
	// chunkw uploads chunks (one writev each, see client.ChunkWriter).
	chunkw *client.ChunkWriter
	ctx    context.Context // ends when the mount is closed

	// tree is held for reading while a path is turned into a filer call,
	// and for writing by renames and deletes, so no save lands on a path
	// that is moving.
	tree sync.RWMutex

	filesMu sync.Mutex
	active  map[*openFile]struct{} // files holding an unsealed buffer
	open    map[*openFile]*node

	wb       *writeBack
	lastIO   time.Time
	rootNode *node
	// raw carries the kernel's kill-suid flags to the nodes.
	raw *rawFS
	// stats counts metadata operations and filer requests, logged when
	// the mount ends (to profile what a workload costs).
	stats *opStats
}

// opStats counts events by kind, and the time spent in those timed.
type opStats struct {
	mu sync.Mutex
	n  map[string]int64
	d  map[string]time.Duration
}

func newOpStats() *opStats {
	return &opStats{n: map[string]int64{}, d: map[string]time.Duration{}}
}

func (s *opStats) add(kind string) {
	s.mu.Lock()
	s.n[kind]++
	s.mu.Unlock()
}

// since counts one event of kind that started at t and ends now.
func (s *opStats) since(kind string, t time.Time) {
	d := time.Since(t)
	s.mu.Lock()
	s.n[kind]++
	s.d[kind] += d
	s.mu.Unlock()
}

// log writes the counts (and total milliseconds of timed kinds) as one
// line.
func (s *opStats) log(l *slog.Logger) {
	s.mu.Lock()
	kinds := make([]string, 0, len(s.n))
	for k := range s.n {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	attrs := make([]any, 0, 2*len(kinds))
	for _, k := range kinds {
		v := strconv.FormatInt(s.n[k], 10)
		if d, ok := s.d[k]; ok {
			v += " " + strconv.FormatInt(d.Milliseconds(), 10) + "ms"
		}
		attrs = append(attrs, k, v)
	}
	s.mu.Unlock()
	l.Info("metadata operations", attrs...)
}

// Mount is a mounted filer namespace.
type Mount struct {
	FS     *FS
	server *fuse.Server
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// ErrBadOptions: options that cannot work (no filer, no mount point).
var ErrBadOptions = errors.New("mount: bad options")

// New prepares a mount without mounting it: it checks the filer answers
// and makes FilerPath there if it is missing.
func New(ctx context.Context, opt Options) (*FS, error) {
	opt.setDefaults()
	if opt.Filer == "" || len(opt.Masters) == 0 {
		return nil, fmt.Errorf("%w: a filer and a master are needed", ErrBadOptions)
	}
	root, err := filer.NormalizePath(opt.FilerPath)
	if err != nil {
		return nil, fmt.Errorf("%w: -filer.path: %w", ErrBadOptions, err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = opt.OpTimeout
	hc := &http.Client{Transport: t}
	stats := newOpStats()
	fsys := &FS{
		opt: opt, log: opt.Logger, root: root, stats: stats,
		filer:   newFilerClient(opt.Filer, hc, opt.OpTimeout, stats),
		blobs:   client.New(opt.Masters, client.Options{}),
		meta:    newMetaCache(),
		bufs:    newBufferPool(int(opt.ChunkSize), opt.WriteBuffers),
		uploads: make(chan struct{}, opt.UploadParallel),
		active:  map[*openFile]struct{}{},
		open:    map[*openFile]*node{},
		// I/O outlives the mount's serving: what is pending is saved
		// after the unmount. Each call has its own timeout.
		ctx: context.WithoutCancel(ctx),
	}
	fsys.wb = newWriteBack(fsys)
	fsys.vsync = newVolumeSyncs(fsys.ctx, fsys.syncVolumes)
	fsys.chunkw = client.NewChunkWriter(opt.UploadParallel)
	var disk *diskCache
	if opt.CacheDir != "" && opt.CacheCapacityMB > 0 {
		if disk, err = newDiskCache(opt.CacheDir, opt.CacheCapacityMB<<20); err != nil {
			return nil, fmt.Errorf("cache dir: %w", err)
		}
	}
	fsys.cache = newChunkCache(opt.ChunkSize, opt.ReadCacheChunks, fsys.fetch, disk)
	e, err := fsys.filer.find(ctx, root)
	if errors.Is(err, filer.ErrNotFound) {
		now := time.Now()
		e = &filer.Entry{FullPath: root, Mode: filer.DefaultDirMode, Mtime: now, Crtime: now}
		err = fsys.filer.save(ctx, e, true)
	}
	if err != nil {
		return nil, fmt.Errorf("filer %s: %w", opt.Filer, err)
	}
	if !e.IsDirectory() {
		return nil, fmt.Errorf("%w: %s is a file on the filer", ErrBadOptions, root)
	}
	return fsys, nil
}

// Start mounts a filer namespace at opt.Dir and serves it until ctx ends,
// Unmount is called, or the mount point is unmounted from outside
// (fusermount3 -u).
func Start(ctx context.Context, opt Options) (*Mount, error) {
	ctx, cancel := context.WithCancel(ctx)
	fsys, err := New(ctx, opt)
	if err != nil {
		cancel()
		return nil, err
	}
	opt = fsys.opt
	if opt.Dir == "" {
		cancel()
		return nil, fmt.Errorf("%w: no mount point", ErrBadOptions)
	}
	to := kernelTimeout
	fo := &fs.Options{
		EntryTimeout: &to,
		AttrTimeout:  &to,
		MountOptions: fuse.MountOptions{
			FsName:               "weed:" + opt.Filer + fsys.root,
			Name:                 "weed",
			AllowOther:           opt.AllowOther,
			MaxWrite:             1 << 20,
			MaxReadAhead:         1 << 20,
			MaxBackground:        64,
			DisableXAttrs:        false,
			IgnoreSecurityLabels: true,
			// Splicing only pays for data in a file descriptor; ours is in
			// memory (windows go out with writev), and go-fuse would still
			// take a pipe, size it and write each reply's header into it
			// before falling back (logging when a 1 MiB reply does not fit).
			DisableSplice: true,
			Debug:         opt.Debug,
			// The kernel leaves clearing suid/sgid to the mount
			// (killpriv.go), and stops asking for attributes before
			// each chown to do it itself.
			ExtraCapabilities: fuse.CAP_HANDLE_KILLPRIV_V2,
		},
	}
	if opt.ReadOnly {
		fo.MountOptions.Options = append(fo.MountOptions.Options, "ro")
	}
	if opt.AllowOther {
		fo.MountOptions.Options = append(fo.MountOptions.Options, "default_permissions")
	}
	fsys.rootNode = &node{fsys: fsys}
	fsys.raw = newRawFS(fs.NewNodeFS(fsys.rootNode, fo))
	server, err := fuse.NewServer(fsys.raw, opt.Dir, &fo.MountOptions)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("mount %s: %w", opt.Dir, err)
	}
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		cancel()
		return nil, fmt.Errorf("mount %s: %w", opt.Dir, err)
	}
	fsys.raiseReadAhead(opt.Dir)
	m := &Mount{FS: fsys, server: server, cancel: cancel, done: make(chan struct{})}
	go fsys.follow(ctx)
	go fsys.trimLoop(ctx)
	wbDone := make(chan struct{})
	go func() { fsys.wb.run(ctx); close(wbDone) }()
	go func() {
		server.Wait()
		cancel()
		<-wbDone
		fsys.closeFiles()
		sctx, scancel := context.WithTimeout(context.Background(), 10*fsys.opt.OpTimeout)
		if err := fsys.wb.sync(sctx); err != nil {
			fsys.log.Warn("metadata not saved at unmount", "err", err)
		}
		scancel()
		fsys.filer.saves.close()
		fsys.stats.log(fsys.log)
		close(m.done)
	}()
	go func() {
		<-ctx.Done()
		m.Unmount()
	}()
	return m, nil
}

// Done is closed once the file system is unmounted and open files were
// committed.
func (m *Mount) Done() <-chan struct{} { return m.done }

// Unmount unmounts the file system (retrying while it is busy, for up to
// a few seconds) and waits until serving ended.
func (m *Mount) Unmount() error {
	var err error
	m.once.Do(func() {
		for i := 0; i < 50; i++ {
			if err = m.server.Unmount(); err == nil {
				break
			}
			select {
			case <-m.done:
				err = nil
			case <-time.After(100 * time.Millisecond):
				continue
			}
			break
		}
		m.cancel()
	})
	if err != nil {
		return err
	}
	<-m.done
	return nil
}

// closeFiles commits files still open when the mount went away.
func (fsys *FS) closeFiles() {
	fsys.filesMu.Lock()
	files := make(map[*openFile]*node, len(fsys.open))
	for f, n := range fsys.open {
		files[f] = n
	}
	fsys.filesMu.Unlock()
	for f, n := range files {
		ctx, cancel := context.WithTimeout(context.Background(), fsys.opt.OpTimeout)
		if err := f.flush(ctx, n, false); err != nil {
			fsys.log.Warn("commit open file at unmount", "err", err)
		}
		cancel()
	}
}

// trimLoop gives cache memory back after a while without I/O.
func (fsys *FS) trimLoop(ctx context.Context) {
	t := time.NewTicker(idleTrim / 2)
	defer t.Stop()
	trimmed := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fsys.filesMu.Lock()
		idle := time.Since(fsys.lastIO) > idleTrim
		fsys.filesMu.Unlock()
		if idle && !trimmed {
			fsys.cache.trim()
			fsys.bufs.trim()
			fsys.meta.trimContent()
			debug.FreeOSMemory()
			trimmed = true
		} else if !idle {
			trimmed = false
		}
	}
}

func (fsys *FS) touchIO() {
	fsys.filesMu.Lock()
	fsys.lastIO = time.Now()
	fsys.filesMu.Unlock()
}

func (fsys *FS) registerActive(f *openFile) {
	fsys.filesMu.Lock()
	fsys.active[f] = struct{}{}
	fsys.filesMu.Unlock()
}

func (fsys *FS) unregisterActive(f *openFile) {
	fsys.filesMu.Lock()
	delete(fsys.active, f)
	fsys.filesMu.Unlock()
}

// sealOthers starts the upload of other files' partial buffers, so a
// writer waiting for a buffer gets one.
func (fsys *FS) sealOthers(self *openFile) {
	fsys.filesMu.Lock()
	var files []*openFile
	for f := range fsys.active {
		if f != self {
			files = append(files, f)
		}
	}
	fsys.filesMu.Unlock()
	for _, f := range files {
		if f.mu.TryLock() {
			f.seal()
			f.mu.Unlock()
		}
	}
}

// filerPath is the filer path of a mount-relative path ("" is the root).
func (fsys *FS) filerPath(rel string) string {
	if rel == "" {
		return fsys.root
	}
	if fsys.root == "/" {
		return "/" + rel
	}
	return fsys.root + "/" + rel
}

// nodePath is the filer path of n now, from the parent links this
// package keeps (go-fuse's own tree learns of a new child or a rename only
// after the operation returned). ok is false for a node no longer linked.
func (fsys *FS) nodePath(n *node) (p string, ok bool) {
	var names []string
	for cur := n; cur != fsys.rootNode; {
		cur.mu.Lock()
		parent, name := cur.parent, cur.name
		cur.mu.Unlock()
		if parent == nil {
			return "", false
		}
		names = append(names, name)
		cur = parent
	}
	p = fsys.root
	for i := len(names) - 1; i >= 0; i-- {
		p = filer.Join(p, names[i])
	}
	return p, true
}

// lookup returns the entry at filer path p, from the cache when it is
// fresh.
func (fsys *FS) lookup(ctx context.Context, p string) (*filer.Entry, error) {
	if e := fsys.wb.get(p); e != nil {
		return e, nil
	}
	return fsys.lookupEntry(ctx, p, false)
}

// lookupFull is lookup for callers that need the inline content too
// (opening a file, changing an entry).
func (fsys *FS) lookupFull(ctx context.Context, p string) (*filer.Entry, error) {
	return fsys.lookupEntry(ctx, p, true)
}

func (fsys *FS) lookupEntry(ctx context.Context, p string, full bool) (*filer.Entry, error) {
	if e := fsys.wb.get(p); e != nil {
		return e, nil
	}
	if e, absent, partial := fsys.meta.get(p); e != nil && (!full || !partial) {
		return e, nil
	} else if absent {
		return nil, filer.ErrNotFound
	}
	for attempt := 0; ; attempt++ {
		before := fsys.wb.saved()
		seq := fsys.meta.eventSeq()
		e, err := fsys.filer.find(ctx, p)
		if s := fsys.wb.get(p); s != nil {
			return s, nil
		}
		if fsys.wb.saved() != before && attempt < 3 {
			continue // a save ended meanwhile: the answer may predate it
		}
		if err != nil {
			return nil, err
		}
		fsys.meta.putAfter(e, seq)
		return e, nil
	}
}

// commit saves the entry of node n (at its current path) to the filer,
// unless n was unlinked meanwhile; durable asks the filer to have it on
// stable storage before it answers.
func (fsys *FS) commit(ctx context.Context, n *node, e *filer.Entry, durable bool) error {
	fsys.tree.RLock()
	defer fsys.tree.RUnlock()
	if n.unlinked.Load() {
		return nil
	}
	if p, ok := fsys.nodePath(n); ok {
		e.FullPath = p
	}
	seq := fsys.meta.eventSeq()
	if err := fsys.filer.save(ctx, e, durable); err != nil {
		fsys.meta.invalidate(e.FullPath)
		return err
	}
	n.unsynced.Store(!durable)
	if !fsys.meta.putAfter(e, seq) {
		// Another client changed the path meanwhile, maybe after this
		// save: the kernel asks again too.
		fsys.notify(e.FullPath, nil)
	}
	return nil
}

// stage makes e the node's entry: visible to this mount at once, saved
// to the filer by the write-back now (else after writeBackDelay), on
// stable storage when durable; the result's done closes once it is saved.
func (fsys *FS) stage(n *node, e *filer.Entry, now, durable bool) *pendingSave {
	fsys.tree.RLock()
	if p, ok := fsys.nodePath(n); ok {
		e.FullPath = p
	}
	p := fsys.wb.enqueue(n, e, now, durable)
	fsys.tree.RUnlock()
	fsys.meta.put(e)
	return p
}

// save makes e the node's entry and returns once the filer applied it
// (durable: and has it on stable storage).
func (fsys *FS) save(ctx context.Context, n *node, e *filer.Entry, durable bool) error {
	defer fsys.stats.since("save", time.Now())
	fsys.tree.RLock()
	if p, ok := fsys.nodePath(n); ok {
		e.FullPath = p
	}
	fsys.tree.RUnlock()
	if !durable && fsys.freesChunks(e) {
		// The filer queues the chunks e drops for deletion; a crash of
		// the filer must not undo a save whose old chunks are gone.
		durable = true
	}
	fsys.meta.put(e)
	return fsys.wb.saveNow(ctx, n, e, durable)
}

// freesChunks reports whether saving e may drop chunks of the entry the
// filer has at its path: so when this mount's last known version of it
// held chunks e does not, or when that version is unknown and e is not a
// folder.
func (fsys *FS) freesChunks(e *filer.Entry) bool {
	if e.IsDirectory() {
		return false
	}
	old := fsys.wb.get(e.FullPath)
	if old == nil {
		var absent bool
		if old, absent, _ = fsys.meta.get(e.FullPath); absent {
			return false
		}
		if old == nil {
			return true
		}
	}
	if len(old.Chunks) == 0 {
		return false
	}
	kept := make(map[string]bool, len(e.Chunks))
	for _, c := range e.Chunks {
		kept[c.Fid] = true
	}
	for _, c := range old.Chunks {
		if !kept[c.Fid] {
			return true
		}
	}
	return false
}

// await waits for a staged save. A save the filer does not answer in
// time fails after about twice OpTimeout (one for a save before it in
// the queue); the write-back goes on trying.
func (fsys *FS) await(ctx context.Context, p *pendingSave) error {
	defer fsys.stats.since("save wait", time.Now())
	t := time.NewTimer(2 * fsys.opt.OpTimeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("%w: save of %s not answered", ErrFilerUnreachable, p.path)
	}
}

// settle saves every pending entry before a rename or delete, so none
// lands on a path that moved.
func (fsys *FS) settle() error {
	ctx, cancel := context.WithTimeout(fsys.ctx, fsys.opt.OpTimeout)
	defer cancel()
	if err := fsys.wb.sync(ctx); err != nil {
		return fmt.Errorf("%w: pending saves: %w", ErrFilerUnreachable, err)
	}
	return nil
}

// errno maps an error of a filer or blob call to what the kernel gets.
func errno(err error) syscall.Errno {
	var en syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &en):
		return en
	case errors.Is(err, filer.ErrNotFound):
		return syscall.ENOENT
	case errors.Is(err, filer.ErrNotEmpty):
		return syscall.ENOTEMPTY
	case errors.Is(err, filer.ErrConflict):
		return syscall.EEXIST
	case errors.Is(err, filer.ErrBadRename):
		return syscall.EINVAL
	case errors.Is(err, filer.ErrBadPath):
		return syscall.EINVAL
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	}
	return syscall.EIO
}

// opCtx is the context of one operation: not the kernel's (the Go
// runtime's preemption signals interrupt it), but bounded by the mount's.
func (fsys *FS) opCtx() context.Context { return fsys.ctx }
