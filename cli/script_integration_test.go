//go:build integration

package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// End-to-end tests: the scripts in testdata/script run the real creditctl
// (this test binary, re-executed as "creditctl" by testscript) against the
// real network whose profile CREDIT_TEST_PROFILE names (make test brings
// one up with network/with-network.sh). The network is shared by every
// package during one make test, so each script works on a fresh company
// and fresh record IDs ($RUN).
//
// Extra script commands:
//
//	code N cmd args…     run cmd; its exit status must be N (stdout and
//	                     stderr are kept for stdout/stderr assertions)
//	getfield VAR field [want]
//	                     set $VAR from the last stdout: a dotted path in
//	                     JSON output (record.id; a number is an index of a
//	                     list, records.0.id; [key=value] the element of a
//	                     list whose key is value, records.[id=PUN-1].state;
//	                     numbers and booleans as JSON writes them), else
//	                     the value of a "field<tab>value" line of plain
//	                     output. With want, the value must match the
//	                     regular expression ^(?:want)$ (and may be empty).
//	                     VAR - sets nothing.

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"creditctl": func() int { return Main(&Factory{IO: System()}, os.Args[1:]) },
	}))
}

func TestScripts(t *testing.T) {
	profile := os.Getenv("CREDIT_TEST_PROFILE")
	if profile == "" {
		t.Fatal("CREDIT_TEST_PROFILE is not set: run through make test (network/with-network.sh), or bring a network up and point it at its network.json")
	}
	if _, err := os.Stat(profile); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			run := randomHex(4)
			env.Setenv("CREDITCTL_PROFILE", profile)
			env.Setenv("CREDITCTL_OUTPUT", "plain")
			env.Setenv("RUN", run)
			env.Setenv("COMPANY", randomCompany("330782"))
			env.Setenv("COMPANY_B", randomCompany("330182"))
			env.Setenv("BADCHECK", wrongCheck(randomCompany("330782")))
			// A rule set effective on a random far-future day, so two runs
			// on one network never collide (versions and dates are unique).
			env.Setenv("FUTURE_DAY", futureDay())
			key := filepath.Join(env.WorkDir, "person.key")
			if err := os.WriteFile(key, []byte("integration-test-person-key-"+run+"\n"), 0o600); err != nil {
				return err
			}
			env.Setenv("CREDITCTL_PERSON_KEY_FILE", key)
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"code":     cmdCode,
			"getfield": cmdGetfield,
		},
	})
}

func cmdCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: code N command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("code: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("code: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

func cmdGetfield(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: getfield VAR field [want]")
	}
	got, err := lookupField(ts.ReadFile("stdout"), args[1], len(args) == 3)
	if err != nil {
		ts.Fatalf("getfield: %v", err)
	}
	if len(args) == 3 {
		re, err := regexp.Compile("^(?:" + args[2] + ")$")
		if err != nil {
			ts.Fatalf("getfield: want: %v", err)
		}
		if !re.MatchString(got) {
			ts.Fatalf("getfield: %s is %q, want %q", args[1], got, args[2])
		}
	}
	if args[0] != "-" {
		ts.Setenv(args[0], got)
	}
}

// lookupField finds path in out (JSON, else "field<tab>value" lines).
// Without empty, an empty string is an error.
func lookupField(out, path string, empty bool) (string, error) {
	var doc any
	if json.Unmarshal([]byte(out), &doc) != nil {
		for _, line := range strings.Split(out, "\n") {
			if k, v, ok := strings.Cut(line, "\t"); ok && k == path {
				return v, nil
			}
		}
		return "", fmt.Errorf("no %q line in stdout", path)
	}
	v := doc
	for _, part := range splitPath(path) {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[part]; !ok {
				return "", fmt.Errorf("%s: no %q in the JSON output", path, part)
			}
		case []any:
			v = nil
			if key, want, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(part, "["), "]"), "="); ok && strings.HasPrefix(part, "[") {
				for _, el := range node {
					if m, ok := el.(map[string]any); ok && m[key] == want {
						v = el
						break
					}
				}
			} else if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(node) {
				v = node[i]
			}
			if v == nil {
				return "", fmt.Errorf("%s: no element %s in a list of %d", path, part, len(node))
			}
		default:
			return "", fmt.Errorf("%s: not an object or list at %q", path, part)
		}
	}
	switch v := v.(type) {
	case string:
		if v == "" && !empty {
			return "", fmt.Errorf("%s is empty in the JSON output", path)
		}
		return v, nil
	case float64, bool:
		b, _ := json.Marshal(v)
		return string(b), nil
	}
	return "", fmt.Errorf("%s: not a string, number or boolean in the JSON output", path)
}

// splitPath splits a dotted path; a [key=value] part may hold dots.
func splitPath(path string) []string {
	var parts []string
	for path != "" {
		n := strings.IndexByte(path, '.')
		if i := strings.IndexByte(path, ']'); strings.HasPrefix(path, "[") && i > 0 {
			n = i + 1
		}
		if n < 0 {
			n = len(path)
		}
		parts = append(parts, path[:n])
		path = strings.TrimPrefix(path[n:], ".")
	}
	return parts
}

// TestLookupField checks getfield's paths (no network needed).
func TestLookupField(t *testing.T) {
	const out = `{"txId": "ab", "block": 7, "record": {"id": "R1", "ok": true, "note": "",
		"measures": ["procurement", "honours"]},
		"records": [{"id": "C-1", "state": "made"}, {"id": "C-1.breach", "state": "recorded"}]}`
	for _, tt := range []struct{ path, want string }{
		{"txId", "ab"},
		{"block", "7"},
		{"record.ok", "true"},
		{"record.measures.1", "honours"},
		{"records.0.state", "made"},
		{"records.[id=C-1.breach].state", "recorded"},
		{"records.[id=C-1].state", "made"},
	} {
		if got, err := lookupField(out, tt.path, false); err != nil || got != tt.want {
			t.Errorf("lookupField(%s) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	for _, path := range []string{"record.note", "record.missing", "records.2.id", "records.[id=C-2].state", "record", "txId.x"} {
		if got, err := lookupField(out, path, false); err == nil {
			t.Errorf("lookupField(%s) = %q, want an error", path, got)
		}
	}
	if got, err := lookupField(out, "record.note", true); err != nil || got != "" {
		t.Errorf("lookupField(record.note, empty allowed) = %q, %v", got, err)
	}
	if got, err := lookupField("id\tR1\nstate\tmade\n", "state", false); err != nil || got != "made" {
		t.Errorf("lookupField(plain state) = %q, %v", got, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// randomCompany is a valid enterprise code registered in county.
func randomCompany(county string) string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	seq := make([]byte, 7)
	for i := range seq {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		seq[i] = alphabet[n.Int64()]
	}
	return credit.CompleteCreditCode("91" + county + "MA" + string(seq))
}

// wrongCheck replaces a code's check character with another one.
func wrongCheck(code string) string {
	c := byte('0')
	if code[17] == '0' {
		c = '1'
	}
	return code[:17] + string(c)
}

// futureDay is a random date in 2100-2199.
func futureDay() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(100*12*28))
	d := int(n.Int64())
	return credit.NewDate(2100+d/(12*28), time.Month(1+d/28%12), 1+d%28).String()
}
