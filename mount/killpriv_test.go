package mount_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestKillSuidSgid: the mount takes over from the kernel the clearing of
// setuid/setgid (FUSE_HANDLE_KILLPRIV_V2), and must do it as the kernel
// does on a local disk: a write or truncate by a caller without
// CAP_FSETID drops setuid, and setgid when the file is group-executable;
// a chown drops them whoever does it; root's writes keep them. Each mode
// is checked through this mount and through a second one (what the filer
// saved).
func TestKillSuidSgid(t *testing.T) {
	requireFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root (files of another owner, and a writer without CAP_FSETID)")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("setpriv (util-linux) is missing under CI")
		}
		t.Skip("no setpriv (util-linux)")
	}
	fe := newFilerEnv(t)
	dir := t.TempDir()
	o := fe.options(dir)
	o.AllowOther = true // the writer is another user
	fe.mountAt(t, o)

	const nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups "
	type step struct {
		name  string
		mode  os.FileMode // set before, with owner
		owner int
		// as runs in the mount's folder, with the file's name as $f.
		as   string
		want os.FileMode
	}
	steps := []step{
		// A write by a user: both bits go (group-executable).
		{"write-user", os.ModeSetuid | os.ModeSetgid | 0o775, 65534, nobody + `sh -c 'printf x >> "$0"' "$f"`, 0o775},
		// setgid without group execute is not a privilege: it stays.
		{"write-user-nogx", os.ModeSetuid | os.ModeSetgid | 0o744, 65534, nobody + `sh -c 'printf x >> "$0"' "$f"`, os.ModeSetgid | 0o744},
		// root has CAP_FSETID: nothing goes.
		{"write-root", os.ModeSetuid | os.ModeSetgid | 0o775, 0, `printf x >> "$f"`, os.ModeSetuid | os.ModeSetgid | 0o775},
		// chown drops them, even by root.
		{"chown-root", os.ModeSetuid | os.ModeSetgid | 0o775, 0, `chown 1:1 "$f"`, 0o775},
		// open with O_TRUNC by a user.
		{"otrunc-user", os.ModeSetuid | 0o777, 0, nobody + `sh -c ': > "$0"' "$f"`, 0o777},
		// truncate(2) by a user.
		{"truncate-user", os.ModeSetuid | 0o777, 0, nobody + `truncate -s 1 "$f"`, 0o777},
	}
	for _, s := range steps {
		p := filepath.Join(dir, s.name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, s.owner, s.owner); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, s.mode); err != nil {
			t.Fatal(err)
		}
		if got := modeOf(t, p); got != s.mode {
			t.Fatalf("%s: mode %v after chmod, want %v", s.name, got, s.mode)
		}
		run(t, dir, fmt.Sprintf("f=%q; %s", s.name, s.as))
		if got := modeOf(t, p); got != s.want {
			t.Errorf("%s: mode %v, want %v", s.name, got, s.want)
		}
	}
	other, _ := fe.mount(t)
	for _, s := range steps {
		if got := modeOf(t, filepath.Join(other, s.name)); got != s.want {
			t.Errorf("%s: the filer has mode %v, want %v", s.name, got, s.want)
		}
	}
}

// modeOf is the permission and suid/sgid/sticky bits of path.
func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	m := os.FileMode(st.Mode & 0o777)
	if st.Mode&syscall.S_ISUID != 0 {
		m |= os.ModeSetuid
	}
	if st.Mode&syscall.S_ISGID != 0 {
		m |= os.ModeSetgid
	}
	if st.Mode&syscall.S_ISVTX != 0 {
		m |= os.ModeSticky
	}
	return m
}
