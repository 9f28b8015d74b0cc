package chaincode

import (
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

func TestRegisterMakeGet(t *testing.T) {
	w := newWorld(t)
	for _, cal := range credit.ShippedCalendars() {
		w.ok(w.adminA, "InstallCalendar", js(t, cal))
	}
	w.setDate("2026-02-12")
	out := w.ok(w.officerA, "MakeCommitment", js(t, map[string]any{
		"id": "c-001", "kind": "missing-materials", "subject": subjA, "content": "补交营业执照副本",
	}))
	c := decode[credit.Commitment](t, out)
	if c.Deadline.String() != "2026-02-28" {
		t.Fatalf("deadline %s", c.Deadline)
	}
	got := decode[credit.Commitment](t, w.ok(w.readerA, "GetRecord", `{"kind":"commitment","id":"c-001"}`))
	if got.County != codeA || got.DerivedState != "made" {
		t.Fatalf("got %+v", got)
	}
	t.Log(out)
}
