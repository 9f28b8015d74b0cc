package indexer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// Lookups. Each one reads a consistent snapshot (the index as of one
// applied block), validates its arguments first (errors wrap
// credit.ErrInvalid through a *credit.FieldError naming the argument), and
// returns records decoded into the chaincode's own types with DerivedState
// computed against the as-of date by the chaincode's own rule
// (credit.Record.Derive): a made commitment reads overdue from the day after
// its deadline, an active punishment reads expired from its maxEnd. Records
// are never shared between calls: the caller owns them.

// Profile is everything on record about one subject.
type Profile struct {
	Subject string      `json:"subject"`
	AsOf    credit.Date `json:"asOf"`
	// Height is the number of blocks the index had applied when read.
	Height uint64 `json:"height"`
	// Records are every record naming the subject, sorted by kind then ID,
	// as the chaincode's SubjectRecords sorts them.
	Records []credit.Record `json:"records"`
}

// HistoryEntry is one write to a record.
type HistoryEntry struct {
	Block uint64 `json:"block"`
	TxNum uint32 `json:"txNum"`
	TxID  string `json:"txId"`
	// Timestamp is the transaction time, RFC 3339 UTC (DESIGN §2).
	Timestamp string `json:"timestamp"`
	IsDelete  bool   `json:"isDelete"`
	// Record is the value written, byte for byte; null for a delete.
	Record json.RawMessage `json:"record"`
}

func invalid(field, rule string) error { return &credit.FieldError{Field: field, Rule: rule} }

func checkCounty(county string) error {
	if county == string(keys.AllCounties) {
		return invalid("county", "a county code is required here, not *")
	}
	return credit.ValidateCountyCode("county", county)
}

func checkAsOf(asOf credit.Date) error {
	if asOf.IsZero() {
		return invalid("asOf", "required")
	}
	return nil
}

func checkKind(kind string) error {
	if !credit.IsRecordKind(kind) {
		return invalid("kind", fmt.Sprintf("must be one of %v", credit.RecordKinds))
	}
	return nil
}

func checkID(id string) error {
	if id == "" {
		return invalid("id", "required")
	}
	return nil
}

// checkpointKey is the key of the checkpoint row.
var checkpointKey = keys.Meta{Name: keys.MetaCheckpoint}.Encode(nil)

// readHeight reads the height from a snapshot.
func readHeight(s *pebble.Snapshot) (uint64, error) {
	v, closer, err := s.Get(checkpointKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", keys.Format(checkpointKey), err)
	}
	block, derr := checkpointBlock(v)
	if err := closer.Close(); err != nil {
		return 0, err
	}
	if derr != nil {
		return 0, derr
	}
	return block + 1, nil
}

// loadRecord reads and decodes the mirrored record kind{id}; nil if absent.
func loadRecord(s *pebble.Snapshot, kind, id string, asOf credit.Date) (credit.Record, error) {
	v, err := getFrom(s, keys.Mirror{Key: keys.CompositeKey(kind, id)}.Encode(nil))
	if err != nil || v == nil {
		return nil, err
	}
	rec, err := decodeRecord(kind, id, v)
	if err != nil {
		return nil, err
	}
	rec.Derive(asOf)
	return rec, nil
}

// scan calls fn for every key in [lower, upper) of the snapshot.
func scan(s *pebble.Snapshot, lower, upper []byte, fn func(k, v []byte) error) error {
	it, err := s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return err
	}
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return errors.Join(err, it.Close())
		}
		if err := fn(it.Key(), v); err != nil {
			return errors.Join(err, it.Close())
		}
	}
	return errors.Join(it.Error(), it.Close())
}

// SubjectProfile returns every record naming subject (an enterprise's
// unified social credit code or a person's "P"+hash, DESIGN §3), with
// derived states as of asOf. A subject with no records gets an empty
// profile, not an error.
func (db *DB) SubjectProfile(subject string, asOf credit.Date) (*Profile, error) {
	if _, err := credit.ParseSubject("subject", subject); err != nil {
		return nil, fmt.Errorf("subject profile: %w", err)
	}
	if err := checkAsOf(asOf); err != nil {
		return nil, fmt.Errorf("subject profile: %w", err)
	}
	p := &Profile{Subject: subject, AsOf: asOf}
	err := db.view(func(s *pebble.Snapshot) error {
		var err error
		if p.Height, err = readHeight(s); err != nil {
			return err
		}
		p.Records, err = subjectRecords(s, subject, asOf)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("subject profile %s: %w", subject, err)
	}
	return p, nil
}

// Record returns one record with its derived state as of asOf. A record
// that does not exist (or was deleted) gives an error wrapping
// credit.ErrNotFound.
func (db *DB) Record(kind, id string, asOf credit.Date) (credit.Record, error) {
	if err := errors.Join(checkKind(kind), checkID(id), checkAsOf(asOf)); err != nil {
		return nil, fmt.Errorf("get record: %w", err)
	}
	var rec credit.Record
	err := db.view(func(s *pebble.Snapshot) error {
		var err error
		rec, err = loadRecord(s, kind, id, asOf)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get record %s %s: %w", kind, id, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("get record %s %s: %w", kind, id, credit.ErrNotFound)
	}
	return rec, nil
}

// RecordHistory returns every write to the record kind{id}, oldest first,
// block by block, including deletes. kind may be any object type with a
// one-attribute key (a record kind, county, ruleset, calendar). A record
// never written gives an error wrapping credit.ErrNotFound.
func (db *DB) RecordHistory(kind, id string) ([]HistoryEntry, error) {
	if err := errors.Join(checkID(id), func() error {
		if kind == "" {
			return invalid("kind", "required")
		}
		return nil
	}()); err != nil {
		return nil, fmt.Errorf("record history: %w", err)
	}
	var out []HistoryEntry
	err := db.view(func(s *pebble.Snapshot) error {
		prefix := keys.HistoryPrefix(keys.Kind(kind), keys.ID(id))
		return scan(s, prefix, keys.PrefixEnd(prefix), func(k, v []byte) error {
			var hk keys.History
			if err := hk.Decode(k); err != nil {
				return err
			}
			hv, err := decodeHistory(v)
			if err != nil {
				return fmt.Errorf("%s: %w", hk, err)
			}
			e := HistoryEntry{Block: uint64(hk.Block), TxNum: uint32(hk.Tx), TxID: hv.TxID,
				Timestamp: credit.Instant(hv.Time), IsDelete: hv.IsDelete}
			if !hv.IsDelete {
				e.Record = json.RawMessage(bytes.Clone(hv.Value))
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("record history %s %s: %w", kind, id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("record history %s %s: %w", kind, id, credit.ErrNotFound)
	}
	return out, nil
}

// countyRecords returns the records listed under a by-county prefix, in ID
// order, keeping those keep accepts.
func countyRecords[T credit.Record](db *DB, asOf credit.Date, prefixes [][]byte, keep func(T) bool) ([]T, error) {
	out := []T{}
	err := db.view(func(s *pebble.Snapshot) error {
		for _, prefix := range prefixes {
			err := scan(s, prefix, keys.PrefixEnd(prefix), func(k, _ []byte) error {
				var bc keys.ByCounty
				if err := bc.Decode(k); err != nil {
					return err
				}
				rec, err := loadRecord(s, string(bc.Kind), string(bc.ID), asOf)
				if err != nil {
					return err
				}
				t, ok := rec.(T)
				if !ok {
					return fmt.Errorf("index lists %s %s under county %s but the record is not mirrored", bc.Kind, bc.ID, bc.County)
				}
				if keep == nil || keep(t) {
					out = append(out, t)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func onList(county, class string, asOf credit.Date, db *DB) ([]*credit.Punishment, error) {
	prefix := keys.ByCountyPrefix(keys.County(county), credit.TypePunishment, keys.Class(class), credit.StateActive)
	return countyRecords(db, asOf, [][]byte{prefix}, func(p *credit.Punishment) bool {
		return p.DerivedState == credit.StateActive
	})
}

// BlackList returns the county's black-list punishments (严重失信主体名单)
// that are in publicity on asOf: stored state active and not yet expired.
// The county is the imposing county. Sorted by ID.
func (db *DB) BlackList(county string, asOf credit.Date) ([]*credit.Punishment, error) {
	if err := errors.Join(checkCounty(county), checkAsOf(asOf)); err != nil {
		return nil, fmt.Errorf("black list: %w", err)
	}
	ps, err := onList(county, credit.PunishmentBlacklist, asOf, db)
	if err != nil {
		return nil, fmt.Errorf("black list of %s: %w", county, err)
	}
	return ps, nil
}

// WatchList returns the county's watch-list punishments (重点关注名单) in
// publicity on asOf, as BlackList does for the black list.
func (db *DB) WatchList(county string, asOf credit.Date) ([]*credit.Punishment, error) {
	if err := errors.Join(checkCounty(county), checkAsOf(asOf)); err != nil {
		return nil, fmt.Errorf("watch list: %w", err)
	}
	ps, err := onList(county, credit.PunishmentWatchlist, asOf, db)
	if err != nil {
		return nil, fmt.Errorf("watch list of %s: %w", county, err)
	}
	return ps, nil
}

// dueRecords returns the records of a due table in [from, to) by date then
// ID.
func dueRecords[T credit.Record](db *DB, county string, by keys.DueKind, kind string, from, to keys.Date, asOf credit.Date) ([]T, error) {
	out := []T{}
	err := db.view(func(s *pebble.Snapshot) error {
		lower := keys.DuePrefix(keys.County(county), by)
		if from != 0 {
			lower = keys.DueDateBound(keys.County(county), by, from)
		}
		upper := keys.DueDateBound(keys.County(county), by, to)
		return scan(s, lower, upper, func(k, _ []byte) error {
			var d keys.Due
			if err := d.Decode(k); err != nil {
				return err
			}
			rec, err := loadRecord(s, kind, string(d.ID), asOf)
			if err != nil {
				return err
			}
			t, ok := rec.(T)
			if !ok {
				return fmt.Errorf("due index lists %s %s but the record is not mirrored", kind, d.ID)
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// OverdueCommitments returns the county's commitments that are overdue on
// asOf: still made, with a deadline before asOf. Sorted by deadline, then
// ID. The county is the one the commitment was made in.
func (db *DB) OverdueCommitments(county string, asOf credit.Date) ([]*credit.Commitment, error) {
	if err := errors.Join(checkCounty(county), checkAsOf(asOf)); err != nil {
		return nil, fmt.Errorf("overdue commitments: %w", err)
	}
	cs, err := dueRecords[*credit.Commitment](db, county, keys.DueDeadline, credit.TypeCommitment, 0, toKeysDate(asOf), asOf)
	if err != nil {
		return nil, fmt.Errorf("overdue commitments of %s: %w", county, err)
	}
	return cs, nil
}

// PublicityEnding returns the county's punishments (every kind) whose
// publicity ends within days days of asOf: stored state active, still in
// publicity on asOf (maxEnd after asOf), and maxEnd no later than asOf +
// days. A record reads expired from its maxEnd on (DESIGN §2), so days = 0
// gives none and days = 1 those whose last day of publicity is asOf. Sorted
// by maxEnd, then ID.
func (db *DB) PublicityEnding(county string, asOf credit.Date, days int) ([]*credit.Punishment, error) {
	err := errors.Join(checkCounty(county), checkAsOf(asOf))
	if days < 0 || days > 3660 {
		err = errors.Join(err, invalid("days", "must be between 0 and 3660"))
	}
	if err != nil {
		return nil, fmt.Errorf("publicity ending: %w", err)
	}
	from := toKeysDate(asOf).AddDays(1)
	to := toKeysDate(asOf).AddDays(days + 1)
	ps, err := dueRecords[*credit.Punishment](db, county, keys.DuePublicityEnd, credit.TypePunishment, from, to, asOf)
	if err != nil {
		return nil, fmt.Errorf("publicity ending in %s: %w", county, err)
	}
	return ps, nil
}

// RepairsAwaitingDecision returns the county's repair applications that
// await its decision: applied (to be accepted or rejected), then accepted
// (to be completed or rejected), each sorted by ID. The county is the
// imposing county, which owns the repair. Repairs have no derived state;
// asOf is taken for uniformity with the other lookups.
func (db *DB) RepairsAwaitingDecision(county string, asOf credit.Date) ([]*credit.Repair, error) {
	if err := errors.Join(checkCounty(county), checkAsOf(asOf)); err != nil {
		return nil, fmt.Errorf("repairs awaiting decision: %w", err)
	}
	c := keys.County(county)
	prefixes := [][]byte{
		keys.ByCountyPrefix(c, credit.TypeRepair, "", credit.StateApplied),
		keys.ByCountyPrefix(c, credit.TypeRepair, "", credit.StateAccepted),
	}
	rs, err := countyRecords[*credit.Repair](db, asOf, prefixes, nil)
	if err != nil {
		return nil, fmt.Errorf("repairs awaiting decision in %s: %w", county, err)
	}
	return rs, nil
}

// MirrorGet returns the mirrored world-state value of key, and whether the
// key exists.
func (db *DB) MirrorGet(key []byte) ([]byte, bool, error) {
	var v []byte
	err := db.view(func(s *pebble.Snapshot) error {
		var err error
		v, err = getFrom(s, keys.Mirror{Key: key}.Encode(nil))
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("mirror get %s: %w", keys.FormatStateKey(key), err)
	}
	return v, v != nil, nil
}

// ScanMirror calls fn for every mirrored world-state key in [start, end),
// in key order (the order of the chaincode's range queries), with its
// value; a nil end means no upper bound. It reads one consistent snapshot.
// key and value are only valid during the call. A non-nil error from fn
// stops the scan and is returned. Reconcile pages through the chaincode's
// world state and compares it with this scan.
func (db *DB) ScanMirror(start, end []byte, fn func(key, value []byte) error) error {
	lower := keys.Mirror{Key: start}.Encode(nil)
	upper := keys.PrefixEnd([]byte{byte(keys.PrefixMirror)})
	if end != nil {
		upper = keys.Mirror{Key: end}.Encode(nil)
	}
	err := db.view(func(s *pebble.Snapshot) error {
		return scan(s, lower, upper, func(k, v []byte) error { return fn(k[1:], v) })
	})
	if err != nil {
		return fmt.Errorf("scan mirror: %w", err)
	}
	return nil
}
