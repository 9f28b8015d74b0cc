package indexer

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// ApplyResult says what Apply did with a block.
type ApplyResult struct {
	Block uint64
	// Skipped is true when the block was at or below the checkpoint: it was
	// checked against the stored header hash and nothing was written.
	Skipped bool
	// Counts of the block's transactions, as in Stats.
	Txs, Valid, Invalid, Config, CreditTxs int
	// Writes and Deletes count the namespace writes applied.
	Writes, Deletes int
}

// Apply indexes one block. Blocks must come in order from block 0: a block
// at or below the checkpoint is checked against the stored header hash and
// otherwise ignored (a block seen twice changes nothing); a block beyond the
// next expected one fails with ErrGap; a block whose previous hash is not
// the stored hash of the block before it fails with ErrHashChain.
//
// Everything a block changes — the state mirror, history rows, secondary
// indexes, record facts, indicator counters, the block's hash, the running
// counts and the checkpoint — goes into one Pebble batch committed with
// Sync. A crash at any point leaves either the whole block or none of it.
// On any error nothing of the block was written, and the in-memory
// checkpoint is unchanged; applying the same block again gives the same
// error. Errors wrap one of ErrHashChain, ErrDataHash, ErrGap, ErrMalformed,
// ErrRecord, ErrChannel or ErrClosed, or are Pebble errors.
//
// Apply does not keep references to b.
func (db *DB) Apply(b *common.Block) (ApplyResult, error) {
	return db.apply(b, nil)
}

// apply is Apply with the block optionally parsed already (by Follow's
// prefetcher, with the same namespace); a nil pb parses here. Parsing
// depends on the block alone, so a block parsed ahead gives exactly what
// parsing it here would.
func (db *DB) apply(b *common.Block, pb *ParsedBlock) (ApplyResult, error) {
	start := time.Now()
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	db.mu.RLock()
	closed, height, cp := db.closed, db.height, db.cp
	db.mu.RUnlock()
	if closed {
		return ApplyResult{}, ErrClosed
	}
	if b.GetHeader() == nil {
		return ApplyResult{}, fmt.Errorf("apply block: no header: %w", ErrMalformed)
	}
	n := b.Header.Number
	res := ApplyResult{Block: n}
	if n < height {
		stored, err := db.get(keys.Block{Num: keys.BlockNum(n)}.Encode(nil))
		if err != nil {
			return res, fmt.Errorf("apply block %d: %w", n, err)
		}
		bv, err := decodeBlockValue(stored)
		if err != nil {
			return res, fmt.Errorf("apply block %d: %w", n, err)
		}
		if h := BlockHeaderHash(b.Header); !bytes.Equal(h, bv.Hash) {
			return res, fmt.Errorf("apply block %d again: header hashes to %x, but the block applied as %d hashed to %x: %w",
				n, short(h), n, short(bv.Hash), ErrHashChain)
		}
		res.Skipped = true
		return res, nil
	}
	if n > height {
		return res, fmt.Errorf("apply block %d: the next block is %d: %w", n, height, ErrGap)
	}
	if height == 0 {
		if len(b.Header.PreviousHash) != 0 {
			return res, fmt.Errorf("apply block 0: previous hash %x, block 0 has none: %w",
				short(b.Header.PreviousHash), ErrHashChain)
		}
	} else if !bytes.Equal(b.Header.PreviousHash, cp.Hash) {
		return res, fmt.Errorf("apply block %d: previous hash %x does not match block %d's hash %x: %w",
			n, short(b.Header.PreviousHash), cp.Block, short(cp.Hash), ErrHashChain)
	}
	if pb == nil || pb.Number != n {
		var err error
		if pb, err = ParseBlock(b, db.ns); err != nil {
			return res, err
		}
	}
	if db.channel != "" {
		for _, tx := range pb.Txs {
			if tx.ChannelID != "" && tx.ChannelID != db.channel {
				return res, fmt.Errorf("apply block %d %s: channel %q, the index follows %q: %w",
					n, tx.label(), tx.ChannelID, db.channel, ErrChannel)
			}
		}
	}

	a := &applier{b: db.pdb.NewIndexedBatch(), pb: pb, counters: map[keys.Counter]int64{}}
	defer a.b.Close()
	if err := a.apply(); err != nil {
		return res, err
	}
	db.mu.RLock()
	total := db.counts
	db.mu.RUnlock()
	r := a.res
	total.Txs += uint64(r.Txs)
	total.Valid += uint64(r.Valid)
	total.Invalid += uint64(r.Invalid)
	total.Config += uint64(r.Config)
	total.CreditTxs += uint64(r.CreditTxs)
	total.Writes += uint64(r.Writes)
	total.Deletes += uint64(r.Deletes)
	newCP := Checkpoint{Block: n, Hash: pb.Hash}
	if len(pb.Txs) > 0 {
		newCP.TxID = pb.Txs[len(pb.Txs)-1].ID
	}
	bv := blockValue{Hash: pb.Hash, Txs: uint64(r.Txs), Valid: uint64(r.Valid), Invalid: uint64(r.Invalid),
		Config: uint64(r.Config), Writes: uint64(r.Writes), Deletes: uint64(r.Deletes)}
	if err := errorsOf(
		a.b.Set(keys.Block{Num: keys.BlockNum(n)}.Encode(nil), bv.encode(), nil),
		a.b.Set(keys.Meta{Name: keys.MetaStats}.Encode(nil), total.encode(), nil),
		a.b.Set(keys.Meta{Name: keys.MetaCheckpoint}.Encode(nil), newCP.encode(), nil),
	); err != nil {
		return res, fmt.Errorf("apply block %d: %w", n, err)
	}
	if err := a.b.Commit(pebble.Sync); err != nil {
		return res, fmt.Errorf("apply block %d: commit: %w", n, err)
	}
	now := time.Now()
	db.mu.Lock()
	db.height, db.cp, db.counts, db.appliedAt = n+1, newCP, total, now
	db.mu.Unlock()
	if db.onApply != nil {
		db.onApply(r, now.Sub(start))
	}
	return r, nil
}

func short(h []byte) []byte {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// applier builds the batch of one block.
type applier struct {
	b        *pebble.Batch // indexed: reads see the block's earlier writes
	pb       *ParsedBlock
	counters map[keys.Counter]int64
	res      ApplyResult
	err      error // first batch error
}

func (a *applier) apply() error {
	a.res = ApplyResult{Block: a.pb.Number, Txs: len(a.pb.Txs)}
	for i := range a.pb.Txs {
		tx := &a.pb.Txs[i]
		if !tx.Valid() {
			a.res.Invalid++
			continue
		}
		a.res.Valid++
		if tx.Type == common.HeaderType_CONFIG {
			a.res.Config++
		}
		if len(tx.Writes) == 0 {
			continue
		}
		a.res.CreditTxs++
		for _, w := range tx.Writes {
			if err := a.write(tx, w); err != nil {
				return fmt.Errorf("apply block %d %s: %w", a.pb.Number, tx.label(), err)
			}
		}
	}
	if err := a.flushCounters(); err != nil {
		return fmt.Errorf("apply block %d: %w", a.pb.Number, err)
	}
	if a.err != nil {
		return fmt.Errorf("apply block %d: %w", a.pb.Number, a.err)
	}
	return nil
}

func (a *applier) set(k, v []byte) {
	if err := a.b.Set(k, v, nil); err != nil && a.err == nil {
		a.err = err
	}
}

func (a *applier) del(k []byte) {
	if err := a.b.Delete(k, nil); err != nil && a.err == nil {
		a.err = err
	}
}

// add records an indicator change, applied to the counters at the end of
// the block.
func (a *applier) add(c keys.County, m keys.Month, ind keys.Indicator, d int64) {
	a.counters[keys.Counter{County: c, Month: m, Indicator: ind}] += d
}

func (a *applier) write(tx *ParsedTx, w Write) error {
	a.res.Writes++
	if w.IsDelete {
		a.res.Deletes++
		a.del(keys.Mirror{Key: w.Key}.Encode(nil))
	} else {
		a.set(keys.Mirror{Key: w.Key}.Encode(nil), w.Value)
	}
	ot, attrs, ok := keys.SplitCompositeKey(w.Key)
	if !ok || len(attrs) != 1 {
		return nil // an index key or a plain key: mirrored only
	}
	id := attrs[0]
	a.set(keys.History{Kind: keys.Kind(ot), ID: keys.ID(id), Block: keys.BlockNum(a.pb.Number), Tx: keys.TxNum(tx.Num)}.Encode(nil),
		historyValue{TxID: tx.ID, Time: tx.Time, IsDelete: w.IsDelete, Value: w.Value}.encode())
	if !credit.IsRecordKind(ot) {
		return nil
	}

	fk := keys.Facts{Kind: keys.Kind(ot), ID: keys.ID(id)}.Encode(nil)
	ob, err := getFrom(a.b, fk)
	if err != nil {
		return err
	}
	var old *facts
	if ob != nil {
		if old, err = decodeFacts(ob); err != nil {
			return fmt.Errorf("%s %s: %w", ot, id, err)
		}
	}
	txDate := keys.DateOf(tx.Time)
	var nf *facts
	if !w.IsDelete {
		rec, err := decodeRecord(ot, id, w.Value)
		if err != nil {
			return err
		}
		nf = newFacts(old, rec, txDate, a.pb.Number, tx.Num)
	}
	if old != nil {
		for _, r := range old.rows(id) {
			a.del(r.key)
		}
		old.contribute(-1, a.add)
	}
	if nf == nil {
		if old != nil {
			a.del(fk)
		}
		return nil
	}
	for _, r := range nf.rows(id) {
		a.set(r.key, r.value)
	}
	nf.contribute(+1, a.add)
	a.set(fk, nf.encode())
	return a.seen(nf, txDate.Month())
}

// seen marks the record's subject as seen by its county (and by all
// counties), and as committed if the record is a commitment, counting the
// first time each happens.
func (a *applier) seen(f *facts, m keys.Month) error {
	for _, c := range []keys.County{keys.County(f.County), keys.AllCounties} {
		k := keys.Seen{County: c, Subject: keys.Subject(f.Subject)}.Encode(nil)
		v, err := getFrom(a.b, k)
		if err != nil {
			return err
		}
		var sv seenValue
		changed := false
		if v == nil {
			sv.First = m
			a.add(c, m, keys.SubjectsSeen, 1)
			changed = true
		} else if sv, err = decodeSeen(v); err != nil {
			return fmt.Errorf("%s: %w", keys.Format(k), err)
		}
		if f.Kind == credit.TypeCommitment && sv.Committed == 0 {
			sv.Committed = m
			a.add(c, m, keys.SubjectsCommitted, 1)
			changed = true
		}
		if changed {
			a.set(k, sv.encode())
		}
	}
	return nil
}

// flushCounters adds the block's indicator changes to the stored counters,
// in key order, deleting counters that reach zero.
func (a *applier) flushCounters() error {
	type entry struct {
		key []byte
		d   int64
	}
	es := make([]entry, 0, len(a.counters))
	for k, d := range a.counters {
		if d != 0 {
			es = append(es, entry{k.Encode(nil), d})
		}
	}
	slices.SortFunc(es, func(x, y entry) int { return bytes.Compare(x.key, y.key) })
	for _, e := range es {
		v, err := getFrom(a.b, e.key)
		if err != nil {
			return err
		}
		var cur int64
		if v != nil {
			if cur, err = decodeCount(v); err != nil {
				return fmt.Errorf("%s: %w", keys.Format(e.key), err)
			}
		}
		if cur += e.d; cur == 0 {
			a.del(e.key)
		} else {
			a.set(e.key, encodeCount(cur))
		}
	}
	return nil
}
