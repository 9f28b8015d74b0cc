package credit

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var (
	officerA        = Actor{MSPID: "County330782MSP", County: "330782", Role: RoleOfficer, Dept: "market", ID: "officerA"}
	creditA         = Actor{MSPID: "County330782MSP", County: "330782", Role: RoleOfficer, Dept: DeptCreditOffice, ID: "creditA"}
	officerB        = Actor{MSPID: "County330783MSP", County: "330783", Role: RoleOfficer, Dept: "market", ID: "officerB"}
	adminA          = Actor{MSPID: "County330782MSP", County: "330782", Role: RoleAdmin, ID: "adminA"}
	auditorA        = Actor{MSPID: "County330782MSP", County: "330782", Role: RoleAuditor, ID: "auditorA"}
	readerA         = Actor{MSPID: "County330782MSP", County: "330782", ID: "readerA"}
	strangerOfficer = Actor{MSPID: "OtherMSP", Role: RoleOfficer, Dept: "market", ID: "x"}

	subject = CompleteCreditCode("91330782MA2EXAMPL")
	other   = CompleteCreditCode("91330783MA2TEHER1")
)

const (
	hashA = "1111111111111111111111111111111111111111111111111111111111111111"
	hashB = "2222222222222222222222222222222222222222222222222222222222222222"
	hashC = "3333333333333333333333333333333333333333333333333333333333333333"
	hashD = "4444444444444444444444444444444444444444444444444444444444444444"
	hashE = "5555555555555555555555555555555555555555555555555555555555555555"
)

// txOn is a transaction at 10:00 China Standard Time on date.
func txOn(date string) Tx {
	d := MustDate(date)
	return Tx{ID: "tx-" + date, Time: time.Date(d.Year(), d.Month(), d.Day(), 2, 0, 0, 0, time.UTC)}
}

func wantErr(t *testing.T, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want %v", err, sentinel)
	}
}

func wantField(t *testing.T, err error, field, rulePart string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field || !strings.Contains(fe.Rule, rulePart) {
		t.Fatalf("err = %v, want field %q with rule containing %q", err, field, rulePart)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v does not wrap ErrInvalid", err)
	}
}

func defaultRules() []RuleSet { return WithDefault(nil) }

// order58 reads the shipped example rule file.
func order58(t *testing.T) RuleSet {
	t.Helper()
	b, err := os.ReadFile("rules/ndrc-2023-order58.json")
	if err != nil {
		t.Fatal(err)
	}
	var rs RuleSet
	if err := DecodeRequest(b, &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

func impose(t *testing.T, id, severity, decision, txDate string, rules []RuleSet) *Punishment {
	t.Helper()
	ch, err := ImposePunishment(ImposePunishmentRequest{
		ID: id, Subject: subject, Kind: PunishmentPublicity, Severity: severity, DecisionDate: decision,
		DecisionNo: "义市监罚〔2026〕1号", LegalBasis: "《行政处罚法》", Measures: []string{"procurement", "bidding"},
	}, nil, rules, officerA, txOn(txDate))
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, ch.Result.(*Punishment))
}

// roundTrip returns a copy of a record as stored and reloaded.
func roundTrip[T any](t *testing.T, v *T) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
