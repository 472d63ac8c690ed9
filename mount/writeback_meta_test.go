package mount_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/mount"
)

// TestCreatedFileSavedWhileOpen: the entry of a file created and still
// open reaches the filer after the write-back delay, without a close (and
// so without the save loop being woken by one).
func TestCreatedFileSavedWhileOpen(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	mnt, _ := fe.mount(t)
	onFiler := func(p string) error {
		resp, err := http.Get("http://" + fe.addr + server.MountPrefix + "entry?path=" + url.QueryEscape(p))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("filer: %s: %s", p, resp.Status)
		}
		return nil
	}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("open%d", i)
		f, err := os.Create(filepath.Join(mnt, name))
		if err != nil {
			t.Fatal(err)
		}
		// Closed even when the check fails: the mount cannot go with
		// the file open.
		t.Cleanup(func() { f.Close() })
		eventually(t, 3*time.Second, func() error { return onFiler("/" + name) })
	}
}

// TestOwnChangesNotEchoed: the filer leaves this mount's own changes out
// of the change feed it reads (the mount signs them), while changes of
// another client still arrive.
func TestOwnChangesNotEchoed(t *testing.T) {
	requireFUSE(t)
	fe := newFilerEnv(t)
	a, ma := fe.mount(t)
	b, _ := fe.mount(t)
	const files = 30
	if err := os.Mkdir(filepath.Join(a, "mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < files; i++ {
		if err := os.WriteFile(filepath.Join(a, "mine", fmt.Sprint(i)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(b, "theirs"), []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if n := mount.FeedEvents(ma.FS); n < 1 {
			return fmt.Errorf("the other mount's change has not arrived (%d events)", n)
		}
		return nil
	})
	// The feed is in the filer's order, and the other mount's change was
	// made after all of this one's: echoes, were there any, came first.
	if n := mount.FeedEvents(ma.FS); n >= files {
		t.Fatalf("the mount read %d events after making %d changes and seeing one of another mount's: its own came back", n, files+1)
	}
}
