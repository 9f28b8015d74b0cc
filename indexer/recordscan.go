package indexer

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// Reading records at ingest. Ingest needs a handful of a record's fields
// (recordFields), not the whole record: decoding every value with the
// chaincode's types (encoding/json into credit.Commitment, …) was about 40 %
// of building a block. scanRecord reads the record JSON in one pass and
// takes only those fields, but it accepts a value only when strict decoding
// (json.Unmarshal into the chaincode's type, decodeRecord) would accept it
// too and give the same fields: it checks the whole value's syntax, every
// field's JSON type against the chaincode's struct (tables built by
// reflection from credit's types, so a field added there is known here)
// and every date. Whatever it is not sure of — an unknown or repeated
// field name (encoding/json matches names case-insensitively; the last
// repeat wins), null, an escape sequence or invalid UTF-8 in a field it
// takes, a number that is not a plain integer, a type it has no rule for —
// it leaves to the strict decoder, which then decides and words any error
// exactly as before. The chaincode writes records with json.Marshal, which
// never produces these, so on a real ledger the strict decoder is not
// needed; FuzzScanRecord checks the agreement.

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
	f, ok := scanRecord(kind, value)
	if !ok {
		rec, err := decodeRecord(kind, id, value)
		if err != nil {
			return recordFields{}, err
		}
		return fieldsOf(rec), nil
	}
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

// jsonType is what a struct field accepts, as far as scanRecord knows.
type jsonType uint8

const (
	jsonUnknown jsonType = iota // no rule: left to the strict decoder
	jsonString
	jsonDate // credit.Date: "" or YYYY-MM-DD
	jsonBool
	jsonInt
	jsonStrings // []string
	jsonObject  // a struct, or a pointer to one
)

// target says which recordFields entry a field fills.
type target uint8

const (
	tNone target = iota
	tKind
	tID
	tSubject
	tCounty
	tState
	tClass
	tSeverity
	tTraining // a string whose being non-empty sets Training
	tDeadline
	tMaxEnd
)

// scanField is one JSON field of a struct.
type scanField struct {
	name   string
	typ    jsonType
	target target
	sub    *scanSchema // jsonObject
}

// scanSchema lists a struct's JSON fields.
type scanSchema struct {
	fields []scanField
}

func (s *scanSchema) lookup(name []byte) int {
	for i := range s.fields {
		if s.fields[i].name == string(name) {
			return i
		}
	}
	return -1
}

var dateType = reflect.TypeFor[credit.Date]()

// schemaOf builds the schema of struct type t; targets names the fields
// to take, by JSON name ("evidence.training" for a nested one; prefix is
// the path to t).
func schemaOf(t reflect.Type, targets map[string]target, prefix string) *scanSchema {
	s := &scanSchema{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, hasTag := sf.Tag.Lookup("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" && !strings.Contains(tag, ",") {
				continue
			}
			if sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct {
				add(sf.Type) // embedded Header: its fields are the record's
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			f := scanField{name: name, target: targets[prefix+name]}
			ft := sf.Type
			switch {
			case ft == dateType:
				f.typ = jsonDate
			case strings.Contains(tag, ",string") || decodesItself(ft):
				f.typ = jsonUnknown
			case ft.Kind() == reflect.String:
				f.typ = jsonString
			case ft.Kind() == reflect.Bool:
				f.typ = jsonBool
			case ft.Kind() == reflect.Int:
				f.typ = jsonInt
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
				f.typ = jsonStrings
			case ft.Kind() == reflect.Struct:
				f.typ, f.sub = jsonObject, schemaOf(ft, targets, prefix+name+".")
			case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && !decodesItself(ft.Elem()):
				f.typ, f.sub = jsonObject, schemaOf(ft.Elem(), targets, prefix+name+".")
			}
			if f.target != tNone && f.typ != jsonString && f.typ != jsonDate {
				f.typ = jsonUnknown // taken fields are strings or dates
			}
			// A name given twice (a field shadowing an embedded one) is
			// left to encoding/json's rules.
			if j := s.lookup([]byte(name)); j >= 0 {
				s.fields[j].typ = jsonUnknown
				continue
			}
			s.fields = append(s.fields, f)
		}
	}
	add(t)
	return s
}

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

// recordSchemas are the schemas of the record kinds, by kind.
var recordSchemas = func() map[string]*scanSchema {
	common := map[string]target{"kind": tKind, "id": tID, "subject": tSubject, "county": tCounty, "state": tState}
	extra := map[string]map[string]target{
		credit.TypeCommitment: {"commitmentKind": tClass, "deadline": tDeadline},
		credit.TypePunishment: {"punishmentKind": tClass, "severity": tSeverity, "maxEnd": tMaxEnd},
		credit.TypeRepair:     {"severity": tSeverity, "evidence.training": tTraining},
	}
	out := map[string]*scanSchema{}
	for _, kind := range []string{credit.TypeCommitment, credit.TypeDishonesty, credit.TypePunishment,
		credit.TypeEnforcement, credit.TypeRepair, credit.TypeObjection} {
		targets := map[string]target{}
		for k, v := range common {
			targets[k] = v
		}
		for k, v := range extra[kind] {
			targets[k] = v
		}
		out[kind] = schemaOf(reflect.TypeOf(credit.NewRecord(kind)).Elem(), targets, "")
	}
	return out
}()

// scanRecord reads the fields of a record of kind from its JSON; ok is
// false when the value is not one it can vouch for (see above), and the
// strict decoder must decide.
func scanRecord(kind string, value []byte) (f recordFields, ok bool) {
	s := recordSchemas[kind]
	if s == nil {
		return f, false
	}
	sc := scanner{b: value}
	if !sc.object(s, &f) {
		return recordFields{}, false
	}
	sc.ws()
	if sc.i != len(sc.b) {
		return recordFields{}, false
	}
	return f, true
}

// scanner reads JSON from b at i. Every method returns false at the first
// byte it does not accept.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (s *scanner) next() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// object reads an object of schema sc into f.
func (s *scanner) object(sc *scanSchema, f *recordFields) bool {
	if s.next() != '{' {
		return false
	}
	s.i++
	if len(sc.fields) > 64 {
		return false
	}
	var seen uint64
	if s.next() == '}' {
		s.i++
		return true
	}
	for {
		if s.next() != '"' {
			return false
		}
		name, plain := s.str()
		if name == nil || !plain {
			return false
		}
		j := sc.lookup(name)
		if j < 0 || seen&(1<<j) != 0 {
			return false // unknown (or matched case-insensitively) or repeated
		}
		seen |= 1 << j
		if s.next() != ':' {
			return false
		}
		s.i++
		if !s.value(&sc.fields[j], f) {
			return false
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// value reads the value of field fd.
func (s *scanner) value(fd *scanField, f *recordFields) bool {
	c := s.next()
	switch fd.typ {
	case jsonString, jsonDate:
		if c != '"' {
			return false
		}
		v, plain := s.str()
		if v == nil {
			return false
		}
		if fd.typ == jsonDate {
			if !plain {
				return false
			}
			var d credit.Date
			if len(v) > 0 {
				var err error
				if d, err = credit.ParseDate(string(v)); err != nil {
					return false
				}
			}
			switch fd.target {
			case tDeadline:
				f.Deadline = d
			case tMaxEnd:
				f.MaxEnd = d
			}
			return true
		}
		if fd.target == tNone {
			return true
		}
		if !plain || !utf8.Valid(v) {
			return false
		}
		switch fd.target {
		case tKind:
			f.Kind = string(v)
		case tID:
			f.ID = string(v)
		case tSubject:
			f.Subject = string(v)
		case tCounty:
			f.County = string(v)
		case tState:
			f.State = string(v)
		case tClass:
			f.Class = string(v)
		case tSeverity:
			f.Severity = string(v)
		case tTraining:
			f.Training = len(v) > 0
		}
		return true
	case jsonBool:
		return s.literal("true") || s.literal("false")
	case jsonInt:
		return s.integer()
	case jsonStrings:
		if c != '[' {
			return false
		}
		s.i++
		if s.next() == ']' {
			s.i++
			return true
		}
		for {
			if s.next() != '"' {
				return false
			}
			if v, _ := s.str(); v == nil {
				return false
			}
			switch s.next() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	case jsonObject:
		return s.object(fd.sub, f)
	}
	return false
}

// str reads a string at s.i (its opening quote) and returns its contents
// (non-nil, possibly empty) and whether it holds no escape sequence; nil
// if it is not a valid JSON string. It does not check UTF-8: encoding/json
// accepts invalid UTF-8 (and replaces it).
func (s *scanner) str() (v []byte, plain bool) {
	start := s.i + 1
	plain = true
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i:i], plain
		case c < 0x20:
			return nil, false
		case c == '\\':
			plain = false
			if i+1 >= len(s.b) {
				return nil, false
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(s.b) {
					return nil, false
				}
				for _, h := range s.b[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false
					}
				}
				i += 5
			default:
				return nil, false
			}
		}
	}
	return nil, false
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// integer reads a JSON number without fraction or exponent that fits an
// int (what encoding/json decodes into an int field).
func (s *scanner) integer() bool {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - digits
	if n == 0 || n > 1 && s.b[digits] == '0' {
		return false
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	_, err := strconv.ParseInt(string(s.b[start:s.i]), 10, strconv.IntSize)
	return err == nil
}
