package credit

import (
	"testing"
)

func raise(t *testing.T, rec Record, receiver Actor) *Objection {
	t.Helper()
	h := rec.Head()
	ch, err := RaiseObjection(rec, RaiseObjectionRequest{ID: "obj-1", RecordKind: h.Kind, RecordID: h.ID, Reason: "处罚决定已被复议撤销"}, receiver, txOn("2026-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, ch.Result.(*Objection))
}

// TestObjectionOwnedByRecordOwner: seed 004 (异议处理) — any county may
// receive an objection; it belongs to, and is answered by, the county that
// owns the disputed record.
func TestObjectionOwnedByRecordOwner(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	o := raise(t, p, officerB)
	if o.County != "330782" || o.ReceivedBy != "330783" || o.State != StateRaised || o.Subject != subject {
		t.Fatalf("%+v", o)
	}
	_, err := AnswerObjection(o, p, AnswerObjectionRequest{ID: "obj-1", Decision: StateDismissed, Answer: "维持"}, defaultRules(), officerB, txOn("2026-02-02"))
	wantErr(t, err, ErrForbidden)
	_, err = RaiseObjection(p, RaiseObjectionRequest{ID: "obj-2", RecordKind: "enforcement", RecordID: "pun-1", Reason: "x"}, officerB, txOn("2026-02-01"))
	wantField(t, err, "recordKind", "")
}

// TestUpheldObjectionRevokes: DOMAIN — an upheld objection revokes the
// record; the punishment keeps its history (a new version, state revoked).
func TestUpheldObjectionRevokes(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	o := raise(t, p, officerB)
	ch, err := AnswerObjection(o, p, AnswerObjectionRequest{ID: "obj-1", Decision: StateUpheld, Answer: "异议成立", Action: ActionRevoke}, defaultRules(), officerA, txOn("2026-02-02"))
	if err != nil {
		t.Fatal(err)
	}
	if o.State != StateUpheld || p.State != StateRevoked || p.RevokedBy != "obj-1" || ch.Event.Name != "ObjectionAnswered" {
		t.Fatalf("objection %s punishment %s by %q", o.State, p.State, p.RevokedBy)
	}
	// One write for the objection and one for the punishment, each moving
	// its bycounty index.
	if len(ch.Dels) != 2 {
		t.Fatalf("dels %v", ch.Dels)
	}
	_, err = AnswerObjection(o, p, AnswerObjectionRequest{ID: "obj-1", Decision: StateDismissed, Answer: "again"}, defaultRules(), officerA, txOn("2026-02-03"))
	wantErr(t, err, ErrState)
}

// TestUpheldObjectionCorrects: DOMAIN — an upheld objection may correct the
// record: here the severity goes from serious to general and the decision
// date moves, so the periods are recomputed under the rule set in force at
// the new date, and the revision number goes up.
func TestUpheldObjectionCorrects(t *testing.T) {
	rules := WithDefault([]RuleSet{order58(t)})
	p := impose(t, "pun-1", SeveritySerious, "2023-05-01", "2024-01-01", rules)
	if p.MinEnd.String() != "2024-05-01" || p.RuleSet != "ndrc-2023-order58" {
		t.Fatalf("before: %s %s", p.MinEnd, p.RuleSet)
	}
	o := raise(t, p, officerA)
	ch, err := AnswerObjection(o, p, AnswerObjectionRequest{
		ID: "obj-1", Decision: StateUpheld, Answer: "决定日期及严重程度录入错误", Action: ActionCorrect,
		Correction: &Correction{Severity: SeverityGeneral, DecisionDate: "2023-04-28", Measures: []string{"inspection"}},
	}, rules, officerA, txOn("2024-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	var np Punishment
	for _, put := range ch.Puts {
		if put.Key.ObjectType == TypePunishment {
			mustUnmarshal(t, put.Value, &np)
		}
	}
	if np.Severity != SeverityGeneral || np.DecisionDate.String() != "2023-04-28" || np.RuleSet != "ndrc-2019" ||
		np.MinEnd.String() != "2023-07-28" || np.MaxEnd.String() != "2024-04-28" || np.Revision != 2 || np.CorrectedBy != "obj-1" ||
		len(np.Measures) != 1 || np.Measures[0] != "inspection" {
		t.Fatalf("corrected %+v", np)
	}
}

// TestAnswerObjectionValidation: an objection's answer (decision, answer,
// action, correction) is checked, each error naming its field, and a
// refused answer changes nothing. (That an answered objection cannot be
// answered again is in the test above.)
// Source: DESIGN §5 (objections); docs/RULES.md.
func TestAnswerObjectionValidation(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	tests := []struct {
		name  string
		req   AnswerObjectionRequest
		field string
	}{
		{"unknown decision", AnswerObjectionRequest{Decision: "accepted", Answer: "x"}, "decision"},
		{"no answer", AnswerObjectionRequest{Decision: StateDismissed}, "answer"},
		{"dismissed with action", AnswerObjectionRequest{Decision: StateDismissed, Answer: "x", Action: ActionRevoke}, "action"},
		{"upheld punishment without action", AnswerObjectionRequest{Decision: StateUpheld, Answer: "x"}, "action"},
		{"unknown action", AnswerObjectionRequest{Decision: StateUpheld, Answer: "x", Action: "delete"}, "action"},
		{"correct without correction", AnswerObjectionRequest{Decision: StateUpheld, Answer: "x", Action: ActionCorrect}, "correction"},
		{"empty correction", AnswerObjectionRequest{Decision: StateUpheld, Answer: "x", Action: ActionCorrect, Correction: &Correction{}}, "correction"},
		{"correction in the future", AnswerObjectionRequest{Decision: StateUpheld, Answer: "x", Action: ActionCorrect, Correction: &Correction{DecisionDate: "2026-03-01"}}, "correction.decisionDate"},
		{"correction bad measure", AnswerObjectionRequest{Decision: StateUpheld, Answer: "x", Action: ActionCorrect, Correction: &Correction{Measures: []string{"x"}}}, "correction.measures[0]"},
		{"correction with revoke", AnswerObjectionRequest{Decision: StateUpheld, Answer: "x", Action: ActionRevoke, Correction: &Correction{Severity: SeverityGeneral}}, "correction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := raise(t, p, officerB)
			tt.req.ID = o.ID
			_, err := AnswerObjection(o, p, tt.req, defaultRules(), officerA, txOn("2026-02-02"))
			wantField(t, err, tt.field, "")
			if o.State != StateRaised || p.State != StateActive {
				t.Fatal("a refused answer changed state")
			}
		})
	}
}

// TestObjectionToCommitment: an upheld objection about a commitment records
// the answer and takes no action on the ledger (commitments have no revoked
// state); a dismissal likewise.
func TestObjectionToCommitment(t *testing.T) {
	ch, _ := MakeCommitment(MakeCommitmentRequest{ID: "c-1", Kind: CommitmentVoluntary, Subject: subject, Content: "x"}, officerA, txOn("2026-01-10"), nil)
	c := roundTrip(t, ch.Result.(*Commitment))
	o := raise(t, c, officerB)
	_, err := AnswerObjection(o, c, AnswerObjectionRequest{ID: o.ID, Decision: StateUpheld, Answer: "x", Action: ActionRevoke}, defaultRules(), officerA, txOn("2026-02-02"))
	wantField(t, err, "action", "takes no action")
	ch, err = AnswerObjection(o, c, AnswerObjectionRequest{ID: o.ID, Decision: StateUpheld, Answer: "已更正承诺内容"}, defaultRules(), officerA, txOn("2026-02-02"))
	if err != nil || o.State != StateUpheld || len(ch.Puts) != 2 { // objection + its moved index
		t.Fatalf("%v %s %d", err, o.State, len(ch.Puts))
	}
}
