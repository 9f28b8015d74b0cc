package credit

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Baseline transactions for benchmarks (issue 7): the credit transactions
// are measured against the platform's ceiling, a transaction that does
// nothing (Noop), and against the simplest useful write, one key with one
// JSON value as fabric-samples' asset-transfer CreateAsset writes it
// (BaselinePut). They live in this chaincode so that both run on the same
// network, through the same chaincode server, in the same run.

// TypeBaseline is the object type of the keys BaselinePut writes. They are
// benchmark data, never records; no index and no key-level policy.
const TypeBaseline = "baseline"

// BaselineKey is the key of a baseline asset.
func BaselineKey(id string) Key { return Key{TypeBaseline, []string{id}} }

// maxBaselineValue bounds a baseline asset's JSON value.
const maxBaselineValue = 4096

// BaselinePutRequest is the argument of BaselinePut: an asset ID and its
// JSON object value.
type BaselinePutRequest struct {
	ID    string          `json:"id"`
	Value json.RawMessage `json:"value"`
}

// Validate checks the ID and that the value is a JSON object of at most
// 4 KiB.
func (r BaselinePutRequest) Validate() error {
	if err := ValidateID("id", r.ID); err != nil {
		return err
	}
	v := bytes.TrimSpace(r.Value)
	if len(v) == 0 || v[0] != '{' || !json.Valid(v) {
		return invalid("value", "must be a JSON object")
	}
	if len(v) > maxBaselineValue {
		return invalid("value", "is %d bytes, at most %d allowed", len(v), maxBaselineValue)
	}
	return nil
}

// BaselineResult is BaselinePut's result.
type BaselineResult struct {
	ID string `json:"id"`
}

// BaselinePut writes one asset the way asset-transfer's CreateAsset does:
// refuse an existing ID, write the value. Like every write it needs an
// officer and emits one event.
func BaselinePut(exists bool, req BaselinePutRequest, a Actor, tx Tx) (Change, error) {
	const action = "baseline put"
	if err := requireOfficer(a, action); err != nil {
		return Change{}, err
	}
	if err := req.Validate(); err != nil {
		return Change{}, err
	}
	if exists {
		return Change{}, fmt.Errorf("%s %s: %w", action, req.ID, ErrExists)
	}
	return Change{
		Puts:   []Put{{Key: BaselineKey(req.ID), Value: bytes.TrimSpace(req.Value)}},
		Event:  Event{Name: "BaselinePut", Action: "BaselinePut", Kind: TypeBaseline, ID: req.ID, County: a.County, TxTime: Instant(tx.Time)},
		Result: BaselineResult{ID: req.ID},
	}, nil
}
