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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/countycredit/creditledger/network"
	"github.com/countycredit/creditledger/network/identity"
)

// The lifecycle test owns its network on ports from 22050 (moved up by
// 1000 if busy); make test's shared network starts at 27050, the chaos
// tests' at 17050, the BFT test's at 12050, a developer's default network
// at 7050, the two-host test's at 2050 (on its own addresses), make
// bench's (creditctl bench suite) at 32050. All stay
// below Linux's ephemeral port range (32768-60999): the test stops and
// restarts a peer, and a port of that range, free for a moment, may be
// handed to an outgoing connection.
const lifecycleBasePort = 22050

// fabricDir is the Fabric build (make fabric).
func fabricDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("CREDITCTL_FABRIC")
	if d == "" {
		d, _ = filepath.Abs(filepath.Join("..", ".cache", "fabric", network.FabricVersion))
	}
	if _, err := os.Stat(filepath.Join(d, "bin", "peer")); err != nil {
		t.Fatalf("Fabric binaries not found in %s: run `make fabric` (or set CREDITCTL_FABRIC)", d)
	}
	return d
}

// buildBinary builds one of our commands into a temporary folder.
func buildBinary(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// shippedCalendars reads the chaincode's calendar files (read from disk:
// package network does not import the chaincode).
func shippedCalendars(t *testing.T) []json.RawMessage {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "chaincode", "credit", "calendars", "*.json"))
	var out []json.RawMessage
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, json.RawMessage(b))
	}
	return out
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// peerCLI runs Fabric's own peer CLI as one identity against one peer.
type peerCLI struct {
	t      *testing.T
	n      *network.Network
	bin    string
	mspID  string
	msp    string
	county network.County
	peer   network.PeerNode
}

func cliFor(t *testing.T, n *network.Network, fabric string, code, mspDir string) *peerCLI {
	t.Helper()
	c, i, ok := n.T.County(code)
	if !ok {
		t.Fatalf("no county %s", code)
	}
	return &peerCLI{t: t, n: n, bin: filepath.Join(fabric, "bin", "peer"), mspID: c.MSPID(), msp: mspDir, county: c, peer: n.T.CountyPeers(i)[0]}
}

func (c *peerCLI) run(args ...string) (string, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = []string{
		"PATH=/usr/bin:/bin", "HOME=" + os.Getenv("HOME"),
		"FABRIC_CFG_PATH=" + c.n.ConfigDir(), "FABRIC_LOGGING_SPEC=warning",
		"CORE_PEER_TLS_ENABLED=true", "CORE_PEER_TLS_ROOTCERT_FILE=" + c.n.CountyTLSCA(c.county),
		"CORE_PEER_ADDRESS=" + c.peer.Address(), "CORE_PEER_LOCALMSPID=" + c.mspID, "CORE_PEER_MSPCONFIGPATH=" + c.msp,
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("peer %s: %v: %s", strings.Join(args[:2], " "), err, errb.String())
	}
	return out.String(), nil
}

func ccArg(fn string, req any) string {
	b, _ := json.Marshal(req)
	a, _ := json.Marshal(map[string][]string{"Args": {fn, string(b)}})
	return string(a)
}

// invoke submits fn(req), endorsed by the given counties' peers, and waits
// for the commit.
func (c *peerCLI) invoke(fn string, req any, endorsers ...string) error {
	o := c.n.T.OrdererNodes()[0]
	args := []string{"chaincode", "invoke", "-o", o.Address(), "--tls", "--cafile", c.n.OrdererTLSCA(),
		"-C", c.n.T.Channel, "-n", c.n.T.Chaincode, "-c", ccArg(fn, req), "--waitForEvent", "--waitForEventTimeout", "60s"}
	for _, code := range endorsers {
		cty, i, _ := c.n.T.County(code)
		args = append(args, "--peerAddresses", c.n.T.CountyPeers(i)[0].Address(), "--tlsRootCertFiles", c.n.CountyTLSCA(cty))
	}
	_, err := c.run(args...)
	return err
}

func (c *peerCLI) query(fn string, req any) (string, error) {
	return c.run("chaincode", "query", "-C", c.n.T.Channel, "-n", c.n.T.Chaincode, "-c", ccArg(fn, req))
}

func (c *peerCLI) height() (uint64, error) {
	out, err := c.run("channel", "getinfo", "-c", c.n.T.Channel)
	if err != nil {
		return 0, err
	}
	_, js, _ := strings.Cut(out, "Blockchain info:")
	var v struct{ Height uint64 }
	if err := json.Unmarshal([]byte(strings.TrimSpace(js)), &v); err != nil {
		return 0, fmt.Errorf("parse getinfo %q: %w", out, err)
	}
	return v.Height, nil
}

// issue mints a staff identity with our issuer, from the county's CA.
func issue(t *testing.T, n *network.Network, code, name, role, dept string) string {
	t.Helper()
	c, _, _ := n.T.County(code)
	ca, err := identity.LoadCA(n.CountyCACert(c), n.CountyCAKey(c))
	if err != nil {
		t.Fatal(err)
	}
	iss, err := ca.Issue(identity.Request{MSPID: c.MSPID(), Name: name, Role: role, Dept: dept}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tls, _ := os.ReadFile(n.CountyTLSCA(c))
	dir := n.UserMSP(c, name)
	if err := identity.WriteMSP(dir, ca, tls, iss); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ourProcesses lists live processes whose environment carries this run
// folder's marker: what must be gone after down.
func ourProcesses(dir string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && (stat[i+2] == 'Z' || stat[i+2] == 'X') {
			continue // exited, not yet reaped by its parent
		}
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue
		}
		if bytes.Contains(env, []byte("CREDIT_NODE="+dir+"/")) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			found = append(found, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
		}
	}
	return found
}

// TestNetworkLifecycle is issue 3's acceptance test: up from nothing, the
// chaincode deployed, a commitment recorded in one county and read from
// another county's peer with Fabric's own CLI, a cross-county repair
// completion refused by the chaincode, a peer restarted and caught up,
// nothing of ours left after down, and the whole network up again with its
// ledger kept and taking writes at once.
func TestNetworkLifecycle(t *testing.T) {
	fabric := fabricDir(t)
	cc := buildBinary(t, "../chaincode/cmd/creditcc")
	dir := filepath.Join(t.TempDir(), "net")
	top := network.DefaultTopology()
	top.BasePort = lifecycleBasePort
	if err := top.ShiftToFreePorts(1000, 20); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := network.Options{Dir: dir, Topology: top, FabricDir: fabric, ChaincodeServer: cc, Calendars: shippedCalendars(t), Progress: testWriter{t}}
	downed := false
	t.Cleanup(func() {
		if !downed {
			if _, err := network.Down(context.Background(), dir, testWriter{t}); err != nil {
				t.Errorf("cleanup down: %v", err)
			}
		}
	})

	// 1-2. From nothing to a committed chaincode.
	start := time.Now()
	n, err := network.Up(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold up: %.1fs", time.Since(start).Seconds())
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Healthy || !st.Committed || st.ChaincodeSequence != network.ChaincodeSequence || len(st.Nodes) != 9 {
		t.Fatalf("status after up: %+v", st)
	}
	// Our package ID is Fabric's.
	calc := exec.Command(filepath.Join(fabric, "bin", "peer"), "lifecycle", "chaincode", "calculatepackageid", n.ChaincodePackage())
	calc.Env = []string{"FABRIC_CFG_PATH=" + n.ConfigDir()}
	out, err := calc.CombinedOutput()
	if err != nil {
		t.Fatalf("calculatepackageid: %v: %s", err, out)
	}
	pkg, _ := os.ReadFile(n.ChaincodePackage())
	if got, want := strings.TrimSpace(string(out)), network.PackageID("credit_1.0", pkg); got != want {
		t.Errorf("package ID: peer says %s, we say %s", got, want)
	}
	// Idempotent: a second up changes nothing (same heights, same PIDs).
	start = time.Now()
	if _, err := network.Up(ctx, opts); err != nil {
		t.Fatal(err)
	}
	t.Logf("warm up: %.1fs", time.Since(start).Seconds())
	st2, _ := n.Status(ctx)
	for i := range st.Nodes {
		if st.Nodes[i].PID != st2.Nodes[i].PID || st.Nodes[i].Height != st2.Nodes[i].Height {
			t.Errorf("second up changed %s: %+v -> %+v", st.Nodes[i].Name, st.Nodes[i], st2.Nodes[i])
		}
	}

	const yiwu, jiande, lanling = "330782", "330182", "371324"
	clerk := cliFor(t, n, fabric, yiwu, issue(t, n, yiwu, "clerk1", identity.RoleOfficer, "market"))
	officerA := cliFor(t, n, fabric, yiwu, n.UserMSP(top.Counties[0], "officer1"))
	officerB := cliFor(t, n, fabric, jiande, n.UserMSP(top.Counties[1], "officer1"))
	auditorC := cliFor(t, n, fabric, lanling, n.UserMSP(top.Counties[2], "auditor1"))

	// 3. A commitment recorded in Yiwu by its clerk (our issuer's
	// certificate), read from Lanling's peer by Lanling's auditor.
	subject := "91330782MA2NET001L" // valid GB 32100 code, home county 330782
	if err := clerk.invoke("MakeCommitment", map[string]any{
		"id": "net-cm-1", "kind": "voluntary", "subject": subject, "content": "integration test promise",
	}, yiwu, jiande); err != nil {
		t.Fatal(err)
	}
	got, err := auditorC.query("GetRecord", map[string]string{"kind": "commitment", "id": "net-cm-1"})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ID, County, Department, State, Subject string
	}
	if err := json.Unmarshal([]byte(got), &rec); err != nil {
		t.Fatalf("GetRecord on %s: %v: %s", auditorC.peer.Address(), err, got)
	}
	if rec.ID != "net-cm-1" || rec.County != yiwu || rec.Department != "market" || rec.State != "made" || rec.Subject != subject {
		t.Errorf("record read on Lanling's peer: %s", got)
	}

	// 4. Jiande's officer cannot complete a repair of Yiwu's punishment;
	// Yiwu's officer can (so the refusal is about the county, not timing).
	all := []string{yiwu, jiande, lanling}
	// Decided six months ago: a general case is past its 3-month minimum
	// and within its 1-year maximum (seed 001, the NDRC notice).
	decided := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, -6, 0).Format(time.DateOnly)
	steps := []struct {
		who *peerCLI
		fn  string
		req any
	}{
		{officerA, "ImposePunishment", map[string]any{
			"id": "net-pn-1", "subject": subject, "kind": "publicity", "severity": "general",
			"decisionDate": decided, "decisionNo": "义市监罚〔2026〕1号", "legalBasis": "《行政处罚法》", "measures": []string{},
		}},
		{officerB, "ApplyRepair", map[string]any{"id": "net-rp-1", "punishmentId": "net-pn-1", "evidence": map[string]string{
			"identity": strings.Repeat("a", 64), "penaltyFulfilled": strings.Repeat("b", 64), "repairCommitment": strings.Repeat("c", 64),
		}}},
		{officerA, "AcceptRepair", map[string]string{"id": "net-rp-1"}},
	}
	for _, s := range steps {
		if err := s.who.invoke(s.fn, s.req, all...); err != nil {
			t.Fatalf("%s: %v", s.fn, err)
		}
	}
	err = officerB.invoke("CompleteRepair", map[string]string{"id": "net-rp-1"}, all...)
	if err == nil || !strings.Contains(err.Error(), "[FORBIDDEN]") {
		t.Fatalf("CompleteRepair by Jiande's officer: err = %v, want [FORBIDDEN] from the chaincode", err)
	}
	if err := officerA.invoke("CompleteRepair", map[string]string{"id": "net-rp-1"}, all...); err != nil {
		t.Fatalf("CompleteRepair by Yiwu's officer: %v", err)
	}
	got, err = auditorC.query("GetRecord", map[string]string{"kind": "repair", "id": "net-rp-1"})
	if err != nil || !strings.Contains(got, `"state":"completed"`) {
		t.Fatalf("repair after completion: %s (%v)", got, err)
	}

	// 5. Stop Lanling's peer, write while it is down, start it again: it
	// catches up to the others.
	if _, err := n.StopProcess(ctx, "peer0.c"+lanling); err != nil {
		t.Fatal(err)
	}
	if err := clerk.invoke("MakeCommitment", map[string]any{
		"id": "net-cm-2", "kind": "voluntary", "subject": subject, "content": "written while Lanling is down",
	}, yiwu, jiande); err != nil {
		t.Fatal(err)
	}
	if _, err := network.Up(ctx, opts); err != nil {
		t.Fatal(err)
	}
	peersCLI := []*peerCLI{officerA, officerB, auditorC}
	deadline := time.Now().Add(60 * time.Second)
	var hs []uint64
	for {
		hs = hs[:0]
		for _, c := range peersCLI {
			h, err := c.height()
			if err != nil {
				t.Fatal(err)
			}
			hs = append(hs, h)
		}
		if hs[0] == hs[1] && hs[1] == hs[2] {
			t.Logf("heights after restart: %v", hs)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted peer did not catch up: heights %v", hs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got, err := auditorC.query("GetRecord", map[string]string{"kind": "commitment", "id": "net-cm-2"}); err != nil || !strings.Contains(got, "net-cm-2") {
		t.Fatalf("restarted peer lacks the record written while it was down: %s (%v)", got, err)
	}

	// What a kept ledger must still show after the whole network is
	// brought down and up again (step 7): the records as every county's
	// peer reads them, the height, and the ledger files themselves.
	recordIDs := []string{"net-cm-1", "net-cm-2"}
	readRecords := func() map[string]string {
		t.Helper()
		m := map[string]string{}
		for _, c := range peersCLI {
			for _, id := range recordIDs {
				got, err := c.query("GetRecord", map[string]string{"kind": "commitment", "id": id})
				if err != nil {
					t.Fatalf("GetRecord %s on %s: %v", id, c.peer.Address(), err)
				}
				m[c.county.Code+" "+id] = strings.TrimSpace(got)
			}
		}
		return m
	}
	recordsBefore, heightBefore, filesBefore := readRecords(), hs[0], ledgerFiles(t, n)

	// 6. Down: every process stopped, no PID file, nothing of ours alive.
	var pids []int
	st, _ = n.Status(ctx)
	for _, ns := range st.Nodes {
		if ns.PID == 0 {
			t.Errorf("%s has no PID before down", ns.Name)
		}
		pids = append(pids, ns.PID)
	}
	res, err := network.Down(ctx, dir, testWriter{t})
	downed = true
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 9 {
		t.Errorf("down stopped %d processes, want 9: %+v", len(res), res)
	}
	if left := ourProcesses(dir); len(left) != 0 {
		t.Errorf("processes left after down:\n%s", strings.Join(left, "\n"))
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "pids")); len(ents) != 0 {
		t.Errorf("pid files left: %v", ents)
	}
	t.Logf("stopped pids %v", pids)

	// 7. The whole network up again on the same run folder: every node
	// resumes from its own data folder. The ledger files are the same
	// files (same inode, not shorter), no peer created its ledger again
	// from the genesis block and no orderer joined the channel again
	// (both would happen, and the ledger be refetched from the ordering
	// service, if a data folder had been lost: up re-joins a node that
	// does not list the channel), and every county's peer reads the same
	// records at a height at least the old one.
	start = time.Now()
	downed = false
	if _, err := network.Up(ctx, opts); err != nil {
		t.Fatal(err)
	}
	t.Logf("up after down: %.1fs", time.Since(start).Seconds())
	// Up returned: the orderers have a leader, and a write goes through
	// at once. (Up waits for the election, which takes at least 5 s after
	// a restart; before it did, up returned in about 3 s and the first
	// write through the Gateway failed with "no orderers could
	// successfully process transaction".)
	if leader, err := n.OrderingLeader(ctx); err != nil {
		t.Fatalf("right after up: %v", err)
	} else {
		t.Logf("ordering leader right after up: %s", leader)
	}
	if err := clerk.invoke("MakeCommitment", map[string]any{
		"id": "net-cm-3", "kind": "voluntary", "subject": subject, "content": "written right after up",
	}, yiwu, jiande); err != nil {
		t.Fatalf("the first write after up: %v", err)
	}
	filesAfter := ledgerFiles(t, n)
	for name, b := range filesBefore {
		if a := filesAfter[name]; a.ino != b.ino || a.size < b.size {
			t.Errorf("%s: ledger file was %+v before down, is %+v after up: rebuilt, not kept", name, b, a)
		}
	}
	for _, p := range n.T.PeerNodes() {
		if k := countInFile(t, n.LogFile(p.ProcName()), "Created ledger ["+n.T.Channel+"] with genesis block"); k != 1 {
			t.Errorf("%s created its channel ledger %d times, want once (before the restart)", p.ProcName(), k)
		}
	}
	for _, o := range n.T.OrdererNodes() {
		if k := countInFile(t, n.LogFile(o.Name), "Joining channel"); k != 1 {
			t.Errorf("%s joined the channel %d times, want once (before the restart)", o.Name, k)
		}
	}
	for _, c := range peersCLI {
		h, err := c.height()
		if err != nil {
			t.Fatal(err)
		}
		if h < heightBefore {
			t.Errorf("%s: height %d after up, %d before down", c.peer.Address(), h, heightBefore)
		}
	}
	recordsAfter := readRecords()
	for k, b := range recordsBefore {
		if a := recordsAfter[k]; a != b {
			t.Errorf("record %s before down:\n%s\nafter up:\n%s", k, b, a)
		}
	}
	if _, err := network.Down(ctx, dir, testWriter{t}); err != nil {
		t.Fatal(err)
	}
	downed = true
	if left := ourProcesses(dir); len(left) != 0 {
		t.Errorf("processes left after the second down:\n%s", strings.Join(left, "\n"))
	}
}

// ledgerFile identifies a ledger's first block file on disk.
type ledgerFile struct {
	ino  uint64
	size int64
}

// ledgerFiles returns the first block file of the channel's ledger of
// every peer and orderer, by process name.
func ledgerFiles(t *testing.T, n *network.Network) map[string]ledgerFile {
	t.Helper()
	paths := map[string]string{}
	for _, p := range n.T.PeerNodes() {
		paths[p.ProcName()] = filepath.Join(n.DataDir(p.ProcName()), "ledgersData", "chains", "chains", n.T.Channel, "blockfile_000000")
	}
	for _, o := range n.T.OrdererNodes() {
		paths[o.Name] = filepath.Join(n.DataDir(o.Name), "chains", n.T.Channel, "blockfile_000000")
	}
	m := map[string]ledgerFile{}
	for name, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s ledger: %v", name, err)
		}
		m[name] = ledgerFile{ino: fi.Sys().(*syscall.Stat_t).Ino, size: fi.Size()}
	}
	return m
}

// countInFile counts the lines of a file that contain s.
func countInFile(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			k++
		}
	}
	return k
}

// TestFabricVersion: the binaries make fabric builds say the version they
// were built from (build-fabric.sh stamps it with -X …/metadata.Version;
// unstamped, Fabric says "latest").
func TestFabricVersion(t *testing.T) {
	fabric := fabricDir(t)
	const want = "3.1.1"
	if network.FabricVersion != want {
		t.Errorf("network.FabricVersion = %q, want %q", network.FabricVersion, want)
	}
	for _, bin := range []string{"peer", "orderer"} {
		cmd := exec.Command(filepath.Join(fabric, "bin", bin), "version")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "FABRIC_CFG_PATH=" + filepath.Join(fabric, "config")}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s version: %v: %s", bin, err, out)
		}
		var got string
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Version:"); ok {
				got = strings.TrimSpace(v)
				break
			}
		}
		if got != want {
			t.Errorf("%s version says Version %q, want %q:\n%s", bin, got, want, out)
		}
	}
}

// TestBFTNetwork: the BFT option (four SmartBFT orderers, channel V3_0)
// comes up, commits the chaincode, orders a transaction and goes down.
func TestBFTNetwork(t *testing.T) {
	fabric := fabricDir(t)
	cc := buildBinary(t, "../chaincode/cmd/creditcc")
	dir := filepath.Join(t.TempDir(), "net")
	top, err := network.ParseTopology([]byte(`name: credit-bft
basePort: 12050
orderers: {consensus: bft}
counties:
  - {code: "330782", name: 义乌市}
  - {code: "371324", name: 兰陵县}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := top.ShiftToFreePorts(1000, 20); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { network.Down(context.Background(), dir, testWriter{t}) })
	ctx := context.Background()
	n, err := network.Up(ctx, network.Options{Dir: dir, Topology: top, FabricDir: fabric, ChaincodeServer: cc, Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := n.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Healthy || len(st.Nodes) != 4+2+2 {
		t.Fatalf("status: %+v", st)
	}
	officer := cliFor(t, n, fabric, "330782", n.UserMSP(top.Counties[0], "officer1"))
	if err := officer.invoke("MakeCommitment", map[string]any{
		"id": "bft-cm-1", "kind": "voluntary", "subject": "91330782MA2NET003T", "content": "ordered by SmartBFT",
	}, "330782", "371324"); err != nil {
		t.Fatal(err)
	}
	auditor := cliFor(t, n, fabric, "371324", n.UserMSP(top.Counties[1], "auditor1"))
	if got, err := auditor.query("GetRecord", map[string]string{"kind": "commitment", "id": "bft-cm-1"}); err != nil || !strings.Contains(got, "bft-cm-1") {
		t.Fatalf("read on the other county's peer: %s (%v)", got, err)
	}
	if _, err := network.Down(ctx, dir, testWriter{t}); err != nil {
		t.Fatal(err)
	}
	if left := ourProcesses(dir); len(left) != 0 {
		t.Errorf("processes left after down:\n%s", strings.Join(left, "\n"))
	}
}
