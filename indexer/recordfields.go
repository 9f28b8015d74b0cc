package indexer

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// Reading records at ingest. Ingest needs a handful of a record's fields
// (recordFields), not the whole record. It decodes each record value with
// fastDecodeRecord (recorddecode.go), the one-pass decoder lookups use too,
// and takes the fields; a value that decoder cannot vouch for goes to the
// strict decoder (encoding/json into the chaincode's type, decodeRecord),
// which decides and words any error exactly as before. Decoding every
// value with encoding/json was about 40 % of building a block.
// FuzzRecordFields checks that the fields and errors are the strict
// decoder's.

// recordFields are the fields of a record that its facts depend on.
type recordFields struct {
	Kind, ID, Subject, County, State string
	Class                            string // commitment kind or punishment kind; "" for other kinds
	Severity                         string // punishment or repair
	Training                         bool   // repair: the evidence has a training certificate hash
	Deadline                         credit.Date
	MaxEnd                           credit.Date
}

// fieldsOf takes the fields of a decoded record.
func fieldsOf(rec credit.Record) recordFields {
	h := rec.Head()
	f := recordFields{Kind: h.Kind, ID: h.ID, Subject: h.Subject, County: h.County, State: h.State}
	switch r := rec.(type) {
	case *credit.Commitment:
		f.Class = r.CommitmentKind
		f.Deadline = r.Deadline
	case *credit.Punishment:
		f.Class = r.PunishmentKind
		f.Severity = r.Severity
		f.MaxEnd = r.MaxEnd
	case *credit.Repair:
		f.Severity = r.Severity
		f.Training = r.Evidence.Training != ""
	}
	return f
}

// decodeRecordFields reads the fields of a value written under the record
// key kind{id} and checks them as decodeRecord does, with the same errors
// (wrapping ErrRecord).
func decodeRecordFields(kind, id string, value []byte) (recordFields, error) {
	rec, ok := fastDecodeRecord(kind, string(value))
	if !ok {
		rec, err := decodeRecord(kind, id, value)
		if err != nil {
			return recordFields{}, err
		}
		return fieldsOf(rec), nil
	}
	f := fieldsOf(rec)
	if err := checkRecordFields(kind, id, f); err != nil {
		return recordFields{}, err
	}
	return f, nil
}

// checkRecordFields checks the fields the indexer relies on: kind and ID
// as the key says, subject, county and state present, a punishment's
// maxEnd present.
func checkRecordFields(kind, id string, f recordFields) error {
	bad := func(field, rule string) error {
		return fmt.Errorf("%s %s: field %s: %s: %w", kind, id, field, rule, ErrRecord)
	}
	switch {
	case f.Kind != kind:
		return bad("kind", fmt.Sprintf("is %q, the key says %q", f.Kind, kind))
	case f.ID != id:
		return bad("id", fmt.Sprintf("is %q, the key says %q", f.ID, id))
	case f.Subject == "":
		return bad("subject", "required")
	case f.County == "":
		return bad("county", "required")
	case f.State == "":
		return bad("state", "required")
	case kind == credit.TypePunishment && f.MaxEnd.IsZero():
		return bad("maxEnd", "required")
	}
	return nil
}

var dateType = reflect.TypeFor[credit.Date]()

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself reports whether encoding/json hands values of type t to
// the type's own method.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonUnmarshaler) || p.Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || p.Implements(textUnmarshaler)
}
