package filer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// ErrBadConfig: filer.toml does not parse or names no usable store.
var ErrBadConfig = errors.New("filer: bad filer.toml")

// Config is what filer.toml says, in SeaweedFS's layout:
//
//	[leveldb2]  enabled, dir          (weed's embedded store stands in for it)
//	[embedded]  enabled, dir
//	[postgres]  enabled, hostname, port, username, password, database, sslmode
//	[redis]     enabled, address, password, database
//	[filer.options] recursive_delete
//
// Sections weed does not know are ignored, as SeaweedFS ignores disabled ones.
type Config struct {
	Leveldb2 EmbeddedConfig `toml:"leveldb2"`
	Embedded EmbeddedConfig `toml:"embedded"`
	Postgres PostgresConfig `toml:"postgres"`
	Redis    RedisConfig    `toml:"redis"`
	Filer    struct {
		Options struct {
			RecursiveDelete bool `toml:"recursive_delete"`
		} `toml:"options"`
	} `toml:"filer"`
}

// EmbeddedConfig places the embedded store.
type EmbeddedConfig struct {
	Enabled bool   `toml:"enabled"`
	Dir     string `toml:"dir"`
}

// PostgresConfig reaches a PostgreSQL database.
type PostgresConfig struct {
	Enabled  bool   `toml:"enabled"`
	Hostname string `toml:"hostname"`
	Port     int    `toml:"port"`
	Username string `toml:"username"`
	Password string `toml:"password"`
	Database string `toml:"database"`
	SSLMode  string `toml:"sslmode"`
}

// RedisConfig reaches a Redis server.
type RedisConfig struct {
	Enabled  bool   `toml:"enabled"`
	Address  string `toml:"address"`
	Password string `toml:"password"`
	Database int    `toml:"database"`
}

// ParseConfig decodes filer.toml.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	if err := toml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	if c.Postgres.Port < 0 || c.Postgres.Port > 65535 {
		return nil, fmt.Errorf("%w: postgres port %d", ErrBadConfig, c.Postgres.Port)
	}
	if c.Redis.Database < 0 {
		return nil, fmt.Errorf("%w: redis database %d", ErrBadConfig, c.Redis.Database)
	}
	return &c, nil
}

// StoreKind is the store the configuration enables ("embedded" when none
// is), or an error when several are.
func (c *Config) StoreKind() (string, error) {
	var kinds []string
	if c.Leveldb2.Enabled || c.Embedded.Enabled {
		kinds = append(kinds, "embedded")
	}
	if c.Postgres.Enabled {
		kinds = append(kinds, "postgres")
	}
	if c.Redis.Enabled {
		kinds = append(kinds, "redis")
	}
	switch len(kinds) {
	case 0:
		return "embedded", nil
	case 1:
		return kinds[0], nil
	}
	return "", fmt.Errorf("%w: several stores enabled: %v", ErrBadConfig, kinds)
}

// EmbeddedDir is the embedded store's folder from the configuration, "" if
// it names none.
func (c *Config) EmbeddedDir() string {
	if c.Embedded.Dir != "" {
		return c.Embedded.Dir
	}
	return c.Leveldb2.Dir
}

// LoadConfig reads filer.toml from the first of dirs holding one. No file
// is not an error: the zero Config (embedded store) and path "" come back.
func LoadConfig(dirs []string) (*Config, string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, "filer.toml")
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, p, fmt.Errorf("read %s: %w", p, err)
		}
		c, err := ParseConfig(b)
		if err != nil {
			return nil, p, fmt.Errorf("%s: %w", p, err)
		}
		return c, p, nil
	}
	return &Config{}, "", nil
}
