package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"

	"weedfs.dev/weed/client"
)

// uploadResult is SeaweedFS's SubmitResult JSON.
type uploadResult struct {
	FileName string `json:"fileName,omitempty"`
	FileURL  string `json:"fileUrl,omitempty"`
	Fid      string `json:"fid,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Error    string `json:"error,omitempty"`
}

func uploadCommand() *Command {
	c := &Command{Name: "upload", Short: "upload files (or folders, recursively) and print their file ids as JSON", Usage: "[flags] FILE|DIR..."}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlagSet(env, c)
		master := fs.String("master", "localhost:9333", "comma-separated master addresses")
		var o client.AssignOptions
		fs.StringVar(&o.Collection, "collection", "", "collection")
		fs.StringVar(&o.Replication, "replication", "", "replica placement, e.g. 001")
		fs.StringVar(&o.TTL, "ttl", "", "time to live, e.g. 3m, 4h, 5d")
		fs.StringVar(&o.DataCenter, "dataCenter", "", "preferred data center")
		fs.StringVar(&o.DiskType, "disk", "", "disk type")
		dir := fs.String("dir", "", "upload every file under this folder")
		include := fs.String("include", "", "with folders: only files whose name matches this glob, e.g. *.pdf")
		maxMB := fs.Int("maxMB", 4, "files larger than this many MiB are split into chunks plus a manifest")
		if err := parseFlags(fs, args, true); err != nil {
			return err
		}
		paths := fs.Args()
		if *dir != "" {
			paths = append(paths, *dir)
		}
		if len(paths) == 0 {
			return fmt.Errorf("nothing to upload: name files or folders")
		}
		if *maxMB <= 0 {
			return fmt.Errorf("-maxMB must be positive")
		}
		if _, err := filepath.Match(*include, "x"); err != nil {
			return fmt.Errorf("-include %q: %w", *include, err)
		}
		files, err := collectFiles(paths, *include)
		if err != nil {
			return err
		}
		cl := client.New(splitList(*master), client.Options{})
		prog := newProgress(env.Stderr, len(files))
		results := make([]uploadResult, 0, len(files))
		failed := 0
		for _, f := range files {
			r := uploadOne(ctx, cl, f, o, int64(*maxMB)<<20)
			if r.Error != "" {
				failed++
			}
			results = append(results, r)
			prog.step(r.Size)
		}
		prog.done()
		b, err := json.Marshal(results)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, string(b))
		if failed > 0 {
			return fmt.Errorf("%d of %d uploads failed", failed, len(files))
		}
		return nil
	}
	return c
}

// collectFiles expands folders into the regular files under them.
func collectFiles(paths []string, include string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if include != "" {
				if ok, _ := filepath.Match(include, d.Name()); !ok {
					return nil
				}
			}
			files = append(files, path)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func uploadOne(ctx context.Context, cl *client.Client, path string, o client.AssignOptions, chunk int64) uploadResult {
	name := filepath.Base(path)
	res := uploadResult{FileName: name}
	fail := func(err error) uploadResult { res.Error = err.Error(); return res }
	f, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	mimeType := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	if st.Size() > chunk {
		fid, size, err := cl.UploadChunked(ctx, f, client.ChunkedUploadOptions{Assign: o, Name: name, Mime: mimeType, ChunkSize: chunk})
		if err != nil {
			return fail(err)
		}
		res.Fid, res.Size = fid, size
		res.FileURL = fileURL(ctx, cl, fid)
		return res
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fail(err)
	}
	a, err := cl.Assign(ctx, o)
	if err != nil {
		return fail(err)
	}
	if _, err := cl.Upload(ctx, a.URL, a.Fid, data, client.UploadOptions{Name: name, Mime: mimeType, JWT: a.Auth, TTL: o.TTL}); err != nil {
		return fail(err)
	}
	res.Fid, res.Size, res.FileURL = a.Fid, int64(len(data)), a.PublicURL+"/"+a.Fid
	return res
}

// fileURL is where a fid can be read, as `weed upload` prints it.
func fileURL(ctx context.Context, cl *client.Client, fid string) string {
	vid, _, _ := strings.Cut(fid, ",")
	var id uint32
	if _, err := fmt.Sscan(vid, &id); err != nil {
		return ""
	}
	locs, err := cl.Lookup(ctx, id)
	if err != nil || len(locs) == 0 {
		return ""
	}
	return locs[0].PublicURL + "/" + fid
}

// progress draws a one-line counter on a terminal, nothing elsewhere.
type progress struct {
	w            io.Writer
	on           bool
	total, count int
	bytes        int64
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = total > 1
		}
	}
	return p
}

func (p *progress) step(n int64) {
	p.count++
	p.bytes += n
	if p.on {
		fmt.Fprintf(p.w, "\r%d/%d files, %.1f MiB", p.count, p.total, float64(p.bytes)/(1<<20))
	}
}

func (p *progress) done() {
	if p.on {
		fmt.Fprintln(p.w)
	}
}
