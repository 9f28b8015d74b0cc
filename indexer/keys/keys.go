package keys

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// FormatVersion is the version of the key schema and value encodings this
// package and the indexer write. It is stored under the meta key
// MetaFormat; an index with any other version is refused at open.
const FormatVersion uint32 = 1

// Prefix is the first byte of every index key: it says which table the key
// belongs to. The values are frozen format constants; never renumber one.
type Prefix byte

// Table prefixes. See the schema table in doc.go.
const (
	PrefixMeta      Prefix = 0x01
	PrefixBlock     Prefix = 0x02
	PrefixMirror    Prefix = 0x03
	PrefixHistory   Prefix = 0x04
	PrefixBySubject Prefix = 0x05
	PrefixByCounty  Prefix = 0x06
	PrefixDue       Prefix = 0x07
	PrefixCounter   Prefix = 0x08
	PrefixFacts     Prefix = 0x09
	PrefixSeen      Prefix = 0x0A
)

var prefixNames = map[Prefix]string{
	PrefixMeta:      "meta",
	PrefixBlock:     "block",
	PrefixMirror:    "mirror",
	PrefixHistory:   "history",
	PrefixBySubject: "by-subject",
	PrefixByCounty:  "by-county",
	PrefixDue:       "due",
	PrefixCounter:   "counter",
	PrefixFacts:     "facts",
	PrefixSeen:      "seen",
}

// String returns the table's name.
func (p Prefix) String() string {
	if s, ok := prefixNames[p]; ok {
		return s
	}
	return fmt.Sprintf("prefix(0x%02x)", byte(p))
}

// Meta row names.
const (
	// MetaFormat holds FormatVersion as 4 bytes big-endian.
	MetaFormat MetaName = "format"
	// MetaNamespace holds the chaincode namespace the index mirrors.
	MetaNamespace MetaName = "namespace"
	// MetaCheckpoint holds the last applied block: number, header hash and
	// last transaction ID.
	MetaCheckpoint MetaName = "checkpoint"
	// MetaStats holds the running ingest counters.
	MetaStats MetaName = "stats"
)

func expect(key []byte, p Prefix) ([]byte, error) {
	if len(key) == 0 || Prefix(key[0]) != p {
		return nil, corrupt(p.String()+" key", "does not start with prefix 0x%02x", byte(p))
	}
	return key[1:], nil
}

func done(rest []byte, p Prefix) error {
	if len(rest) != 0 {
		return corrupt(p.String()+" key", "%d trailing bytes", len(rest))
	}
	return nil
}

// decoder threads the rest of a key through a sequence of part decoders and
// keeps the first error.
type decoder struct {
	rest []byte
	err  error
}

func (d *decoder) part(p interface{ Decode([]byte) ([]byte, error) }) {
	if d.err != nil {
		return
	}
	d.rest, d.err = p.Decode(d.rest)
}

// Meta is a metadata row: PrefixMeta, Name.
type Meta struct{ Name MetaName }

// Encode appends the key to dst.
func (k Meta) Encode(dst []byte) []byte { return k.Name.Encode(append(dst, byte(PrefixMeta))) }

// Decode parses key into k.
func (k *Meta) Decode(key []byte) error {
	rest, err := expect(key, PrefixMeta)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.Name)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixMeta)
}

// String formats the key for people.
func (k Meta) String() string { return "/meta/" + k.Name.String() }

// Block is a block row: PrefixBlock, Num. Its value is the block's header
// hash and counts.
type Block struct{ Num BlockNum }

// Encode appends the key to dst.
func (k Block) Encode(dst []byte) []byte { return k.Num.Encode(append(dst, byte(PrefixBlock))) }

// Decode parses key into k.
func (k *Block) Decode(key []byte) error {
	rest, err := expect(key, PrefixBlock)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.Num)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixBlock)
}

// String formats the key for people.
func (k Block) String() string { return "/block/" + k.Num.String() }

// Mirror is a state-mirror row: PrefixMirror followed by the chaincode's
// world-state key, verbatim. Its value is the world-state value. Because the
// world-state key runs to the end, Mirror keys sort exactly like world-state
// keys.
type Mirror struct{ Key []byte }

// Encode appends the key to dst.
func (k Mirror) Encode(dst []byte) []byte { return append(append(dst, byte(PrefixMirror)), k.Key...) }

// Decode parses key into k. k.Key aliases key.
func (k *Mirror) Decode(key []byte) error {
	rest, err := expect(key, PrefixMirror)
	if err != nil {
		return err
	}
	k.Key = rest
	return nil
}

// String formats the key for people.
func (k Mirror) String() string { return "/mirror/" + FormatStateKey(k.Key) }

// History is one write to a record: PrefixHistory, Kind, ID, Block, Tx. Its
// value is the transaction ID and time, a delete flag and the value written.
type History struct {
	Kind  Kind
	ID    ID
	Block BlockNum
	Tx    TxNum
}

// Encode appends the key to dst.
func (k History) Encode(dst []byte) []byte {
	dst = append(dst, byte(PrefixHistory))
	dst = k.Kind.Encode(dst)
	dst = k.ID.Encode(dst)
	dst = k.Block.Encode(dst)
	return k.Tx.Encode(dst)
}

// Decode parses key into k.
func (k *History) Decode(key []byte) error {
	rest, err := expect(key, PrefixHistory)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.Kind)
	d.part(&k.ID)
	d.part(&k.Block)
	d.part(&k.Tx)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixHistory)
}

// String formats the key for people.
func (k History) String() string {
	return fmt.Sprintf("/history/%s/%s/%s/%s", k.Kind, k.ID, k.Block, k.Tx)
}

// HistoryPrefix returns the prefix of every History key of one record.
func HistoryPrefix(kind Kind, id ID) []byte {
	return id.Encode(kind.Encode([]byte{byte(PrefixHistory)}))
}

// BySubject lists a record under its subject: PrefixBySubject, Subject,
// Kind, ID. Its value is the owning county code. Scanning one subject yields
// its records sorted by kind, then ID.
type BySubject struct {
	Subject Subject
	Kind    Kind
	ID      ID
}

// Encode appends the key to dst.
func (k BySubject) Encode(dst []byte) []byte {
	dst = append(dst, byte(PrefixBySubject))
	dst = k.Subject.Encode(dst)
	dst = k.Kind.Encode(dst)
	return k.ID.Encode(dst)
}

// Decode parses key into k.
func (k *BySubject) Decode(key []byte) error {
	rest, err := expect(key, PrefixBySubject)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.Subject)
	d.part(&k.Kind)
	d.part(&k.ID)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixBySubject)
}

// String formats the key for people.
func (k BySubject) String() string {
	return fmt.Sprintf("/by-subject/%s/%s/%s", k.Subject, k.Kind, k.ID)
}

// BySubjectPrefix returns the prefix of every BySubject key of one subject.
func BySubjectPrefix(s Subject) []byte { return s.Encode([]byte{byte(PrefixBySubject)}) }

// ByCounty lists a record under its owning county, kind, class and stored
// state: PrefixByCounty, County, Kind, Class, State, ID. Its value is the
// subject. The row moves when the state changes.
type ByCounty struct {
	County County
	Kind   Kind
	Class  Class
	State  State
	ID     ID
}

// Encode appends the key to dst.
func (k ByCounty) Encode(dst []byte) []byte {
	dst = append(dst, byte(PrefixByCounty))
	dst = k.County.Encode(dst)
	dst = k.Kind.Encode(dst)
	dst = k.Class.Encode(dst)
	dst = k.State.Encode(dst)
	return k.ID.Encode(dst)
}

// Decode parses key into k.
func (k *ByCounty) Decode(key []byte) error {
	rest, err := expect(key, PrefixByCounty)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.County)
	d.part(&k.Kind)
	d.part(&k.Class)
	d.part(&k.State)
	d.part(&k.ID)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixByCounty)
}

// String formats the key for people.
func (k ByCounty) String() string {
	return fmt.Sprintf("/by-county/%s/%s/%s/%s/%s", k.County, k.Kind, k.Class, k.State, k.ID)
}

// ByCountyPrefix returns the prefix of every ByCounty key with the given
// county, kind, class and state.
func ByCountyPrefix(c County, kind Kind, class Class, state State) []byte {
	dst := c.Encode([]byte{byte(PrefixByCounty)})
	dst = kind.Encode(dst)
	dst = class.Encode(dst)
	return state.Encode(dst)
}

// Due orders a record by a date: PrefixDue, County, By, Date, ID. Its value
// is the subject. Open commitments are ordered by deadline, active
// punishments by the end of their publicity.
type Due struct {
	County County
	By     DueKind
	Date   Date
	ID     ID
}

// Encode appends the key to dst.
func (k Due) Encode(dst []byte) []byte {
	dst = append(dst, byte(PrefixDue))
	dst = k.County.Encode(dst)
	dst = k.By.Encode(dst)
	dst = k.Date.Encode(dst)
	return k.ID.Encode(dst)
}

// Decode parses key into k.
func (k *Due) Decode(key []byte) error {
	rest, err := expect(key, PrefixDue)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.County)
	d.part(&k.By)
	d.part(&k.Date)
	d.part(&k.ID)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixDue)
}

// String formats the key for people.
func (k Due) String() string {
	return fmt.Sprintf("/due/%s/%s/%s/%s", k.County, k.By, k.Date, k.ID)
}

// DuePrefix returns the prefix of every Due key of one county and due kind.
func DuePrefix(c County, by DueKind) []byte {
	return by.Encode(c.Encode([]byte{byte(PrefixDue)}))
}

// DueDateBound returns the smallest possible Due key with the given county,
// due kind and date: every key with an earlier date sorts before it and
// every key with this date or a later one sorts at or after it.
func DueDateBound(c County, by DueKind, d Date) []byte { return d.Encode(DuePrefix(c, by)) }

// Counter is one indicator counter: PrefixCounter, County, Month, Indicator.
// Its value is a signed 64-bit count, 8 bytes big-endian; a counter that
// reaches zero is deleted.
type Counter struct {
	County    County
	Month     Month
	Indicator Indicator
}

// Encode appends the key to dst.
func (k Counter) Encode(dst []byte) []byte {
	dst = append(dst, byte(PrefixCounter))
	dst = k.County.Encode(dst)
	dst = k.Month.Encode(dst)
	return k.Indicator.Encode(dst)
}

// Decode parses key into k.
func (k *Counter) Decode(key []byte) error {
	rest, err := expect(key, PrefixCounter)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.County)
	d.part(&k.Month)
	d.part(&k.Indicator)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixCounter)
}

// String formats the key for people.
func (k Counter) String() string {
	return fmt.Sprintf("/counter/%s/%s/%s", k.County, k.Month, k.Indicator)
}

// CounterPrefix returns the prefix of every Counter key of one county.
func CounterPrefix(c County) []byte { return c.Encode([]byte{byte(PrefixCounter)}) }

// CounterMonthBound returns the smallest possible Counter key of the county
// and month.
func CounterMonthBound(c County, m Month) []byte { return m.Encode(CounterPrefix(c)) }

// Facts holds what the indexer derived about one record: PrefixFacts, Kind,
// ID. Its value is the record's facts (owner, subject, class, state, dates
// of its transitions), from which index rows and indicator contributions are
// computed.
type Facts struct {
	Kind Kind
	ID   ID
}

// Encode appends the key to dst.
func (k Facts) Encode(dst []byte) []byte {
	dst = append(dst, byte(PrefixFacts))
	dst = k.Kind.Encode(dst)
	return k.ID.Encode(dst)
}

// Decode parses key into k.
func (k *Facts) Decode(key []byte) error {
	rest, err := expect(key, PrefixFacts)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.Kind)
	d.part(&k.ID)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixFacts)
}

// String formats the key for people.
func (k Facts) String() string { return fmt.Sprintf("/facts/%s/%s", k.Kind, k.ID) }

// Seen marks that a county's records have named a subject: PrefixSeen,
// County, Subject. Its value holds the months the subject was first seen
// and first named by a commitment. Rows are never deleted.
type Seen struct {
	County  County
	Subject Subject
}

// Encode appends the key to dst.
func (k Seen) Encode(dst []byte) []byte {
	dst = append(dst, byte(PrefixSeen))
	dst = k.County.Encode(dst)
	return k.Subject.Encode(dst)
}

// Decode parses key into k.
func (k *Seen) Decode(key []byte) error {
	rest, err := expect(key, PrefixSeen)
	if err != nil {
		return err
	}
	d := decoder{rest: rest}
	d.part(&k.County)
	d.part(&k.Subject)
	if d.err != nil {
		return d.err
	}
	return done(d.rest, PrefixSeen)
}

// String formats the key for people.
func (k Seen) String() string { return fmt.Sprintf("/seen/%s/%s", k.County, k.Subject) }

// PrefixEnd returns the smallest key greater than every key that starts
// with prefix, for use as an exclusive upper bound. It returns nil (no
// bound) when prefix is all 0xFF bytes.
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// Format formats any index key for people, dispatching on its prefix. A key
// that does not decode is shown as "corrupt(<hex>)".
func Format(key []byte) string {
	if len(key) == 0 {
		return "corrupt()"
	}
	var s fmt.Stringer
	var err error
	switch Prefix(key[0]) {
	case PrefixMeta:
		var k Meta
		err, s = k.Decode(key), &k
	case PrefixBlock:
		var k Block
		err, s = k.Decode(key), &k
	case PrefixMirror:
		var k Mirror
		err, s = k.Decode(key), &k
	case PrefixHistory:
		var k History
		err, s = k.Decode(key), &k
	case PrefixBySubject:
		var k BySubject
		err, s = k.Decode(key), &k
	case PrefixByCounty:
		var k ByCounty
		err, s = k.Decode(key), &k
	case PrefixDue:
		var k Due
		err, s = k.Decode(key), &k
	case PrefixCounter:
		var k Counter
		err, s = k.Decode(key), &k
	case PrefixFacts:
		var k Facts
		err, s = k.Decode(key), &k
	case PrefixSeen:
		var k Seen
		err, s = k.Decode(key), &k
	default:
		return fmt.Sprintf("corrupt(%x)", key)
	}
	if err != nil {
		return fmt.Sprintf("corrupt(%x)", key)
	}
	return s.String()
}

// Fabric composite keys (DESIGN §7): 0x00, the object type, 0x00, then each
// attribute followed by 0x00. Fabric refuses 0x00 inside the object type
// and the attributes.
const compositeSep = 0x00

// CompositeKey returns the chaincode's world-state key for objectType and
// attrs, byte for byte what stub.CreateCompositeKey returns.
func CompositeKey(objectType string, attrs ...string) []byte {
	n := 2 + len(objectType)
	for _, a := range attrs {
		n += len(a) + 1
	}
	k := make([]byte, 0, n)
	k = append(k, compositeSep)
	k = append(k, objectType...)
	k = append(k, compositeSep)
	for _, a := range attrs {
		k = append(k, a...)
		k = append(k, compositeSep)
	}
	return k
}

// SplitCompositeKey splits a world-state key made by CompositeKey. ok is
// false when key is not a composite key (it does not start with 0x00, or
// does not end with 0x00).
func SplitCompositeKey(key []byte) (objectType string, attrs []string, ok bool) {
	if len(key) < 2 || key[0] != compositeSep || key[len(key)-1] != compositeSep {
		return "", nil, false
	}
	parts := strings.Split(string(key[1:len(key)-1]), string(rune(compositeSep)))
	return parts[0], parts[1:], true
}

// FormatStateKey formats a world-state key for people: a composite key as
// objectType{attr,attr}, any other key quoted.
func FormatStateKey(key []byte) string {
	ot, attrs, ok := SplitCompositeKey(key)
	if !ok {
		return strconv.Quote(string(key))
	}
	return ot + "{" + strings.Join(attrs, ",") + "}"
}
