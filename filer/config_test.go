package filer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const sampleConfig = `
[leveldb2]
enabled = false
dir = "./filerldb2"

[postgres]
enabled = true
hostname = "db.local"
port = 5433
username = "weed"
password = "secret"
database = "filer"
sslmode = "disable"

[redis]
enabled = false
address = "localhost:6379"
database = 2

[filer.options]
recursive_delete = true

[cassandra]
enabled = false
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(sampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	kind, err := c.StoreKind()
	if err != nil || kind != "postgres" {
		t.Fatalf("kind %q %v", kind, err)
	}
	p := c.Postgres
	if p.Hostname != "db.local" || p.Port != 5433 || p.Username != "weed" || p.Password != "secret" || p.Database != "filer" || p.SSLMode != "disable" {
		t.Fatalf("postgres %+v", p)
	}
	if c.Redis.Database != 2 || !c.Filer.Options.RecursiveDelete {
		t.Fatalf("config %+v", c)
	}
	c.Redis.Enabled = true
	if _, err := c.StoreKind(); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("two stores: %v", err)
	}
	for _, bad := range []string{"[postgres\n", "[postgres]\nport = 70000", "[redis]\ndatabase = -1", "[postgres]\nport = \"x\""} {
		if _, err := ParseConfig([]byte(bad)); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%q: %v, want ErrBadConfig", bad, err)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	empty, dir := t.TempDir(), t.TempDir()
	c, p, err := LoadConfig([]string{empty})
	if err != nil || p != "" {
		t.Fatalf("no file: %v %q", err, p)
	}
	if k, _ := c.StoreKind(); k != "embedded" {
		t.Fatalf("default kind %q", k)
	}
	os.WriteFile(filepath.Join(dir, "filer.toml"), []byte("[leveldb2]\nenabled = true\ndir = \"/x\"\n"), 0o644)
	c, p, err = LoadConfig([]string{empty, dir})
	if err != nil || p != filepath.Join(dir, "filer.toml") || c.EmbeddedDir() != "/x" {
		t.Fatalf("load: %+v %q %v", c, p, err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte("[redis]\naddress = 1"))
	f.Add([]byte("a = [1, {b = 2}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			if !errors.Is(err, ErrBadConfig) {
				t.Fatalf("error %v does not wrap ErrBadConfig", err)
			}
			return
		}
		c.StoreKind()
	})
}
