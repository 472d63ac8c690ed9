package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/master"
	"weedfs.dev/weed/mount"
)

// mountMemoryLimit is the Go heap's soft limit in the mount process: the
// write buffers and read cache are bounded by their options, and this
// keeps the garbage collector from letting the rest grow far past them.
const mountMemoryLimit = 96 << 20

func mountCommand() *Command {
	c := &Command{Name: "mount", Short: "mount a filer's namespace as a FUSE file system", Usage: "-filer=host:8888 -dir=/mnt/point [flags]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		var (
			o                   mount.Options
			masters, level      string
			chunkMB, cacheChunk int
		)
		fs := newFlagSet(env, c)
		fs.StringVar(&o.Filer, "filer", "127.0.0.1:8888", "filer host:port")
		fs.StringVar(&masters, "master", "", "comma-separated masters chunks are assigned by (default: the filer's own)")
		fs.StringVar(&o.Dir, "dir", "", "mount point")
		fs.StringVar(&o.FilerPath, "filer.path", "/", "folder of the filer to mount")
		fs.StringVar(&o.CacheDir, "cacheDir", "", "folder for a disk cache of read chunks (empty: memory only)")
		fs.Int64Var(&o.CacheCapacityMB, "cacheCapacityMB", 1024, "size of the disk cache in MiB")
		fs.BoolVar(&o.ReadOnly, "readOnly", false, "mount read-only")
		fs.BoolVar(&o.AllowOther, "allowOther", false, "let other users use the mount (with kernel permission checks)")
		fs.IntVar(&chunkMB, "chunkSizeLimitMB", int(mount.DefaultChunkSize>>20), "size of the chunks writes are cut into, MiB")
		fs.IntVar(&o.WriteBuffers, "writeBuffers", mount.DefaultWriteBuffers, "chunks of dirty data held at most (memory bound of writes)")
		fs.IntVar(&cacheChunk, "readCacheChunks", mount.DefaultReadCacheChunks, "chunks the memory read cache holds")
		fs.StringVar(&o.Collection, "collection", "", "collection of the chunks written")
		fs.StringVar(&o.Replication, "replication", "", "replication of the chunks written (default: the master's)")
		fs.BoolVar(&o.Fsync, "fsync", false, "volume servers sync each chunk before answering")
		fs.StringVar(&level, "v", "info", "log level: debug, info, warn, error")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		if o.Dir == "" {
			return fmt.Errorf("-dir is required")
		}
		if chunkMB <= 0 || chunkMB > 64 {
			return fmt.Errorf("-chunkSizeLimitMB %d is not in 1..64", chunkMB)
		}
		o.ChunkSize = int64(chunkMB) << 20
		o.ReadCacheChunks = cacheChunk
		log, err := newLogger(env, level)
		if err != nil {
			return err
		}
		o.Masters = splitList(masters)
		if len(o.Masters) == 0 {
			if o.Masters, err = filerMasters(ctx, o.Filer); err != nil {
				// An older filer: guess the usual layout.
				host, _, serr := net.SplitHostPort(o.Filer)
				if serr != nil {
					return fmt.Errorf("-filer %q: %w", o.Filer, serr)
				}
				o.Masters = []string{net.JoinHostPort(host, strconv.Itoa(master.DefaultPort))}
				log.Warn("the filer did not name its masters; trying its host", "err", err, "masters", o.Masters)
			}
		}
		o.Logger = log
		debug.SetMemoryLimit(mountMemoryLimit)
		m, err := mount.Start(ctx, o)
		if err != nil {
			return err
		}
		log.Info("mounted", "dir", o.Dir, "filer", o.Filer, "path", o.FilerPath, "masters", o.Masters)
		select {
		case <-ctx.Done():
			if err := m.Unmount(); err != nil {
				return fmt.Errorf("unmount %s: %w", o.Dir, err)
			}
		case <-m.Done():
		}
		log.Info("unmounted", "dir", o.Dir)
		return nil
	}
	return c
}

// filerMasters asks a filer which masters assign its chunks.
func filerMasters(ctx context.Context, filerAddr string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := "http://" + filerAddr + server.MountPrefix + server.MountConfig
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	var reply server.MountConfigReply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&reply); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if len(reply.Masters) == 0 {
		return nil, fmt.Errorf("GET %s: no masters named", u)
	}
	return reply.Masters, nil
}
