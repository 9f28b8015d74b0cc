//go:build integration || chaos

package chaos

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/network"
	gwclient "github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
)

// county returns county i of the profile.
func (c *chaosNet) county(i int) *network.CountyProfile { return &c.profile.Counties[i] }

// signer loads user's identity (officer1, auditor1, Admin) of county i.
func (c *chaosNet) signer(t testing.TB, i int, user string) *client.Signer {
	t.Helper()
	cty := c.county(i)
	dir := cty.UserMSPDir(user)
	if user == "Admin" {
		dir = cty.AdminMSP
	}
	s, err := client.LoadMSP(cty.MSPID, dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// client connects as user of county i to the county's own peer.
func (c *chaosNet) client(t testing.TB, i int, user string, tune ...func(*client.Config)) *client.Client {
	t.Helper()
	p := c.county(i).Peers[0]
	cfg := client.Config{
		Signer: c.signer(t, i, user), PeerAddress: p.Address, TLSRootCertFile: p.TLSRootCert,
		HostOverride: p.HostOverride, Channel: c.profile.Channel, Chaincode: c.profile.Chaincode,
	}
	for _, f := range tune {
		f(&cfg)
	}
	cl, err := client.Connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// conn dials county i's peer over TLS.
func (c *chaosNet) conn(t testing.TB, i int) *grpc.ClientConn {
	t.Helper()
	p := c.county(i).Peers[0]
	pem, err := os.ReadFile(p.TLSRootCert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", p.TLSRootCert)
	}
	cc, err := grpc.NewClient(p.Address, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, p.HostOverride)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// ctx is a context bounded by limit, cancelled when the test ends.
func ctxFor(t testing.TB, limit time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every half second until it holds, failing the test
// after limit with cond's last account of why not. Limits are generous:
// they bound a hang, they are not timing assertions.
func waitFor(t testing.TB, what string, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %s", what, limit, why)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// --- processes ---

// pidOf reads a node's PID file and checks, as network down does, that
// the PID is still that node's (its environment carries the run folder's
// marker), so a reused PID is never signalled.
func (c *chaosNet) pidOf(t testing.TB, name string) int {
	t.Helper()
	b, err := os.ReadFile(c.n.PidFile(name))
	if err != nil {
		t.Fatalf("PID file of %s: %v", name, err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.PID <= 0 {
		t.Fatalf("PID file of %s: %q: %v", name, b, err)
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", rec.PID))
	if err != nil || !bytes.Contains(env, []byte("CREDIT_NODE="+filepath.Join(c.dir, name)+"\x00")) {
		t.Fatalf("%s: PID %d is not that node any more (%v)", name, rec.PID, err)
	}
	return rec.PID
}

// alive reports whether any thread of process pid is alive. Not only the
// leader: a Go process's leader reads as a zombie while its other threads
// may still hold its files (listening sockets).
func alive(pid int) bool {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	for _, e := range ents {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, e.Name()))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if i > 0 && len(stat) > i+2 && stat[i+2] != 'Z' && stat[i+2] != 'X' {
			return true
		}
	}
	return false
}

// kill sends SIGKILL to a node found by its PID file and waits until it
// is gone. The PID file stays (stale), as after a crash.
func (c *chaosNet) kill(t testing.TB, name string) {
	t.Helper()
	pid := c.pidOf(t, name)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s (pid %d): %v", name, pid, err)
	}
	waitFor(t, "death of "+name, time.Minute, func() (bool, string) { return !alive(pid), fmt.Sprintf("pid %d alive", pid) })
	t.Logf("SIGKILL %s (pid %d)", name, pid)
}

// start starts a node again (chaincode servers from binary ccBin) and
// waits until it answers.
func (c *chaosNet) start(t testing.TB, name, ccBin string) {
	t.Helper()
	pid, err := c.n.StartProcess(ctxFor(t, 5*time.Minute), name, ccBin)
	if err != nil {
		t.Fatalf("%v\nprocesses of this run folder still alive: %v\nsockets:\n%s", err, markedProcesses(c.dir), sockets(err))
	}
	t.Logf("started %s (pid %d)", name, pid)
}

var portInError = regexp.MustCompile(`port [0-9.]+:(\d+) is in use`)

// sockets lists, for a port-in-use error, every socket on that port with
// its state and owner (ss), for the post-mortem.
func sockets(err error) string {
	m := portInError.FindStringSubmatch(err.Error())
	if m == nil {
		return "(no port in the error)"
	}
	out, _ := exec.Command("ss", "-tanp", "sport = :"+m[1]+" or dport = :"+m[1]).CombinedOutput()
	return string(out)
}

// stop stops a node the way network down does (SIGTERM, then SIGKILL
// after a grace period; a stale PID file is only removed) and checks that
// no process carrying the node's marker is left.
func (c *chaosNet) stop(t testing.TB, name string) {
	t.Helper()
	res, err := c.n.StopProcess(ctxFor(t, 2*time.Minute), name)
	if err != nil {
		t.Fatal(err)
	}
	if left := markedProcesses(filepath.Join(c.dir, name)); len(left) > 0 {
		t.Fatalf("stop %s (%+v): processes of that node still alive: %v", name, res, left)
	}
}

var (
	raftSelf   = regexp.MustCompile(`channel=` + regexp.QuoteMeta("credit") + ` node=(\d+)`)
	raftLeader = regexp.MustCompile(`Raft leader changed: \d+ -> (\d+)`)
)

// raftLeader names the orderer that leads the channel's Raft cluster, as
// the orderers' logs last said ("Raft leader changed: X -> Y" on every
// node; each line ends "node=<its own ID>"). "" if the logs do not tell.
func (c *chaosNet) raftLeader(t testing.TB) string {
	t.Helper()
	ids := map[string]string{} // Raft ID -> orderer
	leader := ""
	for _, o := range c.n.T.OrdererNodes() {
		f, err := os.Open(c.n.LogFile(o.Name))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		last := ""
		for sc.Scan() {
			l := sc.Text()
			if m := raftSelf.FindStringSubmatch(l); m != nil {
				ids[m[1]] = o.Name
			}
			if m := raftLeader.FindStringSubmatch(l); m != nil {
				last = m[1]
			}
		}
		f.Close()
		if last != "" && last != "0" {
			leader = last
		}
	}
	return ids[leader]
}

// heights asks every county's peer for its height; a peer that does not
// answer is left out.
func (c *chaosNet) heights(t testing.TB, readers []*client.Client) map[int]uint64 {
	t.Helper()
	out := map[int]uint64{}
	for i, r := range readers {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		info, err := r.ChainInfo(ctx)
		cancel()
		if err == nil {
			out[i] = info.GetHeight()
		}
	}
	return out
}

// readers are one auditor client per county, on the county's own peer.
func (c *chaosNet) readers(t testing.TB) []*client.Client {
	t.Helper()
	var out []*client.Client
	for i := range c.profile.Counties {
		out = append(out, c.client(t, i, "auditor1"))
	}
	return out
}

// waitLevel waits until every peer answers with the same height, at least
// min.
func (c *chaosNet) waitLevel(t testing.TB, readers []*client.Client, min uint64, limit time.Duration) uint64 {
	t.Helper()
	var h uint64
	waitFor(t, "peers at one height", limit, func() (bool, string) {
		hs := c.heights(t, readers)
		vals := slices.Collect(maps.Values(hs))
		if len(hs) != len(readers) || slices.Min(vals) != slices.Max(vals) || vals[0] < min {
			return false, fmt.Sprintf("heights %v, want all equal and at least %d", hs, min)
		}
		h = vals[0]
		return true, ""
	})
	return h
}

// --- world state ---

// snapshot reads the whole world state through ListState, every object
// type of the schema, as key -> value.
func snapshot(t testing.TB, cl *client.Client) map[string]string {
	t.Helper()
	ctx := ctxFor(t, 2*time.Minute)
	out := map[string]string{}
	for _, typ := range credit.ObjectTypes {
		bm := ""
		for {
			r, _, err := cl.ListState(ctx, credit.ListStateRequest{ObjectType: typ, PageSize: 1000, Bookmark: bm})
			if err != nil {
				t.Fatalf("ListState %s: %v", typ, err)
			}
			for _, e := range r.Entries {
				out[e.Key] = e.Value
			}
			if bm = r.Bookmark; bm == "" {
				break
			}
		}
	}
	return out
}

// diffState describes how two snapshots differ ("" if equal).
func diffState(before, after map[string]string) string {
	var b strings.Builder
	keys := slices.Sorted(maps.Keys(before))
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v0, ok0 := before[k]
		v1, ok1 := after[k]
		switch {
		case !ok0:
			fmt.Fprintf(&b, "  added   %q = %s\n", k, v1)
		case !ok1:
			fmt.Fprintf(&b, "  removed %q (was %s)\n", k, v0)
		case v0 != v1:
			fmt.Fprintf(&b, "  changed %q: %s -> %s\n", k, v0, v1)
		}
	}
	return b.String()
}

// ckey is the composite key string of objectType and attrs.
func ckey(objectType string, attrs ...string) string {
	return "\x00" + objectType + "\x00" + strings.Join(attrs, "\x00") + "\x00"
}

// --- the Gateway, by hand ---

// rawGW is a fabric-gateway connection made without package client, as a
// county that bypasses creditctl would make it: it builds its own
// proposals, chooses its endorsers and keeps the signed transactions.
type rawGW struct {
	signer   *client.Signer
	gw       *gwclient.Gateway
	contract *gwclient.Contract
	network  *gwclient.Network
}

// gateway connects signer to county i's peer's Gateway.
func (c *chaosNet) gateway(t testing.TB, i int, signer *client.Signer) *rawGW {
	t.Helper()
	id, err := identity.NewX509Identity(signer.MSPID, signer.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gwclient.Connect(id, gwclient.WithSign(signer.Sign), gwclient.WithHash(hash.SHA256),
		gwclient.WithClientConnection(c.conn(t, i)),
		gwclient.WithEvaluateTimeout(30*time.Second), gwclient.WithEndorseTimeout(60*time.Second),
		gwclient.WithSubmitTimeout(30*time.Second), gwclient.WithCommitStatusTimeout(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	nw := gw.GetNetwork(c.profile.Channel)
	return &rawGW{signer: signer, gw: gw, network: nw, contract: nw.GetContract(c.profile.Chaincode)}
}

// proposal builds and signs fn(arg) with the given options, returning the
// Gateway proposal and the signed proposal a peer's Endorser takes.
func (g *rawGW) proposal(t testing.TB, fn string, arg any, opts ...gwclient.ProposalOption) (*gwclient.Proposal, *peer.SignedProposal) {
	t.Helper()
	b, err := json.Marshal(arg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.contract.NewProposal(fn, append([]gwclient.ProposalOption{gwclient.WithBytesArguments(b)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var pt gateway.ProposedTransaction
	if err := proto.Unmarshal(raw, &pt); err != nil {
		t.Fatal(err)
	}
	sig, err := g.signer.Sign(p.Digest())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := g.gw.NewSignedProposal(raw, sig)
	if err != nil {
		t.Fatal(err)
	}
	return signed, &peer.SignedProposal{ProposalBytes: pt.GetProposal().GetProposalBytes(), Signature: sig}
}

// outcome is what became of one attempt.
type outcome struct {
	TxID    string
	Stage   string // "endorse", "submit", "commit-status" or "commit"
	Err     error  // the failure at Stage (nil once committed)
	Code    peer.TxValidationCode
	Result  []byte // the endorsed result
	TxBytes []byte // the prepared, signed transaction (for a replay)
}

func (o outcome) String() string {
	if o.Err != nil {
		return fmt.Sprintf("tx %s refused at %s: %v", o.TxID, o.Stage, oneLine(o.Err.Error()))
	}
	return fmt.Sprintf("tx %s committed %s", o.TxID, o.Code)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// submit endorses p through the Gateway, submits and waits for the
// validation code.
func (g *rawGW) submit(ctx context.Context, p *gwclient.Proposal) outcome {
	o := outcome{TxID: p.TransactionID(), Stage: "endorse"}
	tx, err := p.EndorseWithContext(ctx)
	if err != nil {
		o.Err = err
		return o
	}
	o.Result = tx.Result()
	if o.TxBytes, err = tx.Bytes(); err != nil {
		o.Err = err
		return o
	}
	return g.submitTx(ctx, tx, o)
}

// submitPrepared submits a prepared transaction (gateway.PreparedTransaction
// bytes) as it is: its envelope is already signed.
func (g *rawGW) submitPrepared(ctx context.Context, prepared []byte) outcome {
	tx, err := g.gw.NewTransaction(prepared)
	if err != nil {
		return outcome{Stage: "submit", Err: err}
	}
	return g.submitTx(ctx, tx, outcome{TxID: tx.TransactionID(), TxBytes: prepared})
}

func (g *rawGW) submitTx(ctx context.Context, tx *gwclient.Transaction, o outcome) outcome {
	o.Stage = "submit"
	commit, err := tx.SubmitWithContext(ctx)
	if err != nil {
		o.Err = err
		return o
	}
	o.Stage = "commit-status"
	st, err := commit.StatusWithContext(ctx)
	if err != nil {
		o.Err = err
		return o
	}
	o.Stage, o.Code = "commit", st.Code
	if !st.Successful {
		o.Err = fmt.Errorf("invalidated: %s", st.Code)
	}
	return o
}

// endorseDirect sends a signed proposal to one peer's Endorser service,
// without the Gateway.
func endorseDirect(ctx context.Context, conn *grpc.ClientConn, sp *peer.SignedProposal) (*peer.ProposalResponse, error) {
	return peer.NewEndorserClient(conn).ProcessProposal(ctx, sp)
}

// assemble builds, as the Gateway would but without its check that the
// endorsements agree, the transaction of sp carrying the first response's
// payload and every response's endorsement, signed by signer; it returns
// gateway.PreparedTransaction bytes for submitPrepared.
func assemble(t testing.TB, signer *client.Signer, sp *peer.SignedProposal, responses ...*peer.ProposalResponse) []byte {
	t.Helper()
	var prop peer.Proposal
	mustUnmarshal(t, sp.ProposalBytes, &prop)
	var hdr common.Header
	mustUnmarshal(t, prop.Header, &hdr)
	var chdr common.ChannelHeader
	mustUnmarshal(t, hdr.ChannelHeader, &chdr)
	var cpp peer.ChaincodeProposalPayload
	mustUnmarshal(t, prop.Payload, &cpp)
	cpp.TransientMap = nil // never part of the transaction
	var endorsements []*peer.Endorsement
	for _, r := range responses {
		endorsements = append(endorsements, r.Endorsement)
	}
	action := &peer.ChaincodeActionPayload{
		ChaincodeProposalPayload: mustMarshal(t, &cpp),
		Action:                   &peer.ChaincodeEndorsedAction{ProposalResponsePayload: responses[0].Payload, Endorsements: endorsements},
	}
	tx := &peer.Transaction{Actions: []*peer.TransactionAction{{Header: hdr.SignatureHeader, Payload: mustMarshal(t, action)}}}
	payload := mustMarshal(t, &common.Payload{Header: &hdr, Data: mustMarshal(t, tx)})
	digest := sha256.Sum256(payload)
	sig, err := signer.Sign(digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return mustMarshal(t, &gateway.PreparedTransaction{TransactionId: chdr.TxId, Envelope: &common.Envelope{Payload: payload, Signature: sig}})
}

func mustUnmarshal(t testing.TB, b []byte, m proto.Message) {
	t.Helper()
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatalf("unmarshal %T: %v", m, err)
	}
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	return b
}

// txCodes scans the blocks from block from to the reader's height for
// transaction txID and returns the validation code of each occurrence, in
// ledger order.
func txCodes(t testing.TB, reader *client.Client, from uint64, txID string) []peer.TxValidationCode {
	t.Helper()
	ctx := ctxFor(t, time.Minute)
	info, err := reader.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var codes []peer.TxValidationCode
	for n := from; n < info.GetHeight(); n++ {
		b, err := reader.BlockByNumber(ctx, n)
		if err != nil {
			t.Fatalf("block %d: %v", n, err)
		}
		filter := b.GetMetadata().GetMetadata()[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
		for i, raw := range b.GetData().GetData() {
			var env common.Envelope
			var pl common.Payload
			var ch common.ChannelHeader
			if proto.Unmarshal(raw, &env) != nil || proto.Unmarshal(env.Payload, &pl) != nil ||
				proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch) != nil {
				continue
			}
			if ch.TxId == txID && i < len(filter) {
				codes = append(codes, peer.TxValidationCode(filter[i]))
			}
		}
	}
	return codes
}

// ids makes record IDs unique to this run.
func (c *chaosNet) id(parts ...any) string {
	s := "x" + c.run
	for _, p := range parts {
		s += "-" + fmt.Sprint(p)
	}
	return s
}

// subject is an enterprise code of county i unique to this run.
func (c *chaosNet) subject(i, n int) string {
	code := c.county(i).Code
	return credit.CompleteCreditCode(fmt.Sprintf("91%sMA%s%02X", code, strings.ToUpper(c.run[1:6]), n%256))
}

func itoa(n int) string { return strconv.Itoa(n) }
