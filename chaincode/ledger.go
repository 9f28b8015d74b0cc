package chaincode

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// ledger wraps the stub of one transaction: typed reads of the key schema,
// application of a credit.Change with key-level endorsement, and the caller.
type ledger struct {
	stub     shim.ChaincodeStubInterface
	counties map[string]*credit.County // cache: code -> county (nil = absent)
}

func newLedger(stub shim.ChaincodeStubInterface) *ledger {
	return &ledger{stub: stub, counties: map[string]*credit.County{}}
}

func (l *ledger) key(k credit.Key) (string, error) {
	s, err := l.stub.CreateCompositeKey(k.ObjectType, k.Attrs)
	if err != nil {
		return "", fmt.Errorf("build key %s: %w", k, err)
	}
	return s, nil
}

// get returns the value at k, or nil if absent.
func (l *ledger) get(k credit.Key) ([]byte, error) {
	s, err := l.key(k)
	if err != nil {
		return nil, err
	}
	b, err := l.stub.GetState(s)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", k, err)
	}
	return b, nil
}

// tx returns the transaction ID and timestamp.
func (l *ledger) tx() (credit.Tx, error) {
	ts, err := l.stub.GetTxTimestamp()
	if err != nil {
		return credit.Tx{}, fmt.Errorf("read transaction timestamp: %w", err)
	}
	if ts == nil {
		return credit.Tx{}, errors.New("read transaction timestamp: none in the proposal")
	}
	return credit.Tx{ID: l.stub.GetTxID(), Time: time.Unix(ts.GetSeconds(), int64(ts.GetNanos())).UTC()}, nil
}

// actor resolves the caller from its X.509 identity (DESIGN §4).
func (l *ledger) actor() (credit.Actor, error) {
	ci, err := cid.New(l.stub)
	if err != nil {
		return credit.Actor{}, fmt.Errorf("read caller identity: %v: %w", err, credit.ErrForbidden)
	}
	var a credit.Actor
	if a.MSPID, err = ci.GetMSPID(); err != nil {
		return credit.Actor{}, fmt.Errorf("read caller MSP ID: %v: %w", err, credit.ErrForbidden)
	}
	if a.ID, err = ci.GetID(); err != nil {
		return credit.Actor{}, fmt.Errorf("read caller ID: %v: %w", err, credit.ErrForbidden)
	}
	role, _, err := ci.GetAttributeValue("role")
	if err != nil {
		return credit.Actor{}, fmt.Errorf("read caller role attribute: %v: %w", err, credit.ErrForbidden)
	}
	dept, _, err := ci.GetAttributeValue("dept")
	if err != nil {
		return credit.Actor{}, fmt.Errorf("read caller dept attribute: %v: %w", err, credit.ErrForbidden)
	}
	a.Role, a.Dept = role, dept
	if a.Role == "" {
		// An MSP admin (NodeOU "admin", e.g. cryptogen's Admin@) counts as admin.
		if cert, _ := ci.GetX509Certificate(); cert != nil {
			for _, ou := range cert.Subject.OrganizationalUnit {
				if ou == "admin" {
					a.Role = credit.RoleAdmin
				}
			}
		}
	}
	code, err := l.get(credit.CountyMSPKey(a.MSPID))
	if err != nil {
		return credit.Actor{}, err
	}
	a.County = string(code)
	if a.County != "" {
		// The registry index (countymsp) carries no key-level policy, so a
		// majority of counties could re-point an MSP at another county's
		// code. The county's own entry carries that county's key-level
		// policy (DESIGN §7): the caller is that county only if the entry
		// names the caller's MSP.
		c, err := l.county(a.County)
		if err != nil {
			return credit.Actor{}, err
		}
		if c == nil || c.MSPID != a.MSPID {
			named := "none"
			if c != nil {
				named = c.MSPID
			}
			return credit.Actor{}, fmt.Errorf("caller MSP %s: the registry index maps it to county %s, whose entry names MSP %s: %w",
				a.MSPID, a.County, named, credit.ErrForbidden)
		}
	}
	return a, nil
}

// county returns the registry entry of a county, or nil.
func (l *ledger) county(code string) (*credit.County, error) {
	if c, ok := l.counties[code]; ok {
		return c, nil
	}
	b, err := l.get(credit.CountyKey(code))
	if err != nil {
		return nil, err
	}
	var c *credit.County
	if b != nil {
		c = new(credit.County)
		if err := json.Unmarshal(b, c); err != nil {
			return nil, fmt.Errorf("decode county %s: %w", code, err)
		}
	}
	l.counties[code] = c
	return c, nil
}

// record loads a record of the given kind; NOT_FOUND if absent.
func (l *ledger) record(kind, id string) (credit.Record, error) {
	rec := credit.NewRecord(kind)
	if rec == nil {
		return nil, &credit.FieldError{Field: "kind", Rule: fmt.Sprintf("%q is not one of %v", kind, credit.RecordKinds)}
	}
	b, err := l.get(credit.RecordKey(kind, id))
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, credit.ErrNotFound)
	}
	if err := json.Unmarshal(b, rec); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", kind, id, err)
	}
	return rec, nil
}

// mustBeNew refuses an ID already used by a record of that kind (DESIGN §5:
// a retried transaction can never create a second record).
func (l *ledger) mustBeNew(kind, field, id string) error {
	if err := credit.ValidateRef(field, id); err != nil {
		return err
	}
	b, err := l.get(credit.RecordKey(kind, id))
	if err != nil {
		return err
	}
	if b != nil {
		return fmt.Errorf("%s %s: %w", kind, id, credit.ErrExists)
	}
	return nil
}

// typed loads a record of kind named by a request field, checking the ID.
func typed[T credit.Record](l *ledger, kind, field, id string) (T, error) {
	var zero T
	if err := credit.ValidateRef(field, id); err != nil {
		return zero, err
	}
	rec, err := l.record(kind, id)
	if err != nil {
		return zero, err
	}
	t, ok := rec.(T)
	if !ok {
		return zero, fmt.Errorf("%s %s: stored record has type %T", kind, id, rec)
	}
	return t, nil
}

func (l *ledger) commitment(field, id string) (*credit.Commitment, error) {
	return typed[*credit.Commitment](l, credit.TypeCommitment, field, id)
}

func (l *ledger) punishment(field, id string) (*credit.Punishment, error) {
	return typed[*credit.Punishment](l, credit.TypePunishment, field, id)
}

// punishmentWithOpenRepair reads a punishment and its open-repair lock
// (credit.OpenRepairKey) into OpenRepairID, for ApplyRepair only: other
// transactions that read a punishment do not read the lock, so they do not
// conflict with repair applications (completion and rejection release the
// lock without reading it).
func (l *ledger) punishmentWithOpenRepair(field, id string) (*credit.Punishment, error) {
	p, err := l.punishment(field, id)
	if err != nil {
		return nil, err
	}
	b, err := l.get(credit.OpenRepairKey(p.ID))
	if err != nil {
		return nil, err
	}
	p.OpenRepairID = string(b)
	return p, nil
}

// repairAndPunishment reads repair id and the punishment it repairs.
func (l *ledger) repairAndPunishment(id string) (*credit.Repair, *credit.Punishment, error) {
	rp, err := l.repair("id", id)
	if err != nil {
		return nil, nil, err
	}
	p, err := l.punishment("punishmentId", rp.PunishmentID)
	if err != nil {
		return nil, nil, err
	}
	return rp, p, nil
}

func (l *ledger) repair(field, id string) (*credit.Repair, error) {
	return typed[*credit.Repair](l, credit.TypeRepair, field, id)
}

// installedRuleSets returns the rule sets installed on the ledger.
func (l *ledger) installedRuleSets() ([]credit.RuleSet, error) {
	it, err := l.stub.GetStateByPartialCompositeKey(credit.TypeRuleSet, nil)
	if err != nil {
		return nil, fmt.Errorf("list rule sets: %w", err)
	}
	defer it.Close()
	var out []credit.RuleSet
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list rule sets: %w", err)
		}
		rs, err := credit.UnmarshalRuleSet(kv.GetValue())
		if err != nil {
			return nil, err
		}
		out = append(out, rs)
	}
	return out, nil
}

// ruleSets returns the rule sets in force: the installed ones and the
// built-in default, sorted by effective date.
func (l *ledger) ruleSets() ([]credit.RuleSet, error) {
	installed, err := l.installedRuleSets()
	if err != nil {
		return nil, err
	}
	return credit.WithDefault(installed), nil
}

// calendars returns a lookup of the installed calendars. A calendar that
// cannot be read or decoded counts as absent for the lookup and is reported
// through the returned error function.
func (l *ledger) calendars() (credit.CalendarLookup, func() error) {
	var firstErr error
	return func(year int) *credit.Calendar {
			b, err := l.get(credit.CalendarKey(year))
			if err != nil || b == nil {
				if firstErr == nil {
					firstErr = err
				}
				return nil
			}
			c, err := credit.UnmarshalCalendar(b)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return nil
			}
			return c
		}, func() error {
			return firstErr
		}
}

// endorsementPolicy returns the key-level endorsement policy requiring a
// peer of the county's MSP.
func (l *ledger) endorsementPolicy(code string) ([]byte, error) {
	c, err := l.county(code)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("key-level endorsement: county %s is not registered", code)
	}
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		return nil, fmt.Errorf("key-level endorsement: %w", err)
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, c.MSPID); err != nil {
		return nil, fmt.Errorf("key-level endorsement for %s: %w", c.MSPID, err)
	}
	pol, err := ep.Policy()
	if err != nil {
		return nil, fmt.Errorf("key-level endorsement for %s: %w", c.MSPID, err)
	}
	return pol, nil
}

// apply writes a change: deletes, puts (each with the owner's key-level
// endorsement policy), and the one event. The writes go to the peer as one
// write batch (fabric-chaincode-go's StartWriteBatch; Fabric 3.1 peers
// accept it, chaincode.runtimeParams.useWriteBatch), not one message
// each: a record's creation is three keys and a validation parameter, and
// batching them cut the CPU a MakeCommitment costs the network by about a
// tenth (docs/PERFORMANCE.md). A peer without batching takes them one by
// one, as before.
func (l *ledger) apply(ch credit.Change) error {
	l.stub.StartWriteBatch()
	for _, k := range ch.Dels {
		s, err := l.key(k)
		if err != nil {
			return err
		}
		if err := l.stub.DelState(s); err != nil {
			return fmt.Errorf("delete %s: %w", k, err)
		}
	}
	policies := map[string][]byte{}
	for _, p := range ch.Puts {
		s, err := l.key(p.Key)
		if err != nil {
			return err
		}
		if err := l.stub.PutState(s, p.Value); err != nil {
			return fmt.Errorf("write %s: %w", p.Key, err)
		}
		if p.Owner == "" {
			continue
		}
		pol, ok := policies[p.Owner]
		if !ok {
			if pol, err = l.endorsementPolicy(p.Owner); err != nil {
				return err
			}
			policies[p.Owner] = pol
		}
		if err := l.stub.SetStateValidationParameter(s, pol); err != nil {
			return fmt.Errorf("set key-level endorsement of %s: %w", p.Key, err)
		}
	}
	if err := l.stub.FinishWriteBatch(); err != nil {
		return fmt.Errorf("send writes: %w", err)
	}
	if ch.Event.Name != "" {
		payload, err := json.Marshal(ch.Event)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		if err := l.stub.SetEvent(ch.Event.Name, payload); err != nil {
			return fmt.Errorf("set event %s: %w", ch.Event.Name, err)
		}
	}
	return nil
}
