//go:build integration || chaos

package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	gwclient "github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// TestEndorsementDeterminism is issue 7's fault test 4: the chaincode is
// deterministic across counties. Randomized credit transactions (every
// write family, random kinds, severities, dates, measures, texts and
// departments, and some that the chaincode refuses) are each proposed once
// and the one signed proposal is endorsed by every county's peer directly
// (the Endorser service, no Gateway): the proposal response payloads (the
// read/write set, the event and the result) must be byte-identical, and
// refusals must carry the same message. Each accepted transaction is then
// endorsed through the Gateway by two counties (WithEndorsingOrganizations,
// which fails when their payloads differ) and committed VALID. At the end
// every peer holds the same world state.
func TestEndorsementDeterminism(t *testing.T) {
	markFailed(t)
	total := 32
	if full {
		total = 800
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (CHAOS_SEED=%d repeats this run's transactions)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	ctx := ctxFor(t, 30*time.Minute)
	readers := cn.readers(t)
	var gws []*rawGW
	var conns []*grpc.ClientConn
	for i := range cn.profile.Counties {
		gws = append(gws, cn.gateway(t, i, cn.signer(t, i, "officer1")))
		conns = append(conns, cn.conn(t, i))
	}
	g := &generator{c: cn, rng: rng, today: credit.DateOf(time.Now())}
	const round = 8
	compared, accepted, refused, writes := 0, 0, 0, 0
	for compared < total {
		h := cn.waitLevel(t, readers, 0, 3*time.Minute)
		reqs := g.round(round)
		type result struct {
			req      genReq
			o        outcome
			same     bool
			status   int32
			message  string
			nWrites  int
			mismatch string
		}
		results := make([]result, len(reqs))
		var wg sync.WaitGroup
		for k, r := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := result{req: r}
				other := cn.county((r.county + 1 + r.otherOffset) % len(conns)).MSPID
				p, sp := gws[r.county].proposal(t, r.fn, r.arg, gwclient.WithEndorsingOrganizations(cn.county(r.county).MSPID, other))
				var rs []*peer.ProposalResponse
				for i := range conns {
					pr, err := endorseDirect(ctx, conns[i], sp)
					if err != nil {
						res.mismatch = fmt.Sprintf("peer of %s: %v", cn.county(i).Code, err)
						results[k] = res
						return
					}
					rs = append(rs, pr)
				}
				res.status, res.message = rs[0].GetResponse().GetStatus(), rs[0].GetResponse().GetMessage()
				for i, pr := range rs[1:] {
					if pr.GetResponse().GetStatus() != res.status || pr.GetResponse().GetMessage() != res.message || !bytes.Equal(pr.Payload, rs[0].Payload) {
						res.mismatch = fmt.Sprintf("peer of %s answered %d %q (%d payload bytes), peer of %s %d %q (%d bytes)",
							cn.county(0).Code, res.status, res.message, len(rs[0].Payload), cn.county(i+1).Code, pr.GetResponse().GetStatus(), pr.GetResponse().GetMessage(), len(pr.Payload))
					}
				}
				if res.status == 200 && res.mismatch == "" {
					res.nWrites = countWrites(t, rs[0].Payload)
					res.o = gws[r.county].submit(ctx, p)
				}
				results[k] = res
			}()
		}
		wg.Wait()
		for _, res := range results {
			compared++
			if res.mismatch != "" {
				t.Errorf("%s by county %s: endorsements differ: %s\nrequest %s", res.req.fn, cn.county(res.req.county).Code, res.mismatch, jsonOf(res.req.arg))
				continue
			}
			if res.status != 200 {
				refused++
				continue
			}
			if res.o.Err != nil {
				t.Errorf("%s by county %s: the same result on every peer, but through the Gateway: %v\nrequest %s", res.req.fn, cn.county(res.req.county).Code, res.o, jsonOf(res.req.arg))
				continue
			}
			accepted++
			writes += res.nWrites
			g.committed(res.req)
		}
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("after %d transactions (height %d): %d accepted (%d writes), %d refused alike on every peer", compared, h, accepted, writes, refused)
	}
	if accepted < total/2 {
		t.Errorf("only %d of %d random transactions were accepted: the generator tests too little", accepted, total)
	}
	// Every peer holds the same world state.
	cn.waitLevel(t, readers, 0, 3*time.Minute)
	s0 := snapshot(t, readers[0])
	for i, r := range readers[1:] {
		if d := diffState(s0, snapshot(t, r)); d != "" {
			t.Errorf("world state on the peer of %s differs from %s's:\n%s", cn.county(i+1).Code, cn.county(0).Code, d)
		}
	}
	t.Logf("%d transactions compared on %d peers: %d accepted (%d key writes, identical), %d refused with identical messages; world state identical (%d keys)",
		compared, len(readers), accepted, writes, refused, len(s0))
}

// countWrites decodes a proposal response payload and counts the key
// writes of its read/write set (for the log: what was compared).
func countWrites(t testing.TB, payload []byte) int {
	var prp peer.ProposalResponsePayload
	var act peer.ChaincodeAction
	var txrw rwset.TxReadWriteSet
	if proto.Unmarshal(payload, &prp) != nil || proto.Unmarshal(prp.Extension, &act) != nil || proto.Unmarshal(act.Results, &txrw) != nil {
		t.Errorf("cannot decode a proposal response payload")
		return 0
	}
	n := 0
	for _, ns := range txrw.NsRwset {
		var kv kvrwset.KVRWSet
		if proto.Unmarshal(ns.Rwset, &kv) == nil {
			n += len(kv.Writes) + len(kv.MetadataWrites)
		}
	}
	return n
}

// genReq is one generated transaction: fn(arg) by county's officer.
type genReq struct {
	county      int
	otherOffset int // picks the second endorsing county
	fn          string
	arg         any
	subject     string
	after       func() // bookkeeping once committed
}

// generator makes random credit transactions against what it has seen
// committed, so that most are accepted and every family is exercised.
type generator struct {
	c           *chaosNet
	rng         *rand.Rand
	today       credit.Date
	n           int
	punishments []genRec // active, with their measures
	commitments []genRec // made, not closed
	repairs     []genRec // applied or accepted
	openRepair  map[string]bool
}

type genRec struct {
	id       string
	county   int
	subject  string
	measures []string
	state    string
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) text() string {
	words := []string{"诚信", "承诺", "按期", "履行", "市场监管", "税务", "信用修复", "公示", "x", "Ä", "😀", "\"quoted\"", `back\slash`, "<tag>", "&amp;", "\u2028"}
	var b strings.Builder
	for range 1 + g.rng.IntN(6) {
		b.WriteString(g.pick(words))
	}
	return b.String()
}

func (g *generator) hex64() string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

// round makes n transactions that touch distinct subjects and records,
// so none of them conflicts with another in the same block.
func (g *generator) round(n int) []genReq {
	var out []genReq
	usedSubjects, usedIDs := map[string]bool{}, map[string]bool{}
	for tries := 0; len(out) < n && tries < 50*n; tries++ {
		r, ok := g.one()
		if !ok || usedSubjects[r.subject] || usedIDs[targetOf(r)] {
			continue
		}
		usedSubjects[r.subject] = true
		usedIDs[targetOf(r)] = true
		out = append(out, r)
	}
	return out
}

func targetOf(r genReq) string {
	switch a := r.arg.(type) {
	case credit.RecordEnforcementRequest:
		return a.PunishmentID
	case credit.ApplyRepairRequest:
		return a.PunishmentID
	case credit.RaiseObjectionRequest:
		return a.RecordID
	}
	return fmt.Sprint(r.arg)
}

func (g *generator) one() (genReq, bool) {
	g.n++
	counties := len(g.c.profile.Counties)
	county := g.rng.IntN(counties)
	subject := g.c.subject(county, 16+g.rng.IntN(48))
	id := g.c.id("det", g.n)
	r := genReq{county: county, otherOffset: g.rng.IntN(counties - 1), subject: subject}
	depts := []string{"", "", "market", "tax", "credit-office", "ecology-env"}
	if g.rng.IntN(8) == 0 {
		// One the chaincode refuses: every peer must say the same.
		switch g.rng.IntN(4) {
		case 0: // a wrong check character
			bad := subject[:17] + string("0123456789ABCDEFGHJKLMNPQRTUWXY"[g.rng.IntN(31)])
			if bad == subject {
				return r, false
			}
			r.fn, r.arg = "MakeCommitment", credit.MakeCommitmentRequest{ID: id, Kind: "voluntary", Subject: bad, Content: g.text()}
		case 1: // decided after today
			r.fn, r.arg = "ImposePunishment", credit.ImposePunishmentRequest{ID: id, Subject: subject, Kind: "publicity", Severity: "general",
				DecisionDate: g.today.AddDays(1 + g.rng.IntN(30)).String(), DecisionNo: "x", LegalBasis: "x", Measures: []string{}}
		case 2: // another county's commitment
			if len(g.commitments) == 0 {
				return r, false
			}
			c := g.commitments[g.rng.IntN(len(g.commitments))]
			r.county, r.subject = (c.county+1)%counties, c.subject
			r.fn, r.arg = "FulfilCommitment", credit.FulfilCommitmentRequest{ID: c.id}
		case 3: // no such punishment
			r.fn, r.arg = "RecordEnforcement", credit.RecordEnforcementRequest{ID: id, PunishmentID: id + "-none", Measure: "bidding", Date: g.today.String()}
		}
		return r, true
	}
	switch k := g.rng.IntN(10); {
	case k < 3:
		req := credit.MakeCommitmentRequest{ID: id, Kind: g.pick([]string{"voluntary", "industry", "missing-materials", "approval"}),
			Subject: subject, Content: g.text(), Department: g.pick(depts)}
		if req.Kind == "approval" || g.rng.IntN(4) == 0 {
			req.Deadline = g.today.AddDays(g.rng.IntN(90) - 2).String() // now and then one in the past: refused
		}
		if g.rng.IntN(2) == 0 {
			req.ContentHash = g.hex64()
		}
		r.fn, r.arg = "MakeCommitment", req
		r.after = func() { g.commitments = append(g.commitments, genRec{id: id, county: county, subject: subject}) }
	case k < 6:
		var ms []string
		for _, m := range credit.Measures {
			if g.rng.IntN(3) == 0 {
				ms = append(ms, m)
			}
		}
		if ms == nil {
			ms = []string{}
		}
		req := credit.ImposePunishmentRequest{ID: id, Subject: subject, Kind: g.pick(credit.PunishmentKinds), Severity: g.pick(credit.Severities),
			DecisionDate: g.today.AddDays(-g.rng.IntN(900) + 1).String(), DecisionNo: "罚〔2026〕" + fmt.Sprint(g.n) + "号",
			LegalBasis: g.text(), Measures: ms, Department: g.pick(depts)}
		if g.rng.IntN(2) == 0 {
			req.Summary = g.text()
		}
		r.fn, r.arg = "ImposePunishment", req
		r.after = func() {
			g.punishments = append(g.punishments, genRec{id: id, county: county, subject: subject, measures: ms, state: "active"})
		}
	case k < 7 && len(g.punishments) > 0:
		p := g.punishments[g.rng.IntN(len(g.punishments))]
		measure := g.pick(credit.Measures) // not always one of the punishment's: then refused
		if len(p.measures) > 0 && g.rng.IntN(4) > 0 {
			measure = g.pick(p.measures)
		}
		r.subject = p.subject
		r.fn, r.arg = "RecordEnforcement", credit.RecordEnforcementRequest{ID: id, PunishmentID: p.id, Measure: measure, Date: g.today.String(), Detail: g.text()}
	case k < 8 && len(g.punishments) > 0:
		p := g.punishments[g.rng.IntN(len(g.punishments))]
		if g.openRepair[p.id] {
			return r, false
		}
		ev := credit.Evidence{Identity: g.hex64(), PenaltyFulfilled: g.hex64(), RepairCommitment: g.hex64()}
		if g.rng.IntN(2) == 0 {
			ev.Training, ev.CreditReport = g.hex64(), g.hex64()
		}
		r.subject = p.subject
		r.fn, r.arg = "ApplyRepair", credit.ApplyRepairRequest{ID: id, PunishmentID: p.id, Evidence: ev}
		r.after = func() {
			if g.openRepair == nil {
				g.openRepair = map[string]bool{}
			}
			g.openRepair[p.id] = true
			g.repairs = append(g.repairs, genRec{id: id, county: p.county, subject: p.subject, state: "applied"})
		}
	case k < 9 && len(g.commitments) > 0:
		i := g.rng.IntN(len(g.commitments))
		c := g.commitments[i]
		r.county, r.subject = c.county, c.subject
		if g.rng.IntN(2) == 0 {
			r.fn, r.arg = "FulfilCommitment", credit.FulfilCommitmentRequest{ID: c.id, Note: g.text()}
		} else {
			r.fn, r.arg = "BreachCommitment", credit.BreachCommitmentRequest{ID: c.id, Reason: g.text()}
		}
		r.after = func() { g.commitments = slices.DeleteFunc(g.commitments, func(x genRec) bool { return x.id == c.id }) }
	case len(g.repairs) > 0 && g.rng.IntN(2) == 0:
		i := g.rng.IntN(len(g.repairs))
		rp := g.repairs[i]
		r.county, r.subject = rp.county, rp.subject
		if rp.state == "applied" {
			r.fn, r.arg = "AcceptRepair", credit.RepairRequest{ID: rp.id}
			r.after = func() {
				for j := range g.repairs {
					if g.repairs[j].id == rp.id {
						g.repairs[j].state = "accepted"
					}
				}
			}
		} else {
			r.fn, r.arg = "CompleteRepair", credit.CompleteRepairRequest{ID: rp.id}
			r.after = func() { g.repairs = slices.DeleteFunc(g.repairs, func(x genRec) bool { return x.id == rp.id }) }
		}
	case len(g.punishments) > 0 && g.rng.IntN(2) == 0:
		p := g.punishments[g.rng.IntN(len(g.punishments))]
		r.subject = p.subject
		r.fn, r.arg = "RaiseObjection", credit.RaiseObjectionRequest{ID: id, RecordKind: "punishment", RecordID: p.id, Reason: g.text()}
	default:
		r.fn, r.arg = "IssueCertificate", credit.IssueCertificateRequest{ID: id, Subject: subject, Purpose: g.pick(credit.Purposes),
			ValidUntil: g.today.AddDays(g.rng.IntN(360)).String(), Note: g.text()}
	}
	return r, true
}

// committed updates the generator's view after r committed.
func (g *generator) committed(r genReq) {
	if r.after != nil {
		r.after()
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
