//go:build integration

package network_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/network"
)

// netnsHost is a second "machine": a network namespace joined to ours by a
// veth pair, with one address at each end. Only links and addresses this
// test creates are touched, and they are removed however the test ends.
type netnsHost struct {
	ns, vethA, vethB string
	hostA, hostB     string // IPv4 addresses: ours, the namespace's
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// newNetnsHost makes the namespace, or skips the test where network
// namespaces are not permitted.
func newNetnsHost(t *testing.T) *netnsHost {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("two-host test skipped: the ip command (iproute2) is not installed")
	}
	id := os.Getpid() % 100000
	h := &netnsHost{
		ns: fmt.Sprintf("credtest%d", id), vethA: fmt.Sprintf("crA%d", id), vethB: fmt.Sprintf("crB%d", id),
		// 198.18.0.0/15 is reserved for network benchmarking (RFC 2544).
		hostA: fmt.Sprintf("198.18.%d.1", id%256), hostB: fmt.Sprintf("198.18.%d.2", id%256),
	}
	if err := ipCmd("netns", "add", h.ns); err != nil {
		t.Skipf("two-host test skipped: creating a network namespace is not permitted here (%v)", err)
	}
	t.Cleanup(func() {
		if err := ipCmd("netns", "del", h.ns); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		_ = ipCmd("link", "del", h.vethA) // normally gone with the namespace
	})
	for _, args := range [][]string{
		{"link", "add", h.vethA, "type", "veth", "peer", "name", h.vethB},
		{"link", "set", h.vethB, "netns", h.ns},
		{"addr", "add", h.hostA + "/30", "dev", h.vethA},
		{"link", "set", h.vethA, "up"},
		{"-n", h.ns, "addr", "add", h.hostB + "/30", "dev", h.vethB},
		{"-n", h.ns, "link", "set", h.vethB, "up"},
		{"-n", h.ns, "link", "set", "lo", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func netnsOf(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	return s
}

// TestTwoHosts runs the two-host layout of docs/NETWORK.md with a network
// namespace as the second machine: host A runs the orderer and Yiwu,
// host B runs Lanling. Each host starts only its own processes
// (`up --host X --start-only`), then host A completes the network (`up
// --host A`) across the link. A commitment recorded in Yiwu is read on
// Lanling's peer, which is reachable only at host B's address.
func TestTwoHosts(t *testing.T) {
	fabric := fabricDir(t)
	h := newNetnsHost(t)
	creditctl := buildBinary(t, "../cli/creditctl")
	cc := buildBinary(t, "../chaincode/cmd/creditcc")
	dir := t.TempDir()
	run := filepath.Join(dir, "net")
	topo := filepath.Join(dir, "two-host.yaml")
	yml := fmt.Sprintf(`name: credit-two-host
basePort: 2050
orderers: {consensus: raft, count: 1, host: %[1]s}
counties:
  - {code: "330782", name: 义乌市, host: %[1]s}
  - {code: "371324", name: 兰陵县, host: %[2]s}
`, h.hostA, h.hostB)
	if err := os.WriteFile(topo, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { network.Down(context.Background(), run, testWriter{t}) })

	creditctlOn := func(ns string, args ...string) {
		t.Helper()
		full := append([]string{creditctl}, args...)
		full = append(full, "--run", run, "--fabric", fabric)
		if ns != "" {
			full = append([]string{"ip", "netns", "exec", ns}, full...)
		}
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Env = append(os.Environ(), "CREDITCTL_CHAINCODE_SERVER="+cc)
		out, err := cmd.CombinedOutput()
		t.Logf("%s:\n%s", strings.Join(args, " "), out)
		if err != nil {
			t.Fatalf("creditctl %s: %v", strings.Join(args, " "), err)
		}
	}
	// Host A generates everything and starts its processes; host B (same
	// run folder here; a copy on a real second machine) starts its own;
	// host A then joins, deploys and bootstraps across the link.
	creditctlOn("", "network", "up", "--topology", topo, "--host", h.hostA, "--start-only")
	creditctlOn(h.ns, "network", "up", "--topology", topo, "--host", h.hostB, "--start-only")
	creditctlOn("", "network", "up", "--topology", topo, "--host", h.hostA)

	n, err := network.Open(run, fabric)
	if err != nil {
		t.Fatal(err)
	}
	st, err := n.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Healthy {
		b, _ := json.MarshalIndent(st, "", "  ")
		t.Fatalf("not healthy:\n%s", b)
	}
	ours := netnsOf(os.Getpid())
	for _, ns := range st.Nodes {
		inB := strings.HasPrefix(ns.Address, h.hostB+":")
		if got := netnsOf(ns.PID); (got != ours) != inB {
			t.Errorf("%s at %s runs in network namespace %s (ours %s)", ns.Name, ns.Address, got, ours)
		}
	}

	officerA := cliFor(t, n, fabric, "330782", n.UserMSP(n.T.Counties[0], "officer1"))
	auditorB := cliFor(t, n, fabric, "371324", n.UserMSP(n.T.Counties[1], "auditor1"))
	if !strings.HasPrefix(auditorB.peer.Address(), h.hostB+":") {
		t.Fatalf("Lanling's peer is at %s, not on host B", auditorB.peer.Address())
	}
	if err := officerA.invoke("MakeCommitment", map[string]any{
		"id": "two-host-cm-1", "kind": "voluntary", "subject": "91330782MA2NET002P", "content": "across two hosts",
	}, "330782", "371324"); err != nil {
		t.Fatal(err)
	}
	got, err := auditorB.query("GetRecord", map[string]string{"kind": "commitment", "id": "two-host-cm-1"})
	if err != nil || !strings.Contains(got, `"county":"330782"`) {
		t.Fatalf("read on host B: %s (%v)", got, err)
	}

	if _, err := network.Down(context.Background(), run, testWriter{t}); err != nil {
		t.Fatal(err)
	}
	if left := ourProcesses(run); len(left) != 0 {
		t.Errorf("processes left after down:\n%s", strings.Join(left, "\n"))
	}
}
