package chaincode

import (
	"errors"
	"fmt"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// ContractName is the name of the one (default) contract.
const ContractName = "credit"

// Contract is the credit chaincode. Each exported method is a transaction
// (DESIGN §5): it takes one JSON object as a string and returns a JSON
// document as a string. Errors start with a bracket code (DESIGN §6).
// Keep helpers unexported or outside this type: every exported method of
// Contract becomes a public transaction.
type Contract struct {
	contractapi.Contract
}

// New returns the chaincode, ready for Start or for Invoke in tests.
func New() (*contractapi.ContractChaincode, error) {
	c := &Contract{}
	c.Name = ContractName
	c.Info.Title = "County credit ledger"
	c.Info.Version = "1.0.0"
	cc, err := contractapi.NewChaincode(c)
	if err != nil {
		return nil, fmt.Errorf("create chaincode: %w", err)
	}
	cc.DefaultContract = ContractName
	cc.Info.Title = "credit"
	cc.Info.Version = "1.0.0"
	return cc, nil
}

// GetEvaluateTransactions marks the read functions "evaluate" in the
// contract metadata (contractapi hook; not itself a transaction).
func (c *Contract) GetEvaluateTransactions() []string {
	return []string{"GetRecord", "SubjectRecords", "RecordHistory", "ListByCounty", "ListState", "GetRuleSets", "GetCalendar", "ListCounties"}
}

// wire turns an error into the chaincode's message, "[CODE] text".
func wire(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(credit.Message(err))
}

// write runs a write transaction: decode the request into R, resolve the
// caller and the transaction, run op, apply its change, return its result.
func write[R any](ctx contractapi.TransactionContextInterface, name, arg string,
	op func(l *ledger, req *R, a credit.Actor, tx credit.Tx) (credit.Change, error)) (string, error) {
	var req R
	if err := credit.DecodeRequest([]byte(arg), &req); err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	l := newLedger(ctx.GetStub())
	a, err := l.actor()
	if err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	tx, err := l.tx()
	if err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	ch, err := op(l, &req, a, tx)
	if err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	if err := l.apply(ch); err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	out, err := credit.EncodeResult(ch.Result)
	return out, wire(err)
}

// read runs a query: decode the request into R and run op with the
// transaction (its timestamp is "now" for derived states).
func read[R any](ctx contractapi.TransactionContextInterface, name, arg string,
	op func(l *ledger, req *R, tx credit.Tx) (any, error)) (string, error) {
	var req R
	if err := credit.DecodeRequest([]byte(arg), &req); err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	l := newLedger(ctx.GetStub())
	tx, err := l.tx()
	if err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	res, err := op(l, &req, tx)
	if err != nil {
		return "", wire(fmt.Errorf("%s: %w", name, err))
	}
	out, err := credit.EncodeResult(res)
	return out, wire(err)
}

// RegisterCounty registers the calling MSP as a county (admin).
func (c *Contract) RegisterCounty(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "register county", req, func(l *ledger, r *credit.RegisterCountyRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		byCode, err := l.county(r.Code)
		if err != nil {
			return credit.Change{}, err
		}
		ch, err := credit.RegisterCounty(*r, byCode, a.County, a, tx)
		if err != nil {
			return ch, err
		}
		// The registry entry is written in this transaction, and a
		// transaction does not read its own writes: seed the cache so the
		// new keys get the new county's endorsement policy.
		l.counties[r.Code] = ch.Result.(*credit.County)
		return ch, nil
	})
}

// MakeCommitment records a credit commitment (officer).
func (c *Contract) MakeCommitment(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "make commitment", req, func(l *ledger, r *credit.MakeCommitmentRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := credit.ValidateID("id", r.ID); err != nil {
			return credit.Change{}, err
		}
		if err := l.mustBeNew(credit.TypeCommitment, r.ID); err != nil {
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

// GetRecordRequest is the argument of GetRecord and RecordHistory.
type GetRecordRequest struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// GetRecord returns a record with its derived state.
func (c *Contract) GetRecord(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "get record", req, func(l *ledger, r *GetRecordRequest, tx credit.Tx) (any, error) {
		if err := credit.ValidateID("id", r.ID); err != nil {
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

// InstallCalendar installs the working-day calendar of one year (admin).
func (c *Contract) InstallCalendar(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "install calendar", req, func(l *ledger, r *credit.Calendar, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		return credit.InstallCalendar(*r, a, tx)
	})
}
