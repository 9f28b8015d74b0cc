package indexer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/internal/blockgen"
	"github.com/countycredit/creditledger/indexer/keys"
)

// sim is a stand-in for the network in tests: it runs the chaincode's own
// domain operations (package credit) against an in-memory world state and
// turns their state changes into transactions and hash-chained blocks, so
// that write sets hold exactly the keys and JSON the chaincode writes.
// Transactions marked invalid are built but do not change the world state,
// as a committing peer would do.
type sim struct {
	world map[string][]byte
	chain *blockgen.Chain
	seq   int
}

func newSim(channel string) *sim {
	return &sim{world: map[string][]byte{}, chain: blockgen.NewChain(channel)}
}

func ck(k credit.Key) string { return string(keys.CompositeKey(k.ObjectType, k.Attrs...)) }

func (s *sim) get(k credit.Key) []byte { return s.world[ck(k)] }

func loadInto(s *sim, kind, id string, v any) error {
	b := s.get(credit.RecordKey(kind, id))
	if b == nil {
		return fmt.Errorf("%s %s: %w", kind, id, credit.ErrNotFound)
	}
	return json.Unmarshal(b, v)
}

func (s *sim) record(kind, id string) (credit.Record, error) {
	r := credit.NewRecord(kind)
	if r == nil {
		return nil, fmt.Errorf("kind %q: %w", kind, credit.ErrInvalid)
	}
	return r, loadInto(s, kind, id, r)
}

func (s *sim) calendars(year int) *credit.Calendar {
	b := s.get(credit.CalendarKey(year))
	if b == nil {
		return nil
	}
	c, err := credit.UnmarshalCalendar(b)
	if err != nil {
		return nil
	}
	return c
}

// actor returns a county staff identity: spec is "county" or
// "county/role".
func actor(spec string) credit.Actor {
	county, role, ok := strings.Cut(spec, "/")
	if !ok {
		role = credit.RoleOfficer
	}
	msp := "County" + county + "MSP"
	return credit.Actor{MSPID: msp, County: county, Role: role, Dept: credit.DeptCreditOffice,
		ID: "x509::CN=" + role + "@c" + county + ".credit.local::CN=ca.c" + county + ".credit.local"}
}

// call runs one chaincode function (DESIGN §5) with its JSON argument.
func (s *sim) call(fn string, arg []byte, a credit.Actor, tx credit.Tx) (credit.Change, error) {
	rules := credit.WithDefault(nil)
	decode := func(v any) error { return credit.DecodeRequest(arg, v) }
	switch fn {
	case "RegisterCounty":
		var req credit.RegisterCountyRequest
		if err := decode(&req); err != nil {
			return credit.Change{}, err
		}
		var byCode *credit.County
		if b := s.get(credit.CountyKey(req.Code)); b != nil {
			byCode = &credit.County{}
			if err := json.Unmarshal(b, byCode); err != nil {
				return credit.Change{}, err
			}
		}
		return credit.RegisterCounty(req, byCode, string(s.get(credit.CountyMSPKey(a.MSPID))), a, tx)
	case "MakeCommitment":
		var req credit.MakeCommitmentRequest
		if err := decode(&req); err != nil {
			return credit.Change{}, err
		}
		return credit.MakeCommitment(req, a, tx, s.calendars)
	case "FulfilCommitment":
		var req credit.FulfilCommitmentRequest
		var c credit.Commitment
		if err := firstErr(decode(&req), func() error { return loadInto(s, credit.TypeCommitment, req.ID, &c) }); err != nil {
			return credit.Change{}, err
		}
		return credit.FulfilCommitment(&c, req, a, tx)
	case "BreachCommitment":
		var req credit.BreachCommitmentRequest
		var c credit.Commitment
		if err := firstErr(decode(&req), func() error { return loadInto(s, credit.TypeCommitment, req.ID, &c) }); err != nil {
			return credit.Change{}, err
		}
		return credit.BreachCommitment(&c, req, a, tx)
	case "ImposePunishment":
		var req credit.ImposePunishmentRequest
		if err := decode(&req); err != nil {
			return credit.Change{}, err
		}
		var d *credit.Dishonesty
		if req.DishonestyID != "" {
			d = &credit.Dishonesty{}
			if err := loadInto(s, credit.TypeDishonesty, req.DishonestyID, d); err != nil {
				return credit.Change{}, err
			}
		}
		return credit.ImposePunishment(req, d, rules, a, tx)
	case "RevokePunishment":
		var req credit.RevokePunishmentRequest
		var p credit.Punishment
		if err := firstErr(decode(&req), func() error { return loadInto(s, credit.TypePunishment, req.ID, &p) }); err != nil {
			return credit.Change{}, err
		}
		return credit.RevokePunishment(&p, req, a, tx)
	case "RecordEnforcement":
		var req credit.RecordEnforcementRequest
		var p credit.Punishment
		if err := firstErr(decode(&req), func() error { return loadInto(s, credit.TypePunishment, req.PunishmentID, &p) }); err != nil {
			return credit.Change{}, err
		}
		return credit.RecordEnforcement(&p, req, a, tx)
	case "ApplyRepair":
		var req credit.ApplyRepairRequest
		var p credit.Punishment
		if err := firstErr(decode(&req), func() error { return loadInto(s, credit.TypePunishment, req.PunishmentID, &p) }); err != nil {
			return credit.Change{}, err
		}
		return credit.ApplyRepair(&p, req, a, tx)
	case "AcceptRepair":
		var req credit.RepairRequest
		var r credit.Repair
		if err := firstErr(decode(&req), func() error { return loadInto(s, credit.TypeRepair, req.ID, &r) }); err != nil {
			return credit.Change{}, err
		}
		return credit.AcceptRepair(&r, req, a, tx)
	case "CompleteRepair", "RejectRepair":
		var req struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(arg, &req); err != nil {
			return credit.Change{}, err
		}
		var r credit.Repair
		var p credit.Punishment
		if err := firstErr(
			func() error { return loadInto(s, credit.TypeRepair, req.ID, &r) }(),
			func() error { return loadInto(s, credit.TypePunishment, r.PunishmentID, &p) },
		); err != nil {
			return credit.Change{}, err
		}
		if fn == "CompleteRepair" {
			var cr credit.CompleteRepairRequest
			if err := decode(&cr); err != nil {
				return credit.Change{}, err
			}
			return credit.CompleteRepair(&r, &p, cr, a, tx)
		}
		var rr credit.RejectRepairRequest
		if err := decode(&rr); err != nil {
			return credit.Change{}, err
		}
		return credit.RejectRepair(&r, &p, rr, a, tx)
	case "RaiseObjection":
		var req credit.RaiseObjectionRequest
		if err := decode(&req); err != nil {
			return credit.Change{}, err
		}
		rec, err := s.record(req.RecordKind, req.RecordID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.RaiseObjection(rec, req, a, tx)
	case "AnswerObjection":
		var req credit.AnswerObjectionRequest
		var o credit.Objection
		if err := firstErr(decode(&req), func() error { return loadInto(s, credit.TypeObjection, req.ID, &o) }); err != nil {
			return credit.Change{}, err
		}
		rec, err := s.record(o.RecordKind, o.RecordID)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.AnswerObjection(&o, rec, req, rules, a, tx)
	}
	return credit.Change{}, fmt.Errorf("unknown chaincode function %q", fn)
}

func firstErr(err error, next func() error) error {
	if err != nil {
		return err
	}
	return next()
}

// txBuilder accumulates one transaction's writes, per namespace.
type txBuilder struct {
	tx     blockgen.Tx
	writes map[string]map[string]blockgen.Write // namespace → key → write
	order  []string                             // namespaces in order of first write
}

func (b *txBuilder) write(ns string, w blockgen.Write) {
	if b.writes == nil {
		b.writes = map[string]map[string]blockgen.Write{}
	}
	if b.writes[ns] == nil {
		b.writes[ns] = map[string]blockgen.Write{}
		b.order = append(b.order, ns)
	}
	b.writes[ns][w.Key] = w // last write of a key wins, as in Fabric's simulator
}

// build returns the transaction with Fabric's write-set shape: one
// read-write set per namespace, writes sorted by key.
func (b *txBuilder) build() blockgen.Tx {
	tx := b.tx
	for _, ns := range b.order {
		var ws []blockgen.Write
		for _, w := range b.writes[ns] {
			ws = append(ws, w)
		}
		slices.SortFunc(ws, func(x, y blockgen.Write) int { return strings.Compare(x.Key, y.Key) })
		tx.RWSets = append(tx.RWSets, blockgen.NsRWSet{Namespace: ns, Writes: ws})
	}
	return tx
}

// invoke runs fn into the transaction being built, against the world state
// (including the effects of earlier valid transactions of the block).
func (s *sim) invoke(b *txBuilder, fn string, arg []byte, a credit.Actor) error {
	ch, err := s.call(fn, arg, a, credit.Tx{ID: b.tx.ID, Time: b.tx.Time})
	if err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	for _, d := range ch.Dels {
		b.write(DefaultNamespace, blockgen.Write{Key: ck(d), Delete: true})
	}
	for _, p := range ch.Puts {
		b.write(DefaultNamespace, blockgen.Write{Key: ck(p.Key), Value: p.Value})
	}
	return nil
}

// commit applies a valid transaction's credit writes to the world state.
func (s *sim) commit(tx blockgen.Tx) {
	if tx.Code != peer.TxValidationCode_VALID || tx.Type == common.HeaderType_CONFIG {
		return
	}
	for _, rw := range tx.RWSets {
		if rw.Namespace != DefaultNamespace {
			continue
		}
		for _, w := range rw.Writes {
			if w.Delete || len(w.Value) == 0 {
				delete(s.world, w.Key)
			} else {
				s.world[w.Key] = w.Value
			}
		}
	}
}

func (s *sim) txID() string {
	s.seq++
	sum := sha256.Sum256([]byte(fmt.Sprintf("sim-tx-%d", s.seq)))
	return hex.EncodeToString(sum[:])
}

var (
	creditCodeRe = regexp.MustCompile(`\b([0-9A-Z]{17})\*`)
	personRe     = regexp.MustCompile(`\bP:([a-z0-9-]+)`)
	hashRe       = regexp.MustCompile(`\bH:([0-9a-f])\b`)
)

// expandSubjects replaces test shorthands for subjects: a 17-character
// code prefix followed by "*" becomes the full unified social credit code
// (check character appended), "P:name" a person subject ("P" + 64 hex),
// and "H:x" (one hex digit) a document hash of 64 x's.
func expandSubjects(s string) string {
	s = hashRe.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat(m[2:], 64) })
	s = creditCodeRe.ReplaceAllStringFunc(s, func(m string) string {
		return credit.CompleteCreditCode(m[:17])
	})
	return personRe.ReplaceAllStringFunc(s, func(m string) string {
		sum := sha256.Sum256([]byte(m[2:]))
		return "P" + hex.EncodeToString(sum[:])
	})
}

// txTime parses a transaction time; RFC 3339, or a date meaning 10:00 in
// UTC+8 that day.
func txTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := keys.ParseDate(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339 or YYYY-MM-DD", s)
	}
	return d.Time().Add(10 * time.Hour).UTC(), nil
}
