package chaincode

import (
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

const (
	h1 = "1111111111111111111111111111111111111111111111111111111111111111"
	h2 = "2222222222222222222222222222222222222222222222222222222222222222"
	h3 = "3333333333333333333333333333333333333333333333333333333333333333"
	h4 = "4444444444444444444444444444444444444444444444444444444444444444"
	h5 = "5555555555555555555555555555555555555555555555555555555555555555"
)

// TestMainStory plays the whole life cycle across counties: a commitment is
// breached, the dishonesty record is punished, another county enforces a
// measure, the subject applies for repair in a third county, and the
// imposing county completes it after the minimum period (seeds 001, 004).
func TestMainStory(t *testing.T) {
	w := newWorld(t)
	w.setDate("2026-01-05")
	w.ok(w.officerA, "MakeCommitment", js(t, map[string]any{"id": "c-approval-1", "kind": "approval", "subject": subjA, "content": "承诺符合食品经营许可条件", "deadline": "2026-02-05"}))
	w.setDate("2026-02-06")
	c := decode[credit.Commitment](t, w.ok(w.auditorA, "GetRecord", `{"kind":"commitment","id":"c-approval-1"}`))
	if c.DerivedState != credit.StateOverdue {
		t.Fatalf("derived state %q, want overdue", c.DerivedState)
	}
	c = decode[credit.Commitment](t, w.ok(w.officerA, "BreachCommitment", `{"id":"c-approval-1","reason":"核查发现不符合许可条件"}`))
	if c.DishonestyID != "c-approval-1.breach" {
		t.Fatalf("dishonestyId %q", c.DishonestyID)
	}
	p := decode[credit.Punishment](t, w.ok(w.officerA, "ImposePunishment", js(t, map[string]any{
		"id": "p-1", "subject": subjA, "kind": "blacklist", "severity": "serious", "decisionDate": "2026-02-06",
		"decisionNo": "义市监罚〔2026〕12号", "legalBasis": "《食品安全法》第一百二十二条", "measures": []string{"procurement", "bidding"},
		"dishonestyId": "c-approval-1.breach",
	})))
	if p.MinEnd.String() != "2026-08-06" || p.MaxEnd.String() != "2029-02-06" || p.RuleSet != "ndrc-2019" {
		t.Fatalf("periods %s..%s rule %s", p.MinEnd, p.MaxEnd, p.RuleSet)
	}
	w.ok(w.officerB, "RecordEnforcement", js(t, map[string]any{"id": "e-1", "punishmentId": "p-1", "measure": "bidding", "date": "2026-02-06"}))
	w.setDate("2026-03-01")
	w.ok(w.officerC, "ApplyRepair", js(t, map[string]any{"id": "r-1", "punishmentId": "p-1", "evidence": map[string]string{"identity": h1, "penaltyFulfilled": h2, "repairCommitment": h3}}))
	w.ok(w.officerA, "AcceptRepair", `{"id":"r-1"}`)
	w.setDate("2026-08-05")
	wantCode(t, w.fail(w.officerA, "CompleteRepair", `{"id":"r-1"}`), credit.ErrTooEarly)
	w.setDate("2026-08-06")
	wantCode(t, w.fail(w.officerA, "CompleteRepair", `{"id":"r-1"}`), credit.ErrEvidenceMissing)
	w.ok(w.officerA, "CompleteRepair", js(t, map[string]any{"id": "r-1", "evidence": map[string]string{"training": h4, "creditReport": h5}}))
	p = decode[credit.Punishment](t, w.ok(w.readerA, "GetRecord", `{"kind":"punishment","id":"p-1"}`))
	if p.State != credit.StateRepaired || p.RepairedBy != "r-1" {
		t.Fatalf("punishment after repair: %+v", p)
	}
	out := w.ok(w.readerA, "SubjectRecords", js(t, map[string]string{"subject": subjA}))
	for _, want := range []string{`"id":"c-approval-1"`, `"id":"c-approval-1.breach"`, `"id":"e-1"`, `"id":"p-1"`, `"id":"r-1"`, `"id":"r-1.commitment"`} {
		if !strings.Contains(out, want) {
			t.Errorf("SubjectRecords lacks %s: %s", want, out)
		}
	}
	hist := decode[[]credit.HistoryEntry](t, w.ok(w.readerA, "RecordHistory", `{"kind":"punishment","id":"p-1"}`))
	// Imposed, then completed by the repair: the application, received in
	// county B, never wrote county A's punishment.
	var states []string
	for _, h := range hist {
		states = append(states, decode[credit.Punishment](t, string(h.Record)).State)
	}
	if got := strings.Join(states, " "); got != "active repaired" {
		t.Fatalf("punishment history states %q", got)
	}
}
