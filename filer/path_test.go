package filer

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizePath(t *testing.T) {
	long := strings.Repeat("n", MaxNameLen)
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "/", want: "/"},
		{in: "/a", want: "/a"},
		{in: "/a/b/c.txt", want: "/a/b/c.txt"},
		{in: "/a/b/", want: "/a/b"},
		{in: "//a///b//", want: "/a/b"},
		{in: "///", want: "/"},
		{in: "/ünï cødé/日本 😀", want: "/ünï cødé/日本 😀"},
		{in: "/a/..b/c..", want: "/a/..b/c.."}, // dots inside a name are fine
		{in: "/.hidden/...", want: "/.hidden/..."},
		{in: "/" + long, want: "/" + long},
		{in: "", bad: true},
		{in: "a/b", bad: true},
		{in: "/a/../b", bad: true},
		{in: "/..", bad: true},
		{in: "/a/..", bad: true},
		{in: "/a/./b", bad: true},
		{in: "/.", bad: true},
		{in: "/a\x00b", bad: true},
		{in: "/a/\xff\xfe", bad: true},
		{in: "/" + long + "x", bad: true},
		{in: strings.Repeat("/abcdefgh", MaxPathLen/9+1), bad: true},
	}
	for _, c := range cases {
		got, err := NormalizePath(c.in)
		if c.bad {
			if !errors.Is(err, ErrBadPath) {
				t.Errorf("NormalizePath(%q) = %q, %v; want ErrBadPath", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("NormalizePath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestDirNameJoin(t *testing.T) {
	cases := []struct{ path, dir, name string }{
		{"/", "/", ""},
		{"/a", "/", "a"},
		{"/a/b", "/a", "b"},
		{"/a/b/c d", "/a/b", "c d"},
	}
	for _, c := range cases {
		if d, n := Dir(c.path), Name(c.path); d != c.dir || n != c.name {
			t.Errorf("Dir, Name(%q) = %q, %q; want %q, %q", c.path, d, n, c.dir, c.name)
		}
		if c.path != "/" {
			if j := Join(c.dir, c.name); j != c.path {
				t.Errorf("Join(%q, %q) = %q, want %q", c.dir, c.name, j, c.path)
			}
		}
	}
}

func TestIsDescendant(t *testing.T) {
	cases := []struct {
		p, dir string
		want   bool
	}{
		{"/a/b/c", "/a/b", true},
		{"/a/b/c/d", "/a/b", true},
		{"/a/b", "/a/b", false},
		{"/a/bc", "/a/b", false},
		{"/a/bc/d", "/a/b", false},
		{"/a/b-x", "/a/b", false},
		{"/a", "/", true},
		{"/", "/", false},
		{"/a", "/a/b", false},
	}
	for _, c := range cases {
		if got := IsDescendant(c.p, c.dir); got != c.want {
			t.Errorf("IsDescendant(%q, %q) = %v", c.p, c.dir, got)
		}
	}
}

// FuzzNormalizePath checks that a normalised path is stable, safe and
// within the limits, and that Dir and Name put it back together.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "//a//b/", "/a/../b", "/a\x00", "a", "/ü/😀", "/.", "/a/.../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := NormalizePath(in)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("error not ErrBadPath: %v", err)
			}
			return
		}
		if again, err := NormalizePath(p); err != nil || again != p {
			t.Fatalf("not stable: %q -> %q -> %q, %v", in, p, again, err)
		}
		if !strings.HasPrefix(p, "/") || (p != "/" && strings.HasSuffix(p, "/")) || strings.Contains(p, "//") {
			t.Fatalf("bad form %q", p)
		}
		if len(p) > MaxPathLen || !utf8.ValidString(p) || strings.IndexByte(p, 0) >= 0 {
			t.Fatalf("limits broken: %q", p)
		}
		for _, seg := range strings.Split(p[1:], "/") {
			if seg == ".." || seg == "." || len(seg) > MaxNameLen {
				t.Fatalf("segment %q in %q", seg, p)
			}
		}
		if p != "/" && Join(Dir(p), Name(p)) != p {
			t.Fatalf("Join(Dir, Name) of %q is %q", p, Join(Dir(p), Name(p)))
		}
	})
}
