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
