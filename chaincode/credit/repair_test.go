package credit

import (
	"testing"
)

func evidence(serious bool) Evidence {
	e := Evidence{Identity: hashA, PenaltyFulfilled: hashB, RepairCommitment: hashC}
	if serious {
		e.Training, e.CreditReport = hashD, hashE
	}
	return e
}

// acceptedRepair applies for (received by county B) and accepts a repair of
// p on p's decision date. It updates p as the ledger would.
func acceptedRepair(t *testing.T, p *Punishment, seriousEvidence bool) *Repair {
	t.Helper()
	tx := txOn(p.DecisionDate.String())
	ch, err := ApplyRepair(p, ApplyRepairRequest{ID: "r-" + p.ID, PunishmentID: p.ID, Evidence: evidence(seriousEvidence)}, officerB, tx)
	if err != nil {
		t.Fatal(err)
	}
	r := roundTrip(t, ch.Result.(*Repair))
	ch, err = AcceptRepair(r, RepairRequest{ID: r.ID}, officerA, tx)
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, ch.Result.(*Repair))
}

// TestRepairApplicationRecordsRepairCommitment: seed 001 — the applicant
// makes a public repair commitment (公开做出信用修复承诺); the application
// carries identity, penalty-fulfilled and commitment evidence as hashes;
// any county may receive it, the imposing county owns it.
func TestRepairApplicationRecordsRepairCommitment(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	ch, err := ApplyRepair(p, ApplyRepairRequest{ID: "rep-1", PunishmentID: "pun-1", Evidence: evidence(false)}, officerB, txOn("2026-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	r := ch.Result.(*Repair)
	if r.County != "330782" || r.ReceivedBy != "330783" || r.State != StateApplied || r.CommitmentID != "rep-1.commitment" {
		t.Fatalf("repair %+v", r)
	}
	var c *Commitment
	for _, put := range ch.Puts {
		if put.Key.ObjectType == TypeCommitment {
			c = &Commitment{}
			mustUnmarshal(t, put.Value, c)
		}
	}
	if c == nil || c.CommitmentKind != CommitmentRepair || c.ContentHash != hashC || !c.Deadline.IsZero() || c.County != "330782" || c.RepairID != "rep-1" {
		t.Fatalf("repair commitment %+v", c)
	}
	if p.OpenRepairID != "rep-1" {
		t.Fatalf("openRepairId %q", p.OpenRepairID)
	}
	if ch.Event.Name != "RepairApplied" {
		t.Fatalf("event %s", ch.Event.Name)
	}
}

// TestRepairEvidenceMustBeHashes: repair evidence is SHA-256 hashes, never documents.
// Source: seed 001 (repair evidence); docs/RULES.md.
func TestRepairEvidenceMustBeHashes(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	tests := []struct {
		name  string
		edit  func(*Evidence)
		field string
	}{
		{"identity missing", func(e *Evidence) { e.Identity = "" }, "evidence.identity"},
		{"penalty proof missing", func(e *Evidence) { e.PenaltyFulfilled = "" }, "evidence.penaltyFulfilled"},
		{"commitment missing", func(e *Evidence) { e.RepairCommitment = "" }, "evidence.repairCommitment"},
		{"upper-case hex", func(e *Evidence) { e.Identity = "AB" + hashA[2:] }, "evidence.identity"},
		{"short training hash", func(e *Evidence) { e.Training = "abc" }, "evidence.training"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := evidence(false)
			tt.edit(&e)
			_, err := ApplyRepair(p, ApplyRepairRequest{ID: "rep-1", PunishmentID: "pun-1", Evidence: e}, officerB, txOn("2026-02-01"))
			wantField(t, err, tt.field, "")
		})
	}
}

// TestAtMostOneOpenRepairPerPunishment: a second application while one is
// applied or accepted is refused (STATE); after a rejection the subject may
// apply again.
func TestAtMostOneOpenRepairPerPunishment(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	ch, err := ApplyRepair(p, ApplyRepairRequest{ID: "rep-1", PunishmentID: "pun-1", Evidence: evidence(false)}, officerB, txOn("2026-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	r1 := roundTrip(t, ch.Result.(*Repair))
	_, err = ApplyRepair(p, ApplyRepairRequest{ID: "rep-2", PunishmentID: "pun-1", Evidence: evidence(false)}, officerA, txOn("2026-02-01"))
	wantErr(t, err, ErrState)
	_, err = RejectRepair(r1, p, RejectRepairRequest{ID: "rep-1"}, officerA, txOn("2026-02-02"))
	wantField(t, err, "reason", "required")
	if _, err := RejectRepair(r1, p, RejectRepairRequest{ID: "rep-1", Reason: "材料不全"}, officerA, txOn("2026-02-02")); err != nil {
		t.Fatal(err)
	}
	if p.OpenRepairID != "" || r1.State != StateRejected || r1.RejectReason != "材料不全" {
		t.Fatalf("after rejection: p.openRepairId %q, r1 %s", p.OpenRepairID, r1.State)
	}
	if _, err := ApplyRepair(p, ApplyRepairRequest{ID: "rep-2", PunishmentID: "pun-1", Evidence: evidence(false)}, officerA, txOn("2026-02-03")); err != nil {
		t.Fatal(err)
	}
}

// TestRepairCompletionRefusals: DOMAIN / seed 001 — completion is refused
// with a distinct error for each reason, checked on the transaction date:
// not the imposing county, wrong state, specially serious or not repairable,
// before the minimum period (allowed on minEnd, refused the day before), and
// a serious case without training certificate or credit report.
func TestRepairCompletionRefusals(t *testing.T) {
	rules := defaultRules()
	tests := []struct {
		name     string
		severity string
		evidence bool // training + credit report at application
		accept   bool
		caller   Actor
		txDate   string
		late     *LateEvidence
		want     error
	}{
		{"another county", SeverityGeneral, false, true, officerB, "2026-04-10", nil, ErrForbidden},
		{"auditor of the imposing county", SeverityGeneral, false, true, auditorA, "2026-04-10", nil, ErrForbidden},
		{"not yet accepted", SeverityGeneral, false, false, officerA, "2026-04-10", nil, ErrState},
		{"specially serious", SeveritySpecial, true, true, officerA, "2029-01-10", nil, ErrNotRepairable},
		{"general, day before minEnd", SeverityGeneral, false, true, officerA, "2026-04-09", nil, ErrTooEarly},
		{"general, on minEnd", SeverityGeneral, false, true, officerA, "2026-04-10", nil, nil},
		{"serious, day before minEnd", SeveritySerious, true, true, officerA, "2026-07-09", nil, ErrTooEarly},
		{"serious, on minEnd", SeveritySerious, true, true, officerA, "2026-07-10", nil, nil},
		{"serious without training and report", SeveritySerious, false, true, officerA, "2026-07-10", nil, ErrEvidenceMissing},
		{"serious without report", SeveritySerious, false, true, officerA, "2026-07-10", &LateEvidence{Training: hashD}, ErrEvidenceMissing},
		{"serious, evidence brought at completion", SeveritySerious, false, true, officerA, "2026-07-10", &LateEvidence{Training: hashD, CreditReport: hashE}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := impose(t, "pun-1", tt.severity, "2026-01-10", "2026-01-10", rules)
			ch, err := ApplyRepair(p, ApplyRepairRequest{ID: "rep-1", PunishmentID: "pun-1", Evidence: evidence(tt.evidence)}, officerB, txOn("2026-01-10"))
			if err != nil {
				t.Fatal(err)
			}
			r := roundTrip(t, ch.Result.(*Repair))
			if tt.accept {
				if _, err := AcceptRepair(r, RepairRequest{ID: "rep-1"}, officerA, txOn("2026-01-11")); err != nil {
					t.Fatal(err)
				}
			}
			ch, err = CompleteRepair(r, p, CompleteRepairRequest{ID: "rep-1", Evidence: tt.late}, tt.caller, txOn(tt.txDate))
			if tt.want != nil {
				wantErr(t, err, tt.want)
				if r.State == StateCompleted || p.State != StateActive {
					t.Fatalf("a refused completion changed state: repair %s punishment %s", r.State, p.State)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.State != StateCompleted || p.State != StateRepaired || p.RepairedBy != "rep-1" || p.OpenRepairID != "" || ch.Event.Name != "RepairCompleted" {
				t.Fatalf("after completion: repair %s, punishment %s %+v", r.State, p.State, ch.Event)
			}
		})
	}
}

// TestRepairNotRepairableByRuleSet: a rule set that makes a severity not
// repairable gives NOT_REPAIRABLE even for a general case.
//
// Source: seed 001, DOMAIN.md (repairability by rule set); docs/RULES.md.
func TestRepairNotRepairableByRuleSet(t *testing.T) {
	rs := DefaultRuleSet()
	rs.Version, rs.EffectiveFrom = "strict-2026", "2026-01-01"
	rs.General = SeverityRule{MaxMonths: 12}
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-10", "2026-01-10", WithDefault([]RuleSet{rs}))
	r := acceptedRepair(t, p, true)
	_, err := CompleteRepair(r, p, CompleteRepairRequest{ID: r.ID}, officerA, txOn("2026-12-01"))
	wantErr(t, err, ErrNotRepairable)
}

// TestRepairOfExpiredOrClosedPunishmentRefused: only an active, unexpired
// punishment can be repaired.
func TestRepairOfExpiredOrClosedPunishmentRefused(t *testing.T) {
	p := impose(t, "pun-1", SeverityGeneral, "2025-01-10", "2025-01-10", defaultRules())
	_, err := ApplyRepair(p, ApplyRepairRequest{ID: "rep-1", PunishmentID: "pun-1", Evidence: evidence(false)}, officerA, txOn("2026-01-10"))
	wantErr(t, err, ErrState) // expired on maxEnd 2026-01-10
	q := impose(t, "pun-2", SeverityGeneral, "2026-01-10", "2026-01-10", defaultRules())
	if _, err := RevokePunishment(q, RevokePunishmentRequest{ID: "pun-2", Reason: "错误录入"}, officerA, txOn("2026-01-11")); err != nil {
		t.Fatal(err)
	}
	_, err = ApplyRepair(q, ApplyRepairRequest{ID: "rep-2", PunishmentID: "pun-2", Evidence: evidence(false)}, officerA, txOn("2026-01-12"))
	wantErr(t, err, ErrState)
}
