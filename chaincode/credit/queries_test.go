package credit

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRecordsDecodeByKind: clients decode a mixed list of records (the
// results of SubjectRecords and ListByCounty) into their own types.
func TestRecordsDecodeByKind(t *testing.T) {
	in := SubjectRecordsResult{Subject: subject, Records: Records{
		&Commitment{Header: Header{Kind: TypeCommitment, ID: "c-1", State: StateMade}, CommitmentKind: CommitmentMissingMaterials},
		&Punishment{Header: Header{Kind: TypePunishment, ID: "p-1", State: StateActive}, Severity: SeverityGeneral, Measures: []string{}},
	}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out SubjectRecordsResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 2 {
		t.Fatalf("%d records", len(out.Records))
	}
	if c, ok := out.Records[0].(*Commitment); !ok || c.CommitmentKind != CommitmentMissingMaterials {
		t.Errorf("record 0: %#v", out.Records[0])
	}
	if p, ok := out.Records[1].(*Punishment); !ok || p.Severity != SeverityGeneral {
		t.Errorf("record 1: %#v", out.Records[1])
	}
	var bad Records
	err = json.Unmarshal([]byte(`[{"kind":"spaceship"}]`), &bad)
	if err == nil || !strings.Contains(err.Error(), `records[0]: unknown record kind "spaceship"`) {
		t.Fatalf("unknown kind: %v", err)
	}
}
