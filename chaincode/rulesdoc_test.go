package chaincode

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRulesDocNamesRealTests: every test docs/RULES.md cites exists, so the
// rule table cannot drift from the code.
func TestRulesDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("../docs/RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{"credit": "credit", "chaincode": ".", "creditcc": "cmd/creditcc", "deptest": "../internal/deptest"}
	sources := map[string]string{}
	for pkg, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		var b strings.Builder
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(src)
		}
		sources[pkg] = b.String()
	}
	refs := regexp.MustCompile("`([a-z]+)\\.((?:Test|Fuzz)[A-Za-z0-9_]+)`").FindAllStringSubmatch(string(doc), -1)
	if len(refs) < 50 {
		t.Fatalf("only %d test references found in RULES.md", len(refs))
	}
	for _, r := range refs {
		src, ok := sources[r[1]]
		if !ok {
			t.Errorf("RULES.md cites %s.%s: unknown package", r[1], r[2])
			continue
		}
		if !strings.Contains(src, "func "+r[2]+"(") {
			t.Errorf("RULES.md cites %s.%s, which does not exist", r[1], r[2])
		}
	}
}
