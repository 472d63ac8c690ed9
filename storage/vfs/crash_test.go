package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"
)

const testDir = "/vol"

func newTestFS(t *testing.T) *CrashFS {
	t.Helper()
	c := NewCrashFS()
	if err := c.MkdirAll(testDir, 0o755); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustCreate(t *testing.T, c *CrashFS, name string) File {
	t.Helper()
	f, err := c.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustWrite(t *testing.T, f File, s string) {
	t.Helper()
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func mustSync(t *testing.T, f File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// content returns the file's content, or "<absent>".
func content(t *testing.T, c *CrashFS, name string) string {
	t.Helper()
	b, err := c.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "<absent>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCrashSyncedSurvivesUnsyncedLost(t *testing.T) {
	c := newTestFS(t)
	f := mustCreate(t, c, "/vol/1.dat")
	mustWrite(t, f, "synced|")
	mustSync(t, f)
	mustWrite(t, f, "lost")
	if got := content(t, c, "/vol/1.dat"); got != "synced|lost" {
		t.Fatalf("before the crash the program sees %q", got)
	}
	if got := content(t, c.Crash(DropUnsynced), "/vol/1.dat"); got != "synced|" {
		t.Fatalf("after the crash: %q, want %q", got, "synced|")
	}
	// A second sync makes the rest durable.
	mustSync(t, f)
	if got := content(t, c.Crash(DropUnsynced), "/vol/1.dat"); got != "synced|lost" {
		t.Fatalf("after sync and crash: %q", got)
	}
}

func TestCrashTornPrefixAtEveryByte(t *testing.T) {
	c := newTestFS(t)
	f := mustCreate(t, c, "/vol/1.idx")
	mustWrite(t, f, "AAAA")
	mustSync(t, f)
	mustWrite(t, f, "BBBB")
	if _, err := f.WriteAt([]byte("cc"), 1); err != nil { // unsynced overwrite inside
		t.Fatal(err)
	}
	last := "DDDDDDDD"
	mustWrite(t, f, last)
	for keep := 0; keep <= len(last); keep++ {
		var gotName string
		r := c.CrashWith(CrashOptions{Mode: KeepPrefixOfLastWrite, TornLen: func(name string, n int) int {
			gotName = name
			if n != len(last) {
				t.Errorf("TornLen asked about a write of %d bytes, want %d", n, len(last))
			}
			return keep
		}})
		want := "AccABBBB" + last[:keep]
		if got := content(t, r, "/vol/1.idx"); got != want {
			t.Fatalf("keep %d: %q, want %q", keep, got, want)
		}
		if gotName != "/vol/1.idx" {
			t.Fatalf("TornLen got name %q", gotName)
		}
	}
	// Default: half of the last write; out-of-range lengths are clamped.
	if got := content(t, c.Crash(KeepPrefixOfLastWrite), "/vol/1.idx"); got != "AccABBBBDDDD" {
		t.Fatalf("default torn length: %q", got)
	}
	r := c.CrashWith(CrashOptions{Mode: KeepPrefixOfLastWrite, TornLen: func(string, int) int { return 99 }})
	if got := content(t, r, "/vol/1.idx"); got != "AccABBBB"+last {
		t.Fatalf("clamped torn length: %q", got)
	}
	if got := content(t, c.Crash(DropUnsynced), "/vol/1.idx"); got != "AAAA" {
		t.Fatalf("DropUnsynced: %q", got)
	}
}

func TestCrashUnsyncedTruncateLost(t *testing.T) {
	c := newTestFS(t)
	f := mustCreate(t, c, "/vol/1.dat")
	mustWrite(t, f, "0123456789")
	mustSync(t, f)
	if err := f.Truncate(4); err != nil {
		t.Fatal(err)
	}
	if got := content(t, c.Crash(DropUnsynced), "/vol/1.dat"); got != "0123456789" {
		t.Fatalf("unsynced truncate survived: %q", got)
	}
	// A truncate before the torn write is replayed in KeepPrefix mode.
	if _, err := f.WriteAt([]byte("XY"), 4); err != nil {
		t.Fatal(err)
	}
	if got := content(t, c.Crash(KeepPrefixOfLastWrite), "/vol/1.dat"); got != "0123X" {
		t.Fatalf("truncate then torn write: %q, want %q", got, "0123X")
	}
	mustSync(t, f)
	if got := content(t, c.Crash(DropUnsynced), "/vol/1.dat"); got != "0123XY" {
		t.Fatalf("synced truncate: %q", got)
	}
}

func TestCrashCreateDurability(t *testing.T) {
	t.Run("neither synced", func(t *testing.T) {
		c := newTestFS(t)
		f := mustCreate(t, c, "/vol/a")
		mustWrite(t, f, "x")
		if got := content(t, c.Crash(KeepPrefixOfLastWrite), "/vol/a"); got != "<absent>" {
			t.Fatalf("unsynced create survived: %q", got)
		}
	})
	t.Run("file synced", func(t *testing.T) {
		c := newTestFS(t)
		f := mustCreate(t, c, "/vol/a")
		mustWrite(t, f, "x")
		mustSync(t, f)
		if got := content(t, c.Crash(DropUnsynced), "/vol/a"); got != "x" {
			t.Fatalf("synced file: %q", got)
		}
	})
	t.Run("dir synced only", func(t *testing.T) {
		c := newTestFS(t)
		f := mustCreate(t, c, "/vol/a")
		mustWrite(t, f, "x")
		if err := c.SyncDir(testDir); err != nil {
			t.Fatal(err)
		}
		// The name is durable, the unsynced data is not.
		if got := content(t, c.Crash(DropUnsynced), "/vol/a"); got != "" {
			t.Fatalf("dir synced, data not: %q, want empty file", got)
		}
	})
	t.Run("other dir synced", func(t *testing.T) {
		c := newTestFS(t)
		if err := c.MkdirAll("/other", 0o755); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, c, "/vol/a")
		if err := c.SyncDir("/other"); err != nil {
			t.Fatal(err)
		}
		if got := content(t, c.Crash(DropUnsynced), "/vol/a"); got != "<absent>" {
			t.Fatalf("syncing another directory made the create durable: %q", got)
		}
	})
}

// writeDurable creates name with s and makes both content and name durable.
func writeDurable(t *testing.T, c *CrashFS, name, s string) File {
	t.Helper()
	f := mustCreate(t, c, name)
	mustWrite(t, f, s)
	mustSync(t, f)
	if err := c.SyncDir(testDir); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCrashRenameDurability(t *testing.T) {
	setup := func(t *testing.T) (*CrashFS, File) {
		c := newTestFS(t)
		writeDurable(t, c, "/vol/1.dat", "old")
		f := writeDurable(t, c, "/vol/1.cpd", "new")
		if err := c.Rename("/vol/1.cpd", "/vol/1.dat"); err != nil {
			t.Fatal(err)
		}
		return c, f
	}
	t.Run("not synced", func(t *testing.T) {
		c, _ := setup(t)
		r := c.Crash(DropUnsynced)
		if a, b := content(t, r, "/vol/1.dat"), content(t, r, "/vol/1.cpd"); a != "old" || b != "new" {
			t.Fatalf("unsynced rename survived: dat %q cpd %q", a, b)
		}
	})
	t.Run("dir synced", func(t *testing.T) {
		c, _ := setup(t)
		if err := c.SyncDir(testDir); err != nil {
			t.Fatal(err)
		}
		r := c.Crash(DropUnsynced)
		if a, b := content(t, r, "/vol/1.dat"), content(t, r, "/vol/1.cpd"); a != "new" || b != "<absent>" {
			t.Fatalf("after SyncDir: dat %q cpd %q", a, b)
		}
	})
	t.Run("file synced after", func(t *testing.T) {
		c, f := setup(t)
		mustSync(t, f)
		r := c.Crash(DropUnsynced)
		if a, b := content(t, r, "/vol/1.dat"), content(t, r, "/vol/1.cpd"); a != "new" || b != "<absent>" {
			t.Fatalf("after file sync: dat %q cpd %q", a, b)
		}
	})
}

func TestCrashRemoveDurability(t *testing.T) {
	c := newTestFS(t)
	writeDurable(t, c, "/vol/1.cpc", "commit")
	if err := c.Remove("/vol/1.cpc"); err != nil {
		t.Fatal(err)
	}
	if got := content(t, c, "/vol/1.cpc"); got != "<absent>" {
		t.Fatalf("removed file still visible: %q", got)
	}
	if got := content(t, c.Crash(DropUnsynced), "/vol/1.cpc"); got != "commit" {
		t.Fatalf("unsynced remove survived the crash: %q", got)
	}
	if err := c.SyncDir(testDir); err != nil {
		t.Fatal(err)
	}
	if got := content(t, c.Crash(DropUnsynced), "/vol/1.cpc"); got != "<absent>" {
		t.Fatalf("synced remove undone: %q", got)
	}
}

func TestCrashRemoveDurableBySyncOfOpenHandle(t *testing.T) {
	c := newTestFS(t)
	f := writeDurable(t, c, "/vol/x", "data")
	if err := c.Remove("/vol/x"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, f)
	if got := content(t, c.Crash(DropUnsynced), "/vol/x"); got != "<absent>" {
		t.Fatalf("remove then sync of the open file: %q", got)
	}
}

// script runs a fixed sequence of operations and returns the first error.
func script(c *CrashFS) error {
	f, err := c.OpenFile("/vol/1.dat", os.O_RDWR|os.O_CREATE, 0o644) // op 1
	if err != nil {
		return err
	}
	defer f.Close()
	steps := []func() error{
		func() error { _, err := f.Write([]byte("ab")); return err },     // op 2
		func() error { _, err := f.WriteAt([]byte("c"), 2); return err }, // op 3
		f.Sync,                                // op 4
		func() error { return f.Truncate(1) }, // op 5
		func() error { return c.SyncDir(testDir) },                   // op 6
		func() error { return c.Rename("/vol/1.dat", "/vol/2.dat") }, // op 7
		func() error { return c.Remove("/vol/2.dat") },               // op 8
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

const scriptOps = 8

func TestCrashErrCrashedFromCrashPoint(t *testing.T) {
	c := NewCrashFS()
	if err := script(c); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("script without /vol: %v", err)
	}
	c = newTestFS(t) // MkdirAll is op 1 here
	before := c.Ops()
	if err := script(c); err != nil {
		t.Fatal(err)
	}
	if got := c.Ops() - before; got != scriptOps {
		t.Fatalf("script counted %d operations, want %d", got, scriptOps)
	}
	for n := 1; n <= scriptOps; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c := newTestFS(t)
			base := c.Ops()
			c.SetCrashAt(base + n)
			err := script(c)
			if !errors.Is(err, ErrCrashed) {
				t.Fatalf("crash at op %d: script returned %v", n, err)
			}
			if got := c.Ops() - base; got != n {
				t.Fatalf("crash at op %d: %d operations attempted", n, got)
			}
			if !c.Crashed() {
				t.Fatal("Crashed() = false")
			}
			// Every later call fails, reads included.
			if _, err := c.Stat(testDir); !errors.Is(err, ErrCrashed) {
				t.Fatalf("Stat after the crash: %v", err)
			}
			if err := c.MkdirAll("/x", 0o755); !errors.Is(err, ErrCrashed) {
				t.Fatalf("MkdirAll after the crash: %v", err)
			}
			// The rebooted file system works.
			r := c.Crash(DropUnsynced)
			if _, err := r.Stat(testDir); err != nil {
				t.Fatalf("rebooted Stat: %v", err)
			}
			// The state after the reboot reflects exactly the ops before n:
			// the file name and "abc" are durable from op 4 (file sync) on;
			// the truncate, rename and remove never are (nothing synced
			// after them).
			got := content(t, r, "/vol/1.dat")
			want := "<absent>"
			if n > 4 {
				want = "abc"
			}
			if got != want {
				t.Fatalf("crash at op %d: 1.dat = %q, want %q", n, got, want)
			}
			if got := content(t, r, "/vol/2.dat"); got != "<absent>" {
				t.Fatalf("crash at op %d: 2.dat = %q, want absent", n, got)
			}
		})
	}
}

func TestCrashOriginalKeepsWorking(t *testing.T) {
	c := newTestFS(t)
	f := writeDurable(t, c, "/vol/a", "one")
	r := c.Crash(DropUnsynced)
	mustWrite(t, f, "two")
	mustSync(t, f)
	if got := content(t, r, "/vol/a"); got != "one" {
		t.Fatalf("rebooted copy changed by writes to the original: %q", got)
	}
	g, err := r.OpenFile("/vol/a", os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, g, "!")
	if got := content(t, r.Crash(DropUnsynced), "/vol/a"); got != "one" {
		t.Fatalf("second reboot: %q", got)
	}
	if got := content(t, c, "/vol/a"); got != "onetwo" {
		t.Fatalf("original changed by the rebooted copy: %q", got)
	}
}

func TestCrashConcurrentUse(t *testing.T) {
	c := newTestFS(t)
	f := mustCreate(t, c, "/vol/1.dat")
	const writers, records = 4, 200
	rec := func(w, i int) []byte { return []byte(fmt.Sprintf("%02d%06d", w, i)) }
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range records {
				off := int64((w*records + i) * 8)
				if _, err := f.WriteAt(rec(w, i), off); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					if err := f.Sync(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
		go func() { // a reader racing the writers
			defer wg.Done()
			buf := make([]byte, 8)
			for i := range records {
				f.ReadAt(buf, int64(i*8))
				c.Stat("/vol/1.dat")
			}
		}()
	}
	wg.Wait()
	mustSync(t, f)
	got := content(t, c.Crash(DropUnsynced), "/vol/1.dat")
	for w := range writers {
		for i := range records {
			off := (w*records + i) * 8
			if !bytes.Equal([]byte(got[off:off+8]), rec(w, i)) {
				t.Fatalf("record %d/%d = %q", w, i, got[off:off+8])
			}
		}
	}
}

// TestCrashOpCounting: reads and plain opens are not operations; O_TRUNC,
// MkdirAll of an existing directory and every change are.
func TestCrashOpCounting(t *testing.T) {
	c := newTestFS(t)
	f := writeDurable(t, c, "/vol/a", "abc")
	base := c.Ops()
	g, err := c.OpenFile("/vol/a", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 3)
	g.ReadAt(buf, 0)
	g.Read(buf)
	g.Stat()
	c.Stat("/vol/a")
	c.ReadDir("/vol")
	c.ReadFile("/vol/a")
	g.Close()
	if got := c.Ops() - base; got != 0 {
		t.Fatalf("reads counted %d operations", got)
	}
	steps := []func() error{
		func() error { return c.MkdirAll("/vol", 0o755) },
		func() error {
			h, err := c.OpenFile("/vol/a", os.O_RDWR|os.O_TRUNC, 0)
			if err == nil {
				h.Close()
			}
			return err
		},
		func() error { _, err := f.WriteAt([]byte("z"), 0); return err },
		func() error { return f.Truncate(0) },
		f.Sync,
	}
	for i, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
		if got := c.Ops() - base; got != i+1 {
			t.Fatalf("after step %d: %d operations", i, got)
		}
	}
	// The O_TRUNC is a change of content like any other: lost unless synced.
	c2 := newTestFS(t)
	writeDurable(t, c2, "/vol/b", "keep")
	h, err := c2.OpenFile("/vol/b", os.O_RDWR|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := content(t, c2, "/vol/b"); got != "" {
		t.Fatalf("after O_TRUNC: %q", got)
	}
	if got := content(t, c2.Crash(DropUnsynced), "/vol/b"); got != "keep" {
		t.Fatalf("unsynced O_TRUNC survived: %q", got)
	}
}
