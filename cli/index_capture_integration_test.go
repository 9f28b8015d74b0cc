//go:build integration

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/network"
)

// captureDir is where TestCaptureNetworkBlocks writes the golden block
// fixtures of package indexer.
const captureDir = "../indexer/testdata/blocks/network"

// TestCaptureNetworkBlocks brings up a network of its own, drives it
// through what the indexer must handle, and captures every block of the
// channel into indexer/testdata/blocks/network (package indexer's
// network.ddt replays them). It only runs with CREDIT_CAPTURE_BLOCKS=1:
//
//	CREDIT_CAPTURE_BLOCKS=1 go test -tags integration -run TestCaptureNetworkBlocks ./cli/
//
// The ledger it makes holds: the genesis config block; the network's own
// bootstrap (the chaincode definition approved by each county and
// committed: _lifecycle writes and the counties' private approval hashes;
// counties registered; calendars installed); credit transactions of every
// family, three counties acting; index-key moves and lock releases
// (deletes); an MVCC read conflict (two repair applications for one
// punishment racing); a channel config update (the orderer batch timeout,
// signed by the ordering admin); a chaincode upgrade (sequence 2 of the
// definition, approved by every county's admin and committed with the peer
// CLI); and a credit transaction after the upgrade. Every credit
// transaction's read-write set holds two namespaces: credit, and the
// _lifecycle read of the chaincode definition the endorser makes.
func TestCaptureNetworkBlocks(t *testing.T) {
	if os.Getenv("CREDIT_CAPTURE_BLOCKS") != "1" {
		t.Skip("set CREDIT_CAPTURE_BLOCKS=1 to capture the indexer's network block fixtures (brings up a network of its own)")
	}
	root := checkoutRoot()
	if root == "" {
		t.Fatal("not in the checkout")
	}
	tmp := t.TempDir()
	run := filepath.Join(tmp, "net")
	n := &itNet{}
	cc := filepath.Join(root, "bin", "creditcc")
	if _, err := os.Stat(cc); err != nil {
		cc = filepath.Join(tmp, "creditcc")
		if out, err := exec.Command("go", "build", "-o", cc, filepath.Join(root, "chaincode", "cmd", "creditcc")).CombinedOutput(); err != nil {
			t.Fatalf("build creditcc: %v\n%s", err, out)
		}
	}
	t.Setenv("CREDITCTL_CHAINCODE_SERVER", cc)
	up := n.command(t, "network", "up", "--run", run, "--topology", filepath.Join(root, "network", "topology.yaml"),
		"--base-port", "57050", "--free-ports")
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("network up: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := n.command(t, "network", "clean", "--run", run).CombinedOutput(); err != nil {
			t.Errorf("network clean: %v\n%s", err, out)
		}
	})
	n.path = filepath.Join(run, "network.json")
	p, err := network.LoadProfile(n.path)
	if err != nil {
		t.Fatal(err)
	}
	n.profile = p
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, b, c := n.client(t, 0, "officer1"), n.client(t, 1, "officer1"), n.client(t, 2, "officer1")
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	subj := func(code, tail string) string { return credit.CompleteCreditCode("91" + code + "MA2" + tail) }
	ca, cb := p.Counties[0].Code, p.Counties[1].Code
	s1, s2, s3 := subj(ca, "CAPT01"), subj(cb, "CAPT02"), subj(ca, "CAPT03")
	today := credit.DateOf(time.Now())

	// Commitments: made, fulfilled (index moves: a delete), breached.
	_, _, err = a.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: "C-1", Kind: "missing-materials", Subject: s1, Content: "补交消防验收材料"})
	must("C-1", err)
	_, _, err = b.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: "C-2", Kind: "approval", Subject: s2, Content: "告知承诺：符合食品经营许可条件", Deadline: today.AddDays(20).String()})
	must("C-2", err)
	_, _, err = b.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: "C-3", Kind: "voluntary", Subject: s2, Content: "主动承诺：守法诚信经营"})
	must("C-3", err)
	_, _, err = a.FulfilCommitment(ctx, credit.FulfilCommitmentRequest{ID: "C-1", Note: "材料已补齐"})
	must("fulfil C-1", err)
	_, _, err = b.BreachCommitment(ctx, credit.BreachCommitmentRequest{ID: "C-3", Reason: "虚假承诺"})
	must("breach C-3", err)
	// Punishments of every kind, an enforcement by another county, a
	// repair applied elsewhere, accepted and completed (the lock key is
	// deleted), an objection upheld (a correction) and one dismissed.
	impose := func(cl *client.Client, id, subject, kind, severity string, months int) {
		t.Helper()
		_, _, err := cl.ImposePunishment(ctx, credit.ImposePunishmentRequest{ID: id, Subject: subject, Kind: kind, Severity: severity,
			DecisionDate: today.AddMonths(-months).String(), DecisionNo: "义市监罚〔2026〕" + id + "号",
			LegalBasis: "《食品安全法》第一百二十二条", Measures: []string{"bidding", "procurement"}})
		must("impose "+id, err)
	}
	impose(a, "P-1", s1, "blacklist", "general", 4)
	impose(a, "P-2", s2, "watchlist", "serious", 1)
	impose(a, "P-3", s3, "publicity", "general", 2)
	_, _, err = b.RecordEnforcement(ctx, credit.RecordEnforcementRequest{ID: "E-1", PunishmentID: "P-1", Measure: "bidding", Date: today.String()})
	must("E-1", err)
	_, _, err = b.ApplyRepair(ctx, credit.ApplyRepairRequest{ID: "R-1", PunishmentID: "P-1", Evidence: evidence("R-1")})
	must("R-1", err)
	_, _, err = a.AcceptRepair(ctx, credit.RepairRequest{ID: "R-1"})
	must("accept R-1", err)
	_, _, err = a.CompleteRepair(ctx, credit.CompleteRepairRequest{ID: "R-1"})
	must("complete R-1", err)
	_, _, err = c.RaiseObjection(ctx, credit.RaiseObjectionRequest{ID: "O-1", RecordKind: "punishment", RecordID: "P-2", Reason: "认定事实有误"})
	must("O-1", err)
	_, _, err = a.AnswerObjection(ctx, credit.AnswerObjectionRequest{ID: "O-1", Decision: "upheld", Answer: "经复核，失信程度更正为一般",
		Action: "correct", Correction: &credit.Correction{Severity: "general"}})
	must("answer O-1", err)
	_, _, err = b.RaiseObjection(ctx, credit.RaiseObjectionRequest{ID: "O-2", RecordKind: "commitment", RecordID: "C-2", Reason: "承诺内容有误"})
	must("O-2", err)
	_, _, err = b.AnswerObjection(ctx, credit.AnswerObjectionRequest{ID: "O-2", Decision: "dismissed", Answer: "承诺内容无误"})
	must("answer O-2", err)

	// An MVCC read conflict: two repair applications for one punishment
	// race; the loser's first transaction is invalidated on the ledger.
	conflict := false
	for try := 1; try <= 6 && !conflict; try++ {
		pid := fmt.Sprintf("P-4%d", try)
		impose(a, pid, s3, "publicity", "general", 1)
		var wg sync.WaitGroup
		res := make([]client.Result, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, res[i], errs[i] = c.ApplyRepair(ctx, credit.ApplyRepairRequest{ID: fmt.Sprintf("%s-R%d", pid, i), PunishmentID: pid, Evidence: evidence(pid)})
			}()
		}
		wg.Wait()
		for i := range 2 {
			if errs[i] != nil && !errors.Is(errs[i], credit.ErrState) {
				t.Fatalf("race %s: %v", pid, errs[i])
			}
			conflict = conflict || res[i].Attempts > 1
		}
		t.Logf("race %d: attempts %d and %d", try, res[0].Attempts, res[1].Attempts)
	}
	if !conflict {
		t.Fatal("six races gave no MVCC conflict")
	}

	fab := filepath.Join(root, ".cache", "fabric", network.FabricVersion, "bin")
	configUpdate(t, ctx, run, fab, p, a)
	upgradeChaincode(t, ctx, run, fab, p)

	// The chaincode still works after the upgrade.
	_, _, err = c.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: "C-4", Kind: "industry", Subject: s3, Content: "行业自律承诺"})
	must("C-4 after the upgrade", err)

	height := n.height(t, a)
	if err := os.RemoveAll(captureDir); err != nil {
		t.Fatal(err)
	}
	written, err := indexer.Capture(ctx, clientPeer{a}, captureDir, 0, height)
	if err != nil {
		t.Fatal(err)
	}
	checkCapture(t, captureDir)
	t.Logf("captured %d blocks into %s", written, captureDir)
}

// peerCLI runs Fabric's peer CLI as the admin mspDir of mspID against the
// county's peer.
func peerCLI(t *testing.T, ctx context.Context, run, fab string, c network.CountyProfile, mspID, mspDir string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, filepath.Join(fab, "peer"), args...)
	cmd.Env = append(os.Environ(), "FABRIC_CFG_PATH="+filepath.Join(run, "config"), "FABRIC_LOGGING_SPEC=warning",
		"CORE_PEER_TLS_ENABLED=true", "CORE_PEER_TLS_ROOTCERT_FILE="+c.Peers[0].TLSRootCert,
		"CORE_PEER_ADDRESS="+c.Peers[0].Address, "CORE_PEER_LOCALMSPID="+mspID, "CORE_PEER_MSPCONFIGPATH="+mspDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("peer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func ordererArgs(p *network.Profile) []string {
	o := p.Orderers[0]
	return []string{"-o", o.Address, "--tls", "--cafile", o.TLSRootCert}
}

// upgradeChaincode commits sequence 2 of the credit chaincode definition
// (same package and version): approved by every county's admin, committed
// with every county's peer endorsing.
func upgradeChaincode(t *testing.T, ctx context.Context, run, fab string, p *network.Profile) {
	t.Helper()
	pkg, err := os.ReadFile(filepath.Join(run, "chaincode", "package-id"))
	if err != nil {
		t.Fatal(err)
	}
	pkgID := strings.TrimSpace(string(pkg))
	for _, c := range p.Counties {
		args := append([]string{"lifecycle", "chaincode", "approveformyorg"}, ordererArgs(p)...)
		args = append(args, "-C", p.Channel, "-n", p.Chaincode, "-v", network.ChaincodeVersion, "--package-id", pkgID,
			"--sequence", "2", "--waitForEventTimeout", "60s")
		peerCLI(t, ctx, run, fab, c, c.MSPID, c.AdminMSP, args...)
	}
	args := append([]string{"lifecycle", "chaincode", "commit"}, ordererArgs(p)...)
	args = append(args, "-C", p.Channel, "-n", p.Chaincode, "-v", network.ChaincodeVersion, "--sequence", "2", "--waitForEventTimeout", "60s")
	for _, c := range p.Counties {
		args = append(args, "--peerAddresses", c.Peers[0].Address, "--tlsRootCertFiles", c.Peers[0].TLSRootCert)
	}
	c0 := p.Counties[0]
	peerCLI(t, ctx, run, fab, c0, c0.MSPID, c0.AdminMSP, args...)
	out := peerCLI(t, ctx, run, fab, c0, c0.MSPID, c0.AdminMSP, "lifecycle", "chaincode", "querycommitted", "-C", p.Channel, "-n", p.Chaincode)
	if !strings.Contains(out, "Sequence: 2") {
		t.Fatalf("after the upgrade: %s", out)
	}
}

// configUpdate changes the orderer batch timeout (500ms to 400ms) with a
// channel config update computed by configtxlator and signed by the
// ordering organisation's admin.
func configUpdate(t *testing.T, ctx context.Context, run, fab string, p *network.Profile, cl *client.Client) {
	t.Helper()
	blk, err := cl.ConfigBlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env := &common.Envelope{}
	payload := &common.Payload{}
	cfgEnv := &common.ConfigEnvelope{}
	if err := errors.Join(proto.Unmarshal(blk.Data.Data[0], env), proto.Unmarshal(env.Payload, payload),
		proto.Unmarshal(payload.Data, cfgEnv)); err != nil {
		t.Fatal(err)
	}
	orig := cfgEnv.Config
	updated := proto.Clone(orig).(*common.Config)
	bt, err := proto.Marshal(&orderer.BatchTimeout{Timeout: "400ms"})
	if err != nil {
		t.Fatal(err)
	}
	updated.ChannelGroup.Groups["Orderer"].Values["BatchTimeout"].Value = bt
	dir := t.TempDir()
	write := func(name string, m proto.Message) string {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	o, u := write("original.pb", orig), write("updated.pb", updated)
	upd := filepath.Join(dir, "update.pb")
	if out, err := exec.CommandContext(ctx, filepath.Join(fab, "configtxlator"), "compute_update", "--channel_id", p.Channel,
		"--original", o, "--updated", u, "--output", upd).CombinedOutput(); err != nil {
		t.Fatalf("configtxlator compute_update: %v\n%s", err, out)
	}
	ub, err := os.ReadFile(upd)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := proto.Marshal(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG_UPDATE), ChannelId: p.Channel})
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(&common.ConfigUpdateEnvelope{ConfigUpdate: ub})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch}, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	envPath := write("update-envelope.pb", &common.Envelope{Payload: pl})
	admins, _ := filepath.Glob(filepath.Join(run, "crypto", "ordererOrganizations", "*", "users", "Admin@*", "msp"))
	if len(admins) != 1 {
		t.Fatalf("ordering admin MSP: %v", admins)
	}
	args := append([]string{"channel", "update", "-f", envPath, "-c", p.Channel}, ordererArgs(p)...)
	peerCLI(t, ctx, run, fab, p.Counties[0], "OrdererMSP", admins[0], args...)
	// Wait for the config block to reach the peer.
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, err := cl.ConfigBlock(ctx)
		if err == nil && b.GetHeader().GetNumber() > blk.GetHeader().GetNumber() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the config update did not reach the peer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkCapture fails unless the captured blocks hold everything the
// fixtures promise.
func checkCapture(t *testing.T, dir string) {
	t.Helper()
	bs, err := indexer.ReadBlockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var configAfterGenesis, mvcc, deletes, twoNamespaces, upgrade, credited bool
	for _, b := range bs {
		pb, err := indexer.ParseBlock(b, indexer.DefaultNamespace)
		if err != nil {
			t.Fatalf("block %d: %v", b.GetHeader().GetNumber(), err)
		}
		for _, tx := range pb.Txs {
			configAfterGenesis = configAfterGenesis || (pb.Number > 0 && tx.Type == common.HeaderType_CONFIG)
			mvcc = mvcc || tx.Code == peer.TxValidationCode_MVCC_READ_CONFLICT
			twoNamespaces = twoNamespaces || (tx.Valid() && len(tx.Namespaces) > 1 && len(tx.Writes) > 0)
			upgrade = upgrade || (tx.Valid() && tx.Chaincode == "_lifecycle" && credited)
			credited = credited || (tx.Valid() && len(tx.Writes) > 0)
			for _, w := range tx.Writes {
				deletes = deletes || w.IsDelete
			}
		}
	}
	for what, ok := range map[string]bool{"a config block after the genesis block": configAfterGenesis,
		"an MVCC read conflict": mvcc, "a delete": deletes, "a credit write in a two-namespace transaction": twoNamespaces,
		"a _lifecycle transaction after credit transactions (the upgrade)": upgrade} {
		if !ok {
			t.Errorf("the captured blocks lack %s", what)
		}
	}
}
