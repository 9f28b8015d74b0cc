package credit

import "fmt"

// Object types of the world-state composite keys (DESIGN §7). They are part
// of the ledger format: never change one.
const (
	TypeCommitment  = "commitment"
	TypePunishment  = "punishment"
	TypeDishonesty  = "dishonesty"
	TypeEnforcement = "enforcement"
	TypeRepair      = "repair"
	TypeObjection   = "objection"
	TypeRuleSet     = "ruleset"
	TypeCalendar    = "calendar"
	TypeCounty      = "county"
	TypeCountyMSP   = "countymsp"
	TypeSubject     = "subject"
	TypeByCounty    = "bycounty"
	TypeOpenRepair  = "openrepair"
)

// ObjectTypes are every object type of the world state, in the order of
// DESIGN §7: what a full comparison of the state (reconcile, ListState)
// covers.
var ObjectTypes = []string{
	TypeCommitment, TypePunishment, TypeDishonesty, TypeEnforcement, TypeRepair, TypeObjection,
	TypeRuleSet, TypeCalendar, TypeCounty, TypeCountyMSP, TypeSubject, TypeByCounty, TypeOpenRepair,
	TypeCertificate, TypeCertCounty, TypeBaseline,
}

// RecordKinds are the object types of the six record families, sorted; they
// are the values of "kind" in record JSON and in index keys.
var RecordKinds = []string{TypeCommitment, TypeDishonesty, TypeEnforcement, TypeObjection, TypePunishment, TypeRepair}

// IsRecordKind reports whether k is one of RecordKinds.
func IsRecordKind(k string) bool {
	for _, r := range RecordKinds {
		if r == k {
			return true
		}
	}
	return false
}

// Key is a composite key before encoding: the binding turns it into a state
// key with stub.CreateCompositeKey(ObjectType, Attrs).
type Key struct {
	ObjectType string
	Attrs      []string
}

func (k Key) String() string { return fmt.Sprintf("%s%q", k.ObjectType, k.Attrs) }

// RecordKey is the key of a record of the given kind (commitment, …).
func RecordKey(kind, id string) Key { return Key{kind, []string{id}} }

// RuleSetKey is the key of a rule set version.
func RuleSetKey(version string) Key { return Key{TypeRuleSet, []string{version}} }

// CalendarKey is the key of the working-day calendar of a year (4 digits).
func CalendarKey(year int) Key { return Key{TypeCalendar, []string{fmt.Sprintf("%04d", year)}} }

// CountyKey is the key of a county in the registry.
func CountyKey(code string) Key { return Key{TypeCounty, []string{code}} }

// CountyMSPKey maps an MSP ID to its county code.
func CountyMSPKey(mspID string) Key { return Key{TypeCountyMSP, []string{mspID}} }

// SubjectIndexKey indexes a record under its subject; the value is the
// owning county code.
func SubjectIndexKey(subject, kind, id string) Key {
	return Key{TypeSubject, []string{subject, kind, id}}
}

// OpenRepairKey is the lock that allows at most one open repair per
// punishment; its value is the open repair's ID. It is a key of its own,
// not a field of the punishment, so that a repair application received by
// another county never writes the imposing county's record.
func OpenRepairKey(punishmentID string) Key { return Key{TypeOpenRepair, []string{punishmentID}} }

// ByCountyIndexKey indexes a record under its owning county and stored
// state; the value is the subject. It moves when the state changes.
func ByCountyIndexKey(county, kind, state, id string) Key {
	return Key{TypeByCounty, []string{county, kind, state, id}}
}
