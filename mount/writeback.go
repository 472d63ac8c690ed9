package mount

import (
	"context"
	"sync"
	"syscall"
	"time"

	"weedfs.dev/weed/filer"
)

// Timing of metadata write-back.
const (
	// writeBackDelay is how long the entry of a file just created waits
	// before it is saved, so that the create and the close that usually
	// follows at once reach the filer as one save. Every other change is
	// due at once and its syscall waits for the save.
	writeBackDelay = 10 * time.Millisecond
	// writeBackWorkers saves run at once: the filer's store commits
	// concurrent transactions with one log sync.
	writeBackWorkers = 32
	// writeBackRetry is the pause before a failed save is tried again.
	writeBackRetry = 500 * time.Millisecond
)

// pendingSave is the newest entry of a node not yet saved.
type pendingSave struct {
	n    *node
	e    *filer.Entry
	path string // where e goes, as of the enqueue
	due  time.Time
	// durable: the filer must have the entry on stable storage before
	// it answers (fsync); otherwise applied is enough (close, chmod...).
	durable bool
	// done is closed when this version (or a newer one) is saved or
	// given up; err says which.
	done chan struct{}
	err  error
	busy bool // a worker is saving it
	dead bool // replaced by a newer version before it was saved
	next *pendingSave
	// folded are the versions this one replaced before they were saved:
	// they end with it (finish).
	folded []*pendingSave
}

// writeBack saves entries, newest version per node, several at once: the
// syscalls that change an entry wait for its save (close, chmod, mkdir...),
// and a file just created is saved with its close when that comes soon.
// Namespace changes (rename, delete) wait for it to be empty first (sync),
// so a late save never lands on a moved path.
type writeBack struct {
	fsys *FS

	mu     sync.Mutex
	byNode map[*node]*pendingSave
	byPath map[string]*pendingSave
	// queue holds the saves to start; dead and busy ones are skipped
	// when met.
	queue []*pendingSave
	// wake asks the loop to look at the queue now; timer wakes it when
	// the next delayed save is due (at armed, zero when not armed). A
	// delayed save arms the timer without waking the loop: a file
	// created and closed within writeBackDelay (its close saves it) costs
	// the loop nothing.
	wake    chan struct{}
	timer   *time.Timer
	armed   time.Time
	idle    *sync.Cond // signalled when a save ends
	running int
	// saves counts finished saves, so a lookup can tell that one ended
	// while it asked the filer (its answer may then be older).
	saves uint64
}

func newWriteBack(fsys *FS) *writeBack {
	w := &writeBack{fsys: fsys, byNode: map[*node]*pendingSave{}, byPath: map[string]*pendingSave{}, wake: make(chan struct{}, 1)}
	w.idle = sync.NewCond(&w.mu)
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	return w
}

// enqueue records e as the node's newest entry, saved at once when now
// (else after writeBackDelay) and on stable storage when durable; the
// result's done closes once it is saved.
func (w *writeBack) enqueue(n *node, e *filer.Entry, now, durable bool) *pendingSave {
	w.mu.Lock()
	defer w.mu.Unlock()
	due := time.Now()
	if !now {
		due = due.Add(writeBackDelay)
	}
	p := &pendingSave{n: n, e: e, path: e.FullPath, due: due, durable: durable, done: make(chan struct{})}
	if old := w.byNode[n]; old != nil {
		if old.busy {
			// Saved after the one in flight.
			if nx := old.next; nx != nil {
				w.fold(nx, p)
			}
			old.next = p
			w.byPath[p.path] = p
			return p
		}
		w.fold(old, p)
		old.dead = true
		if old.due.Before(p.due) {
			p.due = old.due
		}
	}
	w.byNode[n] = p
	w.byPath[p.path] = p
	w.queue = append(w.queue, p)
	if now {
		w.poke()
	} else {
		w.arm(p.due)
	}
	return p
}

// poke wakes the loop. w.mu is held.
func (w *writeBack) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// arm makes the loop wake by t. w.mu is held.
func (w *writeBack) arm(t time.Time) {
	if w.armed.IsZero() || t.Before(w.armed) {
		w.armed = t
		w.timer.Reset(time.Until(t))
	}
}

// saveNow records e as the node's newest entry and saves it at once,
// returning when it is saved. When no save of the node is under way and
// its folder is saved, the caller's goroutine saves it (no hand-off to a
// worker); else it waits its turn in the queue.
func (w *writeBack) saveNow(ctx context.Context, n *node, e *filer.Entry, durable bool) error {
	w.mu.Lock()
	old := w.byNode[n]
	if (old != nil && old.busy) || w.byPath[filer.Dir(e.FullPath)] != nil {
		w.mu.Unlock()
		return w.fsys.await(ctx, w.enqueue(n, e, true, durable))
	}
	p := &pendingSave{n: n, e: e, path: e.FullPath, due: time.Now(), durable: durable, done: make(chan struct{})}
	if old != nil {
		w.fold(old, p)
		old.dead = true
	}
	w.byNode[n] = p
	w.byPath[p.path] = p
	p.busy = true
	w.running++
	w.mu.Unlock()
	w.save(p)
	return p.err
}

// hurry makes the node's save waiting in the queue (if any) due now and
// returns the newest version not yet saved, or nil.
func (w *writeBack) hurry(n *node) *pendingSave {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.byNode[n]
	if p == nil {
		return nil
	}
	if p.next != nil {
		p = p.next // queued when the one in flight ends
	}
	if now := time.Now(); p.due.After(now) {
		p.due = now
		w.poke()
	}
	return p
}

// fold replaces the unsaved version old by p: old's waiters learn of p's
// save. w.mu is held.
func (w *writeBack) fold(old, p *pendingSave) {
	p.durable = p.durable || old.durable
	if w.byPath[old.path] == old {
		delete(w.byPath, old.path)
	}
	p.folded = append(p.folded, old)
}

// finish ends p, and the versions it replaced, with err. w.mu is held.
func finish(p *pendingSave, err error) {
	p.err = err
	close(p.done)
	for _, old := range p.folded {
		finish(old, err)
	}
	p.folded = nil
}

// saved returns how many saves have finished.
func (w *writeBack) saved() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.saves
}

// get returns the entry waiting to be saved at path p.
func (w *writeBack) get(p string) *filer.Entry {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s := w.byPath[p]; s != nil {
		return s.e
	}
	return nil
}

// children returns the entries waiting to be saved in folder dir.
func (w *writeBack) children(dir string) []*filer.Entry {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []*filer.Entry
	for p, s := range w.byPath {
		if filer.Dir(p) == dir && p != "/" {
			out = append(out, s.e)
		}
	}
	return out
}

// run saves due entries until ctx ends.
func (w *writeBack) run(ctx context.Context) {
	var wg sync.WaitGroup
	jobs := make(chan *pendingSave)
	for i := 0; i < writeBackWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				w.save(p)
			}
		}()
	}
	defer func() { close(jobs); wg.Wait() }()
	defer w.timer.Stop()
	for {
		for _, p := range w.due(false) {
			select {
			case jobs <- p:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-w.timer.C:
		}
	}
}

// due takes the saves whose time has come (all of them when now).
func (w *writeBack) due(now bool) []*pendingSave {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out, wait []*pendingSave
	t := time.Now()
	if !now {
		w.armed = time.Time{} // the loop is here: re-armed below
	}
	// The queue is short (files created in the last writeBackDelay, and
	// changes whose syscall waits), and not in due order: scan it all.
	for _, p := range w.queue {
		if p.dead || p.busy || w.byNode[p.n] != p {
			continue
		}
		if !now && t.Before(p.due) {
			wait = append(wait, p)
			w.arm(p.due)
			continue
		}
		if w.byPath[filer.Dir(p.path)] != nil {
			// Its folder is not saved yet: saved first, as the filer
			// would make the folder itself, with other attributes (the
			// folder's save pokes the loop).
			wait = append(wait, p)
			continue
		}
		p.busy = true
		w.running++
		out = append(out, p)
	}
	w.queue = wait
	if len(w.queue) == 0 {
		w.queue = nil // let the backing array go
	}
	return out
}

func (w *writeBack) save(p *pendingSave) {
	ctx, cancel := context.WithTimeout(w.fsys.ctx, w.fsys.opt.OpTimeout)
	err := w.fsys.commit(ctx, p.n, p.e.Clone(), p.durable)
	cancel()
	w.mu.Lock()
	w.running--
	w.saves++
	p.busy = false
	switch {
	case p.next != nil:
		// A newer version came meanwhile: it takes this one's place.
		w.byNode[p.n] = p.next
		w.queue = append(w.queue, p.next)
		if w.byPath[p.path] == p {
			delete(w.byPath, p.path)
		}
		finish(p, err)
	case err != nil && w.fsys.ctx.Err() == nil && errno(err) == syscall.EIO:
		// The filer is away: the syscall waiting learns it (EIO), and a
		// copy is kept and tried again later, unless a newer version
		// comes first.
		r := &pendingSave{n: p.n, e: p.e, path: p.path, due: time.Now().Add(writeBackRetry), durable: p.durable, done: make(chan struct{})}
		w.byNode[p.n] = r
		if w.byPath[p.path] == p {
			w.byPath[p.path] = r
		}
		w.queue = append(w.queue, r)
		w.arm(r.due)
		finish(p, err)
		w.fsys.log.Warn("metadata save failed, will retry", "path", p.path, "err", err)
	default:
		delete(w.byNode, p.n)
		if w.byPath[p.path] == p {
			delete(w.byPath, p.path)
		}
		finish(p, err)
		if err != nil {
			w.fsys.log.Warn("metadata save failed", "path", p.path, "err", err)
		}
	}
	if len(w.queue) > 0 {
		w.poke() // saves waiting for this one, or the next version
	}
	w.idle.Broadcast()
	w.mu.Unlock()
}

// sync saves everything pending now and waits until nothing is left
// (or ctx ends).
func (w *writeBack) sync(ctx context.Context) error {
	for {
		w.mu.Lock()
		empty := len(w.byNode) == 0 && w.running == 0
		w.mu.Unlock()
		if empty {
			return nil
		}
		for _, p := range w.due(true) {
			go w.save(p)
		}
		w.mu.Lock()
		if len(w.byNode) > 0 || w.running > 0 {
			stop := context.AfterFunc(ctx, func() { w.mu.Lock(); w.idle.Broadcast(); w.mu.Unlock() })
			w.idle.Wait()
			stop()
		}
		w.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
