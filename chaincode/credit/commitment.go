package credit

import (
	"fmt"
	"strconv"
)

// MakeCommitmentRequest is the argument of MakeCommitment.
type MakeCommitmentRequest struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Subject     string `json:"subject"`
	Content     string `json:"content"`
	ContentHash string `json:"contentHash,omitempty"`
	Deadline    string `json:"deadline,omitempty"`
	Department  string `json:"department,omitempty"`
}

// FulfilCommitmentRequest is the argument of FulfilCommitment.
type FulfilCommitmentRequest struct {
	ID   string `json:"id"`
	Note string `json:"note,omitempty"`
}

// BreachCommitmentRequest is the argument of BreachCommitment.
type BreachCommitmentRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// DishonestyID is the ID of the dishonesty record a breach of commitment id
// creates.
func DishonestyID(commitmentID string) string { return commitmentID + ".breach" }

// MakeCommitment records a credit commitment made today (the transaction
// date) by an officer of a registered county, which owns it.
//
// Deadlines (DOMAIN, seeds 003/004): an approval-substitution commitment
// needs the verification date set by the office; a missing-materials one
// defaults to 7 working days after today (seed 004), counted with the
// installed calendars (weekends only for a year without one); voluntary and
// industry ones may have one; repair commitments have none and are made only
// by ApplyRepair. A deadline may not be before today.
func MakeCommitment(req MakeCommitmentRequest, a Actor, tx Tx, cals CalendarLookup) (Change, error) {
	const action = "make commitment"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	deadline, _ := validateDateField("deadline", req.Deadline, false) // checked by Validate
	dept, err := recordDepartment(a, req.Department)
	if err != nil {
		return Change{}, fmt.Errorf("%s %s: %w", action, req.ID, err)
	}
	today := tx.Date()
	if !deadline.IsZero() && deadline.Before(today) {
		return Change{}, invalid("deadline", "%s is before the date the commitment is made, %s", deadline, today)
	}
	c := &Commitment{
		Header:         newHeader(TypeCommitment, req.ID, req.Subject, a.County, dept, StateMade, a, tx),
		CommitmentKind: req.Kind,
		Content:        req.Content,
		ContentHash:    req.ContentHash,
		MadeOn:         today,
		Deadline:       deadline,
	}
	switch {
	case req.Kind == CommitmentMissingMaterials && deadline.IsZero():
		c.Deadline, c.Calendars = AddWorkingDays(today, DefaultMissingMaterialsDays, cals)
		c.DeadlineBasis = strconv.Itoa(DefaultMissingMaterialsDays) + " working days after " + today.String() + " (容缺受理 default, seed 004)"
	case !deadline.IsZero():
		c.DeadlineBasis = "set by the office"
	}
	ch := Change{Event: event("CommitmentMade", c, tx), Result: c}
	ch.add(c, "")
	return ch, nil
}

// FulfilCommitment closes a made (possibly overdue) commitment as fulfilled.
// Only an officer of the owning county may (闭环管理, seeds 003/004).
func FulfilCommitment(c *Commitment, req FulfilCommitmentRequest, a Actor, tx Tx) (Change, error) {
	if err := mayClose(c, req, a, "fulfil commitment", "fulfilled"); err != nil {
		return Change{}, err
	}
	old := c.State
	c.State = StateFulfilled
	c.Note = req.Note
	c.ClosedAt = Instant(tx.Time)
	touch(&c.Header, tx)
	ch := Change{Event: event("CommitmentFulfilled", c, tx), Result: c}
	ch.add(c, old)
	return ch, nil
}

// mayClose checks, in this order, that the caller is an officer, that the
// request is well formed, that the caller's county owns c, and that c is
// still made: closed commitments stay closed (闭环管理).
func mayClose(c *Commitment, req interface{ Validate() error }, a Actor, action, closedAs string) error {
	if err := requireOfficer(a, action); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	if err := requireOwner(a, c.County, action+" "+c.ID, "the commitment"); err != nil {
		return err
	}
	if c.State != StateMade {
		return fmt.Errorf("%s %s: the commitment is %s, only a made commitment can be %s: %w", action, c.ID, c.State, closedAs, ErrState)
	}
	return nil
}

// BreachCommitment closes a made commitment as breached (违诺) and creates the
// dishonesty record DishonestyID(c.ID), owned by the same county, that a
// punishment may cite (seeds 003/004: a breached or false commitment is a
// dishonesty record). Only an officer of the owning county may.
func BreachCommitment(c *Commitment, req BreachCommitmentRequest, a Actor, tx Tx) (Change, error) {
	if err := mayClose(c, req, a, "breach commitment", "breached"); err != nil {
		return Change{}, err
	}
	old := c.State
	c.State = StateBreached
	c.BreachReason = req.Reason
	c.DishonestyID = DishonestyID(c.ID)
	c.ClosedAt = Instant(tx.Time)
	touch(&c.Header, tx)
	d := &Dishonesty{
		Header:         newHeader(TypeDishonesty, c.DishonestyID, c.Subject, c.County, c.Department, StateRecorded, a, tx),
		Source:         "commitment-breach",
		CommitmentID:   c.ID,
		CommitmentKind: c.CommitmentKind,
		Reason:         req.Reason,
		Date:           tx.Date(),
	}
	ch := Change{Event: event("CommitmentBreached", c, tx), Result: c}
	ch.add(c, old)
	ch.add(d, "")
	return ch, nil
}
