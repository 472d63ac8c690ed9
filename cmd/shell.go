package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"weedfs.dev/weed/client"
)

// shellCommand is one command of `weed shell`.
type shellCommand struct {
	name, help string
	run        func(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error
}

// shell holds what its commands talk to.
type shell struct {
	masters []string
	filer   string
	out     io.Writer
	http    *http.Client
}

func shellCmd() *Command {
	c := &Command{Name: "shell", Short: "administer a cluster: volumes, collections, replication, and the filer's files", Usage: "[-c 'command args'] [flags]"}
	c.Run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlagSet(env, c)
		master := fs.String("master", "localhost:9333", "comma-separated master addresses")
		filer := fs.String("filer", "localhost:8888", "filer address, for the fs.* commands")
		one := fs.String("c", "", "run one command and exit")
		if err := parseFlags(fs, args, false); err != nil {
			return err
		}
		sh := &shell{masters: splitList(*master), filer: *filer, out: env.Stdout, http: &http.Client{Timeout: 10 * time.Minute}}
		if *one != "" {
			return sh.exec(ctx, *one)
		}
		return sh.interact(ctx, stdinOf(env), env)
	}
	return c
}

// interact reads commands line by line until EOF or "exit".
func (sh *shell) interact(ctx context.Context, in io.Reader, env *Env) error {
	sc := bufio.NewScanner(in)
	fmt.Fprint(env.Stdout, "> ")
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch line {
		case "":
		case "exit", "quit":
			return nil
		default:
			if err := sh.exec(ctx, line); err != nil {
				fmt.Fprintf(env.Stdout, "error: %v\n", err)
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		fmt.Fprint(env.Stdout, "> ")
	}
	return sc.Err()
}

func (sh *shell) commands() []shellCommand {
	return []shellCommand{
		{"cluster.status", "the master group: leader, peers, highest volume id", shCluster},
		{"volume.list", "every volume server and the volumes it holds", shVolumeList},
		{"volume.vacuum", "[-garbageThreshold=0.3] compact volumes with more garbage than the threshold", shVacuum},
		{"volume.mark", "-volumeId=N -readonly|-writable   mark a volume on every server holding it", shMark},
		{"volume.fix.replication", "[-volumeId=N] copy volumes that lack replicas to servers their placement allows", shFixReplication},
		{"volume.balance", "move volumes so every server holds about as many", shBalance},
		{"collection.list", "the collections", shCollectionList},
		{"collection.delete", "-collection=NAME   delete a collection and its volumes", shCollectionDelete},
		{"fs.ls", "[-l] PATH   list a filer folder", shLs},
		{"fs.cat", "PATH   print a file", shCat},
		{"fs.rm", "[-r] PATH   delete a file (or a folder with -r)", shRm},
		{"fs.mv", "SRC DST   rename a file or folder", shMv},
		{"fs.du", "PATH   bytes and files under a folder", shDu},
	}
}

// exec runs one command line.
func (sh *shell) exec(ctx context.Context, line string) error {
	words := strings.Fields(line)
	if words[0] == "help" {
		for _, c := range sh.commands() {
			fmt.Fprintf(sh.out, "  %-24s %s\n", c.name, c.help)
		}
		return nil
	}
	for _, c := range sh.commands() {
		if c.name == words[0] {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			fs.SetOutput(sh.out)
			return c.run(ctx, sh, fs, words[1:])
		}
	}
	return fmt.Errorf("unknown command %q (try help)", words[0])
}

// masterJSON calls a master endpoint (trying each master) and decodes the
// JSON reply into out.
func (sh *shell) masterJSON(ctx context.Context, path string, q url.Values, out any) error {
	var last error
	for _, m := range sh.masters {
		err := sh.getJSON(ctx, "http://"+m+path+"?"+q.Encode(), out)
		if err == nil {
			return nil
		}
		var he *httpStatusError
		if errors.As(err, &he) {
			return err
		}
		last = err
	}
	return fmt.Errorf("no master answered: %w", last)
}

type httpStatusError struct {
	status int
	msg    string
}

func (e *httpStatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.msg) }

func (sh *shell) getJSON(ctx context.Context, u string, out any) error {
	return sh.doJSON(ctx, http.MethodGet, u, nil, out)
}

func (sh *shell) doJSON(ctx context.Context, method, u string, hdr map[string]string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := sh.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return &httpStatusError{resp.StatusCode, e.Error}
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}

func shCluster(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	var st map[string]any
	if err := sh.masterJSON(ctx, "/cluster/status", nil, &st); err != nil {
		return err
	}
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(sh.out, "%s: %v\n", k, st[k])
	}
	return nil
}

// volStatus is /vol/status: data center -> rack -> server -> volumes.
type volStatus struct {
	Volumes struct {
		DataCenters map[string]map[string]map[string][]client.VolumeStatus
	}
}

func shVolumeList(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	var st volStatus
	if err := sh.masterJSON(ctx, "/vol/status", nil, &st); err != nil {
		return err
	}
	total := 0
	for _, dc := range sortedKeys(st.Volumes.DataCenters) {
		fmt.Fprintf(sh.out, "DataCenter %s\n", dc)
		racks := st.Volumes.DataCenters[dc]
		for _, rack := range sortedKeys(racks) {
			fmt.Fprintf(sh.out, "  Rack %s\n", rack)
			nodes := racks[rack]
			for _, node := range sortedKeys(nodes) {
				vols := nodes[node]
				sort.Slice(vols, func(i, j int) bool { return vols[i].ID < vols[j].ID })
				fmt.Fprintf(sh.out, "    DataNode %s volumes:%d\n", node, len(vols))
				for _, v := range vols {
					rp := v.ReplicaPlacement
					fmt.Fprintf(sh.out, "      volume id:%d collection:%q size:%d files:%d deleted:%d deletedBytes:%d readOnly:%v replication:%d%d%d\n",
						v.ID, v.Collection, v.Size, v.FileCount, v.DeleteCount, v.DeletedByteCount, v.ReadOnly, rp.DiffDataCenter, rp.DiffRack, rp.SameRack)
					total++
				}
			}
		}
	}
	fmt.Fprintf(sh.out, "total volume copies: %d\n", total)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func shVacuum(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	threshold := fs.String("garbageThreshold", "0.3", "vacuum volumes with a larger garbage ratio")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := sh.masterJSON(ctx, "/vol/vacuum", url.Values{"garbageThreshold": {*threshold}}, nil); err != nil {
		return err
	}
	fmt.Fprintln(sh.out, "vacuum started")
	return nil
}

func shMark(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	id := fs.Uint("volumeId", 0, "volume to mark")
	ro := fs.Bool("readonly", false, "mark read-only")
	rw := fs.Bool("writable", false, "mark writable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *id == 0 || *ro == *rw {
		return errors.New("usage: volume.mark -volumeId=N -readonly|-writable")
	}
	q := url.Values{"volumeId": {fmt.Sprint(*id)}, "readonly": {fmt.Sprint(*ro)}}
	if err := sh.masterJSON(ctx, "/vol/mark", q, nil); err != nil {
		return err
	}
	fmt.Fprintf(sh.out, "volume %d is %s\n", *id, map[bool]string{true: "read-only", false: "writable"}[*ro])
	return nil
}

func shFixReplication(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	id := fs.Uint("volumeId", 0, "only this volume")
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := url.Values{}
	if *id != 0 {
		q.Set("volumeId", fmt.Sprint(*id))
	}
	var reply struct {
		Fixes []struct {
			Volume          uint32
			From, To, Error string
		}
	}
	if err := sh.masterJSON(ctx, "/vol/fix.replication", q, &reply); err != nil {
		return err
	}
	failed := 0
	for _, f := range reply.Fixes {
		if f.Error != "" {
			failed++
			fmt.Fprintf(sh.out, "volume %d: %s\n", f.Volume, f.Error)
			continue
		}
		fmt.Fprintf(sh.out, "volume %d copied from %s to %s\n", f.Volume, f.From, f.To)
	}
	if len(reply.Fixes) == 0 {
		fmt.Fprintln(sh.out, "every volume has all its replicas")
	}
	if failed > 0 {
		return fmt.Errorf("%d replicas could not be made", failed)
	}
	return nil
}

func shBalance(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	var reply struct {
		Moves []struct {
			Volume   uint32
			From, To string
		}
	}
	if err := sh.masterJSON(ctx, "/vol/balance", nil, &reply); err != nil {
		return err
	}
	for _, m := range reply.Moves {
		fmt.Fprintf(sh.out, "volume %d moved from %s to %s\n", m.Volume, m.From, m.To)
	}
	fmt.Fprintf(sh.out, "%d volumes moved\n", len(reply.Moves))
	return nil
}

func shCollectionList(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	var reply struct{ Collections []string }
	if err := sh.masterJSON(ctx, "/col/list", nil, &reply); err != nil {
		return err
	}
	for _, c := range reply.Collections {
		if c == "" {
			c = `""`
		}
		fmt.Fprintf(sh.out, "collection: %s\n", c)
	}
	return nil
}

func shCollectionDelete(ctx context.Context, sh *shell, fs *flag.FlagSet, args []string) error {
	name := fs.String("collection", "", "collection to delete")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("usage: collection.delete -collection=NAME")
	}
	if err := sh.masterJSON(ctx, "/col/delete", url.Values{"collection": {*name}}, nil); err != nil {
		return err
	}
	fmt.Fprintf(sh.out, "collection %s deleted\n", *name)
	return nil
}
