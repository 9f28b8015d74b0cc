package cli

import (
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// TestEveryEnumerationHasAChineseLabel: --lang zh prints the labels an
// office uses (issue 4) for every enumeration of DESIGN §8, taken from
// chaincode/credit itself so a new value cannot be forgotten.
func TestEveryEnumerationHasAChineseLabel(t *testing.T) {
	states := []string{credit.StateMade, credit.StateFulfilled, credit.StateBreached, credit.StateOverdue,
		credit.StateActive, credit.StateRepaired, credit.StateRevoked, credit.StateExpired,
		credit.StateApplied, credit.StateAccepted, credit.StateCompleted, credit.StateRejected,
		credit.StateRaised, credit.StateUpheld, credit.StateDismissed, credit.StateRecorded}
	enums := []struct {
		field  string
		values []string
	}{
		{"commitmentKind", credit.CommitmentKinds},
		{"punishmentKind", credit.PunishmentKinds},
		{"severity", credit.Severities},
		{"measures", credit.Measures},
		{"measure", credit.Measures},
		{"state", states},
		{"derivedState", states},
		{"kind", append(credit.RecordKinds, credit.TypeCounty, credit.TypeRuleSet, credit.TypeCalendar)},
		{"recordKind", credit.ObjectionKinds},
		{"action", []string{credit.ActionRevoke, credit.ActionCorrect}},
		{"department", []string{credit.DeptCreditOffice}},
	}
	p := &Printer{Lang: "zh"}
	for _, e := range enums {
		for _, v := range e.values {
			if got := p.Value(e.field, v); got == v || got == "" {
				t.Errorf("%s %q has no Chinese label", e.field, v)
			}
		}
	}
}

func TestSeverityLabelsAreTheOfficialTerms(t *testing.T) {
	p := &Printer{Lang: "zh"}
	for v, want := range map[string]string{"general": "一般失信", "serious": "严重失信", "special": "特定严重失信"} {
		if got := p.Value("severity", v); got != want {
			t.Errorf("severity %s = %s, want %s", v, got, want)
		}
	}
	if got := p.Value("commitmentKind", "missing-materials"); got != "容缺受理" {
		t.Errorf("missing-materials = %s", got)
	}
}

func TestLabelsOfRecordFields(t *testing.T) {
	// Every common record field (DESIGN §8) and every field of a punishment
	// has a heading in Chinese.
	p := &Printer{Lang: "zh"}
	rec := &credit.Punishment{Header: header("punishment", "P-1", company), Measures: []string{"bidding"},
		DishonestyID: "d", Summary: "s", CorrectedBy: "o", RepairedBy: "r", ClosedAt: "c", RevokeReason: "x", RevokedBy: "y",
		MinEnd: credit.MustDate("2026-01-01"), DerivedState: "active"}
	fields, err := flattenJSON(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if p.Label(f.key) == f.key {
			t.Errorf("field %s has no Chinese label", f.key)
		}
	}
}

func TestEnglishIsTheLedgersOwnWords(t *testing.T) {
	p := &Printer{Lang: "en"}
	if p.Label("decisionDate") != "decisionDate" || p.Value("severity", "serious") != "serious" {
		t.Error("English output must use the JSON keys and values")
	}
}
