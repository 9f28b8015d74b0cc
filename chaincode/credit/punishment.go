package credit

import (
	"fmt"
)

// ImposePunishmentRequest is the argument of ImposePunishment.
type ImposePunishmentRequest struct {
	ID           string   `json:"id"`
	Subject      string   `json:"subject"`
	Kind         string   `json:"kind"`
	Severity     string   `json:"severity"`
	DecisionDate string   `json:"decisionDate"`
	DecisionNo   string   `json:"decisionNo"`
	LegalBasis   string   `json:"legalBasis"`
	Measures     []string `json:"measures"`
	DishonestyID string   `json:"dishonestyId,omitempty"`
	Department   string   `json:"department,omitempty"`
	Summary      string   `json:"summary,omitempty"`
}

// RevokePunishmentRequest is the argument of RevokePunishment.
type RevokePunishmentRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// validateMeasures checks joint-punishment measure codes: known, no
// duplicates. It returns a non-nil slice.
func validateMeasures(field string, ms []string) ([]string, error) {
	out := make([]string, 0, len(ms))
	for i, m := range ms {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !oneOf(m, Measures) {
			return nil, invalid(f, "%q is not a measure code (one of %v)", m, Measures)
		}
		if oneOf(m, out) {
			return nil, invalid(f, "%q is listed twice", m)
		}
		out = append(out, m)
	}
	return out, nil
}

// validateDecisionDate parses a decision date and refuses one after the
// transaction date (DOMAIN: "A decision date after the transaction time is
// refused").
func validateDecisionDate(field, s string, tx Tx) (Date, error) {
	d, err := validateDateField(field, s, true)
	if err != nil {
		return Date{}, err
	}
	if today := tx.Date(); d.After(today) {
		return Date{}, invalid(field, "%s must not be after the transaction date %s", d, today)
	}
	return d, nil
}

// applyRules sets the rule-set version, repairability and the publicity
// periods of p from the rule set in force at its decision date (seed 001):
// minEnd = decisionDate + min months (none when min is 0),
// maxEnd = decisionDate + max months.
func applyRules(p *Punishment, rules []RuleSet) {
	rs := RuleSetAt(rules, p.DecisionDate)
	r, _ := rs.Rule(p.Severity)
	p.RuleSet = rs.Version
	p.Repairable = r.Repairable
	p.RequiresTrainingAndReport = r.RequiresTrainingAndReport
	p.MinEnd = Date{}
	if r.MinMonths > 0 {
		p.MinEnd = p.DecisionDate.AddMonths(r.MinMonths)
	}
	p.MaxEnd = p.DecisionDate.AddMonths(r.MaxMonths)
}

// ImposePunishment records a punishment decided by a department of the
// caller's county, which owns it. dishonesty is the cited dishonesty record
// (nil when req.DishonestyID is empty; the binding answers NOT_FOUND for a
// missing one); it must be about the same subject. rules are the rule sets
// in force (WithDefault of the installed ones).
func ImposePunishment(req ImposePunishmentRequest, dishonesty *Dishonesty, rules []RuleSet, a Actor, tx Tx) (Change, error) {
	const action = "impose punishment"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	decision, err := validateDecisionDate("decisionDate", req.DecisionDate, tx)
	if err != nil {
		return Change{}, err
	}
	measures, _ := validateMeasures("measures", req.Measures) // checked by Validate
	if req.DishonestyID != "" {
		if dishonesty == nil || dishonesty.ID != req.DishonestyID {
			return Change{}, fmt.Errorf("%s %s: dishonesty record %s: %w", action, req.ID, req.DishonestyID, ErrNotFound)
		}
		if dishonesty.Subject != req.Subject {
			return Change{}, invalid("dishonestyId", "dishonesty record %s is about subject %s, not %s", dishonesty.ID, dishonesty.Subject, req.Subject)
		}
	}
	dept, err := recordDepartment(a, req.Department)
	if err != nil {
		return Change{}, fmt.Errorf("%s %s: %w", action, req.ID, err)
	}
	p := &Punishment{
		Header:         newHeader(TypePunishment, req.ID, req.Subject, a.County, dept, StateActive, a, tx),
		PunishmentKind: req.Kind,
		Severity:       req.Severity,
		DecisionDate:   decision,
		DecisionNo:     req.DecisionNo,
		LegalBasis:     req.LegalBasis,
		Measures:       measures,
		DishonestyID:   req.DishonestyID,
		Summary:        req.Summary,
		Revision:       1,
	}
	applyRules(p, rules)
	ch := Change{Event: event("PunishmentImposed", p, tx), Result: p}
	ch.add(p, "")
	return ch, nil
}

// RevokePunishment revokes an active (possibly expired) punishment. Only an
// officer of the imposing county may (DOMAIN: only the imposing county may
// repair, revoke or correct).
func RevokePunishment(p *Punishment, req RevokePunishmentRequest, a Actor, tx Tx) (Change, error) {
	const action = "revoke punishment"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	if err := requireOwner(a, p.County, action+" "+p.ID, "the punishment"); err != nil {
		return Change{}, err
	}
	if err := revoke(p, req.Reason, "", tx); err != nil {
		return Change{}, fmt.Errorf("%s %s: %w", action, p.ID, err)
	}
	ch := Change{Event: event("PunishmentRevoked", p, tx), Result: p}
	ch.add(p, StateActive)
	return ch, nil
}

// revoke moves an active punishment to revoked.
func revoke(p *Punishment, reason, byObjection string, tx Tx) error {
	if p.State != StateActive {
		return fmt.Errorf("the punishment is %s, only an active one can be revoked: %w", p.State, ErrState)
	}
	p.State = StateRevoked
	p.RevokeReason = reason
	p.RevokedBy = byObjection
	p.ClosedAt = Instant(tx.Time)
	touch(&p.Header, tx)
	return nil
}
