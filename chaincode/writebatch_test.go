package chaincode

import (
	"testing"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// TestWritesGoInOneBatch: every write transaction hands its writes (keys,
// deletes of moved index keys, key-level policies) to the peer in one
// write batch, never one message per write (docs/PERFORMANCE.md: the
// round trips cost the endorsing peers CPU); a query writes nothing.
func TestWritesGoInOneBatch(t *testing.T) {
	w := newWorld(t)
	w.setDate("2026-03-02")
	steps := []struct {
		name, fn, arg string
		who           *fakeIdentity
		writes        bool
	}{
		{"MakeCommitment", "MakeCommitment", js(t, map[string]any{"id": "c-1", "kind": "voluntary", "subject": subjA, "content": "诚信经营"}), w.officerA, true},
		{"FulfilCommitment moves an index key", "FulfilCommitment", `{"id":"c-1"}`, w.officerA, true},
		{"ImposePunishment", "ImposePunishment", js(t, map[string]any{"id": "p-1", "subject": subjA, "kind": "publicity", "severity": "general",
			"decisionDate": "2026-03-01", "decisionNo": "罚1", "legalBasis": "法", "measures": []string{"procurement"}}), w.officerA, true},
		{"RecordEnforcement by another county", "RecordEnforcement", `{"id":"e-1","punishmentId":"p-1","measure":"procurement","date":"2026-03-02"}`, w.officerB, true},
		{"BaselinePut", "BaselinePut", `{"id":"a-1","value":{"colour":"blue"}}`, w.officerA, true},
		{"GetRecord writes nothing", "GetRecord", `{"kind":"commitment","id":"c-1"}`, w.readerA, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			resp, s := w.invoke(st.who, st.fn, st.arg)
			if resp.Status != shim.OK {
				t.Fatalf("%s: %s", st.fn, resp.Message)
			}
			if s.unbatchedWrites != 0 {
				t.Errorf("%d writes outside a batch", s.unbatchedWrites)
			}
			if want := map[bool]int{true: 1, false: 0}[st.writes]; s.batches != want || s.inBatch {
				t.Errorf("batches = %d (open %v), want %d", s.batches, s.inBatch, want)
			}
			if st.writes && len(s.writes)+len(s.deletes) == 0 {
				t.Error("no writes")
			}
		})
	}
}
