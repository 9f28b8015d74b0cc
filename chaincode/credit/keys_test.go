package credit

import (
	"errors"
	"testing"
)

// TestObjectTypesAreFrozen pins the world-state object types of DESIGN §7:
// they are the ledger format, read by the indexer.
func TestObjectTypesAreFrozen(t *testing.T) {
	got := []string{TypeCommitment, TypePunishment, TypeDishonesty, TypeEnforcement, TypeRepair, TypeObjection,
		TypeRuleSet, TypeCalendar, TypeCounty, TypeCountyMSP, TypeSubject, TypeByCounty, TypeOpenRepair}
	want := []string{"commitment", "punishment", "dishonesty", "enforcement", "repair", "objection",
		"ruleset", "calendar", "county", "countymsp", "subject", "bycounty", "openrepair"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object type %d = %q, want %q", i, got[i], want[i])
		}
	}
	if k := CalendarKey(2026); k.ObjectType != "calendar" || k.Attrs[0] != "2026" {
		t.Errorf("calendar key %v", k)
	}
}

// TestRecordWritesIndexAndOwner: DESIGN §7 — a new record writes its key
// (owned by the record's county: key-level policy), the subject index
// (value: owning county) and the bycounty index (value: subject), both
// without a key-level policy so that MAJORITY stays in the endorsement plan;
// a state change moves the bycounty entry.
func TestRecordWritesIndexAndOwner(t *testing.T) {
	c := &Commitment{Header: Header{Kind: TypeCommitment, ID: "c-1", Subject: subject, County: "330782", State: StateMade}}
	dels, puts := recordWrites(c, "")
	if len(dels) != 0 || len(puts) != 3 {
		t.Fatalf("new record: dels %v puts %d", dels, len(puts))
	}
	wantKeys := []Key{RecordKey(TypeCommitment, "c-1"), SubjectIndexKey(subject, TypeCommitment, "c-1"), ByCountyIndexKey("330782", TypeCommitment, StateMade, "c-1")}
	wantOwners := []string{"330782", "", ""}
	for i, p := range puts {
		if p.Key.String() != wantKeys[i].String() || p.Owner != wantOwners[i] {
			t.Errorf("put %d: %v owner %q, want %v owner %q", i, p.Key, p.Owner, wantKeys[i], wantOwners[i])
		}
	}
	if string(puts[1].Value) != "330782" || string(puts[2].Value) != subject {
		t.Errorf("index values %q %q", puts[1].Value, puts[2].Value)
	}
	c.State = StateFulfilled
	dels, puts = recordWrites(c, StateMade)
	if len(dels) != 1 || dels[0].String() != ByCountyIndexKey("330782", TypeCommitment, StateMade, "c-1").String() || len(puts) != 2 {
		t.Fatalf("state change: dels %v puts %v", dels, puts)
	}
	_, puts = recordWrites(c, StateFulfilled)
	if len(puts) != 1 {
		t.Fatalf("same state: %d puts", len(puts))
	}
}

func TestDecodeRequestErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		{"not an object", `[1]`, "request"},
		{"empty", ``, "request"},
		{"unknown field", `{"id":"c-1","colour":"red"}`, "colour"},
		{"wrong type", `{"id":5}`, "id"},
		{"nested wrong type", `{"id":"r-1","punishmentId":"p","evidence":{"identity":5}}`, "evidence.identity"},
		{"trailing data", `{"id":"c-1"} {}`, "request"},
		{"truncated", `{"id":"c-1"`, "request"},
		{"syntax", `{"id":}`, "request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r ApplyRepairRequest
			err := DecodeRequest([]byte(tt.in), &r)
			wantField(t, err, tt.field, "")
		})
	}
}

// FuzzDecodeRequest: decoding any bytes into any request type never panics
// and fails only with a FieldError (STYLE: a clear error naming the field).
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{}`, `{"id":"c-1","kind":"approval"}`, `{"evidence":{"identity":1}}`, `{"correction":{"measures":"x"}}`, `{"general":{"minMonths":"3"}}`, `[]`, `{"a":1}{`, "\x00"} {
		f.Add(s)
	}
	targets := []func() any{
		func() any { return new(RegisterCountyRequest) }, func() any { return new(RuleSet) }, func() any { return new(Calendar) },
		func() any { return new(MakeCommitmentRequest) }, func() any { return new(FulfilCommitmentRequest) }, func() any { return new(BreachCommitmentRequest) },
		func() any { return new(ImposePunishmentRequest) }, func() any { return new(RevokePunishmentRequest) }, func() any { return new(RecordEnforcementRequest) },
		func() any { return new(ApplyRepairRequest) }, func() any { return new(RepairRequest) }, func() any { return new(CompleteRepairRequest) },
		func() any { return new(RejectRepairRequest) }, func() any { return new(RaiseObjectionRequest) }, func() any { return new(AnswerObjectionRequest) },
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, mk := range targets {
			err := DecodeRequest([]byte(s), mk())
			if err == nil {
				continue
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Rule == "" {
				t.Fatalf("DecodeRequest(%q) into %T: %v is not a FieldError", s, mk(), err)
			}
		}
	})
}

// TestBaselineKeyIsFrozen: the benchmark baseline's object type is ledger
// format too.
func TestBaselineKeyIsFrozen(t *testing.T) {
	if k := BaselineKey("a-1"); k.ObjectType != "baseline" || k.Attrs[0] != "a-1" {
		t.Errorf("baseline key %v", k)
	}
}

// TestObjectTypesListIsComplete: ObjectTypes, which reconcile and ListState
// use, names every object type exactly once.
func TestObjectTypesListIsComplete(t *testing.T) {
	want := map[string]bool{TypeCommitment: true, TypePunishment: true, TypeDishonesty: true, TypeEnforcement: true,
		TypeRepair: true, TypeObjection: true, TypeRuleSet: true, TypeCalendar: true, TypeCounty: true,
		TypeCountyMSP: true, TypeSubject: true, TypeByCounty: true, TypeOpenRepair: true,
		TypeCertificate: true, TypeCertCounty: true, TypeBaseline: true}
	seen := map[string]bool{}
	for _, ot := range ObjectTypes {
		if !want[ot] || seen[ot] {
			t.Errorf("ObjectTypes: unexpected or repeated %q", ot)
		}
		seen[ot] = true
	}
	if len(seen) != len(want) {
		t.Errorf("ObjectTypes has %d types, want %d", len(seen), len(want))
	}
}
