// Package deptest enforces the dependency direction of docs/DESIGN.md §1:
// it runs `go list` over the module and fails on an import that the
// allow-list does not permit. Packages that do not exist yet are skipped.
package deptest

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/countycredit/creditledger"

// rule says which of our packages a group of packages may depend on
// (directly or not). A package may always depend on the other packages of
// its own group. stdOnly forbids every non-standard dependency.
type rule struct {
	group   []string // package paths relative to the module
	allowed []string // more of our packages the group may use
	stdOnly bool
}

// rules is DESIGN §1's table.
var rules = []rule{
	{group: []string{"chaincode/credit"}, stdOnly: true},
	{group: []string{"chaincode", "chaincode/cmd/creditcc"}, allowed: []string{"chaincode/credit"}},
	{group: []string{"chaincode/replay"}, allowed: []string{"chaincode", "chaincode/credit"}},
	{group: []string{"client", "client/cert"}, allowed: []string{"chaincode/credit"}},
	{group: []string{"indexer", "indexer/keys"}, allowed: []string{"chaincode/credit"}},
	{group: []string{"indexer/httpapi"}, allowed: []string{"indexer", "indexer/keys", "chaincode/credit"}},
	{group: []string{"network", "network/identity"}},
}

type pkg struct {
	path     string
	standard bool
	listed   bool     // one of the module's packages
	deps     []string // transitive dependencies
	tests    []string // imports of the package's tests
}

// listPackages runs go list from the module root.
func listPackages(t *testing.T) map[string]*pkg {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	dir := strings.TrimSpace(string(root))
	run := func(args ...string) []byte {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	pkgs := map[string]*pkg{}
	// Every package the module's packages depend on, with its standard flag.
	for _, line := range lines(run("list", "-e", "-deps", "-f", "{{.ImportPath}}\t{{.Standard}}", "./...")) {
		path, std, _ := strings.Cut(line, "\t")
		pkgs[path] = &pkg{path: path, standard: std == "true"}
	}
	// The module's own packages with their transitive deps and test imports.
	for _, line := range lines(run("list", "-e", "-f", "{{.ImportPath}}|{{join .Deps \" \"}}|{{join .TestImports \" \"}} {{join .XTestImports \" \"}}", "./...")) {
		parts := strings.Split(line, "|")
		if len(parts) != 3 {
			t.Fatalf("go list line %q", line)
		}
		p := pkgs[parts[0]]
		if p == nil {
			p = &pkg{path: parts[0]}
			pkgs[parts[0]] = p
		}
		p.listed = true
		p.deps = strings.Fields(parts[1])
		p.tests = strings.Fields(parts[2])
	}
	return pkgs
}

func lines(b []byte) []string {
	var out []string
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(make([]byte, 1<<20), 1<<24)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func ours(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// isStandard: a path without a dot in its first element and not ours is a
// standard-library package; go list's flag is preferred when known.
func isStandard(pkgs map[string]*pkg, path string) bool {
	if p, ok := pkgs[path]; ok && p.standard {
		return true
	}
	if path == "C" {
		return false
	}
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// violations applies the rules to a package list; it returns the packages
// of the allow-list it found and the violations, sorted.
func violations(pkgs map[string]*pkg) (checked []string, bad []string) {
	for _, r := range rules {
		for _, rel := range r.group {
			p, ok := pkgs[module+"/"+rel]
			if !ok || !p.listed {
				continue // not in the module yet
			}
			checked = append(checked, rel)
			allowed := append(slices.Clone(r.group), r.allowed...)
			for _, d := range p.deps {
				if rd, mine := ours(d); mine {
					if !slices.Contains(allowed, rd) {
						bad = append(bad, rel+" depends on "+rd+"; DESIGN §1 allows only "+strings.Join(allowed, ", "))
					}
					continue
				}
				if r.stdOnly && !isStandard(pkgs, d) {
					bad = append(bad, rel+" depends on "+d+"; it may use the standard library only")
				}
			}
			if r.stdOnly {
				for _, d := range p.tests {
					if _, mine := ours(d); !mine && !isStandard(pkgs, d) {
						bad = append(bad, rel+" tests import "+d+"; standard library only")
					}
				}
			}
		}
	}
	// Nothing outside cli imports cli.
	for _, p := range pkgs {
		rel, mine := ours(p.path)
		if !mine || rel == "cli" || strings.HasPrefix(rel, "cli/") {
			continue
		}
		for _, d := range p.deps {
			if rd, m := ours(d); m && (rd == "cli" || strings.HasPrefix(rd, "cli/")) {
				bad = append(bad, rel+" imports "+rd+"; nothing outside cli may")
			}
		}
	}
	slices.Sort(checked)
	slices.Sort(bad)
	return checked, bad
}

// TestDependencyDirection: DESIGN §1 — imports run one way; chaincode/credit
// uses the standard library only (its tests too); nothing imports cli.
func TestDependencyDirection(t *testing.T) {
	checked, bad := violations(listPackages(t))
	if !slices.Contains(checked, "chaincode/credit") {
		t.Fatalf("chaincode/credit was not found (checked %v); is the module path right?", checked)
	}
	t.Logf("checked %v", checked)
	for _, b := range bad {
		t.Error(b)
	}
}

// TestAllowListCatchesAViolation checks the checker on a made-up package
// list, so the test above cannot pass by checking nothing.
func TestAllowListCatchesAViolation(t *testing.T) {
	pkgs := map[string]*pkg{
		"fmt":                        {path: "fmt", standard: true},
		"github.com/hyperledger/x":   {path: "github.com/hyperledger/x"},
		module + "/chaincode/credit": {path: module + "/chaincode/credit", listed: true, deps: []string{"fmt", "github.com/hyperledger/x"}},
		module + "/indexer/keys":     {path: module + "/indexer/keys", listed: true, deps: []string{module + "/client"}},
		module + "/client":           {path: module + "/client", listed: true, deps: []string{module + "/cli"}},
		module + "/chaincode":        {path: module + "/chaincode", listed: true, deps: []string{module + "/chaincode/credit", "github.com/hyperledger/x"}},
	}
	checked, bad := violations(pkgs)
	want := []string{
		"chaincode/credit depends on github.com/hyperledger/x; it may use the standard library only",
		"client depends on cli; DESIGN §1 allows only client, client/cert, chaincode/credit",
		"client imports cli; nothing outside cli may",
		"indexer/keys depends on client; DESIGN §1 allows only indexer, indexer/keys, chaincode/credit",
	}
	if !slices.Equal(bad, want) {
		t.Fatalf("violations:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(checked, []string{"chaincode", "chaincode/credit", "client", "indexer/keys"}) {
		t.Fatalf("checked %v", checked)
	}
}
