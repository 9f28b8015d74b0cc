package chaincode

import (
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// TestBenchmarkBaselines: Noop writes and reads nothing; BaselinePut writes
// exactly one key (no index, no key-level policy), refuses an existing ID
// and non-officers, and emits its one event — the baselines issue 7's
// benchmarks compare credit transactions with.
func TestBenchmarkBaselines(t *testing.T) {
	w := newWorld(t)
	resp, stub := w.invoke(w.readerA, "Noop", `{}`)
	if resp.Status != 200 || string(resp.Payload) != "{}" || len(stub.writes)+len(stub.deletes)+len(stub.sbeWrites) != 0 || stub.eventCalls != 0 {
		t.Fatalf("Noop: %d %s, %d writes, %d events", resp.Status, resp.Payload, len(stub.writes), stub.eventCalls)
	}
	wantCode(t, w.fail(w.readerA, "Noop", `{"x":1}`), credit.ErrInvalid)

	resp, stub = w.invoke(w.officerA, "BaselinePut", `{"id":"asset-1","value":{"color":"blue","size":5,"owner":"Tomoko","appraisedValue":300}}`)
	if resp.Status != 200 {
		t.Fatalf("BaselinePut: %s", resp.Message)
	}
	key, _ := stub.CreateCompositeKey(credit.TypeBaseline, []string{"asset-1"})
	if len(stub.writes) != 1 || !strings.Contains(string(stub.writes[key]), `"owner":"Tomoko"`) || len(stub.sbeWrites) != 0 || stub.eventCalls != 1 {
		t.Fatalf("BaselinePut wrote %v (policies %d, events %d)", stub.writes, len(stub.sbeWrites), stub.eventCalls)
	}
	wantCode(t, w.fail(w.officerA, "BaselinePut", `{"id":"asset-1","value":{}}`), credit.ErrExists)
	wantCode(t, w.fail(w.auditorA, "BaselinePut", `{"id":"asset-2","value":{}}`), credit.ErrForbidden)
	wantCode(t, w.fail(w.officerA, "BaselinePut", `{"id":"asset-3","value":[1]}`), credit.ErrInvalid)
}
