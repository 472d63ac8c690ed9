package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"

	"weedfs.dev/weed/client"
	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/server"
	"weedfs.dev/weed/filer/stores/embedded"
	"weedfs.dev/weed/filer/stores/postgres"
	"weedfs.dev/weed/filer/stores/redis"
	"weedfs.dev/weed/security"
)

// filerFlags are `weed filer`'s flags, named as SeaweedFS names them.
type filerFlags struct {
	hostFlags
	masters, store, dir                 string
	port                                int
	maxMB                               int
	saveToFilerLimit                    int64
	collection, replication, dataCenter string
	dirListLimit                        int
	eventRetentionHours                 int
	id                                  string
}

func filerCommand() *Command {
	c := &Command{Name: "filer", Short: "start a filer: a directory namespace of files over the blobs of a cluster", Usage: "[flags]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		var f filerFlags
		fs := newFlagSet(env, c)
		f.register(fs, "")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		log, err := newLogger(env, f.log)
		if err != nil {
			return err
		}
		return f.run(ctx, log)
	}
	return c
}

// register adds the flags under prefix ("" for weed filer, "filer." for a
// filer inside weed server).
func (f *filerFlags) register(fs flagSet, prefix string) {
	if prefix == "" {
		f.hostFlags.register(fs, "this filer")
		fs.StringVar(&f.masters, "master", "127.0.0.1:9333", "comma-separated master addresses")
		fs.StringVar(&f.dataCenter, "dataCenter", "", "prefer volumes of this data center")
	}
	fs.IntVar(&f.port, prefix+"port", 8888, "HTTP port")
	fs.StringVar(&f.store, prefix+"store", "", "metadata store: embedded, postgres or redis (default: the one filer.toml enables, else embedded)")
	fs.StringVar(&f.dir, prefix+"dir", "./filerdb", "folder of the embedded store (-defaultStoreDir in SeaweedFS)")
	fs.IntVar(&f.maxMB, prefix+"maxMB", int(filer.DefaultChunkSize>>20), "chunk size in MiB of files written through the filer")
	fs.Int64Var(&f.saveToFilerLimit, prefix+"saveToFilerLimit", 0, "files of at most this many bytes are kept inside their entry (0: never)")
	fs.StringVar(&f.collection, prefix+"collection", "", "collection of the chunks written")
	fs.StringVar(&f.replication, prefix+"defaultReplicaPlacement", "", "replication of the chunks written (default: the master's)")
	fs.IntVar(&f.dirListLimit, prefix+"dirListLimit", server.DefaultDirListLimit, "largest page of a directory listing")
	fs.IntVar(&f.eventRetentionHours, prefix+"eventRetentionHours", int(filer.DefaultEventRetention.Hours()), "hours the change feed keeps events")
	fs.StringVar(&f.id, prefix+"id", "", "name of this filer among those sharing a store (default: ip:port)")
}

// openStore opens the metadata store the flags and filer.toml name.
func (f *filerFlags) openStore(ctx context.Context, cfg *filer.Config, log *slog.Logger) (filer.Store, error) {
	kind := f.store
	if kind == "" {
		var err error
		if kind, err = cfg.StoreKind(); err != nil {
			return nil, err
		}
	}
	switch kind {
	case "embedded", "leveldb2":
		dir := f.dir
		if d := cfg.EmbeddedDir(); d != "" && f.store == "" {
			dir = d
		}
		if err := checkDir(dir); err != nil {
			return nil, err
		}
		return embedded.Open(dir, log.With("store", "embedded"))
	case "postgres":
		p := cfg.Postgres
		if p.Hostname == "" {
			p.Hostname = "127.0.0.1"
		}
		if p.Port == 0 {
			p.Port = 5432
		}
		u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(p.Hostname, strconv.Itoa(p.Port)), Path: "/" + p.Database}
		if p.Username != "" {
			u.User = url.UserPassword(p.Username, p.Password)
		}
		if p.SSLMode != "" {
			u.RawQuery = url.Values{"sslmode": {p.SSLMode}}.Encode()
		}
		return postgres.Open(ctx, u.String(), postgres.Options{})
	case "redis":
		return openRedisStore(ctx, cfg.Redis)
	}
	return nil, fmt.Errorf("-store %q: want embedded, postgres or redis", kind)
}

func (f *filerFlags) run(ctx context.Context, log *slog.Logger) error {
	if f.maxMB <= 0 || f.maxMB > 256 {
		return fmt.Errorf("-maxMB %d is not in 1..256", f.maxMB)
	}
	masters := splitList(f.masters)
	if len(masters) == 0 {
		return fmt.Errorf("-master is empty")
	}
	cfg, path, err := filer.LoadConfig(security.SearchPaths())
	if err != nil {
		return err
	}
	if path != "" {
		log.Info("filer settings loaded", "file", path)
	}
	// Volume servers that check tokens want chunk deletes (and reads)
	// signed with the cluster's keys.
	sec, secPath, err := security.Load(security.SearchPaths())
	if err != nil {
		return err
	}
	if secPath != "" {
		log.Info("security settings loaded", "file", secPath)
	}
	ln, err := listen(f.bindAddr(), f.port)
	if err != nil {
		return err
	}
	defer ln.Close()
	store, err := f.openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer store.Close()
	id := f.id
	if id == "" {
		id = net.JoinHostPort(f.ip, strconv.Itoa(f.port))
	}
	fl := filer.New(store, client.New(masters, client.Options{}), filer.Options{
		ID:              id,
		ChunkSize:       int64(f.maxMB) << 20,
		SaveInsideLimit: f.saveToFilerLimit,
		Collection:      f.collection,
		Replication:     f.replication,
		DataCenter:      f.dataCenter,
		EventRetention:  secondsOr(f.eventRetentionHours*3600, int(filer.DefaultEventRetention.Seconds())),
		Security:        sec,
		Logger:          log.With("server", "filer"),
	})
	srv := server.New(server.Config{
		Filer:           fl,
		DirListLimit:    f.dirListLimit,
		RecursiveDelete: cfg.Filer.Options.RecursiveDelete,
		Version:         Version,
		Masters:         masters,
		Logger:          log.With("server", "filer"),
	})
	log.Info("filer started", "addr", ln.Addr().String(), "store", store.Name(), "masters", f.masters, "id", id)
	var wg sync.WaitGroup
	runCtx, stopRun := context.WithCancel(ctx)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := fl.Run(runCtx); err != nil {
			log.Warn("filer background work stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close() // end change-feed streams so the shutdown does not wait for them
	}()
	err = serve(ctx, ln, srv.Handler(), log, serverGrace)
	stopRun()
	fl.Close()
	wg.Wait()
	log.Info("filer stopped")
	return err
}

// openRedisStore opens the Redis store of filer.toml's [redis] section.
func openRedisStore(ctx context.Context, c filer.RedisConfig) (filer.Store, error) {
	addr := c.Address
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	return redis.Open(ctx, addr, redis.Options{Password: c.Password, DB: c.Database})
}
