package indexer

import (
	"context"
	"errors"
	"fmt"
	"io"

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
// It returns nil when a finite source ends (io.EOF), an error wrapping
// ctx.Err() when ctx is done, the stream's error (wrapped, with the block
// number it was waiting for) when the stream fails, and Apply's error when
// a block cannot be applied. In every case every block applied before the
// return is durably indexed.
func (db *DB) Follow(ctx context.Context, src BlockSource) error {
	start := db.Height()
	stream, err := src.OpenBlocks(ctx, start)
	if err != nil {
		return fmt.Errorf("follow: open blocks from %d: %w", start, err)
	}
	defer stream.Close()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("follow: stopped before block %d: %w", db.Height(), err)
		}
		b, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			return fmt.Errorf("follow: receive block %d: %w", db.Height(), err)
		}
		if b == nil {
			return fmt.Errorf("follow: receive block %d: stream returned no block and no error: %w",
				db.Height(), ErrMalformed)
		}
		if _, err := db.Apply(b); err != nil {
			return fmt.Errorf("follow: %w", err)
		}
	}
}
