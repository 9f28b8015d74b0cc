package cert_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// laggingLedger is a county's peer that has committed only the blocks
// below its height: transactions and anchor versions of later blocks are
// not found, as on a real peer a block behind the one the issuing county's
// peer reported. Each ChainInfo call after the first `lag` ones commits one
// more block, up to max.
type laggingLedger struct {
	*certtest.Ledger
	mu          sync.Mutex
	height, max uint64
	lag, polls  int
}

func (l *laggingLedger) ChainInfo(ctx context.Context) (*common.BlockchainInfo, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.polls++
	if l.polls > l.lag && l.height < l.max {
		l.height++
	}
	return &common.BlockchainInfo{Height: l.height}, nil
}

func (l *laggingLedger) committed(ctx context.Context, txID string) bool {
	b, err := l.Ledger.BlockByTxID(ctx, txID)
	l.mu.Lock()
	defer l.mu.Unlock()
	return err == nil && b.GetHeader().GetNumber() < l.height
}

func (l *laggingLedger) TransactionByID(ctx context.Context, txID string) (*peer.ProcessedTransaction, error) {
	if !l.committed(ctx, txID) {
		return nil, fmt.Errorf("transaction %s: %w", txID, credit.ErrNotFound)
	}
	return l.Ledger.TransactionByID(ctx, txID)
}

func (l *laggingLedger) BlockByTxID(ctx context.Context, txID string) (*common.Block, error) {
	if !l.committed(ctx, txID) {
		return nil, fmt.Errorf("transaction %s: %w", txID, credit.ErrNotFound)
	}
	return l.Ledger.BlockByTxID(ctx, txID)
}

func (l *laggingLedger) CertificateHistory(ctx context.Context, id string) ([]credit.HistoryEntry, client.Result, error) {
	hist, res, err := l.Ledger.CertificateHistory(ctx, id)
	if err != nil {
		return nil, res, err
	}
	var out []credit.HistoryEntry
	for _, h := range hist {
		if l.committed(ctx, h.TxID) {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, res, fmt.Errorf("certificate %s: %w", id, credit.ErrNotFound)
	}
	return out, res, nil
}

// TestCheckThroughAPeerBehind: a certificate checked through a county's
// peer that has not yet committed the block its issuing county's peer
// reported is valid once that peer catches up, not "anchor not found";
// a peer that does not catch up within MaxLedgerWait makes the check
// "cannot tell" (ledger unavailable, naming the block), never invalid,
// and MakeBundle fails with ErrLedgerBehind.
func TestCheckThroughAPeerBehind(t *testing.T) {
	c := certtest.New(t)
	c.SetDate("2026-03-09")
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), punishmentOf(subjX), nil, certtest.TxOptions{})
	ctx := context.Background()

	behind := func(lag int, max uint64) *laggingLedger {
		return &laggingLedger{Ledger: c.Ledger(), height: iss.Block, max: max, lag: lag}
	}
	l := behind(3, iss.Block+1)
	r := c.Verifier().VerifyOnline(ctx, l, iss.JWS, asOf("2026-03-10"))
	if r.Verdict != cert.Valid {
		t.Fatalf("online through a peer one block behind: %s %v", r.Verdict, r.Findings)
	}
	if l.polls < 4 {
		t.Fatalf("the verifier asked the peer's height %d times; it had to wait for 4", l.polls)
	}
	if _, err := cert.MakeBundle(ctx, behind(3, iss.Block+1), c.Trust(), iss.JWS); err != nil {
		t.Fatalf("bundle through a peer one block behind: %v", err)
	}
	// A peer that holds the block is not asked its height at all.
	caughtUp := &laggingLedger{Ledger: c.Ledger(), height: iss.Block + 1, max: iss.Block + 1}
	if r := c.Verifier().VerifyOnline(ctx, caughtUp, iss.JWS, asOf("2026-03-10")); r.Verdict != cert.Valid || caughtUp.polls != 0 {
		t.Fatalf("online through a peer that holds the block: %s, height asked %d times", r.Verdict, caughtUp.polls)
	}
	if _, err := cert.MakeBundle(ctx, caughtUp, c.Trust(), iss.JWS); err != nil || caughtUp.polls != 0 {
		t.Fatalf("bundle through a peer that holds the block: %v, height asked %d times", err, caughtUp.polls)
	}

	saved := cert.MaxLedgerWait
	cert.MaxLedgerWait = 200 * time.Millisecond
	defer func() { cert.MaxLedgerWait = saved }()
	r = c.Verifier().VerifyOnline(ctx, behind(0, iss.Block), iss.JWS, asOf("2026-03-10"))
	if r.Verdict != cert.CannotTell || len(r.Findings) == 0 || r.Findings[0].Reason != cert.ReasonLedgerUnavailable ||
		!strings.Contains(r.Findings[0].Detail, fmt.Sprintf("block %d", iss.Block)) {
		t.Fatalf("online through a peer that stays behind: %s %+v", r.Verdict, r.Findings)
	}
	if _, err := cert.MakeBundle(ctx, behind(0, iss.Block), c.Trust(), iss.JWS); !errors.Is(err, cert.ErrLedgerBehind) {
		t.Fatalf("bundle through a peer that stays behind: %v", err)
	}
}
