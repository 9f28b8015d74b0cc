//go:build integration || chaos

package chaos

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
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// op is one transaction a load worker sent, as the client saw it end.
type op struct {
	worker int
	kind   string // "make" or "fulfil" (a commitment)
	id     string
	txID   string
	phase  int // the load's phase when the transaction was started
	err    error
}

// load runs concurrent credit clients against the network: each worker is
// an officer of one county, on its county's own peer, making commitments
// and fulfilling a quarter of those it saw committed. It records every
// outcome for verify.
type load struct {
	t       testing.TB
	mu      sync.Mutex
	cond    *sync.Cond
	ops     []op
	phase   int
	stop    bool
	wg      sync.WaitGroup
	cancel  context.CancelFunc
	stopped bool
}

// startLoad starts workers workers spread over the counties.
func startLoad(t testing.TB, c *chaosNet, workers int, tag string) *load {
	t.Helper()
	l := &load{t: t}
	l.cond = sync.NewCond(&l.mu)
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	var clients []*client.Client
	for i := range c.profile.Counties {
		clients = append(clients, c.client(t, i, "officer1", func(cfg *client.Config) {
			// Fail rather than wait a minute for a commit that will never
			// come (the orderer that took it died): the outcome is then
			// "unknown", which verify resolves.
			cfg.Timeouts.CommitStatus = 30 * time.Second
		}))
	}
	for w := range workers {
		i := w % len(clients)
		subject := c.subject(i, 100+w)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.worker(ctx, w, clients[i], subject, c.id(tag, "w"+itoa(w)))
		}()
	}
	t.Cleanup(func() { l.halt() })
	return l
}

func (l *load) worker(ctx context.Context, w int, cl *client.Client, subject, prefix string) {
	var mine []string // commitments this worker saw committed, not yet fulfilled
	for n := 0; ; n++ {
		l.mu.Lock()
		stop, phase := l.stop, l.phase
		l.mu.Unlock()
		if stop {
			return
		}
		o := op{worker: w, phase: phase}
		var res client.Result
		if n%4 == 3 && len(mine) > 0 {
			o.kind, o.id = "fulfil", mine[0]
			mine = mine[1:]
			_, res, o.err = cl.FulfilCommitment(ctx, credit.FulfilCommitmentRequest{ID: o.id, Note: "履行"})
		} else {
			o.kind, o.id = "make", fmt.Sprintf("%s-%d", prefix, n)
			_, res, o.err = cl.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: o.id, Kind: "voluntary", Subject: subject, Content: "主动承诺 " + o.id})
			if o.err == nil {
				mine = append(mine, o.id)
			}
		}
		o.txID = res.TxID
		l.mu.Lock()
		l.ops = append(l.ops, o)
		l.cond.Broadcast()
		l.mu.Unlock()
		if o.err != nil {
			// A dead peer fails at once: do not spin.
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
}

// next starts a new phase (after a fault) and returns its number.
func (l *load) next() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase++
	return l.phase
}

// acked counts the transactions started in phase p or later that the
// client saw committed.
func (l *load) acked(p int) int {
	n := 0
	for _, o := range l.ops {
		if o.phase >= p && o.err == nil {
			n++
		}
	}
	return n
}

// waitAcked waits until n transactions started in phase p or later were
// committed: the network keeps committing after the fault that began p.
func (l *load) waitAcked(t testing.TB, p, n int, limit time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	timer := time.AfterFunc(limit, func() { l.mu.Lock(); l.cond.Broadcast(); l.mu.Unlock() })
	defer timer.Stop()
	l.mu.Lock()
	for l.acked(p) < n && !time.Now().After(deadline) {
		l.cond.Wait()
	}
	got, failed := l.acked(p), 0
	var last error
	for _, o := range l.ops {
		if o.phase >= p && o.err != nil {
			failed++
			last = o.err
		}
	}
	l.mu.Unlock()
	if got < n {
		t.Fatalf("%s: %d of %d transactions committed after %s (%d failed; last: %v)", what, got, n, limit, failed, last)
	}
	t.Logf("%s: %d transactions committed (%d failed)", what, got, failed)
}

// halt stops the workers: they finish the transaction in hand (bounded by
// the client's timeouts), then the context is cancelled.
func (l *load) halt() []op {
	l.mu.Lock()
	l.stop = true
	if l.stopped {
		defer l.mu.Unlock()
		return l.ops
	}
	l.stopped = true
	l.mu.Unlock()
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		l.cancel()
		<-done
	}
	l.cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]op(nil), l.ops...)
}

// tally counts outcomes by what the client saw.
type tally struct {
	acked, failed, unknown          int
	unknownCommitted, unknownAbsent int
	failedByStage                   map[string]int
}

func (ty tally) String() string {
	return fmt.Sprintf("%d committed, %d failed %v, %d unknown (resolved: %d committed, %d absent)",
		ty.acked, ty.failed, ty.failedByStage, ty.unknown, ty.unknownCommitted, ty.unknownAbsent)
}

// verify checks every outcome against the ledger once the network is
// quiet (every peer at one height):
//   - a transaction the client saw committed is VALID on the ledger and
//     its effect is there (the commitment exists; a fulfilment left it
//     fulfilled with that transaction as its last writer);
//   - a transaction the client saw fail is not VALID on the ledger and
//     its effect is absent (no such commitment; not fulfilled);
//   - one whose outcome was unknown (client.ErrCommitUnknown) is resolved
//     with TransactionStatus, then checked as committed or absent.
func verify(t testing.TB, reader *client.Client, state map[string]string, ops []op) tally {
	t.Helper()
	ctx := ctxFor(t, 10*time.Minute)
	ty := tally{failedByStage: map[string]int{}}
	for _, o := range ops {
		committed := o.err == nil
		unknown := errors.Is(o.err, client.ErrCommitUnknown)
		var code peer.TxValidationCode
		found := false
		if o.txID != "" {
			var err error
			if code, found, err = reader.TransactionStatus(ctx, o.txID); err != nil {
				t.Fatalf("TransactionStatus %s: %v", o.txID, err)
			}
		}
		onLedger := found && code == peer.TxValidationCode_VALID
		switch {
		case committed:
			ty.acked++
			if !onLedger {
				t.Errorf("%s %s (tx %s): the client saw it committed; the ledger says found=%v %s", o.kind, o.id, o.txID, found, code)
			}
		case unknown:
			ty.unknown++
			if onLedger {
				ty.unknownCommitted++
			} else {
				ty.unknownAbsent++
			}
			t.Logf("%s %s (tx %s): unknown to the client (%v); resolved: found=%v %s", o.kind, o.id, o.txID, oneLine(o.err.Error()), found, code)
		default:
			ty.failed++
			var te *client.TxError
			stage := "?"
			if errors.As(o.err, &te) {
				stage = string(te.Stage)
			}
			ty.failedByStage[stage]++
			if onLedger {
				t.Errorf("%s %s (tx %s): the client saw it fail (%v); the ledger has it VALID", o.kind, o.id, o.txID, o.err)
			}
		}
		rec, exists := state[ckey(credit.TypeCommitment, o.id)]
		switch o.kind {
		case "make":
			if onLedger != exists {
				t.Errorf("make %s (tx %s, client saw %v): on ledger %v, record exists %v", o.id, o.txID, o.err, onLedger, exists)
			}
		case "fulfil":
			fulfilled := exists && strings.Contains(rec, `"state":"fulfilled"`) && strings.Contains(rec, `"txId":"`+o.txID+`"`)
			if onLedger != fulfilled {
				t.Errorf("fulfil %s (tx %s, client saw %v): on ledger %v, record fulfilled by it %v: %s", o.id, o.txID, o.err, onLedger, fulfilled, rec)
			}
		}
	}
	return ty
}
