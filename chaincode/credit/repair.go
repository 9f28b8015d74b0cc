package credit

import "fmt"

// ApplyRepairRequest is the argument of ApplyRepair.
type ApplyRepairRequest struct {
	ID           string   `json:"id"`
	PunishmentID string   `json:"punishmentId"`
	Evidence     Evidence `json:"evidence"`
}

// RepairRequest is the argument of AcceptRepair.
type RepairRequest struct {
	ID string `json:"id"`
}

// CompleteRepairRequest is the argument of CompleteRepair. Evidence may
// bring the serious-case documents obtained after the application (the
// training certificate, the credit report); only those two may be given.
type CompleteRepairRequest struct {
	ID       string        `json:"id"`
	Evidence *LateEvidence `json:"evidence,omitempty"`
}

// LateEvidence are the evidence hashes that may be added at completion.
type LateEvidence struct {
	Training     string `json:"training,omitempty"`
	CreditReport string `json:"creditReport,omitempty"`
}

// RejectRepairRequest is the argument of RejectRepair.
type RejectRepairRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// RepairCommitmentID is the ID of the repair commitment an application makes.
func RepairCommitmentID(repairID string) string { return repairID + ".commitment" }

// validateEvidence checks the hashes of an application: identity documents,
// proof the penalty was fulfilled and the public repair commitment are
// required; the training certificate and the credit report are optional at
// application (seed 001).
func validateEvidence(e Evidence) error {
	for _, f := range []struct {
		name     string
		v        string
		required bool
	}{
		{"identity", e.Identity, true},
		{"penaltyFulfilled", e.PenaltyFulfilled, true},
		{"repairCommitment", e.RepairCommitment, true},
		{"training", e.Training, false},
		{"creditReport", e.CreditReport, false},
	} {
		if err := validateHash(f.name, f.v, f.required); err != nil {
			return prefixField("evidence", err)
		}
	}
	return nil
}

// ApplyRepair records a subject's application to repair punishment p. Any
// county's officer may receive it (cross-region acceptance, recorded as
// receivedBy); the repair belongs to the imposing county. The application
// also records the subject's public repair commitment (seed 001: 公开做出信用
// 修复承诺) as a commitment of kind repair, RepairCommitmentID(id), owned by
// the imposing county, without deadline. At most one open (applied or
// accepted) repair per punishment (STATE); the punishment must be active and
// not expired (STATE).
func ApplyRepair(p *Punishment, req ApplyRepairRequest, a Actor, tx Tx) (Change, error) {
	const action = "apply repair"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	p.Derive(tx.Date())
	if p.DerivedState != StateActive {
		return Change{}, fmt.Errorf("%s %s: punishment %s is %s, only an active one can be repaired: %w", action, req.ID, p.ID, p.DerivedState, ErrState)
	}
	if p.OpenRepairID != "" {
		return Change{}, fmt.Errorf("%s %s: punishment %s already has the open repair %s: %w", action, req.ID, p.ID, p.OpenRepairID, ErrState)
	}
	r := &Repair{
		Header:       newHeader(TypeRepair, req.ID, p.Subject, p.County, p.Department, StateApplied, a, tx),
		PunishmentID: p.ID,
		Severity:     p.Severity,
		Evidence:     req.Evidence,
		CommitmentID: RepairCommitmentID(req.ID),
		ReceivedBy:   a.County,
	}
	c := &Commitment{
		Header:         newHeader(TypeCommitment, r.CommitmentID, p.Subject, p.County, p.Department, StateMade, a, tx),
		CommitmentKind: CommitmentRepair,
		Content:        "信用修复承诺 (public repair commitment) for punishment " + p.ID,
		ContentHash:    req.Evidence.RepairCommitment,
		MadeOn:         tx.Date(),
		RepairID:       r.ID,
		ReceivedBy:     a.County,
	}
	p.OpenRepairID = r.ID
	ch := Change{Event: event("RepairApplied", r, tx), Result: r}
	ch.add(r, "")
	ch.add(c, "")
	// The lock, not the punishment: an application received by another
	// county must not write the imposing county's record.
	ch.Puts = append(ch.Puts, Put{Key: OpenRepairKey(p.ID), Value: []byte(r.ID)})
	return ch, nil
}

// AcceptRepair accepts an applied repair for processing. Only an officer of
// the imposing county may.
func AcceptRepair(r *Repair, req RepairRequest, a Actor, tx Tx) (Change, error) {
	const action = "accept repair"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := requireOwner(a, r.County, action+" "+r.ID, "the repair (imposing county)"); err != nil {
		return Change{}, err
	}
	if r.State != StateApplied {
		return Change{}, fmt.Errorf("%s %s: the repair is %s, only an applied one can be accepted: %w", action, r.ID, r.State, ErrState)
	}
	r.State = StateAccepted
	r.AcceptedAt = Instant(tx.Time)
	touch(&r.Header, tx)
	ch := Change{Event: event("RepairAccepted", r, tx), Result: r}
	ch.add(r, StateApplied)
	return ch, nil
}

// CompleteRepair completes an accepted repair: the punishment leaves
// publicity (state repaired; history kept). The checks run in this order,
// each with its own error (DOMAIN, seed 001):
//
//   - the caller is not an officer of the imposing county: FORBIDDEN;
//   - the repair is not accepted, or the punishment not active: STATE;
//   - the case is specially serious, or its rule set says it is not
//     repairable: NOT_REPAIRABLE;
//   - the transaction date is before minEnd (allowed on minEnd itself,
//     measured on the transaction timestamp, never the client's clock):
//     TOO_EARLY;
//   - the rule requires training and a credit report and either hash is
//     missing (after adding req.Evidence): EVIDENCE_MISSING.
func CompleteRepair(r *Repair, p *Punishment, req CompleteRepairRequest, a Actor, tx Tx) (Change, error) {
	const action = "complete repair"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	if err := requireOwner(a, r.County, action+" "+r.ID, "the repair (imposing county)"); err != nil {
		return Change{}, err
	}
	if r.State != StateAccepted {
		return Change{}, fmt.Errorf("%s %s: the repair is %s, only an accepted one can be completed: %w", action, r.ID, r.State, ErrState)
	}
	if p.State != StateActive {
		return Change{}, fmt.Errorf("%s %s: punishment %s is %s: %w", action, r.ID, p.ID, p.State, ErrState)
	}
	if p.Severity == SeveritySpecial {
		return Change{}, fmt.Errorf("%s %s: punishment %s is specially serious (特定严重失信) and is published for the maximum period without repair (seed 001): %w", action, r.ID, p.ID, ErrNotRepairable)
	}
	if !p.Repairable {
		return Change{}, fmt.Errorf("%s %s: rule set %s makes %s punishment %s not repairable: %w", action, r.ID, p.RuleSet, p.Severity, p.ID, ErrNotRepairable)
	}
	today := tx.Date()
	if p.MinEnd.IsZero() || today.Before(p.MinEnd) {
		return Change{}, fmt.Errorf("%s %s: the minimum publicity period of punishment %s (decided %s, rule set %s) ends on %s; the transaction date is %s: %w",
			action, r.ID, p.ID, p.DecisionDate, p.RuleSet, p.MinEnd, today, ErrTooEarly)
	}
	if req.Evidence != nil {
		if req.Evidence.Training != "" {
			r.Evidence.Training = req.Evidence.Training
		}
		if req.Evidence.CreditReport != "" {
			r.Evidence.CreditReport = req.Evidence.CreditReport
		}
	}
	if p.RequiresTrainingAndReport {
		var missing []string
		if r.Evidence.Training == "" {
			missing = append(missing, "evidence.training (repair-training certificate)")
		}
		if r.Evidence.CreditReport == "" {
			missing = append(missing, "evidence.creditReport (credit report)")
		}
		if len(missing) > 0 {
			return Change{}, fmt.Errorf("%s %s: %s punishment %s needs %v (seed 001): %w", action, r.ID, p.Severity, p.ID, missing, ErrEvidenceMissing)
		}
	}
	now := Instant(tx.Time)
	r.State = StateCompleted
	r.ClosedAt = now
	touch(&r.Header, tx)
	p.State = StateRepaired
	p.RepairedBy = r.ID
	p.OpenRepairID = ""
	p.ClosedAt = now
	p.DerivedState = ""
	touch(&p.Header, tx)
	ch := Change{Event: event("RepairCompleted", r, tx), Result: r}
	ch.add(r, StateAccepted)
	ch.add(p, StateActive)
	ch.Dels = append(ch.Dels, OpenRepairKey(p.ID))
	return ch, nil
}

// RejectRepair rejects an applied or accepted repair, with a reason. Only an
// officer of the imposing county may. The punishment's open repair is
// cleared, so the subject may apply again.
func RejectRepair(r *Repair, p *Punishment, req RejectRepairRequest, a Actor, tx Tx) (Change, error) {
	const action = "reject repair"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	if err := requireOwner(a, r.County, action+" "+r.ID, "the repair (imposing county)"); err != nil {
		return Change{}, err
	}
	if r.State != StateApplied && r.State != StateAccepted {
		return Change{}, fmt.Errorf("%s %s: the repair is %s, only an applied or accepted one can be rejected: %w", action, r.ID, r.State, ErrState)
	}
	old := r.State
	r.State = StateRejected
	r.RejectReason = req.Reason
	r.ClosedAt = Instant(tx.Time)
	touch(&r.Header, tx)
	ch := Change{Event: event("RepairRejected", r, tx), Result: r}
	ch.add(r, old)
	// An applied or accepted repair is always its punishment's open repair
	// (ApplyRepair takes the lock; only completion and rejection release
	// it), so the lock is released without reading it.
	p.OpenRepairID = ""
	ch.Dels = append(ch.Dels, OpenRepairKey(p.ID))
	return ch, nil
}
