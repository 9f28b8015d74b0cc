//go:build integration || chaos

package chaos

import (
	"fmt"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// TestOrdererLoss is issue 7's fault test 1. Under load (officers of every
// county submitting credit transactions through their own peers):
//
//  1. one of the three Raft orderers, the leader if the logs name it, is
//     killed with SIGKILL (by its PID file);
//  2. then county C's peer is killed, and restarted while the load goes on.
//
// After each fault the network keeps committing transactions started
// after it; the restarted peer's height catches up, and C's own officers
// commit again through it. The load then stops, the orderer is restarted
// and catches up too, and every outcome is checked against the ledger
// (verify): committed means VALID and there, failed means absent, unknown
// is resolved with TransactionStatus.
func TestOrdererLoss(t *testing.T) {
	markFailed(t)
	workers, perPhase := 6, 5
	if full {
		workers, perPhase = 24, 40
	}
	readers := cn.readers(t)
	cn.waitLevel(t, readers, 0, 2*time.Minute)
	l := startLoad(t, cn, workers, "ord")
	l.waitAcked(t, 0, perPhase, 3*time.Minute, "warm-up")

	// 1. An orderer, the Raft leader if the logs say which.
	victim := cn.raftLeader(t)
	if victim == "" {
		victim = cn.n.T.OrdererNodes()[1].Name
		t.Logf("the orderer logs name no Raft leader; killing %s", victim)
	} else {
		t.Logf("Raft leader: %s", victim)
	}
	p := l.next()
	cn.kill(t, victim)
	l.waitAcked(t, p, perPhase, 5*time.Minute, "after SIGKILL of "+victim)
	if now := cn.raftLeader(t); now != "" && now != victim {
		t.Logf("new Raft leader: %s", now)
	}

	// 2. County C's peer: killed, the others go on; restarted, it catches up.
	peerC := cn.n.T.CountyPeers(countyC)[0].ProcName()
	p = l.next()
	cn.kill(t, peerC)
	l.waitAcked(t, p, perPhase, 5*time.Minute, "with "+peerC+" down")
	p = l.next()
	cn.start(t, peerC, "")
	target := cn.heights(t, readers)[countyA]
	waitFor(t, peerC+" catching up to height "+fmt.Sprint(target), 5*time.Minute, func() (bool, string) {
		hs := cn.heights(t, readers)
		h, ok := hs[countyC]
		return ok && h >= target, fmt.Sprintf("heights %v", hs)
	})
	l.waitAcked(t, p, perPhase, 5*time.Minute, "after the restart of "+peerC)
	waitFor(t, "county C's officers committing through the restarted peer", 5*time.Minute, func() (bool, string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		n := 0
		for _, o := range l.ops {
			if o.phase >= p && o.err == nil && o.worker%len(cn.profile.Counties) == countyC {
				n++
			}
		}
		return n > 0, "none yet"
	})

	// 3. Stop the load; the orderer comes back and catches up; the network
	// settles (a last transaction committed, every peer at one height).
	ops := l.halt()
	cn.start(t, victim, "")
	officer := cn.client(t, countyA, "officer1")
	_, res, err := officer.MakeCommitment(ctxFor(t, 5*time.Minute), credit.MakeCommitmentRequest{
		ID: cn.id("ord", "barrier"), Kind: "voluntary", Subject: cn.subject(countyA, 1), Content: "barrier"})
	if err != nil {
		t.Fatalf("a transaction after the faults: %v", err)
	}
	level := cn.waitLevel(t, readers, res.BlockNumber+1, 3*time.Minute)
	waitFor(t, victim+" catching up", 5*time.Minute, func() (bool, string) {
		st, err := cn.n.Status(ctxFor(t, time.Minute))
		if err != nil {
			return false, err.Error()
		}
		for _, nd := range st.Nodes {
			if nd.Name == victim {
				return nd.Height >= level, fmt.Sprintf("%s at %d (%s), peers at %d", victim, nd.Height, nd.Health, level)
			}
		}
		return false, "not in the status"
	})

	// 4. Every outcome against the ledger.
	ty := verify(t, readers[countyA], snapshot(t, readers[countyA]), ops)
	t.Logf("%d transactions: %v; ledger height %d", len(ops), ty, level)
	if ty.acked == 0 {
		t.Fatal("no transaction committed: the test proved nothing")
	}
}
