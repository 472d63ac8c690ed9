// Package cmd holds the subcommands of the weed binary: one file per
// command, each parsing its flags, wiring the parts together and handling
// signals. It is the only package that decides the process's exit status.
package cmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Command is one subcommand of weed.
type Command struct {
	Name  string
	Short string // one line for `weed help`
	Usage string // the argument synopsis after the name
	// Run executes the command with its arguments (flags included). It
	// returns an error to report on one line; the exit status is then 1.
	Run func(ctx context.Context, env *Env, args []string) error
}

// Env is what a command may touch of the process.
type Env struct {
	Stdin          io.Reader // nil: the process's standard input
	Stdout, Stderr io.Writer
}

// commands is filled by each command's file in init-free style: see all().
func all() []*Command {
	cmds := []*Command{
		versionCommand(),
		benchmarkCommand(),
		uploadCommand(),
		downloadCommand(),
		volumeCommand(),
		filerCommand(),
		serverCommand(),
		shellCmd(),
		masterCommand(),
		mountCommand(),
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	return cmds
}

func find(name string) *Command {
	for _, c := range all() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Main runs the command named by args[0] and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	env := &Env{Stdout: stdout, Stderr: stderr}
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		if len(args) > 1 {
			if c := find(args[1]); c != nil {
				printCommandHelp(stdout, c)
				return 0
			}
			fmt.Fprintf(stderr, "weed: unknown command %q\n", args[1])
			return 2
		}
		printHelp(stdout)
		return 0
	}
	c := find(name)
	if c == nil {
		fmt.Fprintf(stderr, "weed: unknown command %q (run 'weed help')\n", name)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := c.Run(ctx, env, args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintf(stderr, "weed %s: %v\n", c.Name, err)
		return 1
	}
	return 0
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "weed: a distributed blob and file store")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: weed <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range all() {
		fmt.Fprintf(w, "  %-12s %s\n", c.Name, c.Short)
	}
	fmt.Fprintln(w, "  help         show this list, or 'weed help <command>' for one command")
}

func printCommandHelp(w io.Writer, c *Command) {
	fmt.Fprintf(w, "Usage: weed %s %s\n\n%s\n", c.Name, c.Usage, c.Short)
	fmt.Fprintf(w, "\nRun 'weed %s -h' for its flags.\n", c.Name)
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to env.Stderr.
func newFlagSet(env *Env, c *Command) *flag.FlagSet {
	fs := flag.NewFlagSet("weed "+c.Name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: weed %s %s\n\n%s\n\nFlags:\n", c.Name, c.Usage, c.Short)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and rejects stray positional arguments when the
// command takes none.
func parseFlags(fs *flag.FlagSet, args []string, allowArgs bool) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !allowArgs && fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}
