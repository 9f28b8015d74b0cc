package chaincode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// TestInvocationIsDeterministic: Fabric commits a transaction only if the
// endorsing peers of several counties computed the same read/write set,
// so the chaincode must be a function of the committed state, the request,
// the caller and the transaction timestamp (DESIGN §2: never the wall
// clock; no map iteration into output; JSON from structs). Randomized
// requests of every transaction (writes, refusals and queries, by officers
// of three counties, an auditor and an admin, over the records earlier
// requests made, on days moving forward) are each invoked three times on
// the same committed state with the same transaction ID and timestamp:
// twice on one chaincode instance and once on a second, freshly built one.
// The three must agree byte for byte: response status, message and
// payload, the keys written in order with their values, the deletes, the
// key-level policies and the event. Half the accepted writes are then
// committed, so later requests meet the records they made.
// (The network counterpart, endorsement by several counties' peers, is
// cli/chaos TestEndorsementDeterminism.)
func TestInvocationIsDeterministic(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			w := storyA(t)
			other, err := New()
			if err != nil {
				t.Fatal(err)
			}
			g := &detGen{w: w, rng: rand.New(rand.NewPCG(seed, 11)),
				punishments: []string{"pun-1"}, commitments: []string{"com-1", "com-2"}, repairs: []string{"rep-1"}, objections: []string{"obj-1"}}
			accepted, refused, controlled := 0, 0, false
			for step := range 400 {
				if g.rng.IntN(10) == 0 {
					w.now = w.now.Add(time.Duration(1+g.rng.IntN(40)) * 24 * time.Hour)
				}
				who, fn, arg := g.next()
				w.txSeq++
				txID := fmt.Sprintf("det%04d", w.txSeq)
				r1, s1 := w.invokeOn(w.cc, who, fn, arg, txID)
				r2, s2 := w.invokeOn(w.cc, who, fn, arg, txID)
				r3, s3 := w.invokeOn(other, who, fn, arg, txID)
				for i, r := range []struct {
					resp *peer.Response
					stub *fakeStub
				}{{r2, s2}, {r3, s3}} {
					if d := sameInvocation(r1, s1, r.resp, r.stub); d != "" {
						t.Fatalf("step %d: %s(%s) as %s: invocation %d differs from the first: %s", step, fn, arg, who.name, i+2, d)
					}
				}
				if r1.Status != shim.OK {
					refused++
					continue
				}
				accepted++
				if len(s1.writeOrder) > 0 && !controlled {
					// Control: the comparison sees a difference where there is
					// one. One second later, the same write differs (the
					// record carries the transaction time).
					w.now = w.now.Add(time.Second)
					r4, s4 := w.invokeOn(w.cc, who, fn, arg, txID)
					w.now = w.now.Add(-time.Second)
					if sameInvocation(r1, s1, r4, s4) == "" {
						t.Fatalf("step %d: %s(%s) one second later wrote the same: the comparison sees nothing", step, fn, arg)
					}
					controlled = true
				}
				if g.rng.IntN(2) == 0 {
					s1.commit()
					g.committed(fn, arg)
				}
			}
			if accepted < 100 || refused < 20 {
				t.Errorf("%d accepted, %d refused: the generator exercises too little", accepted, refused)
			}
			t.Logf("400 requests: %d accepted, %d refused; %d keys in the state", accepted, refused, len(w.state))
		})
	}
}

// invokeOn runs fn(arg) as who on chaincode cc with the given transaction
// ID at the current time; nothing is committed.
func (n *fakeNet) invokeOn(cc shim.Chaincode, who *fakeIdentity, fn, arg, txID string) (*peer.Response, *fakeStub) {
	stub := &fakeStub{
		net: n, args: [][]byte{[]byte(fn), []byte(arg)}, creator: who.serialized, txID: txID, ts: n.now,
		writes: map[string][]byte{}, deletes: map[string]bool{}, sbeWrites: map[string][]byte{},
	}
	return cc.Invoke(stub), stub
}

// sameInvocation describes how two invocations differ ("" if they do not).
func sameInvocation(r1 *peer.Response, s1 *fakeStub, r2 *peer.Response, s2 *fakeStub) string {
	switch {
	case r1.Status != r2.Status || r1.Message != r2.Message:
		return fmt.Sprintf("response %d %q vs %d %q", r1.Status, r1.Message, r2.Status, r2.Message)
	case !bytes.Equal(r1.Payload, r2.Payload):
		return fmt.Sprintf("payload %s vs %s", r1.Payload, r2.Payload)
	case !slices.Equal(s1.writeOrder, s2.writeOrder):
		return fmt.Sprintf("keys written %q vs %q", s1.writeOrder, s2.writeOrder)
	case s1.eventName != s2.eventName || !bytes.Equal(s1.eventPayload, s2.eventPayload) || s1.eventCalls != s2.eventCalls:
		return fmt.Sprintf("event %s %s (%d) vs %s %s (%d)", s1.eventName, s1.eventPayload, s1.eventCalls, s2.eventName, s2.eventPayload, s2.eventCalls)
	}
	for _, k := range s1.writeOrder {
		if !bytes.Equal(s1.writes[k], s2.writes[k]) || s1.deletes[k] != s2.deletes[k] {
			return fmt.Sprintf("key %q: %s (delete %v) vs %s (delete %v)", k, s1.writes[k], s1.deletes[k], s2.writes[k], s2.deletes[k])
		}
	}
	if len(s1.sbeWrites) != len(s2.sbeWrites) {
		return fmt.Sprintf("%d key-level policies vs %d", len(s1.sbeWrites), len(s2.sbeWrites))
	}
	for k, p := range s1.sbeWrites {
		if !bytes.Equal(p, s2.sbeWrites[k]) {
			return fmt.Sprintf("key-level policy of %q differs", k)
		}
	}
	return ""
}

// detGen makes random requests over the records it has seen committed.
type detGen struct {
	w                                             *world
	rng                                           *rand.Rand
	n                                             int
	punishments, commitments, repairs, objections []string
	certificates                                  []string
}

func (g *detGen) pick(list []string) string {
	if len(list) == 0 {
		return "none-" + fmt.Sprint(g.rng.IntN(3))
	}
	return list[g.rng.IntN(len(list))]
}

func (g *detGen) text() string {
	words := []string{"诚信", "承诺", "履行", "市场监管", "x", "😀", `"q"`, `\`, "<b>", "\u2028", " "}
	var b strings.Builder
	for range 1 + g.rng.IntN(5) {
		b.WriteString(words[g.rng.IntN(len(words))])
	}
	return b.String()
}

func (g *detGen) subject() string {
	return credit.CompleteCreditCode(fmt.Sprintf("91%sMA2D%05d", []string{codeA, codeB, codeC}[g.rng.IntN(3)], g.rng.IntN(6)))
}

func (g *detGen) hash() string { return strings.Repeat(string("0123456789abcdef"[g.rng.IntN(16)]), 64) }

// date is a day from back days ago to 2 days ahead of the transaction date.
func (g *detGen) date(back int) string {
	return credit.DateOf(g.w.now).AddDays(g.rng.IntN(back+3) - back).String()
}

// ahead is a day from 3 days ago to ahead days after the transaction date.
func (g *detGen) ahead(ahead int) string {
	return credit.DateOf(g.w.now).AddDays(g.rng.IntN(ahead+4) - 3).String()
}

func (g *detGen) measures() []string {
	ms := []string{}
	for _, m := range credit.Measures {
		if g.rng.IntN(3) == 0 {
			ms = append(ms, m)
		}
	}
	return ms
}

// next returns a caller, a transaction and its JSON argument.
func (g *detGen) next() (*fakeIdentity, string, string) {
	w := g.w
	officers := []*fakeIdentity{w.officerA, w.officerA, w.creditOfficeA, w.officerB, w.officerC}
	who := officers[g.rng.IntN(len(officers))]
	switch g.rng.IntN(40) {
	case 0:
		who = w.auditorA
	case 1:
		who = w.adminA
	case 2:
		who = w.readerA
	}
	g.n++
	id := fmt.Sprintf("d-%d", g.n)
	var fn string
	var req any
	switch k := g.rng.IntN(24); k {
	case 0, 1, 2:
		r := map[string]any{"id": id, "kind": []string{"voluntary", "industry", "missing-materials", "approval", "repair"}[g.rng.IntN(5)],
			"subject": g.subject(), "content": g.text()}
		if g.rng.IntN(2) == 0 {
			r["deadline"] = g.date(5)
		}
		if g.rng.IntN(3) == 0 {
			r["department"] = []string{"market", "tax", "credit-office"}[g.rng.IntN(3)]
		}
		fn, req = "MakeCommitment", r
	case 3, 4, 5:
		fn, req = "ImposePunishment", map[string]any{"id": id, "subject": g.subject(), "kind": g.pick(credit.PunishmentKinds),
			"severity": g.pick(credit.Severities), "decisionDate": g.date(700), "decisionNo": "罚" + id, "legalBasis": g.text(), "measures": g.measures()}
	case 6:
		fn, req = "FulfilCommitment", map[string]any{"id": g.pick(g.commitments)}
	case 7:
		fn, req = "BreachCommitment", map[string]any{"id": g.pick(g.commitments), "reason": g.text()}
	case 8:
		fn, req = "RevokePunishment", map[string]any{"id": g.pick(g.punishments), "reason": g.text()}
	case 9, 10:
		fn, req = "RecordEnforcement", map[string]any{"id": id, "punishmentId": g.pick(g.punishments), "measure": g.pick(credit.Measures), "date": g.date(3)}
	case 11:
		ev := map[string]string{"identity": g.hash(), "penaltyFulfilled": g.hash(), "repairCommitment": g.hash()}
		if g.rng.IntN(2) == 0 {
			ev["training"], ev["creditReport"] = g.hash(), g.hash()
		}
		fn, req = "ApplyRepair", map[string]any{"id": id, "punishmentId": g.pick(g.punishments), "evidence": ev}
	case 12:
		fn, req = []string{"AcceptRepair", "CompleteRepair"}[g.rng.IntN(2)], map[string]any{"id": g.pick(g.repairs)}
	case 13:
		fn, req = "RejectRepair", map[string]any{"id": g.pick(g.repairs), "reason": g.text()}
	case 14:
		fn, req = "RaiseObjection", map[string]any{"id": id, "recordKind": "punishment", "recordId": g.pick(g.punishments), "reason": g.text()}
	case 15:
		r := map[string]any{"id": g.pick(g.objections), "decision": []string{"upheld", "dismissed"}[g.rng.IntN(2)], "answer": g.text()}
		if g.rng.IntN(2) == 0 {
			r["action"] = "revoke"
		} else if g.rng.IntN(2) == 0 {
			r["action"], r["correction"] = "correct", map[string]any{"severity": g.pick(credit.Severities), "measures": g.measures()}
		}
		fn, req = "AnswerObjection", r
	case 16:
		fn, req = "IssueCertificate", map[string]any{"id": id, "subject": g.subject(), "purpose": g.pick(credit.Purposes), "validUntil": g.ahead(400)}
	case 17:
		fn, req = "IssueCertificateBatch", map[string]any{"batchId": id, "subjects": []string{g.subject(), g.subject()}, "purpose": "loan", "validUntil": g.ahead(100)}
	case 18:
		fn, req = "SetCertificateStatus", map[string]any{"id": g.pick(g.certificates), "status": []string{"valid", "suspended", "revoked"}[g.rng.IntN(3)], "reason": g.text()}
	case 19:
		fn, req = "SubjectRecords", map[string]any{"subject": g.subject()}
	case 20:
		fn, req = "ListByCounty", map[string]any{"county": []string{codeA, codeB, codeC}[g.rng.IntN(3)], "kind": g.pick(credit.RecordKinds), "pageSize": 1 + g.rng.IntN(5)}
	case 21:
		fn, req = "RecordHistory", map[string]any{"kind": "punishment", "id": g.pick(g.punishments)}
	case 22:
		fn, req = "ListState", map[string]any{"objectType": g.pick(credit.ObjectTypes), "pageSize": 1 + g.rng.IntN(50)}
	default:
		fn, req = "GetRecord", map[string]any{"kind": "punishment", "id": g.pick(g.punishments)}
	}
	b, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	return who, fn, string(b)
}

// committed records the IDs a committed request created.
func (g *detGen) committed(fn, arg string) {
	var r struct {
		ID      string `json:"id"`
		BatchID string `json:"batchId"`
	}
	_ = json.Unmarshal([]byte(arg), &r)
	switch fn {
	case "MakeCommitment":
		g.commitments = append(g.commitments, r.ID)
	case "ImposePunishment":
		g.punishments = append(g.punishments, r.ID)
	case "ApplyRepair":
		g.repairs = append(g.repairs, r.ID)
	case "RaiseObjection":
		g.objections = append(g.objections, r.ID)
	case "IssueCertificate":
		g.certificates = append(g.certificates, r.ID)
	case "IssueCertificateBatch":
		g.certificates = append(g.certificates, r.BatchID)
	}
}
