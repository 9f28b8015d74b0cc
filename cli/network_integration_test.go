//go:build integration

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/network"
)

// End-to-end tests of the network verbs through creditctl's command line
// (Main, with buffered streams), against the shared network whose profile
// CREDIT_TEST_PROFILE names (make test: network/with-network.sh). The
// shared network is never stopped here: down and clean run on folders of
// their own. The identity verbs are tested by testdata/script/identity.txtar
// (TestScripts).

// sharedRun is the run folder of the shared network (the profile is its
// network.json, DESIGN §9), its profile, and the Fabric folder.
func sharedRun(t *testing.T) (run string, p *network.Profile, fabric string) {
	t.Helper()
	path := os.Getenv("CREDIT_TEST_PROFILE")
	if path == "" {
		t.Fatal("CREDIT_TEST_PROFILE is not set: run through make test (network/with-network.sh), or bring a network up and point it at its network.json")
	}
	p, err := network.LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	fabric = os.Getenv(envFabric)
	if fabric == "" {
		root := checkoutRoot()
		if root == "" {
			t.Fatal("not in a checkout: set " + envFabric)
		}
		fabric = filepath.Join(root, ".cache", "fabric", network.FabricVersion)
	}
	return filepath.Dir(path), p, fabric
}

// creditctl runs the command line in this process and returns its exit
// code, stdout and stderr. The config file is not read.
func creditctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := Test()
	f := &Factory{IO: ios, Getenv: func(k string) string {
		if k == "HOME" || k == "XDG_CONFIG_HOME" || k == envConfig {
			return ""
		}
		return os.Getenv(k)
	}}
	code := Main(f, args)
	return code, out.String(), errOut.String()
}

// expectedNodes lists the processes the profile describes: its orderers,
// and each county's peers and chaincode server.
func expectedNodes(p *network.Profile) []string {
	var names []string
	for _, o := range p.Orderers {
		names = append(names, o.Name)
	}
	for _, c := range p.Counties {
		for _, pe := range c.Peers {
			names = append(names, pe.Name+".c"+c.Code)
		}
		names = append(names, "cc.c"+c.Code)
	}
	slices.Sort(names)
	return names
}

// TestNetworkStatusOnTheSharedNetwork: `network status` finds the shared
// network healthy, lists every node of the profile with its PID, health
// and height, in json, plain and table.
func TestNetworkStatusOnTheSharedNetwork(t *testing.T) {
	run, p, fabric := sharedRun(t)
	code, out, stderr := creditctl(t, "network", "status", "--run", run, "--fabric", fabric, "-o", "json")
	if code != ExitOK {
		t.Fatalf("network status -o json: exit %d\n%s\n%s", code, out, stderr)
	}
	var st network.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("network status -o json: %v\n%s", err, out)
	}
	if !st.Healthy || !st.Committed || st.ChaincodeSequence < 1 || st.Channel != p.Channel || st.Chaincode != p.Chaincode || st.Dir != run ||
		!strings.HasPrefix(st.OrderingLeader, "orderer") {
		t.Errorf("status = %+v", st)
	}
	var names []string
	for _, n := range st.Nodes {
		names = append(names, n.Name)
		if n.Process != "running" || n.PID <= 0 || n.Health != "OK" || n.Error != "" {
			t.Errorf("node %+v: want running, a PID, OK", n)
		}
		if n.Kind != "chaincode" && n.Height == 0 {
			t.Errorf("node %s: no channel height", n.Name)
		}
	}
	slices.Sort(names)
	if want := expectedNodes(p); !slices.Equal(names, want) {
		t.Errorf("nodes = %v, want %v", names, want)
	}

	code, out, _ = creditctl(t, "network", "status", "--run", run, "--fabric", fabric, "-o", "plain")
	if code != ExitOK {
		t.Fatalf("network status -o plain: exit %d", code)
	}
	for _, n := range st.Nodes {
		// Heights move on while the other tests write; the rest is stable.
		re := fmt.Sprintf(`(?m)^%s\t%s\t\S+\t%s\trunning\t%d\tOK\t[-\d]+\t$`, regexp.QuoteMeta(n.Name), n.Kind, regexp.QuoteMeta(n.Address), n.PID)
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("plain output lacks a line matching %s:\n%s", re, out)
		}
	}
	for _, w := range []string{"\nhealthy\ttrue\n", "\nchaincodeCommitted\ttrue\n", "\nrunFolder\t" + run + "\n", "\norderingLeader\torderer"} {
		if !strings.Contains(out, w) {
			t.Errorf("plain output lacks %q:\n%s", w, out)
		}
	}

	code, out, _ = creditctl(t, "-o", "table", "network", "status", "--run", run, "--fabric", fabric)
	if code != ExitOK || !regexp.MustCompile(`(?m)^NODE +KIND +COUNTY +ADDRESS +PROCESS +PID +HEALTH +HEIGHT +NOTE$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^healthy +true$`).MatchString(out) {
		t.Errorf("network status -o table: exit %d\n%s", code, out)
	}
}

// TestNetworkUpRepairsNothingOnAHealthyNetwork: `network up` on the
// running shared network only checks each step (DESIGN §9: it repairs what
// is missing), restarts nothing, and prints the status and the profile.
func TestNetworkUpRepairsNothingOnAHealthyNetwork(t *testing.T) {
	run, p, fabric := sharedRun(t)
	cc := defaultChaincodeServer()
	if cc == "" {
		t.Skip("no creditcc binary (go build -o bin/ ./chaincode/cmd/creditcc)")
	}
	code, out, stderr := creditctl(t, "network", "status", "--run", run, "--fabric", fabric, "-o", "json")
	var before network.Status
	if code != ExitOK || json.Unmarshal([]byte(out), &before) != nil {
		t.Fatalf("network status: exit %d\n%s\n%s", code, out, stderr)
	}

	code, out, stderr = creditctl(t, "network", "up", "--run", run, "--fabric", fabric, "--chaincode-server", cc, "-o", "json")
	if code != ExitOK {
		t.Fatalf("network up: exit %d\n%s\n%s", code, out, stderr)
	}
	var up NetworkUpResult
	if err := json.Unmarshal([]byte(out), &up); err != nil {
		t.Fatalf("network up -o json: %v\n%s", err, out)
	}
	if up.Profile != filepath.Join(run, "network.json") || up.Status == nil || !up.Healthy || len(up.Nodes) != len(expectedNodes(p)) {
		t.Fatalf("up = %s", out)
	}
	for i, n := range up.Nodes {
		if b := before.Nodes[i]; n.Name != b.Name || n.PID != b.PID || n.Process != "running" {
			t.Errorf("node %s: pid %d (%s) after up, %d before: up restarted it", n.Name, n.PID, n.Process, b.PID)
		}
	}
	if !strings.Contains(stderr, "0 started, "+fmt.Sprint(len(up.Nodes))+" already running") {
		t.Errorf("up's progress (stderr) does not say that nothing was started:\n%s", stderr)
	}
}

// TestNetworkDownAndCleanOfAFolderOfTheirOwn: down and clean through the
// command line, on a run folder that is not the shared network's: nothing
// to stop, the folder removed, in json and plain.
func TestNetworkDownAndCleanOfAFolderOfTheirOwn(t *testing.T) {
	run := filepath.Join(t.TempDir(), "net")
	if err := os.MkdirAll(filepath.Join(run, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := creditctl(t, "network", "down", "--run", run, "-o", "json")
	var down NetworkDownResult
	if code != ExitOK || json.Unmarshal([]byte(out), &down) != nil || down.RunFolder != run || down.Nodes == nil || len(down.Nodes) != 0 {
		t.Errorf("network down -o json: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "nothing running") {
		t.Errorf("stderr = %q", stderr)
	}
	code, out, stderr = creditctl(t, "-o", "plain", "network", "clean", "--run", run)
	if code != ExitOK || out != "runFolder\t"+run+"\nremoved\ttrue\n" || fileExists(run) {
		t.Errorf("network clean -o plain: exit %d\n%q\n%s", code, out, stderr)
	}
	code, out, _ = creditctl(t, "network", "clean", "--run", run, "-o", "json")
	var clean NetworkCleanResult
	if code != ExitOK || json.Unmarshal([]byte(out), &clean) != nil || clean.Removed {
		t.Errorf("network clean of a missing folder: exit %d\n%s", code, out)
	}
}
