package lint

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "weedfs.dev/weed"

// bannedNames are grab-bag package names the project does not allow.
var bannedNames = map[string]bool{"util": true, "utils": true, "common": true, "misc": true, "types": true}

type goFile struct {
	dir     string // slash path relative to the repository root
	pkg     string
	imports []string
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", dir, err)
	}
	return dir
}

func parseTree(t *testing.T, root string) []goFile {
	t.Helper()
	var files []goFile
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bench") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		gf := goFile{dir: filepath.ToSlash(rel), pkg: f.Name.Name}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			gf.imports = append(gf.imports, p)
		}
		files = append(files, gf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no Go files found")
	}
	return files
}

func under(dir, pkg string) bool { return dir == pkg || strings.HasPrefix(dir, pkg+"/") }

// violations lists every broken package rule in files.
func violations(files []goFile) []string {
	var out []string
	for _, f := range files {
		for _, imp := range f.imports {
			if under(f.dir, "raft") && strings.HasPrefix(imp, module+"/") && !strings.HasPrefix(imp, module+"/raft") {
				out = append(out, f.dir+" imports "+imp+": raft/ may import only itself")
			}
			if under(f.dir, "storage") && (imp == "net/http" || strings.HasPrefix(imp, "net/http/")) {
				out = append(out, f.dir+" imports "+imp+": storage/ must not know HTTP")
			}
		}
		name := strings.TrimSuffix(f.pkg, "_test")
		if bannedNames[name] || bannedNames[filepath.Base(f.dir)] {
			out = append(out, f.dir+": package "+f.pkg+" has a banned name")
		}
	}
	return out
}

// TestPackageRules: raft/ imports nothing else of the project, storage/
// never sees HTTP, and no grab-bag package names.
func TestPackageRules(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range violations(parseTree(t, repoRoot(t))) {
		if !seen[v] {
			seen[v] = true
			t.Error(v)
		}
	}
}

// TestRulesCatchViolations makes sure the rules can fail: a tree that breaks
// each of them must produce one violation per rule.
func TestRulesCatchViolations(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module "+module+"\n")
	write("raft/a.go", "package raft\nimport _ \""+module+"/storage\"\n")
	write("raft/ok.go", "package raft\nimport _ \""+module+"/raft/raftpb\"\n")
	write("storage/b.go", "package storage\nimport _ \"net/http\"\n")
	write("util/c.go", "package util\n")
	got := violations(parseTree(t, root))
	if len(got) != 3 {
		t.Fatalf("want 3 violations (raft import, storage http, util name), got %d: %q", len(got), got)
	}
}
