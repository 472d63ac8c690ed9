package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"

	"weedfs.dev/weed/security"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/vfs"
	"weedfs.dev/weed/volume"
)

// volumeFlags are `weed volume`'s flags, named as SeaweedFS names them.
type volumeFlags struct {
	hostFlags
	publicURL          string
	port               int
	dirs, max, masters string
	dataCenter, rack   string
	fileSizeLimitMB    int64
	index, whiteList   string
	fsync              bool
	pulseSeconds       int
	readMode           string
	localSocket        bool
}

func volumeCommand() *Command {
	c := &Command{Name: "volume", Short: "start a volume server that stores blobs in volume files", Usage: "[flags]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		var f volumeFlags
		fs := newFlagSet(env, c)
		f.register(fs, "")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		return f.run(ctx, env)
	}
	return c
}

// register adds the flags under prefix ("" for weed volume, "volume." for
// weed server).
func (f *volumeFlags) register(fs flagSet, prefix string) {
	if prefix == "" {
		f.hostFlags.register(fs, "this server")
		fs.StringVar(&f.masters, "master", "127.0.0.1:9333", "comma-separated master addresses")
		fs.StringVar(&f.dataCenter, "dataCenter", "", "data center of this server")
		fs.StringVar(&f.rack, "rack", "", "rack of this server")
		fs.StringVar(&f.whiteList, "whiteList", "", "comma-separated IPs/CIDRs allowed to write and administer (empty: all)")
		fs.StringVar(&f.dirs, "dir", "./data", "comma-separated folders to store volumes in")
	}
	fs.IntVar(&f.port, prefix+"port", 8080, "HTTP port")
	fs.StringVar(&f.publicURL, prefix+"publicUrl", "", "address clients read from (default ip:port)")
	fs.StringVar(&f.max, prefix+"max", "8", "most volumes per folder (comma list matching -dir, or one for all)")
	fs.Int64Var(&f.fileSizeLimitMB, prefix+"fileSizeLimitMB", 256, "largest upload in MiB")
	fs.StringVar(&f.index, prefix+"index", "memory", "needle map kind (memory)")
	fs.BoolVar(&f.fsync, prefix+"fsync", false, "sync every write to disk before acknowledging it")
	fs.IntVar(&f.pulseSeconds, prefix+"pulseSeconds", 5, "seconds between heartbeats")
	fs.StringVar(&f.readMode, prefix+"readMode", volume.ReadModeProxy, "reads of volumes held elsewhere: proxy, redirect or local (404)")
	fs.BoolVar(&f.localSocket, prefix+"localSocket", true, "take uploads from clients on this host (weed mount) through shared memory on a Unix socket in the first -dir")
}

// serveLocal serves same-host uploads (volume.Server.ServeLocal) until ctx
// ends, when -localSocket is on; a socket that cannot be made is logged and
// clients PUT over HTTP.
func (f *volumeFlags) serveLocal(ctx context.Context, srv *volume.Server, locs []storage.DiskLocation, log *slog.Logger) {
	if !f.localSocket || len(locs) == 0 {
		return
	}
	dir, err := filepath.Abs(locs[0].Dir)
	if err == nil {
		err = srv.ServeLocal(ctx, volume.LocalPath(dir, f.port))
	}
	if err != nil {
		log.Warn("no same-host uploads", "err", err)
	}
}

// check rejects flag values the volume server cannot use.
func (f *volumeFlags) check() error {
	switch f.readMode {
	case volume.ReadModeProxy, volume.ReadModeRedirect, volume.ReadModeLocal:
	default:
		return fmt.Errorf("-readMode %q: want proxy, redirect or local", f.readMode)
	}
	if f.index != "memory" {
		return fmt.Errorf("-index %q: only memory is supported", f.index)
	}
	return nil
}

func (f *volumeFlags) locations() ([]storage.DiskLocation, error) {
	dirs := splitList(f.dirs)
	if len(dirs) == 0 {
		return nil, fmt.Errorf("-dir is empty")
	}
	maxes := splitList(f.max)
	if len(maxes) != 1 && len(maxes) != len(dirs) {
		return nil, fmt.Errorf("-max has %d values for %d folders", len(maxes), len(dirs))
	}
	var locs []storage.DiskLocation
	for i, d := range dirs {
		m := maxes[0]
		if len(maxes) > 1 {
			m = maxes[i]
		}
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-max %q is not a volume count", m)
		}
		if err := checkDir(d); err != nil {
			return nil, err
		}
		locs = append(locs, storage.DiskLocation{Dir: d, MaxVolumes: n})
	}
	return locs, nil
}

func (f *volumeFlags) run(ctx context.Context, env *Env) error {
	log, err := newLogger(env, f.log)
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	wl, err := security.ParseWhiteList(f.whiteList)
	if err != nil {
		return err
	}
	sec, path, err := security.Load(security.SearchPaths())
	if err != nil {
		return err
	}
	locs, err := f.locations()
	if err != nil {
		return err
	}
	ln, err := listen(f.bindAddr(), f.port)
	if err != nil {
		return err
	}
	defer ln.Close()
	store, err := storage.OpenStore(ctx, vfs.Default(), locs, log, storage.StoreOptions{Fsync: f.fsync})
	if err != nil {
		return fmt.Errorf("open volumes: %w", err)
	}
	srv := volume.New(volume.Config{
		IP: f.ip, Port: f.port, PublicURL: f.publicURL,
		Masters:           splitList(f.masters),
		DataCenter:        f.dataCenter,
		Rack:              f.rack,
		FileSizeLimit:     f.fileSizeLimitMB << 20,
		Fsync:             f.fsync,
		ReadMode:          f.readMode,
		Security:          sec,
		WhiteList:         wl,
		HeartbeatInterval: secondsOr(f.pulseSeconds, 5),
		Version:           Version,
		Logger:            log,
	}, store)
	if path != "" {
		log.Info("security settings loaded", "file", path)
	}
	log.Info("volume server started", "addr", ln.Addr().String(), "dirs", f.dirs, "masters", f.masters)

	var wg sync.WaitGroup
	hbCtx, stopBeats := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.RunHeartbeats(hbCtx); err != nil {
			log.Warn("heartbeats stopped", "err", err)
		}
	}()
	localCtx, stopLocal := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.serveLocal(localCtx, srv, locs, log)
	}()
	err = serve(ctx, ln, srv.Handler(), log, serverGrace)
	stopLocal()
	srv.Stop()
	stopBeats()
	wg.Wait()
	if cerr := store.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close volumes: %w", cerr)
	}
	log.Info("volume server stopped")
	return err
}
