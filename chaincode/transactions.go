package chaincode

import (
	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// The write transactions of DESIGN §5. Each decodes its request, loads the
// records the domain operation needs, and applies the returned change.

// RegisterCounty registers the calling MSP as a county (admin of that MSP).
func (c *Contract) RegisterCounty(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "register county", req, func(l *ledger, r *credit.RegisterCountyRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := credit.ValidateCountyCode("code", r.Code); err != nil {
			return credit.Change{}, err
		}
		byCode, err := l.county(r.Code)
		if err != nil {
			return credit.Change{}, err
		}
		ch, err := credit.RegisterCounty(*r, byCode, a.County, a, tx)
		if err != nil {
			return ch, err
		}
		// A transaction does not read its own writes: seed the cache so
		// the new keys get the new county's endorsement policy.
		l.counties[r.Code] = ch.Result.(*credit.County)
		return ch, nil
	})
}

// InstallRuleSet installs a new publicity and repair rule set version (admin).
func (c *Contract) InstallRuleSet(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "install rule set", req, func(l *ledger, r *credit.RuleSet, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		installed, err := l.installedRuleSets()
		if err != nil {
			return credit.Change{}, err
		}
		return credit.InstallRuleSet(*r, installed, a, tx)
	})
}

// InstallCalendar installs the working-day calendar of one year (admin).
func (c *Contract) InstallCalendar(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "install calendar", req, func(l *ledger, r *credit.Calendar, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		return credit.InstallCalendar(*r, a, tx)
	})
}

// MakeCommitment records a credit commitment (officer).
func (c *Contract) MakeCommitment(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "make commitment", req, func(l *ledger, r *credit.MakeCommitmentRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := l.mustBeNew(credit.TypeCommitment, "id", r.ID); err != nil {
			return credit.Change{}, err
		}
		lookup, calErr := l.calendars()
		ch, err := credit.MakeCommitment(*r, a, tx, lookup)
		if err != nil {
			return ch, err
		}
		return ch, calErr()
	})
}

// FulfilCommitment closes a commitment as fulfilled (officer of the owning county).
func (c *Contract) FulfilCommitment(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "fulfil commitment", req, func(l *ledger, r *credit.FulfilCommitmentRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		cm, err := l.commitment("id", r.ID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.FulfilCommitment(cm, *r, a, tx)
	})
}

// BreachCommitment closes a commitment as breached and records the
// dishonesty record (officer of the owning county).
func (c *Contract) BreachCommitment(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "breach commitment", req, func(l *ledger, r *credit.BreachCommitmentRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		cm, err := l.commitment("id", r.ID)
		if err != nil {
			return credit.Change{}, err
		}
		if err := l.mustBeNew(credit.TypeDishonesty, "id", credit.DishonestyID(r.ID)); err != nil {
			return credit.Change{}, err
		}
		return credit.BreachCommitment(cm, *r, a, tx)
	})
}

// ImposePunishment records a punishment (officer).
func (c *Contract) ImposePunishment(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "impose punishment", req, func(l *ledger, r *credit.ImposePunishmentRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := l.mustBeNew(credit.TypePunishment, "id", r.ID); err != nil {
			return credit.Change{}, err
		}
		var d *credit.Dishonesty
		if r.DishonestyID != "" {
			if err := credit.ValidateRef("dishonestyId", r.DishonestyID); err != nil {
				return credit.Change{}, err
			}
			rec, err := l.record(credit.TypeDishonesty, r.DishonestyID)
			if err != nil {
				return credit.Change{}, err
			}
			d = rec.(*credit.Dishonesty)
		}
		rules, err := l.ruleSets()
		if err != nil {
			return credit.Change{}, err
		}
		return credit.ImposePunishment(*r, d, rules, a, tx)
	})
}

// RevokePunishment revokes a punishment (officer of the imposing county).
func (c *Contract) RevokePunishment(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "revoke punishment", req, func(l *ledger, r *credit.RevokePunishmentRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		p, err := l.punishment("id", r.ID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.RevokePunishment(p, *r, a, tx)
	})
}

// RecordEnforcement records a county's application of a joint measure
// (officer of any county).
func (c *Contract) RecordEnforcement(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "record enforcement", req, func(l *ledger, r *credit.RecordEnforcementRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := l.mustBeNew(credit.TypeEnforcement, "id", r.ID); err != nil {
			return credit.Change{}, err
		}
		p, err := l.punishment("punishmentId", r.PunishmentID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.RecordEnforcement(p, *r, a, tx)
	})
}

// ApplyRepair records a repair application (officer of any county).
func (c *Contract) ApplyRepair(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "apply repair", req, func(l *ledger, r *credit.ApplyRepairRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := l.mustBeNew(credit.TypeRepair, "id", r.ID); err != nil {
			return credit.Change{}, err
		}
		if err := l.mustBeNew(credit.TypeCommitment, "id", credit.RepairCommitmentID(r.ID)); err != nil {
			return credit.Change{}, err
		}
		p, err := l.punishmentWithOpenRepair("punishmentId", r.PunishmentID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.ApplyRepair(p, *r, a, tx)
	})
}

// AcceptRepair accepts a repair application (officer of the imposing county).
func (c *Contract) AcceptRepair(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "accept repair", req, func(l *ledger, r *credit.RepairRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		rp, err := l.repair("id", r.ID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.AcceptRepair(rp, *r, a, tx)
	})
}

// CompleteRepair completes a repair; the punishment becomes repaired
// (officer of the imposing county).
func (c *Contract) CompleteRepair(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "complete repair", req, func(l *ledger, r *credit.CompleteRepairRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		rp, p, err := l.repairAndPunishment(r.ID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.CompleteRepair(rp, p, *r, a, tx)
	})
}

// RejectRepair rejects a repair with a reason (officer of the imposing county).
func (c *Contract) RejectRepair(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "reject repair", req, func(l *ledger, r *credit.RejectRepairRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		rp, p, err := l.repairAndPunishment(r.ID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.RejectRepair(rp, p, *r, a, tx)
	})
}

// RaiseObjection records a subject's objection to a record (officer of any county).
func (c *Contract) RaiseObjection(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "raise objection", req, func(l *ledger, r *credit.RaiseObjectionRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := l.mustBeNew(credit.TypeObjection, "id", r.ID); err != nil {
			return credit.Change{}, err
		}
		if !isObjectionKind(r.RecordKind) {
			return credit.Change{}, &credit.FieldError{Field: "recordKind", Rule: "must be one of " + joinKinds(credit.ObjectionKinds)}
		}
		if err := credit.ValidateRef("recordId", r.RecordID); err != nil {
			return credit.Change{}, err
		}
		rec, err := l.record(r.RecordKind, r.RecordID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.RaiseObjection(rec, *r, a, tx)
	})
}

// AnswerObjection answers an objection (officer of the county owning the record).
func (c *Contract) AnswerObjection(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "answer objection", req, func(l *ledger, r *credit.AnswerObjectionRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := credit.ValidateID("id", r.ID); err != nil {
			return credit.Change{}, err
		}
		rec, err := l.record(credit.TypeObjection, r.ID)
		if err != nil {
			return credit.Change{}, err
		}
		o := rec.(*credit.Objection)
		target, err := l.record(o.RecordKind, o.RecordID)
		if err != nil {
			return credit.Change{}, err
		}
		rules, err := l.ruleSets()
		if err != nil {
			return credit.Change{}, err
		}
		return credit.AnswerObjection(o, target, *r, rules, a, tx)
	})
}

func isObjectionKind(k string) bool {
	for _, o := range credit.ObjectionKinds {
		if o == k {
			return true
		}
	}
	return false
}

func joinKinds(ks []string) string {
	out := ""
	for i, k := range ks {
		if i > 0 {
			out += ", "
		}
		out += k
	}
	return out
}
