package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"weedfs.dev/weed/master"
	"weedfs.dev/weed/security"
)

// masterFlags are `weed master`'s flags, named as SeaweedFS names them.
type masterFlags struct {
	hostFlags
	mdir, peers        string
	port               int
	defaultReplication string
	volumeSizeLimitMB  int
	garbageThreshold   float64
	pulseSeconds       int
	whiteList, log     string
	preallocate        bool
}

func masterCommand() *Command {
	c := &Command{Name: "master", Short: "start a master server that assigns file ids and tracks volumes", Usage: "[flags]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		var f masterFlags
		fs := newFlagSet(env, c)
		f.register(fs, "")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		return f.run(ctx, env)
	}
	return c
}

// register adds the flags under prefix ("" for weed master, "master." for
// weed server).
func (f *masterFlags) register(fs flagSet, prefix string) {
	if prefix == "" {
		f.hostFlags.register(fs, "this master")
		fs.StringVar(&f.whiteList, "whiteList", "", "comma-separated IPs/CIDRs allowed to assign and administer (empty: all)")
	}
	fs.IntVar(&f.port, prefix+"port", master.DefaultPort, "HTTP port")
	fs.StringVar(&f.mdir, prefix+"mdir", "", "folder of the master's Raft log and snapshots (default: weed-master-<port> in the temp folder)")
	fs.StringVar(&f.peers, prefix+"peers", "", "comma-separated host:port of every master, e.g. 127.0.0.1:9333,127.0.0.1:9334,127.0.0.1:9335 (empty: a single master)")
	fs.StringVar(&f.defaultReplication, prefix+"defaultReplication", "000", "replication of assigns that name none")
	fs.IntVar(&f.volumeSizeLimitMB, prefix+"volumeSizeLimitMB", master.DefaultVolumeSizeLimitMB, "a volume takes no more writes at this size")
	fs.Float64Var(&f.garbageThreshold, prefix+"garbageThreshold", master.DefaultGarbageThreshold, "vacuum volumes whose garbage ratio is above this")
	fs.IntVar(&f.pulseSeconds, prefix+"pulseSeconds", 5, "seconds between heartbeats of volume servers")
	fs.BoolVar(&f.preallocate, prefix+"volumePreallocate", false, "preallocate disk space for new volumes (volumeSizeLimitMB each)")
}

// config checks the flags and turns them into a master.Config.
func (f *masterFlags) config(log *slog.Logger) (master.Config, error) {
	if f.port <= 0 || f.port > 65535 {
		return master.Config{}, fmt.Errorf("-port %d is not a TCP port", f.port)
	}
	if f.volumeSizeLimitMB <= 0 {
		return master.Config{}, fmt.Errorf("-volumeSizeLimitMB %d must be positive", f.volumeSizeLimitMB)
	}
	if f.garbageThreshold <= 0 || f.garbageThreshold > 1 {
		return master.Config{}, fmt.Errorf("-garbageThreshold %v must be in (0, 1]", f.garbageThreshold)
	}
	if f.mdir == "" {
		// Not the temp folder itself, as SeaweedFS: two masters of one
		// machine would share a Raft log.
		f.mdir = filepath.Join(os.TempDir(), "weed-master-"+strconv.Itoa(f.port))
	}
	if err := checkDir(f.mdir); err != nil {
		return master.Config{}, fmt.Errorf("-mdir: %w", err)
	}
	wl, err := security.ParseWhiteList(f.whiteList)
	if err != nil {
		return master.Config{}, err
	}
	sec, path, err := security.Load(security.SearchPaths())
	if err != nil {
		return master.Config{}, err
	}
	if path != "" {
		log.Info("security settings loaded", "file", path)
	}
	cfg := master.Config{
		IP: f.ip, Port: f.port, MetaDir: f.mdir, Peers: splitList(f.peers),
		DefaultReplication: f.defaultReplication,
		VolumeSizeLimitMB:  uint64(f.volumeSizeLimitMB),
		GarbageThreshold:   f.garbageThreshold,
		Pulse:              secondsOr(f.pulseSeconds, 5),
		WhiteList:          wl,
		Security:           sec,
		Version:            Version,
		Logger:             log,
	}
	if f.preallocate {
		cfg.VolumePreallocate = int64(f.volumeSizeLimitMB) << 20
	}
	return cfg, nil
}

func (f *masterFlags) run(ctx context.Context, env *Env) error {
	log, err := newLogger(env, f.log)
	if err != nil {
		return err
	}
	cfg, err := f.config(log)
	if err != nil {
		return err
	}
	ln, err := listen(f.bindAddr(), f.port)
	if err != nil {
		return err
	}
	defer ln.Close()
	m, err := master.New(cfg)
	if err != nil {
		return err
	}
	log.Info("master server started", "addr", ln.Addr().String(), "mdir", f.mdir, "peers", m.Addr())

	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		m.Run(runCtx)
	}()
	err = serve(ctx, ln, m.Handler(), log, masterGrace)
	stopRun()
	wg.Wait()
	if cerr := m.Close(); cerr != nil && err == nil {
		err = cerr
	}
	log.Info("master server stopped")
	return err
}
