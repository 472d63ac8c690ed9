// Command weed runs the weed blob and file store: masters, volume servers,
// filers, mounts, and the tools that upload, download and administer them.
// Each subcommand lives in package cmd; this file only dispatches.
package main

import (
	"os"

	"weedfs.dev/weed/cmd"
)

func main() {
	os.Exit(cmd.Main(os.Args[1:], os.Stdout, os.Stderr))
}
