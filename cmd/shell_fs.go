package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"
)

// The fs.* commands speak the filer's SeaweedFS-compatible HTTP API.

// listing is one page of a filer folder listing.
type listing struct {
	Path    string
	Entries []struct {
		FullPath string
		Mode     uint32
		FileSize int64
		Mtime    time.Time
	}
	LastFileName          string
	ShouldDisplayLoadMore bool
}

const modeDir = 1 << 31 // os.ModeDir, as the filer's JSON carries it

func (sh *shell) filerURL(p string) string {
	return "http://" + sh.filer + (&url.URL{Path: p}).EscapedPath()
}

// list calls fn for every entry of dir, page by page.
func (sh *shell) list(ctx context.Context, dir string, fn func(name string, isDir bool, size int64, mtime time.Time) error) error {
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	last := ""
	for {
		var page listing
		u := sh.filerURL(dir) + "?limit=1000&lastFileName=" + url.QueryEscape(last)
		if err := sh.doJSON(ctx, http.MethodGet, u, map[string]string{"Accept": "application/json"}, &page); err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range page.Entries {
			if err := fn(path.Base(e.FullPath), e.Mode&modeDir != 0, e.FileSize, e.Mtime); err != nil {
				return err
			}
		}
		if !page.ShouldDisplayLoadMore || page.LastFileName == "" || len(page.Entries) == 0 {
			return nil
		}
		last = page.LastFileName
	}
}

func oneArg(fs *flag.FlagSet, args []string, usage string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", errors.New("usage: " + usage)
	}
	p := fs.Arg(0)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p, nil
}

func shLs(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	long := fs.Bool("l", false, "sizes and times")
	if len(args) == 0 {
		args = []string{"/"}
	}
	dir, err := oneArg(fs, args, "fs.ls [-l] PATH")
	if err != nil {
		return err
	}
	return sh.list(ctx, dir, func(name string, isDir bool, size int64, mtime time.Time) error {
		if isDir {
			name += "/"
		}
		if *long {
			fmt.Fprintf(sh.out, "%12d %s %s\n", size, mtime.Format(time.RFC3339), name)
		} else {
			fmt.Fprintln(sh.out, name)
		}
		return nil
	})
}

func shCat(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	p, err := oneArg(fs, args, "fs.cat PATH")
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sh.filerURL(p), nil)
	if err != nil {
		return err
	}
	resp, err := sh.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", p, resp.StatusCode)
	}
	_, err = io.Copy(sh.out, resp.Body)
	return err
}

func shRm(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	recursive := fs.Bool("r", false, "delete a folder and everything in it")
	p, err := oneArg(fs, args, "fs.rm [-r] PATH")
	if err != nil {
		return err
	}
	u := sh.filerURL(p)
	if *recursive {
		u += "?recursive=true"
	}
	return sh.doJSON(ctx, http.MethodDelete, u, nil, nil)
}

func shMv(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return errors.New("usage: fs.mv SRC DST")
	}
	src, dst := fs.Arg(0), fs.Arg(1)
	return sh.doJSON(ctx, http.MethodPost, sh.filerURL(dst)+"?mv.from="+url.QueryEscape(src), nil, nil)
}

func shDu(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		args = []string{"/"}
	}
	root, err := oneArg(fs, args, "fs.du PATH")
	if err != nil {
		return err
	}
	var bytes, files, dirs int64
	var walk func(dir string) error
	walk = func(dir string) error {
		return sh.list(ctx, dir, func(name string, isDir bool, size int64, _ time.Time) error {
			if isDir {
				dirs++
				return walk(path.Join(dir, name))
			}
			files++
			bytes += size
			return nil
		})
	}
	if err := walk(root); err != nil {
		return err
	}
	fmt.Fprintf(sh.out, "%d bytes in %d files and %d folders under %s\n", bytes, files, dirs, root)
	return nil
}

// stdinOf is where the interactive shell reads commands.
func stdinOf(env *Env) io.Reader {
	if env.Stdin != nil {
		return env.Stdin
	}
	return os.Stdin
}
