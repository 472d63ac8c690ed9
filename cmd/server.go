package cmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"

	"weedfs.dev/weed/master"
	"weedfs.dev/weed/storage"
	"weedfs.dev/weed/storage/vfs"
	"weedfs.dev/weed/volume"
)

// serverFlags are `weed server`'s own flags; the volume server's come with
// a "volume." prefix, as in SeaweedFS.
type serverFlags struct {
	hostFlags
	dir, whiteList string
	pulseSeconds   int
	master         masterFlags
	volume         volumeFlags
	withFiler      bool
	filer          filerFlags
}

func serverCommand() *Command {
	c := &Command{Name: "server", Short: "start a master and a volume server in one process (the embedded default)", Usage: "[flags]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		var f serverFlags
		fs := newFlagSet(env, c)
		f.hostFlags.register(fs, "the servers")
		fs.StringVar(&f.dir, "dir", "./data", "data folder: volumes, and the master's metadata under master/")
		fs.StringVar(&f.whiteList, "whiteList", "", "comma-separated IPs/CIDRs allowed to write and administer (empty: all)")
		fs.IntVar(&f.pulseSeconds, "pulseSeconds", 5, "seconds between heartbeats")
		f.master.register(fs, "master.")
		f.volume.register(fs, "volume.")
		fs.BoolVar(&f.withFiler, "filer", false, "also run a filer (its data under -dir/filer unless -filer.dir is set)")
		f.filer.register(fs, "filer.")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		return f.run(ctx, env)
	}
	return c
}

func (f *serverFlags) run(ctx context.Context, env *Env) error {
	log, err := newLogger(env, f.log)
	if err != nil {
		return err
	}
	bind := f.bindAddr()
	f.master.ip, f.master.bind, f.master.whiteList, f.master.pulseSeconds = f.ip, bind, f.whiteList, f.pulseSeconds
	if f.master.mdir == "" {
		f.master.mdir = filepath.Join(f.dir, "master")
	}
	mcfg, err := f.master.config(log.With("server", "master"))
	if err != nil {
		return err
	}
	if err := f.volume.check(); err != nil {
		return err
	}
	f.volume.dirs = f.dir
	locs, err := f.volume.locations()
	if err != nil {
		return err
	}
	mln, err := listen(bind, f.master.port)
	if err != nil {
		return err
	}
	defer mln.Close()
	vln, err := listen(bind, f.volume.port)
	if err != nil {
		return err
	}
	defer vln.Close()

	masterAddr := f.ip + ":" + strconv.Itoa(f.master.port)
	m, err := master.New(mcfg)
	if err != nil {
		return fmt.Errorf("start master: %w", err)
	}
	store, err := storage.OpenStore(ctx, vfs.Default(), locs, log.With("server", "volume"), storage.StoreOptions{Fsync: f.volume.fsync})
	if err != nil {
		m.Close()
		return fmt.Errorf("open volumes: %w", err)
	}
	vs := volume.New(volume.Config{
		IP: f.ip, Port: f.volume.port, PublicURL: f.volume.publicURL,
		Masters:           []string{masterAddr},
		FileSizeLimit:     f.volume.fileSizeLimitMB << 20,
		Fsync:             f.volume.fsync,
		ReadMode:          f.volume.readMode,
		Security:          mcfg.Security,
		WhiteList:         mcfg.WhiteList,
		HeartbeatInterval: secondsOr(f.pulseSeconds, 5),
		Version:           Version,
		Logger:            log.With("server", "volume"),
	}, store)

	log.Info("weed server started", "master", mln.Addr().String(), "volume", vln.Addr().String(), "dir", f.dir)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	g := &group{stop: stop}
	g.run(func() error { return serve(ctx, mln, m.Handler(), log, masterGrace) })
	g.run(func() error { return m.Run(ctx) })
	g.run(func() error { return serve(ctx, vln, vs.Handler(), log, serverGrace) })
	g.run(func() error {
		f.volume.serveLocal(ctx, vs, locs, log.With("server", "volume"))
		return nil
	})
	g.run(func() error {
		err := vs.RunHeartbeats(ctx)
		if ctx.Err() != nil {
			return nil
		}
		return err
	})
	if f.withFiler {
		f.filer.ip, f.filer.bind, f.filer.masters = f.ip, bind, masterAddr
		if f.filer.dir == "./filerdb" {
			f.filer.dir = filepath.Join(f.dir, "filer")
		}
		g.run(func() error { return f.filer.run(ctx, log) })
	}
	err = g.wait()
	vs.Stop()
	if cerr := store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close volumes: %w", cerr))
	}
	if cerr := m.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	log.Info("weed server stopped")
	return err
}

// group runs the parts of one process; the first to fail stops the rest.
type group struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
	stop func()
}

func (g *group) run(fn func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := fn(); err != nil {
			g.mu.Lock()
			g.errs = append(g.errs, err)
			g.mu.Unlock()
			g.stop()
		}
	}()
}

// wait waits for every part and joins their errors.
func (g *group) wait() error {
	g.wg.Wait()
	return errors.Join(g.errs...)
}
