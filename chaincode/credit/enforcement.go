package credit

import "fmt"

// RecordEnforcementRequest is the argument of RecordEnforcement.
type RecordEnforcementRequest struct {
	ID           string `json:"id"`
	PunishmentID string `json:"punishmentId"`
	Measure      string `json:"measure"`
	Date         string `json:"date"`
	Detail       string `json:"detail,omitempty"`
	Department   string `json:"department,omitempty"`
}

// RecordEnforcement records that the caller's county applied one of the
// punishment's joint measures (跨区域联合惩戒, seed 004). Any county's officer
// may; the enforcing county owns the record. Refused (STATE) unless the
// punishment is active and not expired on the transaction date; refused
// (INVALID) for a measure the punishment does not carry, or an enforcement
// date after the transaction date or before the decision date.
func RecordEnforcement(p *Punishment, req RecordEnforcementRequest, a Actor, tx Tx) (Change, error) {
	const action = "record enforcement"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	date, _ := validateDateField("date", req.Date, true) // checked by Validate
	dept, err := recordDepartment(a, req.Department)
	if err != nil {
		return Change{}, fmt.Errorf("%s %s: %w", action, req.ID, err)
	}
	today := tx.Date()
	if date.After(today) {
		return Change{}, invalid("date", "%s must not be after the transaction date %s", date, today)
	}
	if date.Before(p.DecisionDate) {
		return Change{}, invalid("date", "%s is before the punishment's decision date %s", date, p.DecisionDate)
	}
	if !oneOf(req.Measure, p.Measures) {
		return Change{}, invalid("measure", "%q is not among the measures of punishment %s %v", req.Measure, p.ID, p.Measures)
	}
	p.Derive(today)
	if p.DerivedState != StateActive {
		return Change{}, fmt.Errorf("%s %s: punishment %s is %s, measures apply only while it is active: %w", action, req.ID, p.ID, p.DerivedState, ErrState)
	}
	e := &Enforcement{
		Header:           newHeader(TypeEnforcement, req.ID, p.Subject, a.County, dept, StateRecorded, a, tx),
		PunishmentID:     p.ID,
		PunishmentCounty: p.County,
		Measure:          req.Measure,
		Date:             date,
		Detail:           req.Detail,
	}
	ch := Change{Event: event("EnforcementRecorded", e, tx), Result: e}
	ch.add(e, "")
	return ch, nil
}
