package chaincode

import (
	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Noop does nothing and returns {}: no read, no write, no event. It is the
// benchmarks' ceiling for what the platform (endorsement, ordering,
// validation, commit) can carry through this chaincode. Anyone may call it;
// it changes nothing.
func (c *Contract) Noop(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	var r credit.Empty
	if err := credit.DecodeRequest([]byte(req), &r); err != nil {
		return "", wire(err)
	}
	return "{}", nil
}

// BaselinePut writes one key with one JSON value (credit.BaselinePut), the
// benchmarks' asset-transfer-style baseline write.
func (c *Contract) BaselinePut(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "baseline put", req, func(l *ledger, r *credit.BaselinePutRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		b, err := l.get(credit.BaselineKey(r.ID))
		if err != nil {
			return credit.Change{}, err
		}
		return credit.BaselinePut(b != nil, *r, a, tx)
	})
}
