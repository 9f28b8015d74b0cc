package credit

import "fmt"

// RaiseObjectionRequest is the argument of RaiseObjection.
type RaiseObjectionRequest struct {
	ID         string `json:"id"`
	RecordKind string `json:"recordKind"`
	RecordID   string `json:"recordId"`
	Reason     string `json:"reason"`
}

// AnswerObjectionRequest is the argument of AnswerObjection.
type AnswerObjectionRequest struct {
	ID         string      `json:"id"`
	Decision   string      `json:"decision"`
	Answer     string      `json:"answer"`
	Action     string      `json:"action,omitempty"`
	Correction *Correction `json:"correction,omitempty"`
}

// Objection decisions and actions.
const (
	ActionRevoke  = "revoke"
	ActionCorrect = "correct"
)

// ObjectionKinds are the record kinds an objection may dispute.
var ObjectionKinds = []string{TypePunishment, TypeCommitment}

// RaiseObjection records a subject's objection (异议, seed 004) to a
// punishment or a commitment. Any county's officer may receive it (recorded
// as receivedBy); it belongs to the county owning the disputed record, which
// must answer it. record is the disputed record (the binding answers
// NOT_FOUND for a missing one).
func RaiseObjection(record Record, req RaiseObjectionRequest, a Actor, tx Tx) (Change, error) {
	const action = "raise objection"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	h := record.Head()
	o := &Objection{
		Header:     newHeader(TypeObjection, req.ID, h.Subject, h.County, h.Department, StateRaised, a, tx),
		RecordKind: h.Kind,
		RecordID:   h.ID,
		Reason:     req.Reason,
		ReceivedBy: a.County,
	}
	ch := Change{Event: event("ObjectionRaised", o, tx), Result: o}
	ch.add(o, "")
	return ch, nil
}

// validateCorrection checks a correction and applies it to a copy of p,
// recomputing the periods with the rule set in force at the (new) decision
// date.
func validateCorrection(c *Correction, p Punishment, rules []RuleSet, tx Tx) (*Punishment, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.PunishmentKind != "" {
		p.PunishmentKind = c.PunishmentKind
	}
	if c.Severity != "" {
		p.Severity = c.Severity
	}
	if c.DecisionDate != "" {
		d, err := validateDecisionDate("correction.decisionDate", c.DecisionDate, tx)
		if err != nil {
			return nil, err
		}
		p.DecisionDate = d
	}
	if c.DecisionNo != "" {
		p.DecisionNo = c.DecisionNo
	}
	if c.LegalBasis != "" {
		p.LegalBasis = c.LegalBasis
	}
	if c.Measures != nil {
		p.Measures, _ = validateMeasures("correction.measures", c.Measures) // checked by validate
	}
	applyRules(&p, rules)
	return &p, nil
}

// AnswerObjection answers a raised objection. Only an officer of the county
// owning the disputed record may (DOMAIN: the imposing office must answer).
// A dismissed objection changes nothing else. An upheld objection about a
// punishment needs an action: revoke (the punishment becomes revoked) or
// correct (the listed fields change, periods are recomputed with the rule
// set at the decision date, and the revision number goes up); the record's
// key history keeps every version. An upheld objection about a commitment
// takes no action on the ledger (commitments have no revoked state): the
// answer records what the office did. record is the disputed record; rules
// are the rule sets in force.
func AnswerObjection(o *Objection, record Record, req AnswerObjectionRequest, rules []RuleSet, a Actor, tx Tx) (Change, error) {
	const action = "answer objection"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.validateAnswer(); err != nil {
		return Change{}, err
	}
	if err := requireOwner(a, o.County, action+" "+o.ID, "the objection (owner of the disputed record)"); err != nil {
		return Change{}, err
	}
	if o.State != StateRaised {
		return Change{}, fmt.Errorf("%s %s: the objection is already %s: %w", action, o.ID, o.State, ErrState)
	}
	var changed Record
	var oldState string
	if req.Decision == StateUpheld {
		switch p := record.(type) {
		case *Punishment:
			oldState = p.State
			switch req.Action {
			case "":
				return Change{}, invalid("action", "an upheld objection about a punishment needs action %q or %q", ActionRevoke, ActionCorrect)
			case ActionRevoke:
				if err := revoke(p, "objection "+o.ID+" upheld: "+req.Answer, o.ID, tx); err != nil {
					return Change{}, fmt.Errorf("%s %s: punishment %s: %w", action, o.ID, p.ID, err)
				}
				changed = p
			case ActionCorrect:
				if p.State != StateActive {
					return Change{}, fmt.Errorf("%s %s: punishment %s is %s, only an active one can be corrected: %w", action, o.ID, p.ID, p.State, ErrState)
				}
				np, err := validateCorrection(req.Correction, *p, rules, tx)
				if err != nil {
					return Change{}, err
				}
				np.Revision++
				np.CorrectedBy = o.ID
				np.DerivedState = ""
				touch(&np.Header, tx)
				changed = np
			}
		default:
			if req.Action != "" {
				return Change{}, invalid("action", "an objection about a %s takes no action on the ledger", o.RecordKind)
			}
		}
	}
	o.State = req.Decision
	o.Answer = req.Answer
	o.Action = req.Action
	o.Correction = req.Correction
	o.AnsweredAt = Instant(tx.Time)
	touch(&o.Header, tx)
	ch := Change{Event: event("ObjectionAnswered", o, tx), Result: o}
	ch.add(o, StateRaised)
	if changed != nil {
		ch.add(changed, oldState)
	}
	return ch, nil
}
