package cmd

import (
	"context"
	"fmt"
	"runtime"
)

// Version is the weed release; "30GB" says volumes use 4-byte offsets
// (32 GiB per volume), as SeaweedFS's default build reports.
const Version = "30GB 0.1.0"

func versionCommand() *Command {
	c := &Command{Name: "version", Short: "print the version", Usage: ""}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlagSet(env, c)
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "weed %s %s %s/%s\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	}
	return c
}
