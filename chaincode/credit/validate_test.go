package credit

import (
	"errors"
	"strings"
	"testing"
)

// validator is any request with a context-free Validate.
type validator interface{ Validate() error }

// TestValidateAgreesWithChaincode: a client's Validate refuses exactly
// what the chaincode refuses before it looks at the ledger, with the same
// field and rule (DESIGN §5: the CLI validates everything before sending,
// with one implementation of the rules). Each case runs the request's
// Validate and the domain operation in a context that would otherwise
// accept it (an officer of the owning county, an active punishment, a
// raised objection) and compares the errors; valid requests pass both.
func TestValidateAgreesWithChaincode(t *testing.T) {
	const today = "2026-06-01"
	tx := txOn(today)
	p := impose(t, "pun-1", SeverityGeneral, "2026-01-05", today, defaultRules())
	long := strings.Repeat("长", 2001)
	badHash := strings.Repeat("A", 64)
	type op func(v validator) error

	makeC := func(r MakeCommitmentRequest) (validator, op) {
		return r, func(validator) error { _, err := MakeCommitment(r, creditA, tx, nil); return err }
	}
	breach := func(r BreachCommitmentRequest) (validator, op) {
		c := &Commitment{Header: Header{Kind: TypeCommitment, ID: r.ID, Subject: subject, County: "330782", State: StateMade}}
		return r, func(validator) error { _, err := BreachCommitment(c, r, officerA, tx); return err }
	}
	fulfil := func(r FulfilCommitmentRequest) (validator, op) {
		c := &Commitment{Header: Header{Kind: TypeCommitment, ID: r.ID, Subject: subject, County: "330782", State: StateMade}}
		return r, func(validator) error { _, err := FulfilCommitment(c, r, officerA, tx); return err }
	}
	imposeR := func(r ImposePunishmentRequest) (validator, op) {
		return r, func(validator) error { _, err := ImposePunishment(r, nil, defaultRules(), creditA, tx); return err }
	}
	revoke := func(r RevokePunishmentRequest) (validator, op) {
		pp := *p
		return r, func(validator) error { _, err := RevokePunishment(&pp, r, officerA, tx); return err }
	}
	enforce := func(r RecordEnforcementRequest) (validator, op) {
		pp := *p
		return r, func(validator) error { _, err := RecordEnforcement(&pp, r, creditA, tx); return err }
	}
	apply := func(r ApplyRepairRequest) (validator, op) {
		pp := *p
		return r, func(validator) error { _, err := ApplyRepair(&pp, r, officerB, tx); return err }
	}
	complete := func(r CompleteRepairRequest) (validator, op) {
		pp := *p
		rp := &Repair{Header: Header{Kind: TypeRepair, ID: r.ID, County: "330782", State: StateAccepted}, PunishmentID: p.ID}
		return r, func(validator) error { _, err := CompleteRepair(rp, &pp, r, officerA, txOn("2026-12-01")); return err }
	}
	reject := func(r RejectRepairRequest) (validator, op) {
		pp := *p
		rp := &Repair{Header: Header{Kind: TypeRepair, ID: r.ID, County: "330782", State: StateApplied}, PunishmentID: p.ID}
		return r, func(validator) error { _, err := RejectRepair(rp, &pp, r, officerA, tx); return err }
	}
	raise := func(r RaiseObjectionRequest) (validator, op) {
		pp := *p
		return r, func(validator) error { _, err := RaiseObjection(&pp, r, officerB, tx); return err }
	}
	answer := func(r AnswerObjectionRequest) (validator, op) {
		pp := *p
		o := &Objection{Header: Header{Kind: TypeObjection, ID: r.ID, County: "330782", State: StateRaised}, RecordKind: TypePunishment, RecordID: p.ID}
		return r, func(validator) error { _, err := AnswerObjection(o, &pp, r, defaultRules(), officerA, tx); return err }
	}
	register := func(r RegisterCountyRequest) (validator, op) {
		return r, func(validator) error { _, err := RegisterCounty(r, nil, "", adminA, tx); return err }
	}

	goodC := MakeCommitmentRequest{ID: "c-1", Kind: CommitmentMissingMaterials, Subject: subject, Content: "补交材料"}
	goodP := ImposePunishmentRequest{ID: "p-2", Subject: subject, Kind: PunishmentPublicity, Severity: SeverityGeneral,
		DecisionDate: "2026-05-01", DecisionNo: "义市监罚〔2026〕2号", LegalBasis: "《行政处罚法》", Measures: []string{"procurement"}}
	goodE := RecordEnforcementRequest{ID: "e-1", PunishmentID: p.ID, Measure: "procurement", Date: today}
	with := func(f func(*MakeCommitmentRequest)) MakeCommitmentRequest { r := goodC; f(&r); return r }
	withP := func(f func(*ImposePunishmentRequest)) ImposePunishmentRequest { r := goodP; f(&r); return r }
	withE := func(f func(*RecordEnforcementRequest)) RecordEnforcementRequest { r := goodE; f(&r); return r }
	upheldCorrect := func(c *Correction) AnswerObjectionRequest {
		return AnswerObjectionRequest{ID: "o-1", Decision: StateUpheld, Answer: "更正", Action: ActionCorrect, Correction: c}
	}

	tests := []struct {
		name  string
		build func() (validator, op)
		field string // "" = valid
	}{
		{"commitment valid", func() (validator, op) { return makeC(goodC) }, ""},
		{"commitment id short", func() (validator, op) { return makeC(with(func(r *MakeCommitmentRequest) { r.ID = "c" })) }, "id"},
		{"commitment kind missing", func() (validator, op) { return makeC(with(func(r *MakeCommitmentRequest) { r.Kind = "" })) }, "kind"},
		{"commitment kind repair", func() (validator, op) {
			return makeC(with(func(r *MakeCommitmentRequest) { r.Kind = CommitmentRepair }))
		}, "kind"},
		{"commitment bad check character", func() (validator, op) {
			return makeC(with(func(r *MakeCommitmentRequest) { r.Subject = subject[:17] + "0" }))
		}, "subject"},
		{"commitment content too long", func() (validator, op) {
			return makeC(with(func(r *MakeCommitmentRequest) { r.Content = long + long }))
		}, "content"},
		{"commitment hash upper case", func() (validator, op) { return makeC(with(func(r *MakeCommitmentRequest) { r.ContentHash = badHash })) }, "contentHash"},
		{"commitment deadline impossible", func() (validator, op) {
			return makeC(with(func(r *MakeCommitmentRequest) { r.Deadline = "2026-02-30" }))
		}, "deadline"},
		{"commitment department malformed", func() (validator, op) {
			return makeC(with(func(r *MakeCommitmentRequest) { r.Department = "Market" }))
		}, "department"},
		{"approval without deadline", func() (validator, op) {
			return makeC(with(func(r *MakeCommitmentRequest) { r.Kind = CommitmentApproval }))
		}, "deadline"},
		{"breach valid", func() (validator, op) { return breach(BreachCommitmentRequest{ID: "c-1", Reason: "未补交"}) }, ""},
		{"breach without reason", func() (validator, op) { return breach(BreachCommitmentRequest{ID: "c-1"}) }, "reason"},
		{"fulfil note too long", func() (validator, op) { return fulfil(FulfilCommitmentRequest{ID: "c-1", Note: long}) }, "note"},
		{"punishment valid", func() (validator, op) { return imposeR(goodP) }, ""},
		{"punishment kind unknown", func() (validator, op) { return imposeR(withP(func(r *ImposePunishmentRequest) { r.Kind = "fine" })) }, "kind"},
		{"punishment severity unknown", func() (validator, op) {
			return imposeR(withP(func(r *ImposePunishmentRequest) { r.Severity = "grave" }))
		}, "severity"},
		{"punishment decision date missing", func() (validator, op) {
			return imposeR(withP(func(r *ImposePunishmentRequest) { r.DecisionDate = "" }))
		}, "decisionDate"},
		{"punishment decision number missing", func() (validator, op) {
			return imposeR(withP(func(r *ImposePunishmentRequest) { r.DecisionNo = "" }))
		}, "decisionNo"},
		{"punishment legal basis missing", func() (validator, op) {
			return imposeR(withP(func(r *ImposePunishmentRequest) { r.LegalBasis = "" }))
		}, "legalBasis"},
		{"punishment measure unknown", func() (validator, op) {
			return imposeR(withP(func(r *ImposePunishmentRequest) { r.Measures = []string{"procurement", "jail"} }))
		}, "measures[1]"},
		{"punishment measure twice", func() (validator, op) {
			return imposeR(withP(func(r *ImposePunishmentRequest) { r.Measures = []string{"bidding", "bidding"} }))
		}, "measures[1]"},
		{"punishment dishonesty id malformed", func() (validator, op) {
			return imposeR(withP(func(r *ImposePunishmentRequest) { r.DishonestyID = "x" }))
		}, "dishonestyId"},
		{"revoke without reason", func() (validator, op) { return revoke(RevokePunishmentRequest{ID: p.ID}) }, "reason"},
		{"enforcement valid", func() (validator, op) { return enforce(goodE) }, ""},
		{"enforcement measure unknown", func() (validator, op) {
			return enforce(withE(func(r *RecordEnforcementRequest) { r.Measure = "jail" }))
		}, "measure"},
		{"enforcement date missing", func() (validator, op) { return enforce(withE(func(r *RecordEnforcementRequest) { r.Date = "" })) }, "date"},
		{"enforcement punishment id malformed", func() (validator, op) {
			return enforce(withE(func(r *RecordEnforcementRequest) { r.PunishmentID = "-x" }))
		}, "punishmentId"},
		{"repair valid", func() (validator, op) {
			return apply(ApplyRepairRequest{ID: "r-1", PunishmentID: p.ID, Evidence: evidence(false)})
		}, ""},
		{"repair identity evidence missing", func() (validator, op) {
			e := evidence(false)
			e.Identity = ""
			return apply(ApplyRepairRequest{ID: "r-1", PunishmentID: p.ID, Evidence: e})
		}, "evidence.identity"},
		{"repair training hash malformed", func() (validator, op) {
			e := evidence(false)
			e.Training = "abc"
			return apply(ApplyRepairRequest{ID: "r-1", PunishmentID: p.ID, Evidence: e})
		}, "evidence.training"},
		{"complete credit report malformed", func() (validator, op) {
			return complete(CompleteRepairRequest{ID: "r-1", Evidence: &LateEvidence{CreditReport: badHash}})
		}, "evidence.creditReport"},
		{"complete valid", func() (validator, op) { return complete(CompleteRepairRequest{ID: "r-1"}) }, ""},
		{"reject without reason", func() (validator, op) { return reject(RejectRepairRequest{ID: "r-1"}) }, "reason"},
		{"objection valid", func() (validator, op) {
			return raise(RaiseObjectionRequest{ID: "o-1", RecordKind: TypePunishment, RecordID: p.ID, Reason: "已整改"})
		}, ""},
		{"objection about an enforcement", func() (validator, op) {
			return raise(RaiseObjectionRequest{ID: "o-1", RecordKind: TypeEnforcement, RecordID: p.ID, Reason: "x"})
		}, "recordKind"},
		{"objection without reason", func() (validator, op) {
			return raise(RaiseObjectionRequest{ID: "o-1", RecordKind: TypePunishment, RecordID: p.ID})
		}, "reason"},
		{"answer valid", func() (validator, op) {
			return answer(AnswerObjectionRequest{ID: "o-1", Decision: StateDismissed, Answer: "依法作出"})
		}, ""},
		{"answer decision unknown", func() (validator, op) {
			return answer(AnswerObjectionRequest{ID: "o-1", Decision: "maybe", Answer: "x"})
		}, "decision"},
		{"answer dismissed with action", func() (validator, op) {
			return answer(AnswerObjectionRequest{ID: "o-1", Decision: StateDismissed, Answer: "x", Action: ActionRevoke})
		}, "action"},
		{"answer correction without action", func() (validator, op) {
			return answer(AnswerObjectionRequest{ID: "o-1", Decision: StateUpheld, Answer: "x", Action: ActionRevoke, Correction: &Correction{Severity: SeveritySerious}})
		}, "correction"},
		{"answer correct without correction", func() (validator, op) { return answer(upheldCorrect(nil)) }, "correction"},
		{"answer correction empty", func() (validator, op) { return answer(upheldCorrect(&Correction{})) }, "correction"},
		{"answer correction severity unknown", func() (validator, op) {
			return answer(upheldCorrect(&Correction{Severity: "grave"}))
		}, "correction.severity"},
		{"answer correction measures twice", func() (validator, op) {
			return answer(upheldCorrect(&Correction{Measures: []string{"bidding", "bidding"}}))
		}, "correction.measures[1]"},
		{"answer correction valid", func() (validator, op) {
			return answer(upheldCorrect(&Correction{DecisionNo: "义市监罚〔2026〕3号"}))
		}, ""},
		{"county valid", func() (validator, op) { return register(RegisterCountyRequest{Code: "330782", Name: "义乌市"}) }, ""},
		{"county code not a division", func() (validator, op) { return register(RegisterCountyRequest{Code: "990782", Name: "x"}) }, "code"},
		{"county name missing", func() (validator, op) { return register(RegisterCountyRequest{Code: "330782"}) }, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, run := tt.build()
			verr, cerr := req.Validate(), run(req)
			if tt.field == "" {
				if verr != nil || cerr != nil {
					t.Fatalf("valid request: Validate = %v, chaincode = %v", verr, cerr)
				}
				return
			}
			var fe *FieldError
			if !errors.As(verr, &fe) || fe.Field != tt.field {
				t.Fatalf("Validate = %v, want a FieldError for %q", verr, tt.field)
			}
			if cerr == nil || cerr.Error() != verr.Error() {
				t.Fatalf("chaincode = %v, Validate = %v: they must agree", cerr, verr)
			}
		})
	}
}

// TestValidateLeavesContextChecksToTheChaincode: what needs the
// transaction date is not refused by Validate (a decision date after the
// transaction date is the chaincode's to refuse, DOMAIN), so a client with
// a fast clock cannot refuse what the ledger would accept.
func TestValidateLeavesContextChecksToTheChaincode(t *testing.T) {
	r := ImposePunishmentRequest{ID: "p-9", Subject: subject, Kind: PunishmentPublicity, Severity: SeverityGeneral,
		DecisionDate: "2026-06-02", DecisionNo: "n", LegalBasis: "b"}
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	_, err := ImposePunishment(r, nil, defaultRules(), officerA, txOn("2026-06-01"))
	wantField(t, err, "decisionDate", "must not be after the transaction date")
}
