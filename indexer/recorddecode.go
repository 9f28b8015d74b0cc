package indexer

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// Reading records, at lookup and at ingest. A lookup returns the
// chaincode's own record types; decoding them with encoding/json was about
// three quarters of the allocations of a subject profile (reflection, a
// copy of every string, Date.UnmarshalJSON decoding each date twice), and
// about 40 % of building a block at ingest (recordfields.go, which takes a
// few fields of the record). decodeRecordValue decodes a record value in
// one pass into the same type: it vouches for a value only
// when encoding/json would accept it and give the same record, and leaves
// everything else — an unknown or repeated field name, null, a number
// that is not a plain integer, a surrogate escape, invalid UTF-8, a date
// it does not read itself, a type it has no rule for — to the strict
// decoder (decodeRecord), which then decides and words any error exactly
// as before. The tables are built by reflection from credit's types, so a
// field added there is decoded here. Strings are cut from one string
// holding the value (the caller's), not copied one by one.
// TestDecodeRecordValueMatchesStrict and FuzzDecodeRecordValue check the
// agreement.

// decType is what a struct field accepts, as far as the decoder knows.
type decType uint8

const (
	dUnknown   decType = iota // no rule: left to the strict decoder
	dString                   // a string kind
	dDate                     // credit.Date: "" or YYYY-MM-DD
	dBool                     // a bool kind
	dInt                      // an int kind
	dStrings                  // exactly []string
	dStruct                   // a struct
	dPtrStruct                // a pointer to a struct
)

// decField is one JSON field of a struct.
type decField struct {
	name  string
	typ   decType
	index []int // reflect field index, through an embedded struct
	sub   *decSchema
}

// decSchema lists a struct's JSON fields.
type decSchema struct {
	typ    reflect.Type
	fields []decField
}

// lookup finds the field named name, trying from field from on first:
// json.Marshal writes fields in struct order, so the next field is
// usually the one after the last.
func (s *decSchema) lookup(name string, from int) int {
	for i := from; i < len(s.fields); i++ {
		if s.fields[i].name == name {
			return i
		}
	}
	for i := 0; i < from && i < len(s.fields); i++ {
		if s.fields[i].name == name {
			return i
		}
	}
	return -1
}

var stringsType = reflect.TypeFor[[]string]()

// decSchemaOf builds the schema of struct type t by encoding/json's
// naming rules; whatever it is unsure of it marks dUnknown.
func decSchemaOf(t reflect.Type) *decSchema {
	s := &decSchema{typ: t}
	var add func(t reflect.Type, index []int)
	add = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag, hasTag := sf.Tag.Lookup("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" && !strings.Contains(tag, ",") {
				continue
			}
			idx := append(slices.Clone(index), i)
			if sf.Anonymous && !hasTag && sf.Type.Kind() == reflect.Struct {
				add(sf.Type, idx) // embedded Header: its fields are the record's
				continue
			}
			if !sf.IsExported() && !sf.Anonymous {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			f := decField{name: name, index: idx}
			ft := sf.Type
			switch {
			case sf.Anonymous:
				// An embedded pointer or non-struct: not ours to decide.
			case ft == dateType:
				f.typ = dDate
			case strings.Contains(tag, ",string") || decodesItself(ft):
			case ft.Kind() == reflect.String:
				f.typ = dString
			case ft.Kind() == reflect.Bool:
				f.typ = dBool
			case ft.Kind() == reflect.Int:
				f.typ = dInt
			case ft == stringsType:
				f.typ = dStrings
			case ft.Kind() == reflect.Struct:
				f.typ, f.sub = dStruct, decSchemaOf(ft)
			case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct && !decodesItself(ft.Elem()):
				f.typ, f.sub = dPtrStruct, decSchemaOf(ft.Elem())
			}
			// A name given twice (a field shadowing an embedded one) is
			// left to encoding/json's rules.
			if j := s.lookup(name, 0); j >= 0 {
				s.fields[j].typ = dUnknown
				continue
			}
			s.fields = append(s.fields, f)
		}
	}
	add(t, nil)
	return s
}

// recordDecSchemas are the schemas of the record kinds, by kind.
var recordDecSchemas = func() map[string]*decSchema {
	out := map[string]*decSchema{}
	for _, kind := range credit.RecordKinds {
		out[kind] = decSchemaOf(reflect.TypeOf(credit.NewRecord(kind)).Elem())
	}
	return out
}()

// decodeRecordValue decodes the value written under the record key
// kind{id} and checks it as decodeRecord does, with the same result and the
// same errors (wrapping ErrRecord). The record's strings are cut from
// value.
func decodeRecordValue(kind, id, value string) (credit.Record, error) {
	rec, ok := fastDecodeRecord(kind, value)
	if !ok {
		return decodeRecord(kind, id, []byte(value))
	}
	if err := checkRecordFields(kind, id, fieldsOf(rec)); err != nil {
		return nil, err
	}
	return rec, nil
}

// fastDecodeRecord decodes a record of kind from its JSON; ok is false
// when the value is not one it can vouch for, and the strict decoder must
// decide.
func fastDecodeRecord(kind, value string) (credit.Record, bool) {
	sc := recordDecSchemas[kind]
	if sc == nil {
		return nil, false
	}
	rec := credit.NewRecord(kind)
	d := recDecoder{s: value}
	if !d.object(sc, reflect.ValueOf(rec).Elem()) {
		return nil, false
	}
	d.ws()
	if d.i != len(d.s) {
		return nil, false
	}
	return rec, true
}

// recDecoder reads JSON from s at i into records (a string, so that
// strings can be cut from it). Every method returns false at the first
// byte it does not accept.
type recDecoder struct {
	s string
	i int
}

func (d *recDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (d *recDecoder) next() byte {
	d.ws()
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

// str reads a string at d.i (its opening quote) and returns its contents,
// whether it is a valid JSON string, and whether it holds no escape
// sequence. It does not check UTF-8.
func (d *recDecoder) str() (v string, ok, plain bool) {
	start := d.i + 1
	plain = true
	for i := start; i < len(d.s); i++ {
		switch c := d.s[i]; {
		case c == '"':
			d.i = i + 1
			return d.s[start:i], true, plain
		case c < 0x20:
			return "", false, false
		case c == '\\':
			plain = false
			if i+1 >= len(d.s) {
				return "", false, false
			}
			switch d.s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(d.s) {
					return "", false, false
				}
				for j := i + 2; j < i+6; j++ {
					if h := d.s[j]; !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return "", false, false
					}
				}
				i += 5
			default:
				return "", false, false
			}
		}
	}
	return "", false, false
}

func (d *recDecoder) literal(lit string) bool {
	if strings.HasPrefix(d.s[d.i:], lit) {
		d.i += len(lit)
		return true
	}
	return false
}

// integer reads a JSON number without fraction or exponent that fits an
// int (what encoding/json decodes into an int field).
func (d *recDecoder) integer() (int64, bool) {
	start := d.i
	if d.i < len(d.s) && d.s[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || n > 1 && d.s[digits] == '0' {
		return 0, false
	}
	if d.i < len(d.s) {
		if c := d.s[d.i]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(d.s[start:d.i], 10, strconv.IntSize)
	return v, err == nil
}

// object reads an object of schema sc into the struct v.
func (d *recDecoder) object(sc *decSchema, v reflect.Value) bool {
	if d.next() != '{' {
		return false
	}
	d.i++
	if len(sc.fields) > 64 {
		return false
	}
	var seen uint64
	if d.next() == '}' {
		d.i++
		return true
	}
	from := 0
	for {
		if d.next() != '"' {
			return false
		}
		name, ok, plain := d.str()
		if !ok || !plain {
			return false
		}
		j := sc.lookup(name, from)
		if j < 0 || seen&(1<<j) != 0 {
			return false // unknown (or matched case-insensitively) or repeated
		}
		seen |= 1 << j
		from = j + 1
		if d.next() != ':' {
			return false
		}
		d.i++
		if !d.value(&sc.fields[j], v.FieldByIndex(sc.fields[j].index)) {
			return false
		}
		switch d.next() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// value reads the value of field fd into fv.
func (d *recDecoder) value(fd *decField, fv reflect.Value) bool {
	c := d.next()
	switch fd.typ {
	case dString:
		v, ok := d.string(c)
		if ok {
			fv.SetString(v)
		}
		return ok
	case dDate:
		if c != '"' {
			return false
		}
		v, ok, plain := d.str()
		if !ok || !plain {
			return false
		}
		var date credit.Date
		if len(v) > 0 {
			if date, ok = parseDate(v); !ok {
				return false
			}
		}
		*fv.Addr().Interface().(*credit.Date) = date
		return true
	case dBool:
		switch {
		case d.literal("true"):
			fv.SetBool(true)
		case d.literal("false"):
			fv.SetBool(false)
		default:
			return false
		}
		return true
	case dInt:
		n, ok := d.integer()
		if !ok {
			return false
		}
		fv.SetInt(n)
		return true
	case dStrings:
		if c != '[' {
			return false
		}
		d.i++
		out := []string{} // [] decodes to an empty slice, not nil
		if d.next() == ']' {
			d.i++
			*fv.Addr().Interface().(*[]string) = out
			return true
		}
		for {
			v, ok := d.string(d.next())
			if !ok {
				return false
			}
			out = append(out, v)
			switch d.next() {
			case ',':
				d.i++
			case ']':
				d.i++
				*fv.Addr().Interface().(*[]string) = out
				return true
			default:
				return false
			}
		}
	case dStruct:
		return d.object(fd.sub, fv)
	case dPtrStruct:
		if c != '{' {
			return false
		}
		p := reflect.New(fd.sub.typ)
		fv.Set(p)
		return d.object(fd.sub, p.Elem())
	}
	return false
}

// string reads a JSON string (c is the next byte) as encoding/json
// decodes it: cut from d.s when it has no escape sequence, unescaped into
// a new string otherwise. It refuses invalid UTF-8 (encoding/json replaces
// it) and \u escapes of UTF-16 surrogates (which encoding/json pairs).
func (d *recDecoder) string(c byte) (string, bool) {
	if c != '"' {
		return "", false
	}
	v, ok, plain := d.str()
	switch {
	case !ok:
		return "", false
	case plain:
		return v, utf8.ValidString(v)
	}
	return unescape(v)
}

// unescape decodes the contents of a JSON string that the decoder has
// checked (every escape is well formed).
func unescape(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b = append(b, s[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil || 0xD800 <= r && r < 0xE000 {
				return "", false
			}
			b = utf8.AppendRune(b, rune(r))
			i += 4
		default:
			return "", false
		}
	}
	return string(b), true
}

// parseDate reads "YYYY-MM-DD" as credit.ParseDate does; ok is false for
// anything else (which ParseDate then refuses or reads itself).
func parseDate(s string) (credit.Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return credit.Date{}, false
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return -1
			}
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	y, m, day := num(s[:4]), num(s[5:7]), num(s[8:])
	if y < 1900 || y > 2199 || m < 1 || m > 12 || day < 1 || day > daysInMonth(y, time.Month(m)) {
		return credit.Date{}, false
	}
	return credit.NewDate(y, time.Month(m), day), true
}

func daysInMonth(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
