package chaincode

import (
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// TestMissingMaterialsDeadlineOnChain: seed 004 — a missing-materials
// commitment made on 2026-02-12 with the shipped calendars installed is due
// 7 working days later, on 2026-02-28 (the Spring Festival block and its
// make-up days; see credit.TestMissingMaterialsDeadlineSpringFestival2026),
// and reads back through GetRecord with the owning county and its state.
func TestMissingMaterialsDeadlineOnChain(t *testing.T) {
	w := newWorld(t)
	for _, cal := range credit.ShippedCalendars() {
		w.ok(w.adminA, "InstallCalendar", js(t, cal))
	}
	w.setDate("2026-02-12")
	out := w.ok(w.officerA, "MakeCommitment", js(t, map[string]any{
		"id": "c-001", "kind": "missing-materials", "subject": subjA, "content": "补交营业执照副本",
	}))
	c := decode[credit.Commitment](t, out)
	if c.Deadline.String() != "2026-02-28" || len(c.Calendars) != 1 || c.Calendars[0] != "2026" {
		t.Fatalf("deadline %s calendars %v", c.Deadline, c.Calendars)
	}
	got := decode[credit.Commitment](t, w.ok(w.readerA, "GetRecord", `{"kind":"commitment","id":"c-001"}`))
	if got.County != codeA || got.DerivedState != "made" {
		t.Fatalf("got %+v", got)
	}
}
