package filer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of a path, as on common POSIX file systems.
const (
	// MaxNameLen is the longest name of one entry, in bytes.
	MaxNameLen = 255
	// MaxPathLen is the longest full path, in bytes.
	MaxPathLen = 4096
)

// NormalizePath checks p and returns it in the one form stores and the
// namespace use: absolute, segments separated by one '/', no trailing '/'
// (except the root "/" itself).
//
// Runs of '/' are collapsed and a trailing '/' is dropped, because neither
// can change which entry is meant ("/a//b/" is "/a/b"). Everything that
// could change it, or that no store can hold, is rejected with ErrBadPath:
// a relative path, a "." or ".." segment (never resolved, so nothing can
// climb out of the root), a NUL byte, bytes that are not UTF-8 (listings
// are JSON), a name over MaxNameLen bytes, a path over MaxPathLen bytes.
func NormalizePath(p string) (string, error) {
	if p == "" || p[0] != '/' {
		return "", fmt.Errorf("%q is not absolute: %w", p, ErrBadPath)
	}
	if len(p) > MaxPathLen {
		return "", fmt.Errorf("path of %d bytes is over %d: %w", len(p), MaxPathLen, ErrBadPath)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("%q holds a NUL byte: %w", p, ErrBadPath)
	}
	if !utf8.ValidString(p) {
		return "", fmt.Errorf("%q is not UTF-8: %w", p, ErrBadPath)
	}
	var b strings.Builder
	b.Grow(len(p))
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			continue
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%q has a %q segment: %w", p, seg, ErrBadPath)
		case len(seg) > MaxNameLen:
			return "", fmt.Errorf("name of %d bytes is over %d: %w", len(seg), MaxNameLen, ErrBadPath)
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return "/", nil
	}
	return b.String(), nil
}

// Dir returns the folder of a normalised path: Dir("/a/b") is "/a",
// Dir("/a") and Dir("/") are "/".
func Dir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// Name returns the last element of a normalised path: Name("/a/b") is "b",
// Name("/") is "".
func Name(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}

// Join returns the path of name inside the normalised folder dir. It does
// not check name; normalise the result if name comes from a user.
func Join(dir, name string) string {
	if dir == "/" || dir == "" {
		return "/" + name
	}
	return dir + "/" + name
}

// IsDescendant reports whether p lies strictly inside the normalised folder
// dir at any depth ("/a/b/c" is inside "/a/b"; "/a/bc" is not).
func IsDescendant(p, dir string) bool {
	if dir == "/" {
		return p != "/" && strings.HasPrefix(p, "/")
	}
	return len(p) > len(dir)+1 && strings.HasPrefix(p, dir) && p[len(dir)] == '/'
}
