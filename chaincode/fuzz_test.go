package chaincode

import (
	"maps"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// FuzzTransactionArgs drives every documented transaction through Invoke
// with an arbitrary argument: nothing panics, a failure carries a bracket
// code (an INVALID one names a field), and a failed call writes nothing.
// The seed corpus is in testdata/fuzz/FuzzTransactionArgs.
func FuzzTransactionArgs(f *testing.F) {
	f.Add(uint8(3), uint8(0), `{"id":"com-1","kind":"missing-materials","subject":"`+subjA+`","content":"x"}`)
	f.Add(uint8(6), uint8(0), `{"id":"pun-9","subject":"`+subjA+`","kind":"publicity","severity":"general","decisionDate":"2026-01-05","decisionNo":"1","legalBasis":"x","measures":["bidding"]}`)
	f.Add(uint8(9), uint8(0), `{"id":"rep-9","punishmentId":"pun-1","evidence":{"identity":"`+h1+`","penaltyFulfilled":"`+h2+`","repairCommitment":"`+h3+`"}}`)
	f.Add(uint8(15), uint8(0), `{"kind":"punishment","id":"pun-1"}`)
	f.Add(uint8(18), uint8(0), `{"county":"330782","kind":"commitment","pageSize":2}`)
	f.Add(uint8(0), uint8(1), `{"code":"330782","name":"x"}`)
	f.Add(uint8(14), uint8(0), `{"id":"obj-1","decision":"upheld","answer":"x","action":"correct","correction":{"measures":[]}}`)
	f.Add(uint8(1), uint8(1), `{"version":"v1","effectiveFrom":"2030-01-01","title":"t","source":"s","general":{},"serious":{},"special":{}}`)
	f.Add(uint8(2), uint8(1), `{"year":2027,"holidays":["2027-02-30"],"source":"x"}`)

	w := storyA(f)
	state, sbe, history := maps.Clone(w.state), maps.Clone(w.sbe), map[string][]histEntry{}
	for k, v := range w.history {
		history[k] = append([]histEntry(nil), v...)
	}
	// caller: 0 officer A, 1 admin A, 2 officer B, 3 no role.
	callers := []*fakeIdentity{w.officerA, w.adminA, w.officerB, w.readerA}
	f.Fuzz(func(t *testing.T, pick, caller uint8, arg string) {
		// Every run starts from the same ledger.
		w.state, w.sbe = maps.Clone(state), maps.Clone(sbe)
		w.history = map[string][]histEntry{}
		for k, v := range history {
			w.history[k] = append([]histEntry(nil), v...)
		}
		w.t = t
		fn := documentedTransactions[int(pick)%len(documentedTransactions)]
		who := callers[int(caller)%len(callers)]
		resp, stub := w.invoke(who, fn, arg)
		if resp.Status == 200 {
			return
		}
		err := credit.ErrorFromMessage(resp.Message)
		code := credit.Code(err)
		if code == "" || !strings.HasPrefix(resp.Message, "["+code+"] ") {
			t.Fatalf("%s(%q): message without a bracket code: %q", fn, arg, resp.Message)
		}
		if code == "INVALID" && !strings.Contains(resp.Message, ": ") {
			t.Fatalf("%s(%q): INVALID without a field: %q", fn, arg, resp.Message)
		}
		if len(stub.writes)+len(stub.deletes)+len(stub.sbeWrites) != 0 || stub.eventCalls != 0 {
			t.Fatalf("%s(%q) failed but wrote state", fn, arg)
		}
	})
}
