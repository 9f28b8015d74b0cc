package chaincode

import (
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// TestCallerCountyNeedsItsRegistryEntry: DESIGN §4, §7 — the caller's
// county is the one whose registry entry names the caller's MSP. The
// registry index (countymsp) carries no key-level policy, so a majority of
// counties could re-point their MSP at another county's code; the entry
// itself carries that county's policy, so the re-pointed index does not
// make them that county: every write is refused, nothing written. (Found
// by the chaos tests: cli/chaos TestMajorityCollusion.)
func TestCallerCountyNeedsItsRegistryEntry(t *testing.T) {
	w := storyA(t)
	remapped := "\x00" + credit.TypeCountyMSP + "\x00" + mspB + "\x00"
	if string(w.state[remapped]) != codeB {
		t.Fatalf("registry index of %s = %q, want %s", mspB, w.state[remapped], codeB)
	}
	w.state[remapped] = []byte(codeA) // what two colluding counties could commit
	for _, tt := range []struct{ fn, arg string }{
		{"RevokePunishment", `{"id":"pun-1","reason":"冒名撤销"}`},
		{"AcceptRepair", `{"id":"rep-1"}`},
		{"FulfilCommitment", `{"id":"com-1"}`},
		{"MakeCommitment", `{"id":"com-9","kind":"voluntary","subject":"` + subjA + `","content":"x"}`},
	} {
		t.Run(tt.fn, func(t *testing.T) {
			resp, stub := w.invoke(w.officerB, tt.fn, tt.arg)
			wantCode(t, resp.Message, credit.ErrForbidden)
			if len(stub.writes)+len(stub.deletes)+len(stub.sbeWrites) != 0 || stub.eventCalls != 0 {
				t.Fatalf("%s by a re-pointed MSP wrote state", tt.fn)
			}
		})
	}
	// County A's own officers are unaffected.
	w.ok(w.officerA, "RevokePunishment", `{"id":"pun-1","reason":"依法撤销"}`)
}
