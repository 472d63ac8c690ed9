package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"weedfs.dev/weed/filer"
)

const crashDirEnv = "WEED_EMBEDDED_CRASH_DIR"

// TestCrashChild is the process TestKill9 kills: it writes entries from
// 16 goroutines, alone and in transactions, and prints each one once its
// write returned. It does nothing unless started by TestKill9.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("runs only as TestKill9's child process")
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	ack := func(line string) {
		out.Lock()
		fmt.Fprintln(w, line)
		w.Flush()
		out.Unlock()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for { // until killed
				i := next.Add(1)
				ctx := context.Background()
				if i%2 == 0 {
					p := fmt.Sprintf("/crash/f%07d", i)
					if err := s.InsertEntry(ctx, &filer.Entry{FullPath: p, FileSize: uint64(i)}); err != nil {
						ack("error " + err.Error())
						return
					}
					ack("entry " + p)
					continue
				}
				p := fmt.Sprintf("/crash/t%07d", i)
				err := filer.WithTx(ctx, s, func(tx context.Context) error {
					if err := s.InsertEntry(tx, &filer.Entry{FullPath: p, FileSize: uint64(i)}); err != nil {
						return err
					}
					return s.KvPut(tx, []byte("tx"+p), []byte(p))
				})
				if err != nil {
					ack("error " + err.Error())
					return
				}
				ack("tx " + p)
			}
		}()
	}
	wg.Wait()
}

// TestKill9 kills a writing process with SIGKILL and checks that every
// write it acknowledged is there after reopening, and that each
// transaction is there whole or not at all.
func TestKill9(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("inside the child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const wantAcks = 3000
	var entries, txs []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && len(entries)+len(txs) < wantAcks {
		kind, p, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "entry":
			entries = append(entries, p)
		case "tx":
			txs = append(txs, p)
		case "error":
			t.Fatalf("child: %s", p)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(entries)+len(txs) < wantAcks {
		t.Fatalf("child stopped after %d acknowledged writes", len(entries)+len(txs))
	}

	s, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, p := range append(entries, txs...) {
		if _, err := s.FindEntry(ctx, p); err != nil {
			t.Fatalf("acknowledged %s lost: %v", p, err)
		}
	}
	// Every transaction that reached the store is whole, acknowledged or not.
	seen := 0
	_, err = s.ListDirectory(ctx, "/crash", "t", true, "t", 0, func(e *filer.Entry) bool {
		seen++
		v, err := s.KvGet(ctx, []byte("tx"+e.FullPath))
		if err != nil || string(v) != e.FullPath {
			t.Errorf("transaction %s torn: kv %q, %v", e.FullPath, v, err)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < len(txs) {
		t.Errorf("listed %d transactions, %d were acknowledged", seen, len(txs))
	}
	err = s.KvScan(ctx, []byte("tx/"), nil, 0, func(k, v []byte) bool {
		if _, err := s.FindEntry(ctx, string(v)); errors.Is(err, filer.ErrNotFound) {
			t.Errorf("transaction %s torn: kv without entry", v)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries and %d transactions acknowledged before kill -9; all present", len(entries), len(txs))
}
