package indexer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// StateReader pages through the peer's world state of one object type: the
// credit chaincode's ListState query (DESIGN §5), which returns raw
// entries in key order with a bookmark to continue. The client package's
// ListState, without its transaction result, satisfies it.
type StateReader interface {
	ListState(ctx context.Context, req credit.ListStateRequest) (*credit.ListStateResult, error)
}

// StateObjectTypes are the object types of the credit chaincode's world
// state (DESIGN §7: credit.ObjectTypes, every one of them), each of which
// Reconcile compares. Reconcile also compares any other object type it
// finds in the mirror.
var StateObjectTypes = slices.Clone(credit.ObjectTypes)

// DiffKind says how a key differs between the peer and the index.
type DiffKind string

// The kinds of difference.
const (
	// DiffMissing: the peer's world state holds the key, the index does not.
	DiffMissing DiffKind = "missing"
	// DiffExtra: the index holds the key, the peer's world state does not
	// (or the key is not a composite key, which no query can confirm).
	DiffExtra DiffKind = "extra"
	// DiffValue: both hold the key with different values.
	DiffValue DiffKind = "value"
)

// Difference is one key on which the index and the peer disagree.
type Difference struct {
	ObjectType string `json:"objectType"`
	// Key is the world-state key formatted as objectType{attr,…}.
	Key  string   `json:"key"`
	Kind DiffKind `json:"difference"`
	// Peer and Index are the values each holds ("" when absent).
	Peer  string `json:"peer"`
	Index string `json:"index"`
}

func (d Difference) String() string {
	switch d.Kind {
	case DiffMissing:
		return fmt.Sprintf("%s: on the peer, not in the index", d.Key)
	case DiffExtra:
		return fmt.Sprintf("%s: in the index, not on the peer", d.Key)
	}
	return fmt.Sprintf("%s: values differ", d.Key)
}

// TypeCount is how many keys of one object type were compared.
type TypeCount struct {
	ObjectType string `json:"objectType"`
	// Peer and Index count the keys each holds.
	Peer  int `json:"peer"`
	Index int `json:"index"`
	// Pages is the number of ListState calls.
	Pages int `json:"pages"`
}

// ReconcileReport is the outcome of Reconcile.
type ReconcileReport struct {
	// Height is the index height compared (the index's snapshot).
	Height uint64 `json:"height"`
	// Types lists every object type compared, in order.
	Types []TypeCount `json:"types"`
	// Differences lists every difference, by object type then key.
	Differences []Difference `json:"differences"`
}

// ReconcileOptions tune Reconcile. The zero value compares every object
// type with pages of 1,000 entries.
type ReconcileOptions struct {
	// ObjectTypes to compare; nil means StateObjectTypes and every other
	// object type found in the mirror.
	ObjectTypes []string
	// PageSize of each ListState call, 1-1000 (0: 1000).
	PageSize int
}

// Reconcile compares the mirror with the peer's world state, object type by
// object type, paging through the state with state.ListState and walking
// the mirror over the same key range in the same (key) order. It reads the
// index from one snapshot; the answer is only meaningful if the peer's
// world state is that of the same height (Height), which the caller
// arranges: bring the index up to the peer's height first (FollowTo) and
// check that the peer's height did not move during the comparison.
//
// Every difference is listed; a query error, or a page out of key order,
// stops the comparison with an error.
func (db *DB) Reconcile(ctx context.Context, state StateReader, opts ReconcileOptions) (*ReconcileReport, error) {
	pageSize := opts.PageSize
	if pageSize == 0 {
		pageSize = 1000
	}
	if pageSize < 1 || pageSize > 1000 {
		return nil, fmt.Errorf("reconcile: %w", invalid("pageSize", "must be between 1 and 1000"))
	}
	rep := &ReconcileReport{Differences: []Difference{}}
	err := db.view(func(s *pebble.Snapshot) error {
		var err error
		if rep.Height, err = readHeight(s); err != nil {
			return err
		}
		types := opts.ObjectTypes
		if types == nil {
			found, odd, err := mirrorObjectTypes(s)
			if err != nil {
				return err
			}
			rep.Differences = append(rep.Differences, odd...)
			types = slices.Clone(StateObjectTypes)
			for _, ot := range found {
				if !slices.Contains(types, ot) {
					types = append(types, ot)
				}
			}
		}
		for _, ot := range types {
			tc, diffs, err := reconcileType(ctx, s, state, ot, pageSize)
			if err != nil {
				return fmt.Errorf("object type %s: %w", ot, err)
			}
			rep.Types = append(rep.Types, tc)
			rep.Differences = append(rep.Differences, diffs...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return rep, nil
}

// mirrorObjectTypes lists the object types of the mirror's composite keys,
// seeking past each type's keys, and reports every key that is not a
// composite key as a difference (no query of the chaincode can show it).
func mirrorObjectTypes(s *pebble.Snapshot) ([]string, []Difference, error) {
	lower := []byte{byte(keys.PrefixMirror)}
	it, err := s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: keys.PrefixEnd(lower)})
	if err != nil {
		return nil, nil, err
	}
	var types []string
	var odd []Difference
	for valid := it.First(); valid; {
		k := it.Key()[1:]
		ot, ok := objectTypeOf(k)
		if !ok {
			v, err := it.ValueAndErr()
			if err != nil {
				return nil, nil, errors.Join(err, it.Close())
			}
			odd = append(odd, Difference{Key: keys.FormatStateKey(k), Kind: DiffExtra, Index: string(v)})
			valid = it.Next()
			continue
		}
		types = append(types, ot)
		valid = it.SeekGE(keys.PrefixEnd(keys.Mirror{Key: keys.CompositeKey(ot)}.Encode(nil)))
	}
	return types, odd, errors.Join(it.Error(), it.Close())
}

// objectTypeOf returns the object type of a composite key (U+0000, type,
// U+0000, …).
func objectTypeOf(k []byte) (string, bool) {
	if len(k) < 2 || k[0] != 0 {
		return "", false
	}
	i := bytes.IndexByte(k[1:], 0)
	if i <= 0 {
		return "", false
	}
	return string(k[1 : 1+i]), true
}

func reconcileType(ctx context.Context, s *pebble.Snapshot, state StateReader, ot string, pageSize int) (TypeCount, []Difference, error) {
	tc := TypeCount{ObjectType: ot}
	var diffs []Difference
	lower := keys.Mirror{Key: keys.CompositeKey(ot)}.Encode(nil)
	it, err := s.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: keys.PrefixEnd(lower)})
	if err != nil {
		return tc, nil, err
	}
	defer it.Close()
	valid := it.First()
	// extra reports the index's current key as extra and moves on.
	extra := func() error {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		k := it.Key()[1:]
		diffs = append(diffs, Difference{ObjectType: ot, Key: keys.FormatStateKey(k), Kind: DiffExtra, Index: string(v)})
		tc.Index++
		valid = it.Next()
		return nil
	}
	var prev []byte
	req := credit.ListStateRequest{ObjectType: ot, PageSize: pageSize}
	for {
		if err := ctx.Err(); err != nil {
			return tc, nil, err
		}
		page, err := state.ListState(ctx, req)
		if err != nil {
			return tc, nil, fmt.Errorf("list state page %d: %w", tc.Pages+1, err)
		}
		tc.Pages++
		for _, e := range page.Entries {
			pk := []byte(e.Key)
			if prev != nil && bytes.Compare(pk, prev) <= 0 {
				return tc, nil, fmt.Errorf("list state page %d: key %s does not follow %s: the peer's pages are out of order",
					tc.Pages, keys.FormatStateKey(pk), keys.FormatStateKey(prev))
			}
			if got, ok := objectTypeOf(pk); !ok || got != ot {
				return tc, nil, fmt.Errorf("list state page %d: key %s is not of object type %s", tc.Pages, keys.FormatStateKey(pk), ot)
			}
			prev = pk
			tc.Peer++
			for valid && bytes.Compare(it.Key()[1:], pk) < 0 {
				if err := extra(); err != nil {
					return tc, nil, err
				}
			}
			if !valid || !bytes.Equal(it.Key()[1:], pk) {
				diffs = append(diffs, Difference{ObjectType: ot, Key: keys.FormatStateKey(pk), Kind: DiffMissing, Peer: e.Value})
				continue
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return tc, nil, err
			}
			if string(v) != e.Value {
				diffs = append(diffs, Difference{ObjectType: ot, Key: keys.FormatStateKey(pk), Kind: DiffValue, Peer: e.Value, Index: string(v)})
			}
			tc.Index++
			valid = it.Next()
		}
		if page.Bookmark == "" || len(page.Entries) == 0 {
			break
		}
		req.Bookmark = page.Bookmark
	}
	for valid {
		if err := extra(); err != nil {
			return tc, nil, err
		}
	}
	return tc, diffs, it.Error()
}

// Digest returns the index's height and a SHA-256 over every row of the
// index (every table, each key and value length-prefixed, in key order),
// read from one snapshot. No row depends on when or how often ingest ran,
// so two indexes built from the same blocks have the same digest whatever
// crashes and restarts happened along the way: the crash tests and
// rebuild checks compare digests.
func (db *DB) Digest() (height uint64, sum []byte, err error) {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		l := uint64(len(b))
		for i := range n {
			n[i] = byte(l >> (56 - 8*i))
		}
		h.Write(n[:])
		h.Write(b)
	}
	err = db.view(func(s *pebble.Snapshot) error {
		var err error
		if height, err = readHeight(s); err != nil {
			return err
		}
		return scan(s, nil, nil, func(k, v []byte) error {
			put(k)
			put(v)
			return nil
		})
	})
	if err != nil {
		return 0, nil, fmt.Errorf("digest: %w", err)
	}
	return height, h.Sum(nil), nil
}
