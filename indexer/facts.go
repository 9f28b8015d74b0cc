package indexer

import (
	"encoding/json"
	"fmt"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// facts is what the indexer keeps about one record (a keys.Facts row): the
// fields its index rows and indicator contributions depend on, and the
// ledger dates of its transitions, which the record JSON alone does not
// carry reliably. Index rows and contributions are pure functions of facts,
// so a write moves the record from its old facts to its new facts by
// deleting the old rows, subtracting the old contributions, and adding the
// new ones.
type facts struct {
	Kind     string
	Subject  string
	County   string
	Class    string // commitment kind or punishment kind; "" for other kinds
	State    string // stored state
	Severity string // punishment or repair severity
	Training bool   // repair: the evidence carries a training certificate hash
	Deadline keys.Date
	MaxEnd   keys.Date
	// Created is the UTC+8 date of the transaction that first wrote the
	// record; Closed that of the transaction that moved it out of its open
	// state (see isOpen), or 0 while it is open.
	Created keys.Date
	Closed  keys.Date
	// Block and Tx locate the last write.
	Block uint64
	Tx    uint32
}

func (f *facts) encode() []byte {
	return enc{valueVersion}.str(f.Kind).str(f.Subject).str(f.County).str(f.Class).str(f.State).
		str(f.Severity).bool(f.Training).uint(uint64(f.Deadline)).uint(uint64(f.MaxEnd)).
		uint(uint64(f.Created)).uint(uint64(f.Closed)).uint(f.Block).uint(uint64(f.Tx))
}

func decodeFacts(b []byte) (*facts, error) {
	d := newDec("facts", b)
	f := &facts{
		Kind: d.str("kind"), Subject: d.str("subject"), County: d.str("county"), Class: d.str("class"),
		State: d.str("state"), Severity: d.str("severity"), Training: d.bool("training"),
		Deadline: d.date("deadline"), MaxEnd: d.date("maxEnd"), Created: d.date("created"),
		Closed: d.date("closed"), Block: d.uint("block"), Tx: uint32(d.uint("tx")),
	}
	return f, d.done()
}

// isOpen reports whether state is the open state of a record of kind:
// commitments are open while made, punishments while active, repairs while
// applied or accepted, objections while raised. Dishonesty and enforcement
// records have a single state and never close.
func isOpen(kind, state string) bool {
	switch kind {
	case credit.TypeCommitment:
		return state == credit.StateMade
	case credit.TypePunishment:
		return state == credit.StateActive
	case credit.TypeRepair:
		return state == credit.StateApplied || state == credit.StateAccepted
	case credit.TypeObjection:
		return state == credit.StateRaised
	}
	return true
}

func toKeysDate(d credit.Date) keys.Date {
	if d.IsZero() {
		return 0
	}
	return keys.MakeDate(d.Year(), d.Month(), d.Day())
}

func toCreditDate(d keys.Date) credit.Date {
	if d == 0 {
		return credit.Date{}
	}
	t := d.Time()
	return credit.NewDate(t.Year(), t.Month(), t.Day())
}

// decodeRecord decodes a value written under the record key kind{id} and
// checks the fields the indexer relies on. Errors wrap ErrRecord.
func decodeRecord(kind, id string, value []byte) (credit.Record, error) {
	rec := credit.NewRecord(kind)
	if rec == nil {
		return nil, fmt.Errorf("%s is not a record kind: %w", kind, ErrRecord)
	}
	if err := json.Unmarshal(value, rec); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %w", kind, id, err, ErrRecord)
	}
	h := rec.Head()
	bad := func(field, rule string) error {
		return fmt.Errorf("%s %s: field %s: %s: %w", kind, id, field, rule, ErrRecord)
	}
	switch {
	case h.Kind != kind:
		return nil, bad("kind", fmt.Sprintf("is %q, the key says %q", h.Kind, kind))
	case h.ID != id:
		return nil, bad("id", fmt.Sprintf("is %q, the key says %q", h.ID, id))
	case h.Subject == "":
		return nil, bad("subject", "required")
	case h.County == "":
		return nil, bad("county", "required")
	case h.State == "":
		return nil, bad("state", "required")
	}
	if p, ok := rec.(*credit.Punishment); ok && p.MaxEnd.IsZero() {
		return nil, bad("maxEnd", "required")
	}
	return rec, nil
}

// newFacts returns the facts of a record with fields rf as written by a
// transaction on date txDate at block, tx, given the record's previous
// facts (nil if it did not exist).
func newFacts(old *facts, rf *recordFields, txDate keys.Date, block uint64, tx uint32) *facts {
	f := &facts{Kind: rf.Kind, Subject: rf.Subject, County: rf.County, State: rf.State, Block: block, Tx: tx,
		Class: rf.Class, Severity: rf.Severity, Training: rf.Training,
		Deadline: toKeysDate(rf.Deadline), MaxEnd: toKeysDate(rf.MaxEnd)}
	f.Created = txDate
	if old != nil {
		f.Created = old.Created
	}
	switch {
	case isOpen(f.Kind, f.State):
		f.Closed = 0
	case old != nil && !isOpen(old.Kind, old.State) && old.Closed != 0:
		f.Closed = old.Closed // still closed: keep the date it first closed
	default:
		f.Closed = txDate
	}
	return f
}

// row is one index row a record's facts imply.
type row struct {
	key   []byte
	value []byte
}

// rows returns the index rows of a record with facts f.
func (f *facts) rows(id string) []row {
	k, i := keys.Kind(f.Kind), keys.ID(id)
	c, s := keys.County(f.County), keys.Subject(f.Subject)
	rs := []row{
		{keys.BySubject{Subject: s, Kind: k, ID: i}.Encode(nil), []byte(f.County)},
		{keys.ByCounty{County: c, Kind: k, Class: keys.Class(f.Class), State: keys.State(f.State), ID: i}.Encode(nil), []byte(f.Subject)},
	}
	switch {
	case f.Kind == credit.TypeCommitment && f.State == credit.StateMade && f.Deadline != 0:
		rs = append(rs, row{keys.Due{County: c, By: keys.DueDeadline, Date: f.Deadline, ID: i}.Encode(nil), []byte(f.Subject)})
	case f.Kind == credit.TypePunishment && f.State == credit.StateActive && f.MaxEnd != 0:
		rs = append(rs, row{keys.Due{County: c, By: keys.DuePublicityEnd, Date: f.MaxEnd, ID: i}.Encode(nil), []byte(f.Subject)})
	}
	return rs
}

// isList reports whether a punishment class is the black list or the watch
// list (seed 002 counts the two together).
func isList(class string) bool {
	return class == credit.PunishmentBlacklist || class == credit.PunishmentWatchlist
}

// contribute calls add for every indicator change the record with facts f
// contributes (see docs/INDEXER.md, "County indicators"). sign is +1 to add
// the contributions and -1 to take them back.
func (f *facts) contribute(sign int64, add func(keys.County, keys.Month, keys.Indicator, int64)) {
	c := keys.County(f.County)
	at := func(d keys.Date, ind keys.Indicator, n int64) {
		add(c, d.Month(), ind, sign*n)
		add(keys.AllCounties, d.Month(), ind, sign*n)
	}
	switch f.Kind {
	case credit.TypeCommitment:
		at(f.Created, keys.CommitmentsMade, 1)
		switch f.State {
		case credit.StateFulfilled:
			at(f.Closed, keys.CommitmentsFulfilled, 1)
		case credit.StateBreached:
			at(f.Closed, keys.CommitmentsBreached, 1)
		}
		if f.Deadline != 0 {
			// Overdue from the day after the deadline (DESIGN §8, derived
			// state), or from the day it was made if that is later.
			from := f.Deadline.AddDays(1)
			if from < f.Created {
				from = f.Created
			}
			if f.Closed == 0 || f.Closed >= from {
				at(from, keys.OverdueEntries, 1)
				at(from, keys.OverdueActive, 1)
				if f.Closed != 0 {
					at(f.Closed, keys.OverdueActive, -1)
				}
			}
		}
	case credit.TypePunishment:
		if !isList(f.Class) || f.MaxEnd == 0 || f.Created >= f.MaxEnd {
			return // not a list entry, or recorded after its publicity ended
		}
		at(f.Created, keys.ListEntries, 1)
		at(f.Created, keys.ListActive, 1)
		if f.Closed != 0 && f.Closed < f.MaxEnd {
			at(f.Closed, keys.ListActive, -1)
			switch f.State {
			case credit.StateRepaired:
				at(f.Closed, keys.ListExitsRepaired, 1)
			default:
				at(f.Closed, keys.ListExitsRevoked, 1)
			}
			return
		}
		// Still active, or closed after its publicity had ended: it left
		// the list on MaxEnd, the day it reads expired (DESIGN §2).
		at(f.MaxEnd, keys.ListActive, -1)
		at(f.MaxEnd, keys.ListExitsExpired, 1)
	case credit.TypeRepair:
		at(f.Created, keys.RepairsApplied, 1)
		if f.State == credit.StateCompleted {
			at(f.Closed, keys.RepairsCompleted, 1)
			if f.Severity == credit.SeveritySerious && f.Training {
				at(f.Closed, keys.RepairTraining, 1)
			}
		}
	}
}
