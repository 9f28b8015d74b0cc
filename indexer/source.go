package indexer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
)

// BlockSource delivers a channel's blocks. The client package implements
// it over fabric-gateway's block events; DirSource implements it over a
// directory of block files. The indexer never imports a Fabric client.
type BlockSource interface {
	// OpenBlocks starts delivering the channel's blocks in order from block
	// start: start, start+1, start+2, … with no gaps and no repeats. The
	// stream may block in Recv waiting for blocks not yet committed.
	//
	// It returns an error if the stream cannot be set up (the peer is
	// unreachable, the identity may not read the channel, start lies
	// beyond what the source can ever deliver). Once ctx is done, the
	// stream ends: Recv returns an error wrapping ctx.Err().
	//
	// The caller owns the returned stream and must Close it.
	OpenBlocks(ctx context.Context, start uint64) (BlockStream, error)
}

// BlockStream is one open delivery of blocks.
type BlockStream interface {
	// Recv returns the next block, blocking until it is available. It
	// returns either a non-nil block and a nil error, or a nil block and a
	// non-nil error, never both nil.
	//
	// A stream failure (connection lost, delivery refused, a block that does
	// not decode) is returned as the error, never swallowed and never
	// turned into a silent end; after an error every later Recv returns an
	// error too. io.EOF means the source is finite (a directory, a capture)
	// and has delivered every block it has; a live source never returns
	// io.EOF.
	//
	// The caller owns the returned block: the stream must not modify or
	// reuse it after Recv returns.
	Recv() (*common.Block, error)
	// Close ends the stream and releases its resources. It may be called
	// at any time, more than once, and after Recv returned an error; a Recv
	// blocked in another goroutine then returns an error.
	Close() error
}

// Follow applies the blocks of src from the checkpoint on, until the
// stream ends or fails, Apply fails, or ctx is done. It opens the stream at
// the next expected block (Height), so that a restart after a crash resumes
// exactly after the last committed block; should the source deliver blocks
// already applied, Apply checks and skips them.
//
// Receiving, parsing and what indexing a block needs that depends on the
// block alone (decoding its records, the mirror and history rows) run
// ahead of applying, in a second goroutine, by up to FollowPrefetch
// blocks, so that waiting for the source, decoding the next blocks and
// committing the current one overlap. Blocks are still
// applied strictly in order, one synced batch each; a block parsed ahead
// is applied exactly as Apply would apply it.
//
// It returns nil when a finite source ends (io.EOF), an error wrapping
// ctx.Err() when ctx is done, the stream's error (wrapped, with the block
// number it was waiting for) when the stream fails, and Apply's error when
// a block cannot be applied. In every case every block applied before the
// return is durably indexed, and blocks received but not yet applied are
// dropped (the next Follow receives them again).
func (db *DB) Follow(ctx context.Context, src BlockSource) error {
	return db.follow(ctx, src, 0, false, nil)
}

// FollowTo is Follow that also returns nil as soon as Height reaches
// height (at once, without opening the source, if it already has): it
// brings the index up to a known ledger height, for a rebuild, a
// reconciliation or a test, and then stops.
func (db *DB) FollowTo(ctx context.Context, src BlockSource, height uint64) error {
	if db.Height() >= height {
		return nil
	}
	return db.follow(ctx, src, height, true, nil)
}

// FollowPrefetch is how many blocks Follow receives and parses ahead of
// the block it applies.
const FollowPrefetch = 16

// fetched is one block received (and parsed, when it parses) ahead of
// Apply, or the stream's error.
type fetched struct {
	b    *common.Block
	pb   *ParsedBlock // nil if it did not parse: Apply parses again and reports why
	prep [][]preparedWrite
	err  error
}

// follow is Follow, or FollowTo when bounded; with rec set it is
// StoreRecorded: blocks are received and decoded as usual, and each
// block's batch is its recorded rows, nothing prepared or built.
func (db *DB) follow(ctx context.Context, src BlockSource, stop uint64, bounded bool, rec *RowRecording) error {
	start := db.Height()
	// The stream's context ends when Follow returns, so that a prefetcher
	// waiting in Recv is released even by a source whose Close does not.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := src.OpenBlocks(sctx, start)
	if err != nil {
		return fmt.Errorf("follow: open blocks from %d: %w", start, err)
	}
	done := make(chan struct{})
	ahead := make(chan fetched, FollowPrefetch)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ahead)
		for {
			b, err := stream.Recv()
			f := fetched{b: b, err: err}
			if err == nil && b == nil {
				f.err = fmt.Errorf("stream returned no block and no error: %w", ErrMalformed)
			}
			if f.err == nil {
				if pb, perr := ParseBlock(b, db.ns); perr == nil {
					f.pb = pb
					if rec == nil {
						f.prep = prepareBlock(pb)
					}
				}
			}
			select {
			case ahead <- f:
			case <-done:
				return
			}
			if f.err != nil {
				return
			}
		}
	}()
	defer func() {
		close(done)
		cancel()
		stream.Close() // unblocks a Recv in the prefetcher
		wg.Wait()
	}()

	// Each block is built here, in order; the writer writes each to the
	// log and the memtable, in the same order, while the next blocks are
	// built; the syncer waits for the log sync of each, in order, and
	// publishes it, while the next ones are written (see
	// applyNoSyncWait). A block built is read by the blocks built after it
	// from its rows until it is published, written or not.
	writes := make(chan *builtBlock, FollowPrefetch)
	commits := make(chan *builtBlock, FollowPrefetch)
	errc := make(chan error, 2) // the writer's and the syncer's, at most one each
	var cwg sync.WaitGroup
	cwg.Add(2)
	go func() {
		defer cwg.Done()
		defer close(commits)
		failed := false
		for bb := range writes {
			if !failed {
				if err := db.applyNoSyncWait(bb); err == nil {
					commits <- bb
					continue
				} else {
					failed = true
					errc <- err
				}
			}
			bb.closeBatch() // not written: neither it nor any block after a failed one
		}
	}()
	go func() {
		defer cwg.Done()
		failed := false
		for bb := range commits {
			if failed {
				_ = bb.batch.SyncWait()
				bb.closeBatch()
				continue
			}
			if err := db.syncPublish(bb); err != nil {
				failed = true
				errc <- err
			}
		}
	}()
	// finish waits for the blocks built to be written, synced and
	// published and returns err, or the write or sync error that came
	// first.
	finish := func(err error) error {
		close(writes)
		cwg.Wait()
		db.applyMu.Lock()
		db.pendMu.Lock()
		db.pending = nil
		db.pendCond.Broadcast()
		db.pendMu.Unlock()
		db.mu.RLock()
		if db.tip.height != db.height {
			db.rows = rowCache{} // blocks built were not applied
		}
		db.tip = chainTip{height: db.height, cp: db.cp, counts: db.counts}
		db.mu.RUnlock()
		db.applyMu.Unlock()
		select {
		case cerr := <-errc:
			return fmt.Errorf("follow: %w", cerr)
		default:
			return err
		}
	}
	for {
		if bounded && db.tipHeight() >= stop {
			return finish(nil)
		}
		if err := ctx.Err(); err != nil {
			return finish(fmt.Errorf("follow: stopped before block %d: %w", db.tipHeight(), err))
		}
		var f fetched
		var ok bool
		select {
		case f, ok = <-ahead:
		case <-ctx.Done():
			return finish(fmt.Errorf("follow: stopped before block %d: %w", db.tipHeight(), ctx.Err()))
		case cerr := <-errc:
			errc <- cerr
			return finish(nil)
		}
		if !ok {
			return finish(fmt.Errorf("follow: receive block %d: prefetcher ended: %w", db.tipHeight(), ErrMalformed))
		}
		if errors.Is(f.err, io.EOF) {
			return finish(nil)
		}
		if f.err != nil {
			err := f.err
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			return finish(fmt.Errorf("follow: receive block %d: %w", db.tipHeight(), err))
		}
		db.applyMu.Lock()
		var bb *builtBlock
		if rec != nil {
			bb, err = db.buildRecorded(rec, f.pb)
		} else {
			bb, _, err = db.build(f.b, f.pb, f.prep, time.Now())
		}
		db.applyMu.Unlock()
		if err != nil {
			return finish(fmt.Errorf("follow: %w", err))
		}
		if bb != nil {
			writes <- bb
		}
	}
}

// tipHeight is the number of the next block to build.
func (db *DB) tipHeight() uint64 {
	db.applyMu.Lock()
	defer db.applyMu.Unlock()
	return db.tip.height
}
