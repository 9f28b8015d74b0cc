//go:build integration

package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
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
//	getfield VAR field   set $VAR from the last stdout: a dotted path in
//	                     JSON output (record.id), else the value of a
//	                     "field<tab>value" line of plain output

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
	if neg || len(args) != 2 {
		ts.Fatalf("usage: getfield VAR field")
	}
	out := ts.ReadFile("stdout")
	var doc any
	if json.Unmarshal([]byte(out), &doc) == nil {
		v := doc
		for _, part := range strings.Split(args[1], ".") {
			m, ok := v.(map[string]any)
			if !ok {
				ts.Fatalf("getfield: %s: not an object at %q", args[1], part)
			}
			v = m[part]
		}
		s, ok := v.(string)
		if !ok || s == "" {
			ts.Fatalf("getfield: no string at %s in the JSON output", args[1])
		}
		ts.Setenv(args[0], s)
		return
	}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "\t")
		if ok && k == args[1] {
			ts.Setenv(args[0], v)
			return
		}
	}
	ts.Fatalf("getfield: no %q line in stdout", args[1])
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
