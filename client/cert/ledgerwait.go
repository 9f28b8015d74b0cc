package cert

import (
	"context"
	"fmt"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
)

// HeightReader is a ledger that can tell its height: the number of blocks
// the connected peer has committed. *client.Client implements it (qscc
// GetChainInfo). Online verification and MakeBundle use it, when the
// ledger they are given implements it, to tell a peer that has not yet
// committed a certificate's block from a ledger without the certificate.
type HeightReader interface {
	ChainInfo(ctx context.Context) (*common.BlockchainInfo, error)
}

// MaxLedgerWait is how long online verification and MakeBundle, when the
// connected peer does not hold a certificate's transaction or anchor, wait
// for that peer to commit the block the certificate names before they
// look again (a peer at or past that block is not waited for). Peers of
// different counties commit a block at slightly different times, so a
// certificate issued through one county's peer and checked at once
// through another's may name a block that peer does not have yet; a peer
// catches up within a block or two (well under a second here).
var MaxLedgerWait = 5 * time.Second

// ErrLedgerBehind is returned (wrapped) when the connected peer has not
// committed a certificate's block within MaxLedgerWait.
var ErrLedgerBehind = fmt.Errorf("the peer has not committed the certificate's block yet")

// awaitBlock waits until l's peer has committed block n (its height is
// above n), polling its height, for at most MaxLedgerWait. It returns nil
// at once if l cannot tell its height, and the height error if asking
// fails.
func awaitBlock(ctx context.Context, l any, n uint64) error {
	hr, ok := l.(HeightReader)
	if !ok {
		return nil
	}
	deadline := time.Now().Add(MaxLedgerWait)
	for {
		info, err := hr.ChainInfo(ctx)
		if err != nil {
			return fmt.Errorf("height of the ledger: %w", err)
		}
		if info.GetHeight() > n {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w: the certificate names block %d, the peer's height is %d after waiting %v",
				ErrLedgerBehind, n, info.GetHeight(), MaxLedgerWait)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for block %d: %w", n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
