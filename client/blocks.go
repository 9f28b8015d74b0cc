package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// Checkpoint is a position in the block stream, as fabric-gateway defines
// it: BlockNumber is the next block to read.
type Checkpoint interface {
	BlockNumber() uint64
	TransactionID() string
}

// BlockStream delivers the channel's full blocks in order. It is not safe
// for concurrent use; one goroutine calls Recv.
type BlockStream struct {
	stream peer.Deliver_DeliverClient
	cancel context.CancelFunc
	next   uint64
}

// OpenBlocks starts a stream of the channel's blocks at block start,
// waiting for new blocks once it reaches the ledger height. The stream
// ends when ctx ends or Close is called.
//
// The Gateway builds and signs the deliver request; the stream is read
// here, directly from the peer's Deliver service, because fabric-gateway's
// own block channel closes without saying why. Recv returns every failure:
// a broken connection, or a deliver status such as FORBIDDEN (the identity
// may not read the channel) or NOT_FOUND (no such channel).
func (c *Client) OpenBlocks(ctx context.Context, start uint64) (*BlockStream, error) {
	req, err := c.network.NewBlockEventsRequest(client.WithStartBlock(start))
	if err != nil {
		return nil, fmt.Errorf("open blocks at %d: %w", start, err)
	}
	unsigned, err := req.Bytes()
	if err != nil {
		return nil, fmt.Errorf("open blocks at %d: %w", start, err)
	}
	sig, err := c.cfg.Signer.Sign(req.Digest())
	if err != nil {
		return nil, fmt.Errorf("open blocks at %d: sign request: %w", start, err)
	}
	env := &common.Envelope{}
	if err := proto.Unmarshal(unsigned, env); err != nil {
		return nil, fmt.Errorf("open blocks at %d: %w", start, err)
	}
	env.Signature = sig

	sctx, cancel := context.WithCancel(ctx)
	stream, err := peer.NewDeliverClient(c.conn).Deliver(sctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open blocks at %d: %w", start, err)
	}
	if err := stream.Send(env); err != nil {
		cancel()
		return nil, fmt.Errorf("open blocks at %d: send request: %w", start, err)
	}
	if err := stream.CloseSend(); err != nil {
		cancel()
		return nil, fmt.Errorf("open blocks at %d: %w", start, err)
	}
	return &BlockStream{stream: stream, cancel: cancel, next: start}, nil
}

// OpenBlocksAt resumes a stream from a checkpoint (its BlockNumber is the
// next block wanted).
func (c *Client) OpenBlocksAt(ctx context.Context, cp Checkpoint) (*BlockStream, error) {
	return c.OpenBlocks(ctx, cp.BlockNumber())
}

// ErrStreamEnded is returned by Recv when the peer ends the stream with a
// success status (which it only does for a bounded request).
var ErrStreamEnded = errors.New("block stream ended")

// Recv returns the next block. Blocks arrive in order without gaps; a gap
// or a block out of order is reported as an error rather than delivered.
func (s *BlockStream) Recv() (*common.Block, error) {
	for {
		resp, err := s.stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("block stream at %d: peer closed the stream", s.next)
			}
			return nil, fmt.Errorf("block stream at %d: %w", s.next, err)
		}
		switch t := resp.Type.(type) {
		case *peer.DeliverResponse_Block:
			b := t.Block
			if n := b.GetHeader().GetNumber(); n != s.next {
				return nil, fmt.Errorf("block stream: got block %d, want %d", n, s.next)
			}
			if s.next < math.MaxUint64 {
				s.next++
			}
			return b, nil
		case *peer.DeliverResponse_Status:
			if t.Status == common.Status_SUCCESS {
				return nil, ErrStreamEnded
			}
			return nil, fmt.Errorf("block stream at %d: peer answered %s", s.next, t.Status)
		default:
			// Other response types (filtered blocks, private data) are not
			// requested; ignore rather than fail on a future addition.
			continue
		}
	}
}

// Next is the number of the block the next Recv returns.
func (s *BlockStream) Next() uint64 { return s.next }

// Close ends the stream. It is safe to call more than once.
func (s *BlockStream) Close() error {
	s.cancel()
	return nil
}
