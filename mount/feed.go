package mount

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/pb"
)

// Timing of the change-feed follower.
const (
	// feedHeartbeat is the heartbeat asked of the filer; a stream silent
	// for feedSilence is taken as dead and opened again.
	feedHeartbeat = time.Second
	feedSilence   = 4 * feedHeartbeat
	feedRetry     = 500 * time.Millisecond
	// feedOverlap: a reconnect asks again for events this far before the
	// last one seen (events of one instant may straddle the cut).
	feedOverlap = time.Millisecond
)

// follow applies the filer's change feed under the mount's root to the
// metadata cache until ctx ends, reconnecting after failures.
func (fsys *FS) follow(ctx context.Context) {
	since := time.Now().Add(-time.Second)
	first := true
	for ctx.Err() == nil {
		last, err := fsys.followOnce(ctx, since, !first)
		fsys.meta.setLive(false)
		if last.After(since) {
			since = last.Add(-feedOverlap)
		}
		first = false
		if ctx.Err() != nil {
			return
		}
		fsys.log.Debug("change feed interrupted", "err", err)
		t := time.NewTimer(feedRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// followOnce reads one stream of events from since. A reconnect drops
// the metadata cache once the stream is open: events were maybe missed.
func (fsys *FS) followOnce(ctx context.Context, since time.Time, reconnect bool) (time.Time, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := url.Values{
		"since":     {strconv.FormatInt(since.UnixNano(), 10)},
		"heartbeat": {strconv.FormatFloat(feedHeartbeat.Seconds(), 'f', -1, 64)},
		// This mount's own changes are left out.
		server.SignatureParam: {strconv.FormatInt(int64(fsys.filer.signature), 10)},
	}
	if fsys.root != "/" {
		q.Set("prefix", fsys.root)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fsys.filer.base+"/internal/events?"+q.Encode(), nil)
	if err != nil {
		return since, err
	}
	resp, err := fsys.filer.http.Do(req)
	if err != nil {
		return since, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return since, fmt.Errorf("change feed: HTTP %d", resp.StatusCode)
	}
	if reconnect {
		fsys.meta.clear()
	}
	fsys.meta.setLive(true)
	// A watchdog ends a stream that stopped sending heartbeats. Each
	// event pushes it back (a timer reset: no goroutine woken).
	watchdog := time.AfterFunc(feedSilence, func() {
		fsys.meta.setLive(false)
		cancel()
	})
	defer watchdog.Stop()
	r := bufio.NewReader(resp.Body)
	last := since
	for {
		ev, err := server.ReadEvent(r)
		if err != nil {
			return last, err
		}
		watchdog.Reset(feedSilence)
		if ts := time.Unix(0, ev.TsNs); ts.After(last) {
			last = ts
		}
		fsys.apply(ev)
	}
}

// apply brings the cache and the kernel up to date with one event (see
// meta_events.go).
func (fsys *FS) apply(ev *pb.EntryEvent) {
	var oldE, newE *filer.Entry
	if ev.OldEntry != nil {
		if oldE = filer.FromPB(ev.OldEntry); !fsys.under(oldE.FullPath) {
			oldE = nil
		}
	}
	if ev.NewEntry != nil {
		if newE = filer.FromPB(ev.NewEntry); !fsys.under(newE.FullPath) {
			newE = nil
		}
	}
	if oldE == nil && newE == nil {
		return // a heartbeat, or elsewhere
	}
	fsys.stats.add("feed event")
	staged := func(p string) bool { return fsys.wb.get(p) != nil }
	for _, p := range fsys.meta.applyEvent(oldE, newE, staged) {
		if newE != nil && p == newE.FullPath {
			fsys.notify(p, newE)
		} else {
			fsys.notify(p, nil)
		}
	}
}

func (fsys *FS) under(p string) bool {
	return fsys.root == "/" || p == fsys.root || strings.HasPrefix(p, fsys.root+"/")
}

// notify tells the kernel to forget what it caches of filer path p, and
// gives an open file without local changes the new entry e.
func (fsys *FS) notify(p string, e *filer.Entry) {
	if fsys.rootNode == nil {
		return
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, fsys.root), "/")
	if rel == "" {
		return
	}
	parent := &fsys.rootNode.Inode
	names := strings.Split(rel, "/")
	for _, name := range names[:len(names)-1] {
		if parent = parent.GetChild(name); parent == nil {
			return
		}
	}
	name := names[len(names)-1]
	ch := parent.GetChild(name)
	if ch != nil {
		if cn, ok := ch.Operations().(*node); ok && e != nil && !e.IsDirectory() {
			if f := cn.openFile(); f != nil {
				fsys.refresh(f, p)
			}
		}
		// A notification fails only when the kernel forgot the inode or
		// dentry already, or the mount is going away: nothing to do then.
		if !ch.IsDir() {
			_ = ch.NotifyContent(0, 0)
		}
	}
	_ = parent.NotifyEntry(name)
}

// refresh gives an open file without local changes the filer's entry at
// p. The event's own entry may be older than a commit of this mount that
// followed it, so the filer is asked, with no commit of f in flight.
func (fsys *FS) refresh(f *openFile, p string) {
	if fsys.wb.get(p) != nil {
		return // this mount's newer version is on its way
	}
	f.commitMu.Lock()
	defer f.commitMu.Unlock()
	f.mu.Lock()
	dirty := f.dirty()
	f.mu.Unlock()
	if dirty {
		return
	}
	ctx, cancel := context.WithTimeout(fsys.ctx, fsys.opt.OpTimeout)
	defer cancel()
	e, err := fsys.filer.find(ctx, p)
	if err != nil || e.IsDirectory() {
		return
	}
	f.mu.Lock()
	if !f.dirty() {
		f.entry = e
		f.viewOK = false
	}
	f.mu.Unlock()
}
