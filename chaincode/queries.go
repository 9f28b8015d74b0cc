package chaincode

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// The read functions of DESIGN §5. Derived states use the transaction
// timestamp. Anyone whose identity the channel admits may read.

// maxPageSize bounds pageSize of the paged queries.
const maxPageSize = 1000

// GetRecord returns a record with its derived state.
func (c *Contract) GetRecord(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "get record", req, func(l *ledger, r *credit.RecordRequest, tx credit.Tx) (any, error) {
		if !credit.IsRecordKind(r.Kind) {
			return nil, &credit.FieldError{Field: "kind", Rule: fmt.Sprintf("%q is not one of %v", r.Kind, credit.RecordKinds)}
		}
		if err := credit.ValidateRef("id", r.ID); err != nil {
			return nil, err
		}
		rec, err := l.record(r.Kind, r.ID)
		if err != nil {
			return nil, err
		}
		rec.Derive(tx.Date())
		return rec, nil
	})
}

// SubjectRecords returns every record about a subject, sorted by kind then ID.
func (c *Contract) SubjectRecords(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "subject records", req, func(l *ledger, r *credit.SubjectRequest, tx credit.Tx) (any, error) {
		if _, err := credit.ParseSubject("subject", r.Subject); err != nil {
			return nil, err
		}
		it, err := l.stub.GetStateByPartialCompositeKey(credit.TypeSubject, []string{r.Subject})
		if err != nil {
			return nil, fmt.Errorf("query subject index: %w", err)
		}
		defer it.Close()
		out := credit.SubjectRecordsResult{Subject: r.Subject, Records: []credit.Record{}}
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("query subject index: %w", err)
			}
			_, attrs, err := l.stub.SplitCompositeKey(kv.GetKey())
			if err != nil || len(attrs) != 3 {
				return nil, fmt.Errorf("subject index key %q is malformed", kv.GetKey())
			}
			rec, err := l.record(attrs[1], attrs[2])
			if err != nil {
				return nil, err
			}
			rec.Derive(tx.Date())
			out.Records = append(out.Records, rec)
		}
		// Key order is kind then ID already; sort anyway so the contract
		// does not rest on the state database's ordering.
		slices.SortStableFunc(out.Records, func(a, b credit.Record) int {
			ha, hb := a.Head(), b.Head()
			if ha.Kind != hb.Kind {
				return cmp(ha.Kind, hb.Kind)
			}
			return cmp(ha.ID, hb.ID)
		})
		return out, nil
	})
}

func cmp(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// RecordHistory returns every version of a record, oldest first.
func (c *Contract) RecordHistory(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "record history", req, func(l *ledger, r *credit.RecordRequest, tx credit.Tx) (any, error) {
		if !credit.IsRecordKind(r.Kind) {
			return nil, &credit.FieldError{Field: "kind", Rule: fmt.Sprintf("%q is not one of %v", r.Kind, credit.RecordKinds)}
		}
		if err := credit.ValidateRef("id", r.ID); err != nil {
			return nil, err
		}
		return l.history(credit.RecordKey(r.Kind, r.ID), r.Kind+" "+r.ID)
	})
}

// history returns every version of the value at k, oldest first; what
// names it in errors. A key never written is NOT_FOUND.
func (l *ledger) history(k credit.Key, what string) ([]credit.HistoryEntry, error) {
	key, err := l.key(k)
	if err != nil {
		return nil, err
	}
	it, err := l.stub.GetHistoryForKey(key)
	if err != nil {
		return nil, fmt.Errorf("query history of %s: %w", what, err)
	}
	defer it.Close()
	out := []credit.HistoryEntry{}
	for it.HasNext() {
		m, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("query history of %s: %w", what, err)
		}
		e := credit.HistoryEntry{TxID: m.GetTxId(), IsDelete: m.GetIsDelete(), Record: json.RawMessage("null")}
		if ts := m.GetTimestamp(); ts != nil {
			e.Timestamp = credit.Instant(ts.AsTime())
		}
		if !m.GetIsDelete() && json.Valid(m.GetValue()) {
			e.Record = json.RawMessage(m.GetValue())
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w", what, credit.ErrNotFound)
	}
	// Fabric (since v2.0) returns the newest modification first.
	slices.Reverse(out)
	return out, nil
}

func checkPage(size int) error {
	if size < 1 || size > maxPageSize {
		return &credit.FieldError{Field: "pageSize", Rule: fmt.Sprintf("%d must be between 1 and %d", size, maxPageSize)}
	}
	return nil
}

// kindStates lists, per record kind, the states a ListByCounty filter may
// name; derived states map to the stored state they are computed from.
var kindStates = map[string][]string{
	credit.TypeCommitment:  {credit.StateMade, credit.StateFulfilled, credit.StateBreached, credit.StateOverdue},
	credit.TypePunishment:  {credit.StateActive, credit.StateRepaired, credit.StateRevoked, credit.StateExpired},
	credit.TypeDishonesty:  {credit.StateRecorded},
	credit.TypeEnforcement: {credit.StateRecorded},
	credit.TypeRepair:      {credit.StateApplied, credit.StateAccepted, credit.StateCompleted, credit.StateRejected},
	credit.TypeObjection:   {credit.StateRaised, credit.StateUpheld, credit.StateDismissed},
}

// storedStateOf returns the stored state a derived-state filter scans.
func storedStateOf(state string) string {
	switch state {
	case credit.StateOverdue:
		return credit.StateMade
	case credit.StateExpired:
		return credit.StateActive
	}
	return state
}

// ListByCounty pages through the records a county owns, of one kind,
// optionally in one state. The state filter matches the derived state: made
// excludes overdue commitments, active excludes expired punishments. A page
// scans pageSize index entries, so with such a filter it may hold fewer
// records; continue while the bookmark is not empty.
func (c *Contract) ListByCounty(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "list by county", req, func(l *ledger, r *credit.ListByCountyRequest, tx credit.Tx) (any, error) {
		if err := credit.ValidateCountyCode("county", r.County); err != nil {
			return nil, err
		}
		states, ok := kindStates[r.Kind]
		if !ok {
			return nil, &credit.FieldError{Field: "kind", Rule: fmt.Sprintf("%q is not one of %v", r.Kind, credit.RecordKinds)}
		}
		if r.State != "" && !slices.Contains(states, r.State) {
			return nil, &credit.FieldError{Field: "state", Rule: fmt.Sprintf("%q is not a state of a %s (one of %v)", r.State, r.Kind, states)}
		}
		if err := checkPage(r.PageSize); err != nil {
			return nil, err
		}
		attrs := []string{r.County, r.Kind}
		if r.State != "" {
			attrs = append(attrs, storedStateOf(r.State))
		}
		it, meta, err := l.stub.GetStateByPartialCompositeKeyWithPagination(credit.TypeByCounty, attrs, int32(r.PageSize), r.Bookmark)
		if err != nil {
			return nil, &credit.FieldError{Field: "bookmark", Rule: fmt.Sprintf("query failed: %v", err)}
		}
		defer it.Close()
		out := credit.ListByCountyResult{Records: []credit.Record{}}
		if meta != nil {
			out.Bookmark = meta.GetBookmark()
		}
		today := tx.Date()
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("query county index: %w", err)
			}
			_, parts, err := l.stub.SplitCompositeKey(kv.GetKey())
			if err != nil || len(parts) != 4 {
				return nil, fmt.Errorf("county index key %q is malformed", kv.GetKey())
			}
			rec, err := l.record(parts[1], parts[3])
			if err != nil {
				return nil, err
			}
			rec.Derive(today)
			if r.State != "" && derivedState(rec) != r.State {
				continue
			}
			out.Records = append(out.Records, rec)
		}
		return out, nil
	})
}

// derivedState reads the DerivedState set by Derive.
func derivedState(rec credit.Record) string {
	switch v := rec.(type) {
	case *credit.Commitment:
		return v.DerivedState
	case *credit.Punishment:
		return v.DerivedState
	}
	return rec.Head().State
}

// stateObjectTypes are the object types ListState may page through: all.
var stateObjectTypes = credit.ObjectTypes

// ListState pages through the raw world state of one object type, for an
// off-chain mirror to reconcile against.
func (c *Contract) ListState(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "list state", req, func(l *ledger, r *credit.ListStateRequest, tx credit.Tx) (any, error) {
		if !slices.Contains(stateObjectTypes, r.ObjectType) {
			return nil, &credit.FieldError{Field: "objectType", Rule: fmt.Sprintf("%q is not one of %v", r.ObjectType, stateObjectTypes)}
		}
		if err := checkPage(r.PageSize); err != nil {
			return nil, err
		}
		it, meta, err := l.stub.GetStateByPartialCompositeKeyWithPagination(r.ObjectType, nil, int32(r.PageSize), r.Bookmark)
		if err != nil {
			return nil, &credit.FieldError{Field: "bookmark", Rule: fmt.Sprintf("query failed: %v", err)}
		}
		defer it.Close()
		out := credit.ListStateResult{Entries: []credit.StateEntry{}}
		if meta != nil {
			out.Bookmark = meta.GetBookmark()
		}
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("query state: %w", err)
			}
			out.Entries = append(out.Entries, credit.StateEntry{Key: kv.GetKey(), Value: string(kv.GetValue())})
		}
		return out, nil
	})
}

// GetRuleSets returns the rule sets in force (installed and built-in), by
// effective date.
func (c *Contract) GetRuleSets(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "get rule sets", req, func(l *ledger, _ *credit.Empty, tx credit.Tx) (any, error) {
		return l.ruleSets()
	})
}

// GetCalendar returns the installed calendar of a year.
func (c *Contract) GetCalendar(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "get calendar", req, func(l *ledger, r *credit.CalendarRequest, tx credit.Tx) (any, error) {
		if r.Year < 1900 || r.Year > 2199 {
			return nil, &credit.FieldError{Field: "year", Rule: fmt.Sprintf("%d must be between 1900 and 2199", r.Year)}
		}
		b, err := l.get(credit.CalendarKey(r.Year))
		if err != nil {
			return nil, err
		}
		if b == nil {
			return nil, fmt.Errorf("calendar %d is not installed: %w", r.Year, credit.ErrNotFound)
		}
		return credit.UnmarshalCalendar(b)
	})
}

// ListCounties returns the registered counties by code.
func (c *Contract) ListCounties(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "list counties", req, func(l *ledger, _ *credit.Empty, tx credit.Tx) (any, error) {
		it, err := l.stub.GetStateByPartialCompositeKey(credit.TypeCounty, nil)
		if err != nil {
			return nil, fmt.Errorf("list counties: %w", err)
		}
		defer it.Close()
		return collect(it)
	})
}

func collect(it shim.StateQueryIteratorInterface) ([]credit.County, error) {
	out := []credit.County{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list counties: %w", err)
		}
		var c credit.County
		if err := json.Unmarshal(kv.GetValue(), &c); err != nil {
			return nil, fmt.Errorf("decode county %q: %w", kv.GetKey(), err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b credit.County) int { return cmp(a.Code, b.Code) })
	return out, nil
}
