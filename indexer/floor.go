package indexer

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/countycredit/creditledger/indexer/keys"
)

// The storage floor. Ingest's rate is measured against raw delivery (the
// same blocks received and decoded, nothing indexed). What storing the
// index's rows costs — one Pebble batch per block, written with Sync,
// pipelined as Follow pipelines it — is a floor under ingest that no
// work on parsing or building can lower: RowRecording keeps the rows
// Follow wrote for each block, and StoreRecorded writes them again into
// a copy of the index as it was before them, receiving and decoding each
// block from its source as delivery does, with nothing read from the
// index and nothing built. Its rate against delivery is the best ratio
// any ingest writing those rows can reach on the machine measured
// (docs/INDEXER.md, "Benchmarks").

// RowRecording holds the rows of every block built while it was set on a
// DB (RecordRows), in key order. It is safe for use by one DB at a time.
type RowRecording struct {
	mu     sync.Mutex
	blocks map[uint64][]sortedRow
}

// NewRowRecording returns an empty recording.
func NewRowRecording() *RowRecording {
	return &RowRecording{blocks: map[uint64][]sortedRow{}}
}

// RecordRows makes db keep the rows of each block it builds from now on in
// rec; nil stops recording. A block's rows are kept as built, whether or
// not its batch is then committed.
func (db *DB) RecordRows(rec *RowRecording) {
	db.applyMu.Lock()
	db.recording = rec
	db.applyMu.Unlock()
}

// record keeps a block's rows, in key order, under block n.
func (rec *RowRecording) record(n uint64, rows map[string]rowWrite) {
	rs := sortedRows(rows)
	rec.mu.Lock()
	rec.blocks[n] = rs
	rec.mu.Unlock()
}

// RowStats are the rows of a recording, per block on average: all of
// them, those of the state mirror, and their bytes (keys and values).
type RowStats struct {
	Blocks                  int
	Rows, MirrorRows, Bytes float64
}

// Stats describes the recorded blocks.
func (rec *RowRecording) Stats() RowStats {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var s RowStats
	for _, rs := range rec.blocks {
		s.Blocks++
		for _, r := range rs {
			s.Rows++
			s.Bytes += float64(len(r.key) + len(r.w.v))
			if isMirrorRow(r.key) {
				s.MirrorRows++
			}
		}
	}
	if s.Blocks > 0 {
		n := float64(s.Blocks)
		s.Rows, s.MirrorRows, s.Bytes = s.Rows/n, s.MirrorRows/n, s.Bytes/n
	}
	return s
}

// MirrorOnly returns a recording of the same blocks with only the rows of
// the state mirror and the checkpoint: the floor of an index that kept
// nothing but the chaincode's world state (no history, secondary indexes,
// facts or indicators).
func (rec *RowRecording) MirrorOnly() *RowRecording {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := NewRowRecording()
	cp := string(keys.Meta{Name: keys.MetaCheckpoint}.Encode(nil))
	for n, rs := range rec.blocks {
		out.blocks[n] = slices.DeleteFunc(slices.Clone(rs), func(r sortedRow) bool {
			return !isMirrorRow(r.key) && r.key != cp
		})
	}
	return out
}

func isMirrorRow(k string) bool { return len(k) > 0 && keys.Prefix(k[0]) == keys.PrefixMirror }

// StoreRecorded brings the index to height from src as FollowTo does —
// the same goroutines receiving and decoding (ParseBlock) each block
// ahead, writing each block's batch while the previous ones sync, one
// batch per block written with Sync — but builds nothing: a block's batch
// is the rows rec holds for it, already in key order. The index must be
// at the state the recording started from (a copy of it), and rec must
// hold every block up to height; a block that does not decode, or that
// rec lacks, stops it with an error. It is for measuring the storage
// floor; an index it wrote from a full recording holds what Follow would
// have written, one written from MirrorOnly does not (its indicators and
// secondary indexes stay as they were) and is to be thrown away.
func (db *DB) StoreRecorded(ctx context.Context, src BlockSource, height uint64, rec *RowRecording) error {
	if db.Height() >= height {
		return nil
	}
	db.applyMu.Lock()
	db.rows = rowCache{} // the rows written underneath it are not the cache's
	db.applyMu.Unlock()
	return db.follow(ctx, src, height, true, rec)
}

// buildRecorded is build for StoreRecorded: block b's batch is its
// recorded rows. Callers hold applyMu.
func (db *DB) buildRecorded(rec *RowRecording, pb *ParsedBlock) (*builtBlock, error) {
	if err := db.writable(); err != nil {
		return nil, err
	}
	tip := db.tip
	if pb == nil {
		return nil, fmt.Errorf("store recorded block %d: does not decode: %w", tip.height, ErrMalformed)
	}
	if err := tip.next(pb.Number, pb.PreviousHash); err != nil {
		return nil, fmt.Errorf("store recorded %w", err)
	}
	rec.mu.Lock()
	rows, ok := rec.blocks[pb.Number]
	rec.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("store recorded block %d: not in the recording", pb.Number)
	}
	cp := Checkpoint{Block: pb.Number, Hash: pb.Hash}
	if len(pb.Txs) > 0 {
		cp.TxID = pb.Txs[len(pb.Txs)-1].ID
	}
	bb := &builtBlock{sorted: rows, res: ApplyResult{Block: pb.Number, Txs: len(pb.Txs)},
		tip: chainTip{height: pb.Number + 1, cp: cp, counts: tip.counts}}
	db.tip = bb.tip
	db.pendMu.Lock()
	db.pending = append(db.pending, bb)
	db.pendMu.Unlock()
	return bb, nil
}
