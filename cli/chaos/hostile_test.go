//go:build integration || chaos

package chaos

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/network/identity"
	gwclient "github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// TestHostileCounty is issue 7's fault test 3. County B (建德) turns
// hostile: its client bypasses creditctl and package client and speaks the
// Gateway protocol itself (its own proposals, its own choice of endorsers,
// hand-assembled transactions), and in part 2 its peer runs a MALICIOUS
// chaincode server (evilcc) that writes whatever B asks. County A (义乌)
// is the victim. Every attempt must be refused, by the chaincode at
// endorsement, by the Gateway, or at validation by the endorsement and
// key-level policies (DESIGN §7), and the world state must be unchanged:
// ListState of every object type is compared before and after.
//
// A positive control at the end shows the attack channel is real: with
// the same malicious chaincode and its own endorsement only, B can alter
// ITS OWN record (the key-level policy names B's peers), and exactly that
// key changes.
func TestHostileCounty(t *testing.T) {
	markFailed(t)
	ctx := ctxFor(t, 20*time.Minute)
	A, B, C := cn.county(countyA), cn.county(countyB), cn.county(countyC)
	officerA := cn.client(t, countyA, "officer1")
	officerB := cn.client(t, countyB, "officer1")
	reader := cn.client(t, countyC, "auditor1")
	readers := cn.readers(t)

	// --- The victim's records, made honestly. ---
	today := credit.DateOf(time.Now())
	sA := cn.subject(countyA, 7)
	pnA, rpA, cmA, obA, ctA := cn.id("pnA"), cn.id("rpA"), cn.id("cmA"), cn.id("obA"), cn.id("ctA")
	pnB, cmB := cn.id("pnB"), cn.id("cmB")
	punish := func(id, subject string) credit.ImposePunishmentRequest {
		// Decided six months ago: a general case past its 3-month minimum
		// and within its 1-year maximum (seed 001, the NDRC notice).
		return credit.ImposePunishmentRequest{ID: id, Subject: subject, Kind: "publicity", Severity: "general",
			DecisionDate: today.AddMonths(-6).String(), DecisionNo: "罚" + id, LegalBasis: "《广告法》第五十五条", Measures: []string{"bidding"}}
	}
	hex64 := func(c string) string { return strings.Repeat(c, 64) }
	_, pnARes, err := officerA.ImposePunishment(ctx, punish(pnA, sA))
	must(t, err)
	_, _, err = officerB.ApplyRepair(ctx, credit.ApplyRepairRequest{ID: rpA, PunishmentID: pnA,
		Evidence: credit.Evidence{Identity: hex64("a"), PenaltyFulfilled: hex64("b"), RepairCommitment: hex64("c")}})
	must(t, err)
	_, _, err = officerA.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: cmA, Kind: "voluntary", Subject: sA, Content: "诚信经营"})
	must(t, err)
	_, _, err = officerB.RaiseObjection(ctx, credit.RaiseObjectionRequest{ID: obA, RecordKind: "punishment", RecordID: pnA, Reason: "当事人异议"})
	must(t, err)
	_, _, err = officerA.IssueCertificate(ctx, credit.IssueCertificateRequest{ID: ctA, Subject: sA, Purpose: "bidding", ValidUntil: today.AddMonths(1).String()})
	must(t, err)
	_, _, err = officerB.ImposePunishment(ctx, punish(pnB, cn.subject(countyB, 7)))
	must(t, err)

	// B's own hand-made client, and B's other staff.
	hostile := cn.gateway(t, countyB, cn.signer(t, countyB, "officer1"))
	auditorB := cn.gateway(t, countyB, cn.signer(t, countyB, "auditor1"))
	adminB := cn.gateway(t, countyB, cn.signer(t, countyB, "Admin"))
	impostor := cn.gateway(t, countyB, impostorOfA(t))
	// A transaction of B's own, kept signed for the replay.
	p, _ := hostile.proposal(t, "MakeCommitment", credit.MakeCommitmentRequest{ID: cmB, Kind: "voluntary", Subject: cn.subject(countyB, 7), Content: "自有承诺"})
	own := hostile.submit(ctx, p)
	if own.Err != nil {
		t.Fatalf("B's own commitment: %v", own)
	}
	cn.waitLevel(t, readers, 0, 2*time.Minute)
	before := snapshot(t, reader)
	if before[ckey(credit.TypePunishment, pnA)] == "" {
		t.Fatalf("A's punishment %s not in the state", pnA)
	}

	// --- Part 1: the honest chaincode everywhere; B chooses endorsers. ---
	type attempt struct {
		name string
		gw   *rawGW
		fn   string
		arg  any
		want string // the refusal's text
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	forged := punish(cn.id("pnF"), sA)
	forgedJSON, _ := json.Marshal(forged)
	part1 := []attempt{
		{"revoke A's punishment", hostile, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnA, Reason: "x"}, "[FORBIDDEN]"},
		{"accept the repair of A's punishment", hostile, "AcceptRepair", credit.RepairRequest{ID: rpA}, "[FORBIDDEN]"},
		{"complete the repair of A's punishment", hostile, "CompleteRepair", credit.CompleteRepairRequest{ID: rpA}, "[FORBIDDEN]"},
		{"reject the repair of A's punishment", hostile, "RejectRepair", credit.RejectRepairRequest{ID: rpA, Reason: "x"}, "[FORBIDDEN]"},
		{"fulfil A's commitment", hostile, "FulfilCommitment", credit.FulfilCommitmentRequest{ID: cmA}, "[FORBIDDEN]"},
		{"breach A's commitment", hostile, "BreachCommitment", credit.BreachCommitmentRequest{ID: cmA, Reason: "x"}, "[FORBIDDEN]"},
		{"uphold the objection to A's punishment and revoke it", hostile, "AnswerObjection",
			credit.AnswerObjectionRequest{ID: obA, Decision: "upheld", Answer: "x", Action: "revoke"}, "[FORBIDDEN]"},
		{"correct A's punishment through the objection", hostile, "AnswerObjection",
			credit.AnswerObjectionRequest{ID: obA, Decision: "upheld", Answer: "x", Action: "correct", Correction: &credit.Correction{Measures: []string{}}}, "[FORBIDDEN]"},
		{"revoke A's certificate", hostile, "SetCertificateStatus", credit.SetCertificateStatusRequest{ID: ctA, Status: "revoked", Reason: "x"}, "[FORBIDDEN]"},
		{"impose a punishment naming county A as its owner", hostile, "ImposePunishment",
			raw(strings.Replace(string(forgedJSON), "{", `{"county":"`+A.Code+`",`, 1)), "[INVALID]"},
		{"B's auditor makes a commitment", auditorB, "MakeCommitment",
			credit.MakeCommitmentRequest{ID: cn.id("cmX"), Kind: "voluntary", Subject: sA, Content: "x"}, "[FORBIDDEN]"},
		{"B's auditor imposes a punishment", auditorB, "ImposePunishment", punish(cn.id("pnX"), sA), "[FORBIDDEN]"},
		{"B's admin registers A's county code", adminB, "RegisterCounty", credit.RegisterCountyRequest{Code: A.Code, Name: "冒名"}, "[EXISTS]"},
		{"an officer of A's MSP whose certificate B's CA signed revokes A's punishment", impostor, "RevokePunishment",
			credit.RevokePunishmentRequest{ID: pnA, Reason: "x"}, "access denied"},
	}
	for _, a := range part1 {
		for _, endorsers := range [][]string{{B.MSPID}, {A.MSPID, C.MSPID}} {
			p, _ := a.gw.proposal(t, a.fn, a.arg, gwclient.WithEndorsingOrganizations(endorsers...))
			o := a.gw.submit(ctx, p)
			if o.Err == nil || o.Stage != "endorse" || !strings.Contains(o.Err.Error(), a.want) {
				t.Errorf("%s, endorsed by %v: %v; want refused at endorsement with %q", a.name, endorsers, o, a.want)
				continue
			}
			t.Logf("refused: %s (endorsers %v): %s", a.name, endorsers, a.want)
		}
	}

	// --- Part 2: B's peer runs the malicious chaincode server. ---
	cn.turnHostile(t, countyB, hostile)

	pnAKey := ckey(credit.TypePunishment, pnA)
	revokedA := strings.Replace(before[pnAKey], `"state":"active"`, `"state":"revoked"`, 1)
	if revokedA == before[pnAKey] {
		t.Fatalf("A's punishment is not active: %s", before[pnAKey])
	}
	var byCountyA string // A's punishment in A's county listing
	for k := range before {
		if strings.HasPrefix(k, ckey(credit.TypeByCounty, A.Code, credit.TypePunishment)) && strings.HasSuffix(k, "\x00"+pnA+"\x00") {
			byCountyA = k
		}
	}
	if byCountyA == "" {
		t.Fatal("no bycounty index entry for A's punishment")
	}
	attrs := func(key string) []string { return strings.Split(strings.Trim(key, "\x00"), "\x00")[1:] }
	calKey := ""
	for k := range before {
		if strings.HasPrefix(k, "\x00"+credit.TypeCalendar+"\x00") {
			calKey = k
		}
	}
	if calKey == "" {
		t.Fatal("no calendar in the state (network up installs two)")
	}
	// Forgery: B's officer's honest ImposePunishment, rewritten by B's
	// chaincode so that the record, its indexes, its event and its
	// key-level policy all say county A.
	forge := evilInstructions{Honest: true, Rewrite: []evilRewrite{{From: B.Code, To: A.Code}}, PolicyMSP: A.MSPID}
	type evilAttempt struct {
		name      string
		gw        *rawGW
		fn        string
		arg       any
		ins       evilInstructions
		endorsers []int // counties whose endorsements go into the transaction
		assemble  bool  // collect endorsements from each peer and assemble by hand (no Gateway check)
		want      string
	}
	const epf = "ENDORSEMENT_POLICY_FAILURE"
	part2 := []evilAttempt{
		{"forge a punishment attributed to A, endorsed by B only", hostile, "ImposePunishment", forged, forge, []int{countyB}, false, epf},
		{"forge a punishment attributed to A, endorsed by B and C through the Gateway", hostile, "ImposePunishment", forged, forge, []int{countyB, countyC}, false,
			"ProposalResponsePayloads do not match"},
		{"forge a punishment attributed to A with B's and C's endorsements assembled by hand", hostile, "ImposePunishment", forged, forge, []int{countyB, countyC}, true, epf},
		{"alter A's punishment to revoked, endorsed by B only", hostile, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnA, Reason: "x"},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypePunishment, Attrs: []string{pnA}, Value: revokedA}}}, []int{countyB}, false, epf},
		{"alter A's punishment with A's and C's endorsements of a query assembled by hand", hostile, "GetRecord", credit.RecordRequest{Kind: "punishment", ID: pnA},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypePunishment, Attrs: []string{pnA}, Value: revokedA}}}, []int{countyB, countyA, countyC}, true, epf},
		{"delete A's punishment, endorsed by B only", hostile, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnA, Reason: "x"},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypePunishment, Attrs: []string{pnA}, Delete: true}}}, []int{countyB}, false, epf},
		{"take over A's punishment's key-level policy, endorsed by B only", hostile, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnA, Reason: "x"},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypePunishment, Attrs: []string{pnA}, PolicyMSP: B.MSPID}}}, []int{countyB}, false, epf},
		{"hide A's punishment from A's listing (delete its index entry), endorsed by B only", hostile, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnA, Reason: "x"},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypeByCounty, Attrs: attrs(byCountyA), Delete: true}}}, []int{countyB}, false, epf},
		{"map B's MSP to county A in the registry index, endorsed by B only", hostile, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnA, Reason: "x"},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypeCountyMSP, Attrs: []string{B.MSPID}, Value: A.Code}}}, []int{countyB}, false, epf},
		{"rewrite the working-day calendar, endorsed by B only", hostile, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnA, Reason: "x"},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypeCalendar, Attrs: attrs(calKey), Value: `{"year":2026,"holidays":[],"workdays":[],"source":"forged"}`}}}, []int{countyB}, false, epf},
		{"B's auditor writes a commitment through B's chaincode, endorsed by B only", auditorB, "MakeCommitment",
			credit.MakeCommitmentRequest{ID: cn.id("cmY"), Kind: "voluntary", Subject: sA, Content: "x"},
			evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypeCommitment, Attrs: []string{cn.id("cmY")},
				Value: `{"kind":"commitment","id":"` + cn.id("cmY") + `","county":"` + B.Code + `","state":"made"}`}}}, []int{countyB}, false, epf},
	}
	conns := map[int]*grpc.ClientConn{countyA: cn.conn(t, countyA), countyB: cn.conn(t, countyB), countyC: cn.conn(t, countyC)}
	for _, a := range part2 {
		var msps []string
		for _, i := range a.endorsers {
			msps = append(msps, cn.county(i).MSPID)
		}
		p, sp := a.gw.proposal(t, a.fn, a.arg, gwclient.WithEndorsingOrganizations(msps...), evil(t, a.ins))
		var o outcome
		if a.assemble {
			var rs []*peer.ProposalResponse
			for _, i := range a.endorsers {
				r, err := endorseDirect(ctx, conns[i], sp)
				if err != nil || r.GetResponse().GetStatus() != 200 {
					t.Fatalf("%s: endorsement by %s: %v %v", a.name, cn.county(i).MSPID, err, r.GetResponse())
				}
				rs = append(rs, r)
			}
			if bytes.Equal(rs[0].Payload, rs[1].Payload) {
				t.Fatalf("%s: the honest peer endorsed the malicious payload", a.name)
			}
			o = a.gw.submitPrepared(ctx, assemble(t, a.gw.signer, sp, rs...))
		} else {
			o = a.gw.submit(ctx, p)
		}
		if o.Err == nil || !strings.Contains(o.Err.Error(), a.want) {
			t.Errorf("%s: %v; want refused with %q", a.name, o, a.want)
			continue
		}
		if a.ins.Honest && a.want == epf && !a.assemble && !strings.Contains(string(o.Result), `"county":"`+A.Code+`"`) {
			t.Errorf("%s: B's endorsed result does not show the forgery: %s", a.name, o.Result)
		}
		t.Logf("refused: %s: at %s: %s", a.name, o.Stage, a.want)
	}

	// --- Replays: signed transactions submitted again. ---
	h0 := cn.waitLevel(t, readers, 0, 2*time.Minute)
	pt, err := reader.TransactionByID(ctx, pnARes.TxID)
	must(t, err)
	stolen, err := proto.Marshal(&gateway.PreparedTransaction{TransactionId: pnARes.TxID, Envelope: pt.GetTransactionEnvelope()})
	must(t, err)
	for _, r := range []struct {
		name     string
		txID     string
		prepared []byte
	}{
		{"B replays its own committed transaction", own.TxID, own.TxBytes},
		{"B replays A's committed transaction, read from the ledger", pnARes.TxID, stolen},
	} {
		o := hostile.submitPrepared(ctx, r.prepared)
		var codes []peer.TxValidationCode
		waitFor(t, r.name+": the replay ordered", 3*time.Minute, func() (bool, string) {
			codes = txCodes(t, reader, h0, r.txID)
			return len(codes) >= 1 && codes[len(codes)-1] == peer.TxValidationCode_DUPLICATE_TXID || o.Err != nil && o.Stage != "commit",
				"codes " + codeList(codes)
		})
		if o.Err == nil || o.Stage == "commit" {
			if got := codes[len(codes)-1]; got != peer.TxValidationCode_DUPLICATE_TXID {
				t.Errorf("%s: ordered and validated %s, want DUPLICATE_TXID", r.name, got)
			}
		}
		t.Logf("refused: %s: the Gateway told the replayer %v; the ledger marks the copy %s", r.name, o, codeList(codes))
	}

	// --- Nothing changed. ---
	cn.waitLevel(t, readers, 0, 2*time.Minute)
	after := snapshot(t, reader)
	if d := diffState(before, after); d != "" {
		t.Fatalf("the hostile county changed the world state:\n%s", d)
	}
	t.Logf("world state unchanged: %d keys", len(after))

	// --- Positive control: B alters its own record the same way. ---
	pnBKey := ckey(credit.TypePunishment, pnB)
	alteredB := strings.Replace(after[pnBKey], `"decisionNo":"罚`, `"decisionNo":"改`, 1)
	p, _ = hostile.proposal(t, "RevokePunishment", credit.RevokePunishmentRequest{ID: pnB, Reason: "x"},
		gwclient.WithEndorsingOrganizations(B.MSPID),
		evil(t, evilInstructions{Writes: []evilWrite{{ObjectType: credit.TypePunishment, Attrs: []string{pnB}, Value: alteredB}}}))
	o := hostile.submit(ctx, p)
	if o.Err != nil {
		t.Fatalf("control: B's malicious chaincode altering B's own punishment: %v; want VALID", o)
	}
	h := cn.waitLevel(t, readers, 0, 2*time.Minute)
	want := maps.Clone(after)
	want[pnBKey] = alteredB
	if d := diffState(want, snapshot(t, reader)); d != "" {
		t.Fatalf("control: the state differs from B's own punishment altered:\n%s", d)
	}
	t.Log("control: B's own punishment altered with B's endorsement alone (VALID), nothing else changed")
	// Nothing on the ledger stops it; the audit's replay names it: the
	// reference chaincode, given the same RevokePunishment proposal,
	// writes the revocation (state revoked, the bycounty entry moved),
	// not the altered decision number.
	f, ok := replayed(audit(t, reader, h), o.TxID)
	if !ok || !strings.Contains(f.Detail, "punishment{"+pnB+"} written as") || !strings.Contains(f.Detail, `"state":"revoked"`) {
		t.Fatalf("no replay finding names B's rewrite %s: %+v", o.TxID, f)
	}
	t.Logf("audit: %s", f)

}

// turnHostile makes county i's peer run the malicious chaincode server
// (evilcc, same package ID) until the test ends, and waits until the peer
// answers through it: gw (a client of county i) gets {} for a query the
// server was told to skip. The honest server is restored at cleanup.
func (c *chaosNet) turnHostile(t *testing.T, i int, gw *rawGW) {
	t.Helper()
	name := c.n.T.ChaincodeServers()[i].ProcName()
	swap := func(bin string) {
		t.Helper()
		c.stop(t, name)
		c.start(t, name, bin)
	}
	swap(c.evilcc)
	t.Cleanup(func() { swap(c.creditcc) })
	msp := c.county(i).MSPID
	waitFor(t, msp+"'s peer serving the malicious chaincode", 3*time.Minute, func() (bool, string) {
		p, _ := gw.proposal(t, "GetRecord", credit.RecordRequest{Kind: "punishment", ID: "any"},
			gwclient.WithEndorsingOrganizations(msp), evil(t, evilInstructions{}))
		got, err := p.EvaluateWithContext(ctxFor(t, time.Minute))
		return err == nil && string(got) == "{}", string(got) + " " + errString(err)
	})
}

// evil hides instructions for evilcc in the proposal's transient data.
func evil(t testing.TB, ins evilInstructions) gwclient.ProposalOption {
	b, err := json.Marshal(ins)
	if err != nil {
		t.Fatal(err)
	}
	return gwclient.WithTransient(map[string][]byte{"evil": b})
}

// evilInstructions are evilcc's (see evilcc/main.go).
type evilInstructions struct {
	Honest    bool          `json:"honest,omitempty"`
	Rewrite   []evilRewrite `json:"rewrite,omitempty"`
	PolicyMSP string        `json:"policyMsp,omitempty"`
	Writes    []evilWrite   `json:"writes,omitempty"`
}

type evilRewrite struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type evilWrite struct {
	ObjectType string   `json:"objectType"`
	Attrs      []string `json:"attrs"`
	Value      string   `json:"value,omitempty"`
	Delete     bool     `json:"delete,omitempty"`
	PolicyMSP  string   `json:"policyMsp,omitempty"`
}

// impostorOfA is an officer identity claiming county A's MSP ID, whose
// certificate county B's CA signed: B holds no key of A's.
func impostorOfA(t testing.TB) *client.Signer {
	t.Helper()
	A, B := cn.county(countyA), cn.county(countyB)
	ca, err := identity.LoadCA(B.CACert, B.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := ca.Issue(identity.Request{MSPID: A.MSPID, Name: "impostor", Role: identity.RoleOfficer, Dept: "credit-office"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := client.NewSigner(A.MSPID, iss.CertPEM, iss.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return oneLine(err.Error())
}

func codeList(codes []peer.TxValidationCode) string {
	var s []string
	for _, c := range codes {
		s = append(s, c.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}
