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
	return cc, nil
}

// GetEvaluateTransactions marks the read functions "evaluate" in the
// contract metadata (contractapi hook; not itself a transaction).
func (c *Contract) GetEvaluateTransactions() []string {
	return []string{"GetRecord", "SubjectRecords", "RecordHistory", "ListByCounty", "ListState", "GetRuleSets", "GetCalendar", "ListCounties",
		"GetCertificate", "CertificateHistory", "ListCertificates"}
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
