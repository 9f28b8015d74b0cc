package credit

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// Roles carried by the "role" attribute of a county staff certificate.
const (
	RoleOfficer = "officer"
	RoleAuditor = "auditor"
	RoleAdmin   = "admin"
)

// DeptCreditOffice is the county credit office itself (信用办): its officers
// may record on behalf of any department.
const DeptCreditOffice = "credit-office"

// Actor is the caller of an operation, resolved by the binding from the
// X.509 identity and the county registry.
type Actor struct {
	MSPID  string // Fabric MSP ID
	County string // county code from the registry; "" if the MSP is not registered
	Role   string // officer | auditor | admin | "" (read only)
	Dept   string // department code from the "dept" attribute
	ID     string // the identity's GetID(), recorded as createdBy
}

// Tx is the transaction an operation runs in. Time is the transaction
// timestamp, the only "now" the rules know.
type Tx struct {
	ID   string
	Time time.Time
}

// Date is the date of the transaction timestamp in UTC+8.
func (t Tx) Date() Date { return DateOf(t.Time) }

// Put is one state write. Owner, on the write that creates a record or
// county key, is the county code whose peers must endorse every later change
// of the key (key-level endorsement); "" sets no key policy (updates, index
// keys, governance data).
type Put struct {
	Key   Key
	Value []byte
	Owner string
}

// Event is the one chaincode event of a write transaction (DESIGN §5).
type Event struct {
	Name    string `json:"-"`
	Action  string `json:"action"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	Subject string `json:"subject"`
	County  string `json:"county"`
	TxTime  string `json:"txTime"`
}

// Change is the result of a write operation: the state writes and deletes to
// apply (in order: deletes, then puts), the event, and the main resulting
// value returned to the client.
type Change struct {
	Dels   []Key
	Puts   []Put
	Event  Event
	Result any
}

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$`)
	refPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$`)
	deptPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Text length limits, in characters.
const (
	maxShortText = 200  // decision numbers, names
	maxText      = 2000 // reasons, notes, answers, legal bases
	maxContent   = 4000 // commitment content
)

// ValidateID checks a client-chosen record ID (DESIGN §5).
func ValidateID(field, id string) error {
	if id == "" {
		return invalid(field, "is required")
	}
	if !idPattern.MatchString(id) {
		return invalid(field, "%q must match %s (3-64 letters, digits, '.', '_' or '-', starting with a letter or digit)", id, idPattern)
	}
	return nil
}

// ValidateRef checks a reference to an existing record: a client-chosen ID
// or a derived one ("<id>.breach", "<id>.commitment"), up to 128 characters.
func ValidateRef(field, id string) error {
	if id == "" {
		return invalid(field, "is required")
	}
	if !refPattern.MatchString(id) {
		return invalid(field, "%q must match %s", id, refPattern)
	}
	return nil
}

// ValidateDept checks a department code (DESIGN §4).
func ValidateDept(field, d string) error {
	if !deptPattern.MatchString(d) {
		return invalid(field, "%q must match %s", d, deptPattern)
	}
	return nil
}

// validateHash checks a SHA-256 hex digest; required says whether "" is refused.
func validateHash(field, h string, required bool) error {
	if h == "" {
		if required {
			return invalid(field, "is required (SHA-256, 64 lower-case hex)")
		}
		return nil
	}
	if !hashPattern.MatchString(h) {
		return invalid(field, "must be a SHA-256 digest, 64 lower-case hex characters")
	}
	return nil
}

// validateText checks free text: required or not, valid UTF-8, no NUL, at
// most max characters.
func validateText(field, s string, required bool, max int) error {
	if s == "" {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	for _, r := range s {
		if r == 0 {
			return invalid(field, "must not contain NUL characters")
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "has %d characters, at most %d allowed", n, max)
	}
	return nil
}

func validateDateField(field, s string, required bool) (Date, error) {
	if s == "" {
		if required {
			return Date{}, invalid(field, "is required (YYYY-MM-DD)")
		}
		return Date{}, nil
	}
	d, err := ParseDate(s)
	if err != nil {
		return Date{}, invalid(field, "%v", err)
	}
	return d, nil
}

// requireOfficer refuses callers that are not officers of a registered county.
func requireOfficer(a Actor, action string) error {
	if a.County == "" {
		return fmt.Errorf("%s: MSP %q is not a registered county: %w", action, a.MSPID, ErrForbidden)
	}
	if a.Role != RoleOfficer {
		return fmt.Errorf("%s: role %q may not write records, only %q: %w", action, a.Role, RoleOfficer, ErrForbidden)
	}
	if a.Dept == "" {
		return fmt.Errorf("%s: the officer's identity has no %q attribute: %w", action, "dept", ErrForbidden)
	}
	if !deptPattern.MatchString(a.Dept) {
		return fmt.Errorf("%s: the officer's %q attribute %q does not match %s: %w", action, "dept", a.Dept, deptPattern, ErrForbidden)
	}
	return nil
}

// requireOwner refuses officers of any county but owner.
func requireOwner(a Actor, owner, action, what string) error {
	if a.County != owner {
		return fmt.Errorf("%s: %s belongs to county %s, caller is county %s: %w", action, what, owner, a.County, ErrForbidden)
	}
	return nil
}

// requireAdmin refuses callers without the admin role.
func requireAdmin(a Actor, action string) error {
	if a.Role != RoleAdmin {
		return fmt.Errorf("%s: needs role %q, caller has %q: %w", action, RoleAdmin, a.Role, ErrForbidden)
	}
	return nil
}

// recordDepartment resolves the department of a new record: the officer's
// own, or, for the credit office, the one named in the request (DESIGN §4).
func recordDepartment(a Actor, requested string) (string, error) {
	if requested == "" || requested == a.Dept {
		return a.Dept, nil
	}
	if err := ValidateDept("department", requested); err != nil {
		return "", err
	}
	if a.Dept != DeptCreditOffice {
		return "", fmt.Errorf("department: an officer of %q may only record for their own department, not %q: %w", a.Dept, requested, ErrForbidden)
	}
	return requested, nil
}

// newHeader fills the common fields of a new record.
func newHeader(kind, id, subject, county, dept, state string, a Actor, tx Tx) Header {
	now := Instant(tx.Time)
	return Header{
		Kind: kind, ID: id, Subject: subject, County: county, Department: dept, State: state,
		CreatedAt: now, CreatedBy: a.ID, UpdatedAt: now, TxID: tx.ID,
	}
}

// touch marks a record as written by tx.
func touch(h *Header, tx Tx) {
	h.UpdatedAt = Instant(tx.Time)
	h.TxID = tx.ID
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own record types are marshalled; they cannot fail.
		panic(fmt.Sprintf("credit: marshal %T: %v", v, err))
	}
	return b
}

// recordWrites returns the writes for a record: its own key, the subject
// index (on creation), and the bycounty index, moved if the stored state
// changed. oldState is "" for a new record.
//
// Only the record key carries the owner's key-level policy, set when the
// record is created and never again: re-setting it on an update would make
// two updates of the key in one block fail validation with
// ENDORSEMENT_POLICY_FAILURE (a validation parameter changed by a preceding
// transaction of the block, fabric statebased validator) instead of an MVCC
// conflict that a client can retry. Index keys carry none and are guarded
// by the chaincode-level MAJORITY policy. This
// matters to the endorsement plan: a peer tells the Gateway to disregard
// the chaincode-level policy when every key a transaction writes carries a
// key-level policy (fabric core/endorser buildChaincodeInterest), yet a
// newly created key is validated against the chaincode-level policy. Every
// creation writes an index key, so its plan always includes MAJORITY.
func recordWrites(rec Record, oldState string) (dels []Key, puts []Put) {
	h := rec.Head()
	owner := ""
	if oldState == "" {
		owner = h.County // the key-level policy is set once, at creation
	}
	puts = append(puts, Put{Key: RecordKey(h.Kind, h.ID), Value: mustJSON(rec), Owner: owner})
	if oldState == "" {
		puts = append(puts, Put{Key: SubjectIndexKey(h.Subject, h.Kind, h.ID), Value: []byte(h.County)})
	}
	if oldState != h.State {
		if oldState != "" {
			dels = append(dels, ByCountyIndexKey(h.County, h.Kind, oldState, h.ID))
		}
		puts = append(puts, Put{Key: ByCountyIndexKey(h.County, h.Kind, h.State, h.ID), Value: []byte(h.Subject)})
	}
	return dels, puts
}

// add appends a record's writes to the change.
func (c *Change) add(rec Record, oldState string) {
	d, p := recordWrites(rec, oldState)
	c.Dels = append(c.Dels, d...)
	c.Puts = append(c.Puts, p...)
}

func event(name string, rec Record, tx Tx) Event {
	h := rec.Head()
	return Event{Name: name, Action: name, Kind: h.Kind, ID: h.ID, Subject: h.Subject, County: h.County, TxTime: Instant(tx.Time)}
}
