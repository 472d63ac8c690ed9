package security

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultExpiry is how long a token lives when security.toml does not say
// (SeaweedFS's expires_after_seconds default).
const DefaultExpiry = 10 * time.Second

// Key is one signing key and how long its tokens live. A zero Key means
// "no token needed".
type Key struct {
	Secret []byte
	Expiry time.Duration // <= 0: tokens carry no exp claim
}

// Enabled reports whether tokens are required for this kind of access.
func (k Key) Enabled() bool { return len(k.Secret) > 0 }

// Config is the part of security.toml weed understands.
type Config struct {
	Write      Key // [jwt.signing]: writes and deletes on volume servers
	Read       Key // [jwt.signing.read]: reads on volume servers
	FilerWrite Key // [jwt.filer_signing]
	FilerRead  Key // [jwt.filer_signing.read]
}

type keyFile struct {
	Key                 string   `toml:"key"`
	ExpiresAfterSeconds *int     `toml:"expires_after_seconds"`
	Read                *keyFile `toml:"read"`
}

type file struct {
	JWT struct {
		Signing      *keyFile `toml:"signing"`
		FilerSigning *keyFile `toml:"filer_signing"`
	} `toml:"jwt"`
}

// SearchPaths are the folders searched for security.toml, in order, as
// SeaweedFS does.
func SearchPaths() []string {
	paths := []string{"."}
	if home, err := os.UserHomeDir(); err == nil {
		paths = append(paths, filepath.Join(home, ".seaweedfs"))
	}
	return append(paths, "/usr/local/etc/seaweedfs", "/etc/seaweedfs")
}

// Load reads security.toml from the first of dirs that holds one. No file
// is not an error: the zero Config (no tokens) is returned.
func Load(dirs []string) (Config, string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, "security.toml")
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Config{}, p, fmt.Errorf("security: %w", err)
		}
		c, err := Parse(b)
		if err != nil {
			return Config{}, p, fmt.Errorf("security: %s: %w", p, err)
		}
		return c, p, nil
	}
	return Config{}, "", nil
}

// Parse decodes the text of a security.toml.
func Parse(b []byte) (Config, error) {
	var f file
	if _, err := toml.Decode(string(b), &f); err != nil {
		return Config{}, err
	}
	var c Config
	c.Write, c.Read = keys(f.JWT.Signing)
	c.FilerWrite, c.FilerRead = keys(f.JWT.FilerSigning)
	return c, nil
}

func keys(k *keyFile) (write, read Key) {
	if k == nil {
		return Key{}, Key{}
	}
	write = toKey(k)
	if k.Read != nil {
		read = toKey(k.Read)
	}
	return write, read
}

func toKey(k *keyFile) Key {
	key := Key{Secret: []byte(k.Key), Expiry: DefaultExpiry}
	if k.ExpiresAfterSeconds != nil {
		key.Expiry = time.Duration(*k.ExpiresAfterSeconds) * time.Second
	}
	if len(key.Secret) == 0 {
		return Key{}
	}
	return key
}
