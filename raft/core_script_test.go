package raft

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"weedfs.dev/weed/raft/raftpb"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt scripts")

// TestScripts runs the scenarios in testdata/*.txt. Each command line is
// followed by "----" and its expected output up to a blank line, so a
// scenario reads as a story; -rewrite regenerates the outputs.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScript(t, f) })
	}
}

type scriptCmd struct {
	line, want string
	lineNo     int
}

func parseScript(t *testing.T, path string) (header string, cmds []scriptCmd) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var cur *scriptCmd
	inOut := false
	var out []string
	n := 0
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case inOut && l == "":
			cur.want = strings.Join(out, "\n")
			cmds = append(cmds, *cur)
			cur, inOut, out = nil, false, nil
		case inOut:
			out = append(out, l)
		case cur == nil && (l == "" || strings.HasPrefix(l, "#")):
			if len(cmds) == 0 {
				header += l + "\n"
			}
		case cur == nil:
			cur = &scriptCmd{line: l, lineNo: n}
		case l == "----":
			inOut = true
		default:
			t.Fatalf("%s:%d: want ---- after a command", path, n)
		}
	}
	if cur != nil {
		cur.want = strings.Join(out, "\n")
		cmds = append(cmds, *cur)
	}
	return header, cmds
}

func runScript(t *testing.T, path string) {
	header, cmds := parseScript(t, path)
	var n *testNet
	var rewritten strings.Builder
	rewritten.WriteString(header)
	for i, cmd := range cmds {
		got := strings.TrimRight(runCommand(t, &n, cmd.line), "\n")
		if got == "" {
			got = "ok"
		}
		if *rewrite {
			if i > 0 {
				rewritten.WriteString("\n")
			}
			fmt.Fprintf(&rewritten, "%s\n----\n%s\n", cmd.line, got)
			continue
		}
		if got != cmd.want {
			t.Fatalf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, cmd.lineNo, cmd.line, got, cmd.want)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(rewritten.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runCommand(t *testing.T, np **testNet, line string) string {
	f := strings.Fields(line)
	arg := func(i int) uint64 {
		if i >= len(f) {
			t.Fatalf("%q: missing argument %d", line, i)
		}
		v, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		return v
	}
	n := *np
	switch f[0] {
	case "net":
		opts := map[string]bool{}
		for _, o := range f[2:] {
			opts[o] = true
		}
		*np = newTestNet(t, int(arg(1)), func(c *CoreConfig) {
			c.PreVote, c.CheckQuorum, c.LeaseRead = opts["prevote"], opts["checkquorum"], opts["lease"]
		})
		return (*np).statusTable()
	case "campaign":
		n.campaign(arg(1))
	case "propose":
		i, term, err := n.cores[arg(1)].Propose([]byte(f[2]))
		n.stabilize()
		if err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprintf("index=%d term=%d", i, term)
	case "isolate":
		n.isolate(arg(1))
		return ""
	case "heal":
		n.heal()
		return ""
	case "crash":
		n.crash(arg(1))
		return ""
	case "restart", "start":
		n.start(arg(1), nil)
		n.stabilize()
	case "tick":
		if f[1] == "all" {
			n.tickAll(int(arg(2)))
		} else {
			n.tick(arg(1), int(arg(2)))
		}
	case "transfer":
		n.cores[arg(1)].TransferLeadership(arg(2))
		n.stabilize()
	case "read":
		if err := n.cores[arg(1)].ReadIndex([]byte(f[2])); err != nil {
			return "error: " + err.Error()
		}
		n.stabilize()
		return n.readsOf(arg(1))
	case "reads":
		return n.readsOf(arg(1))
	case "applied":
		return strings.Join(n.appliedData(arg(1)), " ")
	case "conf":
		return n.confChange(t, line, arg(1), f[2:])
	case "status":
		return n.statusTable()
	default:
		t.Fatalf("unknown command %q", line)
	}
	return n.statusTable()
}

func (n *testNet) readsOf(id uint64) string {
	var parts []string
	for _, r := range n.reads[id] {
		parts = append(parts, fmt.Sprintf("%s@%d", r.Context, r.Index))
	}
	return "reads: " + strings.Join(parts, " ")
}

// confChange parses "add-voter 4", "remove 2" or several pairs (joint).
func (n *testNet) confChange(t *testing.T, line string, leader uint64, args []string) string {
	var changes []*raftpb.ConfChange
	for i := 0; i+1 < len(args); i += 2 {
		id, err := strconv.ParseUint(args[i+1], 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		switch args[i] {
		case "add-voter":
			changes = append(changes, voter(id))
		case "add-learner":
			changes = append(changes, learner(id))
		case "remove":
			changes = append(changes, remove(id))
		default:
			t.Fatalf("%q: unknown change %q", line, args[i])
		}
	}
	cc := changes[0]
	if len(changes) > 1 {
		cc = &raftpb.ConfChange{Changes: changes}
	}
	if _, _, err := n.cores[leader].ProposeConfChange(cc); err != nil {
		return "error: " + err.Error()
	}
	n.stabilize()
	return n.statusTable()
}

// statusTable prints one line per peer: role, term, leader, commit and
// configuration.
func (n *testNet) statusTable() string {
	var b strings.Builder
	for _, id := range n.ids() {
		st := n.cores[id].Status()
		fmt.Fprintf(&b, "%d: %s term=%d lead=%d commit=%d conf=%s\n", id, st.Role, st.Term, st.Lead, st.Commit, confText(st.Conf))
	}
	var down []uint64
	for id := range n.down {
		down = append(down, id)
	}
	slices.Sort(down)
	for _, id := range down {
		fmt.Fprintf(&b, "%d: down\n", id)
	}
	return b.String()
}

func confText(cs *raftpb.ConfState) string {
	var parts []string
	for _, m := range cs.GetMembers() {
		if m.Learner {
			parts = append(parts, fmt.Sprintf("l%d", m.Id))
		} else {
			parts = append(parts, strconv.FormatUint(m.Id, 10))
		}
	}
	s := "[" + strings.Join(parts, " ") + "]"
	if len(cs.GetOutgoing()) > 0 {
		var out []string
		for _, m := range cs.GetOutgoing() {
			out = append(out, strconv.FormatUint(m.Id, 10))
		}
		s += "&[" + strings.Join(out, " ") + "]"
	}
	return s
}
