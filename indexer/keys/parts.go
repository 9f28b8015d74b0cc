package keys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrCorrupt is returned (wrapped) by every Decode when the bytes are not a
// valid encoding of the part or key being decoded.
var ErrCorrupt = errors.New("corrupt index key")

func corrupt(part, format string, args ...any) error {
	return fmt.Errorf("decode %s: %s: %w", part, fmt.Sprintf(format, args...), ErrCorrupt)
}

// Escaped strings. A string part is written as its bytes with every 0x00
// replaced by 0x00 0xFF, followed by the terminator 0x00 0x01. The encoding
// keeps byte order (a < b as strings iff enc(a) < enc(b)) and never lets one
// part be a prefix of a longer one, so a part can be followed by more parts.
const (
	escByte     = 0x00
	escEscaped  = 0xFF
	escTerminal = 0x01
)

func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == escByte {
			dst = append(dst, escByte, escEscaped)
			continue
		}
		dst = append(dst, s[i])
	}
	return append(dst, escByte, escTerminal)
}

func decodeString(part string, src []byte) (string, []byte, error) {
	var buf []byte
	for i := 0; i < len(src); i++ {
		if src[i] != escByte {
			continue
		}
		if i+1 >= len(src) {
			return "", nil, corrupt(part, "truncated escape at byte %d", i)
		}
		switch src[i+1] {
		case escTerminal:
			if buf == nil {
				return string(src[:i]), src[i+2:], nil
			}
			buf = append(buf, src[:i]...)
			return string(buf), src[i+2:], nil
		case escEscaped:
			buf = append(buf, src[:i]...)
			buf = append(buf, escByte)
			src = src[i+2:]
			i = -1
		default:
			return "", nil, corrupt(part, "invalid escape 0x00 0x%02x", src[i+1])
		}
	}
	return "", nil, corrupt(part, "missing terminator")
}

// Kind is a record's object type in the chaincode's key schema (DESIGN §7),
// e.g. "commitment" or "punishment".
type Kind string

// Encode appends the escaped encoding of k to dst.
func (k Kind) Encode(dst []byte) []byte { return appendString(dst, string(k)) }

// Decode reads a Kind from the front of src and returns the rest.
func (k *Kind) Decode(src []byte) ([]byte, error) {
	s, rest, err := decodeString("kind", src)
	*k = Kind(s)
	return rest, err
}

// String returns the kind as is.
func (k Kind) String() string { return string(k) }

// ID is a record ID chosen by the client (DESIGN §5), or the single attribute
// of any one-attribute composite key (a rule set version, a county code).
type ID string

// Encode appends the escaped encoding of id to dst.
func (id ID) Encode(dst []byte) []byte { return appendString(dst, string(id)) }

// Decode reads an ID from the front of src and returns the rest.
func (id *ID) Decode(src []byte) ([]byte, error) {
	s, rest, err := decodeString("id", src)
	*id = ID(s)
	return rest, err
}

// String returns the ID as is.
func (id ID) String() string { return string(id) }

// Subject is a subject as it appears in record JSON (DESIGN §3): an
// 18-character unified social credit code, or "P" and 64 hex characters.
type Subject string

// Encode appends the escaped encoding of s to dst.
func (s Subject) Encode(dst []byte) []byte { return appendString(dst, string(s)) }

// Decode reads a Subject from the front of src and returns the rest.
func (s *Subject) Decode(src []byte) ([]byte, error) {
	v, rest, err := decodeString("subject", src)
	*s = Subject(v)
	return rest, err
}

// String returns the subject as is.
func (s Subject) String() string { return string(s) }

// County is a county code (six digits), or AllCounties for the aggregate
// over every county.
type County string

// AllCounties is the county of the indicator rows that aggregate every
// county. It sorts before every real county code.
const AllCounties County = "*"

// Encode appends the escaped encoding of c to dst.
func (c County) Encode(dst []byte) []byte { return appendString(dst, string(c)) }

// Decode reads a County from the front of src and returns the rest.
func (c *County) Decode(src []byte) ([]byte, error) {
	v, rest, err := decodeString("county", src)
	*c = County(v)
	return rest, err
}

// String returns the county code as is.
func (c County) String() string { return string(c) }

// Class is the class of a record within its kind: the commitment kind
// (approval, missing-materials, …) or the punishment kind (publicity,
// blacklist, watchlist); empty for kinds that have none.
type Class string

// Encode appends the escaped encoding of c to dst.
func (c Class) Encode(dst []byte) []byte { return appendString(dst, string(c)) }

// Decode reads a Class from the front of src and returns the rest.
func (c *Class) Decode(src []byte) ([]byte, error) {
	v, rest, err := decodeString("class", src)
	*c = Class(v)
	return rest, err
}

// String returns the class, or "-" when it is empty.
func (c Class) String() string {
	if c == "" {
		return "-"
	}
	return string(c)
}

// State is a record's stored state (DESIGN §8), never a derived one.
type State string

// Encode appends the escaped encoding of s to dst.
func (s State) Encode(dst []byte) []byte { return appendString(dst, string(s)) }

// Decode reads a State from the front of src and returns the rest.
func (s *State) Decode(src []byte) ([]byte, error) {
	v, rest, err := decodeString("state", src)
	*s = State(v)
	return rest, err
}

// String returns the state as is.
func (s State) String() string { return string(s) }

// MetaName names a metadata row (the format version, the checkpoint, …).
type MetaName string

// Encode appends the escaped encoding of m to dst.
func (m MetaName) Encode(dst []byte) []byte { return appendString(dst, string(m)) }

// Decode reads a MetaName from the front of src and returns the rest.
func (m *MetaName) Decode(src []byte) ([]byte, error) {
	v, rest, err := decodeString("meta name", src)
	*m = MetaName(v)
	return rest, err
}

// String returns the name as is.
func (m MetaName) String() string { return string(m) }

// BlockNum is a block number, encoded as 8 bytes big-endian.
type BlockNum uint64

// Encode appends the 8-byte big-endian encoding of b to dst.
func (b BlockNum) Encode(dst []byte) []byte { return binary.BigEndian.AppendUint64(dst, uint64(b)) }

// Decode reads a BlockNum from the front of src and returns the rest.
func (b *BlockNum) Decode(src []byte) ([]byte, error) {
	if len(src) < 8 {
		return nil, corrupt("block number", "%d bytes, want 8", len(src))
	}
	*b = BlockNum(binary.BigEndian.Uint64(src))
	return src[8:], nil
}

// String returns the number in decimal.
func (b BlockNum) String() string { return strconv.FormatUint(uint64(b), 10) }

// TxNum is a transaction's position in its block, encoded as 4 bytes
// big-endian.
type TxNum uint32

// Encode appends the 4-byte big-endian encoding of t to dst.
func (t TxNum) Encode(dst []byte) []byte { return binary.BigEndian.AppendUint32(dst, uint32(t)) }

// Decode reads a TxNum from the front of src and returns the rest.
func (t *TxNum) Decode(src []byte) ([]byte, error) {
	if len(src) < 4 {
		return nil, corrupt("tx number", "%d bytes, want 4", len(src))
	}
	*t = TxNum(binary.BigEndian.Uint32(src))
	return src[4:], nil
}

// String returns the number in decimal.
func (t TxNum) String() string { return strconv.FormatUint(uint64(t), 10) }

// cst is China Standard Time, UTC+8, a fixed offset with no tzdata lookup
// (DESIGN §2).
var cst = time.FixedZone("CST", 8*60*60)

// Date is a civil date in China Standard Time (DESIGN §2), held as the
// decimal number yyyymmdd so that numeric order is date order. The zero Date
// means "no date". Encoded as 4 bytes big-endian.
type Date uint32

// MakeDate returns the date y-m-d. Out-of-range days and months are
// normalised the way time.Date does it.
func MakeDate(y int, m time.Month, d int) Date {
	return dateOfCivil(time.Date(y, m, d, 0, 0, 0, 0, cst))
}

func dateOfCivil(t time.Time) Date {
	y, m, d := t.Date()
	if y < 1 || y > 9999 {
		return 0
	}
	return Date(y*10000 + int(m)*100 + d)
}

// DateOf returns the UTC+8 calendar date of the instant t.
func DateOf(t time.Time) Date { return dateOfCivil(t.In(cst)) }

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, cst)
	if err != nil {
		return 0, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	d := dateOfCivil(t)
	if d == 0 {
		return 0, fmt.Errorf("parse date %q: year out of range 1-9999", s)
	}
	return d, nil
}

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	if d == 0 {
		return false
	}
	y, m, day := int(d/10000), time.Month(d/100%100), int(d%100)
	return MakeDate(y, m, day) == d
}

// Time returns midnight of d in UTC+8.
func (d Date) Time() time.Time {
	return time.Date(int(d/10000), time.Month(d/100%100), int(d%100), 0, 0, 0, 0, cst)
}

// AddDays returns the date n days after d (before, if n < 0).
func (d Date) AddDays(n int) Date { return dateOfCivil(d.Time().AddDate(0, 0, n)) }

// AddMonths returns the same day of the month n months later, clamped to the
// last day of the target month (DESIGN §2: 2024-02-29 + 12 months =
// 2025-02-28).
func (d Date) AddMonths(n int) Date {
	y, m, day := int(d/10000), int(d/100%100), int(d%100)
	total := y*12 + (m - 1) + n
	ty, tm := total/12, time.Month(total%12+1)
	last := time.Date(ty, tm+1, 0, 0, 0, 0, 0, cst).Day()
	if day > last {
		day = last
	}
	return MakeDate(ty, tm, day)
}

// Month returns the month d falls in.
func (d Date) Month() Month { return Month(d / 100) }

// Encode appends the 4-byte big-endian encoding of d to dst.
func (d Date) Encode(dst []byte) []byte { return binary.BigEndian.AppendUint32(dst, uint32(d)) }

// Decode reads a Date from the front of src and returns the rest. Only real
// calendar dates decode.
func (d *Date) Decode(src []byte) ([]byte, error) {
	if len(src) < 4 {
		return nil, corrupt("date", "%d bytes, want 4", len(src))
	}
	v := Date(binary.BigEndian.Uint32(src))
	if !v.Valid() {
		return nil, corrupt("date", "%d is not a calendar date", uint32(v))
	}
	*d = v
	return src[4:], nil
}

// String returns "YYYY-MM-DD", or "-" for the zero Date.
func (d Date) String() string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}

// Month is a calendar month, held as yyyymm. Encoded as 4 bytes big-endian.
type Month uint32

// MakeMonth returns the month y-m.
func MakeMonth(y int, m time.Month) Month { return MakeDate(y, m, 1).Month() }

// MonthOf returns the UTC+8 calendar month of the instant t.
func MonthOf(t time.Time) Month { return DateOf(t).Month() }

// ParseMonth parses "YYYY-MM".
func ParseMonth(s string) (Month, error) {
	d, err := ParseDate(s + "-01")
	if err != nil {
		return 0, fmt.Errorf("parse month %q: want YYYY-MM", s)
	}
	return d.Month(), nil
}

// Valid reports whether m is a real month.
func (m Month) Valid() bool {
	y, mm := m/100, m%100
	return y >= 1 && y <= 9999 && mm >= 1 && mm <= 12
}

// First returns the first day of m.
func (m Month) First() Date { return Date(m*100 + 1) }

// Last returns the last day of m.
func (m Month) Last() Date { return m.Next().First().AddDays(-1) }

// Next returns the month after m.
func (m Month) Next() Month { return m.First().AddMonths(1).Month() }

// Encode appends the 4-byte big-endian encoding of m to dst.
func (m Month) Encode(dst []byte) []byte { return binary.BigEndian.AppendUint32(dst, uint32(m)) }

// Decode reads a Month from the front of src and returns the rest. Only real
// months decode.
func (m *Month) Decode(src []byte) ([]byte, error) {
	if len(src) < 4 {
		return nil, corrupt("month", "%d bytes, want 4", len(src))
	}
	v := Month(binary.BigEndian.Uint32(src))
	if !v.Valid() {
		return nil, corrupt("month", "%d is not a month", uint32(v))
	}
	*m = v
	return src[4:], nil
}

// String returns "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m/100, m%100) }

// DueKind says which date a due-index row is ordered by.
type DueKind uint8

// Due kinds. Frozen: the values are part of the on-disk format.
const (
	// DueDeadline orders open commitments by their deadline.
	DueDeadline DueKind = 1
	// DuePublicityEnd orders active punishments by the day their publicity
	// ends (the maximum period; the record reads expired from that day on).
	DuePublicityEnd DueKind = 2
)

var dueKindNames = map[DueKind]string{
	DueDeadline:     "deadline",
	DuePublicityEnd: "publicity-end",
}

// Encode appends the one-byte encoding of k to dst.
func (k DueKind) Encode(dst []byte) []byte { return append(dst, byte(k)) }

// Decode reads a DueKind from the front of src and returns the rest. Only
// known due kinds decode.
func (k *DueKind) Decode(src []byte) ([]byte, error) {
	if len(src) < 1 {
		return nil, corrupt("due kind", "empty")
	}
	v := DueKind(src[0])
	if _, ok := dueKindNames[v]; !ok {
		return nil, corrupt("due kind", "unknown value %d", src[0])
	}
	*k = v
	return src[1:], nil
}

// String returns the due kind's name.
func (k DueKind) String() string {
	if s, ok := dueKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("due-kind(%d)", uint8(k))
}

// Indicator names a county indicator counter. Frozen: the values are part of
// the on-disk format. Flow indicators count events in the month of the row;
// gauge indicators (see IsGauge) store the change in the month of the row,
// and their value at the end of a month is the sum over that month and every
// earlier one.
type Indicator uint8

// Indicators. See docs/INDEXER.md for the exact definitions.
const (
	// ListActive (gauge): black-list and watch-list punishments in publicity.
	ListActive Indicator = 1
	// ListEntries (flow): black-list and watch-list punishments imposed.
	ListEntries Indicator = 2
	// ListExitsRepaired (flow): list punishments that left publicity by repair.
	ListExitsRepaired Indicator = 3
	// ListExitsRevoked (flow): list punishments that left publicity by revocation.
	ListExitsRevoked Indicator = 4
	// ListExitsExpired (flow): list punishments whose maximum publicity ended.
	ListExitsExpired Indicator = 5
	// RepairsApplied (flow): repair applications received.
	RepairsApplied Indicator = 6
	// RepairsCompleted (flow): repairs completed.
	RepairsCompleted Indicator = 7
	// RepairTraining (flow): completed repairs of serious cases that carry a
	// repair-training evidence hash.
	RepairTraining Indicator = 8
	// CommitmentsMade (flow).
	CommitmentsMade Indicator = 9
	// CommitmentsFulfilled (flow).
	CommitmentsFulfilled Indicator = 10
	// CommitmentsBreached (flow).
	CommitmentsBreached Indicator = 11
	// OverdueEntries (flow): commitments that became overdue.
	OverdueEntries Indicator = 12
	// OverdueActive (gauge): commitments overdue and still open.
	OverdueActive Indicator = 13
	// SubjectsSeen (gauge, never decreases): subjects named by any record of
	// the county.
	SubjectsSeen Indicator = 14
	// SubjectsCommitted (gauge, never decreases): subjects named by a
	// commitment of the county.
	SubjectsCommitted Indicator = 15
)

var indicatorNames = map[Indicator]string{
	ListActive:           "list-active",
	ListEntries:          "list-entries",
	ListExitsRepaired:    "list-exits-repaired",
	ListExitsRevoked:     "list-exits-revoked",
	ListExitsExpired:     "list-exits-expired",
	RepairsApplied:       "repairs-applied",
	RepairsCompleted:     "repairs-completed",
	RepairTraining:       "repair-training",
	CommitmentsMade:      "commitments-made",
	CommitmentsFulfilled: "commitments-fulfilled",
	CommitmentsBreached:  "commitments-breached",
	OverdueEntries:       "overdue-entries",
	OverdueActive:        "overdue-active",
	SubjectsSeen:         "subjects-seen",
	SubjectsCommitted:    "subjects-committed",
}

// IsGauge reports whether rows of i hold changes to be summed over months.
func (i Indicator) IsGauge() bool {
	switch i {
	case ListActive, OverdueActive, SubjectsSeen, SubjectsCommitted:
		return true
	}
	return false
}

// Encode appends the one-byte encoding of i to dst.
func (i Indicator) Encode(dst []byte) []byte { return append(dst, byte(i)) }

// Decode reads an Indicator from the front of src and returns the rest. Only
// known indicators decode.
func (i *Indicator) Decode(src []byte) ([]byte, error) {
	if len(src) < 1 {
		return nil, corrupt("indicator", "empty")
	}
	v := Indicator(src[0])
	if _, ok := indicatorNames[v]; !ok {
		return nil, corrupt("indicator", "unknown value %d", src[0])
	}
	*i = v
	return src[1:], nil
}

// String returns the indicator's name.
func (i Indicator) String() string {
	if s, ok := indicatorNames[i]; ok {
		return s
	}
	return fmt.Sprintf("indicator(%d)", uint8(i))
}
