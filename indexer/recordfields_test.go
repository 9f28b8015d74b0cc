package indexer

import (
	"errors"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// strictFields decodes a record value the strict way (the chaincode's
// types through encoding/json, decodeRecord) into its fields.
func strictFields(kind, id string, value []byte) (recordFields, error) {
	rec, err := decodeRecord(kind, id, value)
	if err != nil {
		return recordFields{}, err
	}
	return fieldsOf(rec), nil
}

// recordValues returns every record write of the fixture blocks (real
// network and synthetic) and of a generated workload, as kind, id, value.
func recordValues(t testing.TB) [][3]string {
	t.Helper()
	var out [][3]string
	add := func(pb *ParsedBlock) {
		for _, tx := range pb.Txs {
			for _, w := range tx.Writes {
				ot, attrs, ok := keys.SplitCompositeKey(w.Key)
				if ok && len(attrs) == 1 && credit.IsRecordKind(ot) && !w.IsDelete {
					out = append(out, [3]string{ot, attrs[0], string(w.Value)})
				}
			}
		}
	}
	for _, dir := range []string{"testdata/blocks/network", "testdata/blocks/synthetic"} {
		bs, err := ReadBlockDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			pb, err := ParseBlock(b, DefaultNamespace)
			if err != nil {
				t.Fatal(err)
			}
			add(pb)
		}
	}
	w := newWorkload(t, 3, 60)
	for range 20 {
		w.block(30)
	}
	for _, b := range w.blocks {
		pb, err := ParseBlock(b, DefaultNamespace)
		if err != nil {
			t.Fatal(err)
		}
		add(pb)
	}
	return out
}

// TestRecordFieldsOfChaincodeRecords: every record the chaincode wrote in
// the fixtures and the workload (every family and state) is read at ingest
// by the one-pass decoder, without the strict decoder, into the same
// fields.
func TestRecordFieldsOfChaincodeRecords(t *testing.T) {
	vals := recordValues(t)
	kinds := map[string]int{}
	for _, v := range vals {
		kind, id, value := v[0], v[1], []byte(v[2])
		rec, ok := fastDecodeRecord(kind, string(value))
		if !ok {
			t.Fatalf("%s %s: the one-pass decoder left it to the strict decoder: %s", kind, id, value)
		}
		got := fieldsOf(rec)
		want, err := strictFields(kind, id, value)
		if err != nil {
			t.Fatalf("%s %s: %v", kind, id, err)
		}
		if got != want {
			t.Fatalf("%s %s: one pass %+v, strict %+v", kind, id, got, want)
		}
		kinds[kind]++
	}
	for _, kind := range []string{credit.TypeCommitment, credit.TypeDishonesty, credit.TypePunishment,
		credit.TypeEnforcement, credit.TypeRepair, credit.TypeObjection} {
		if kinds[kind] == 0 {
			t.Errorf("no %s record in the fixtures", kind)
		}
	}
	t.Logf("%d records: %v", len(vals), kinds)
}

// TestRecordFieldsLeaveDoubtToStrict: values the one-pass decoder cannot
// vouch for go to the strict decoder, so that ingest accepts and refuses
// exactly what encoding/json does, with the same words.
func TestRecordFieldsLeaveDoubtToStrict(t *testing.T) {
	const c = `{"kind":"commitment","id":"C1","subject":"S","county":"330782","state":"made","commitmentKind":"approval","deadline":"2026-03-01"`
	tests := []struct {
		name, kind, value string
		scanned           bool   // the one-pass decoder reads it
		err               string // the error decodeRecordFields gives ("" none)
	}{
		{"plain", "commitment", c + `}`, true, ""},
		{"white space", "commitment", " \n" + strings.ReplaceAll(c, ":", " : ") + " }\t", true, ""},
		{"other fields of every type", "punishment", `{"kind":"punishment","id":"P1","subject":"S","county":"330782","state":"active","punishmentKind":"blacklist","severity":"serious","measures":["a","b\n"],"repairable":true,"revision":-3,"minEnd":"","maxEnd":"2027-01-31","summary":"\u4e2d\"x\""}`, true, ""},
		{"nested evidence", "repair", `{"kind":"repair","id":"R1","subject":"S","county":"330782","state":"applied","severity":"serious","evidence":{"identity":"a","training":"h"}}`, true, ""},
		{"correction object", "objection", `{"kind":"objection","id":"O1","subject":"S","county":"330782","state":"upheld","correction":{"measures":[],"severity":"general"}}`, true, ""},
		{"no kind", "commitment", `{"id":"C1"}`, true, "field kind: is \"\", the key says \"commitment\""},
		{"kind of another family", "commitment", strings.Replace(c, `"kind":"commitment"`, `"kind":"punishment"`, 1) + `}`, true, "field kind: is \"punishment\""},
		{"id not the key's", "commitment", strings.Replace(c, `"id":"C1"`, `"id":"C2"`, 1) + `}`, true, "field id: is \"C2\", the key says \"C1\""},
		{"no state", "commitment", strings.Replace(c, `"state":"made"`, `"state":""`, 1) + `}`, true, "field state: required"},
		{"punishment without maxEnd", "punishment", `{"kind":"punishment","id":"C1","subject":"S","county":"330782","state":"active"}`, true, "field maxEnd: required"},
		{"field name in another case", "commitment", strings.Replace(c, `"subject"`, `"Subject"`, 1) + `}`, false, ""},
		{"unknown field", "commitment", c + `,"extra":{"x":[1,null]}}`, false, ""},
		{"repeated field", "commitment", c + `,"subject":"T"}`, false, ""},
		{"escape in a taken field", "commitment", strings.Replace(c, `"subject":"S"`, `"subject":"\u0053"`, 1) + `}`, true, ""},
		{"surrogate escape", "commitment", strings.Replace(c, `"subject":"S"`, `"subject":"\ud83d\ude00"`, 1) + `}`, false, ""},
		{"invalid UTF-8 in a taken field", "commitment", strings.Replace(c, `"subject":"S"`, "\"subject\":\"S\xff\"", 1) + `}`, false, ""},
		{"null", "commitment", strings.Replace(c, `"state":"made"`, `"state":null`, 1) + `}`, false, "field state: required"},
		{"number for a string", "commitment", c + `,"content":5}`, false, "cannot unmarshal number"},
		{"fraction for an int", "punishment", `{"kind":"punishment","id":"C1","revision":1.5}`, false, "cannot unmarshal number 1.5"},
		{"bad date", "commitment", strings.Replace(c, `2026-03-01`, `2026-02-30`, 1) + `}`, false, "not a valid date"},
		{"truncated", "commitment", c, false, "unexpected end of JSON input"},
		{"trailing data", "commitment", c + `}x`, false, "invalid character 'x' after top-level value"},
		{"control character in a string", "commitment", c + ",\"content\":\"a\tb\"}", false, "invalid character"},
		{"not an object", "commitment", `["commitment"]`, false, "cannot unmarshal array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "C1"
			for _, p := range []string{"P1", "R1", "O1"} {
				if strings.Contains(tt.value, `"id":"`+p+`"`) {
					id = p
				}
			}
			_, scanned := fastDecodeRecord(tt.kind, tt.value)
			if scanned != tt.scanned {
				t.Errorf("scanned = %v, want %v", scanned, tt.scanned)
			}
			got, err := decodeRecordFields(tt.kind, id, []byte(tt.value))
			want, werr := strictFields(tt.kind, id, []byte(tt.value))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one containing %q", err, tt.err)
			case err != nil && !errors.Is(err, ErrRecord):
				t.Fatalf("error %v does not wrap ErrRecord", err)
			case (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error():
				t.Fatalf("error %v, the strict decoder's %v", err, werr)
			case got != want:
				t.Fatalf("fields %+v, the strict decoder's %+v", got, want)
			}
		})
	}
}

// FuzzRecordFields: whatever the value, ingest's reading of a record
// agrees with the strict decoder's: the same fields, or the same error.
func FuzzRecordFields(f *testing.F) {
	for i, v := range recordValues(f) {
		if i%7 == 0 {
			f.Add(v[0], v[1], []byte(v[2]))
		}
	}
	f.Fuzz(func(t *testing.T, kind, id string, value []byte) {
		got, err := decodeRecordFields(kind, id, value)
		want, werr := strictFields(kind, id, value)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("error %v, the strict decoder's %v", err, werr)
		}
		if got != want {
			t.Fatalf("fields %+v, the strict decoder's %+v", got, want)
		}
	})
}
