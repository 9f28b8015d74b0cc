package indexer

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/internal/blockgen"
)

// workload builds a realistic chain through the chaincode's own
// operations: a genesis config block, the counties' registrations, then
// blocks of a mix of commitments made, fulfilled and breached, punishments
// imposed and revoked, enforcements, repairs applied, accepted, completed
// and rejected, and a few MVCC-conflicted transactions. Each block is one
// day later than the one before. Deterministic for a seed.
type workload struct {
	tb       testing.TB
	rng      *rand.Rand
	sim      *sim
	day      time.Time
	counties []string
	subjects []string
	open     []string // commitments made and not closed
	active   []string // punishments active
	repairs  map[string]string
	next     int
	blocks   []*common.Block
}

func newWorkload(tb testing.TB, seed uint64, subjects int) *workload {
	w := &workload{
		tb:       tb,
		rng:      rand.New(rand.NewPCG(seed, 0x5eed)),
		sim:      newSim("credit"),
		day:      time.Date(2025, 1, 1, 2, 0, 0, 0, time.UTC),
		counties: []string{"330782", "330783", "371302"},
		repairs:  map[string]string{},
	}
	for i := range subjects {
		c := w.counties[i%len(w.counties)]
		w.subjects = append(w.subjects, credit.CompleteCreditCode(fmt.Sprintf("91%sMA%07d", c, i)))
	}
	w.blocks = append(w.blocks, w.sim.chain.Config(w.day))
	var txs []blockgen.Tx
	for _, c := range w.counties {
		if tx, ok := w.tx("RegisterCounty", fmt.Sprintf(`{"code":%q,"name":"县%s"}`, c, c), actor(c+"/admin"), peer.TxValidationCode_VALID); ok {
			txs = append(txs, tx)
		}
	}
	w.blocks = append(w.blocks, w.sim.chain.Block(txs...))
	return w
}

// tx runs one chaincode function as a transaction of the current day.
func (w *workload) tx(fn, arg string, a credit.Actor, code peer.TxValidationCode) (blockgen.Tx, bool) {
	// Submitted through the caller's county's peer, which the gateway asks
	// to endorse first, and one more county's (MAJORITY of three).
	other := "County" + w.counties[(slices.Index(w.counties, a.County)+1)%len(w.counties)] + "MSP"
	b := &txBuilder{tx: blockgen.Tx{ID: w.sim.txID(), Time: w.day.Add(time.Duration(w.next) * time.Second), Code: code, MSP: a.MSPID,
		Endorsers: []string{a.MSPID, other}}}
	if err := w.sim.invoke(b, fn, []byte(arg), a); err != nil {
		return blockgen.Tx{}, false // refused by the chaincode's rules (too early, wrong state): not submitted
	}
	tx := b.build()
	w.sim.commit(tx)
	return tx, true
}

func (w *workload) pick(xs []string) (string, int) {
	i := w.rng.IntN(len(xs))
	return xs[i], i
}

func remove(xs []string, i int) []string {
	xs[i] = xs[len(xs)-1]
	return xs[:len(xs)-1]
}

// block appends a block of about n transactions and returns it.
func (w *workload) block(n int) *common.Block {
	w.day = w.day.Add(24 * time.Hour)
	var txs []blockgen.Tx
	for len(txs) < n {
		w.next++
		id := fmt.Sprintf("W-%d", w.next)
		subj := w.subjects[w.rng.IntN(len(w.subjects))]
		county := w.counties[w.rng.IntN(len(w.counties))]
		a := actor(county)
		date := credit.DateOf(w.day)
		code := peer.TxValidationCode_VALID
		if w.rng.IntN(40) == 0 {
			code = peer.TxValidationCode_MVCC_READ_CONFLICT
		}
		var tx blockgen.Tx
		ok := false
		switch r := w.rng.IntN(100); {
		case r < 35:
			kind := []string{"approval", "missing-materials", "voluntary", "industry"}[w.rng.IntN(4)]
			dl := ""
			if kind == "approval" {
				dl = fmt.Sprintf(`,"deadline":%q`, date.AddDays(5+w.rng.IntN(60)))
			}
			tx, ok = w.tx("MakeCommitment", fmt.Sprintf(`{"id":%q,"kind":%q,"subject":%q,"content":"承诺%d"%s}`, id, kind, subj, w.next, dl), a, code)
			if ok && code == peer.TxValidationCode_VALID {
				w.open = append(w.open, id+"@"+county)
			}
		case r < 55 && len(w.open) > 0:
			c, i := w.pick(w.open)
			cid, owner := splitAt(c)
			fn, arg := "FulfilCommitment", fmt.Sprintf(`{"id":%q}`, cid)
			if w.rng.IntN(4) == 0 {
				fn, arg = "BreachCommitment", fmt.Sprintf(`{"id":%q,"reason":"违诺"}`, cid)
			}
			tx, ok = w.tx(fn, arg, actor(owner), code)
			if ok && code == peer.TxValidationCode_VALID {
				w.open = remove(w.open, i)
			}
		case r < 72:
			kind := []string{"publicity", "blacklist", "watchlist"}[w.rng.IntN(3)]
			sev := []string{"general", "general", "serious", "special"}[w.rng.IntN(4)]
			dd := date.AddDays(-w.rng.IntN(400))
			tx, ok = w.tx("ImposePunishment", fmt.Sprintf(`{"id":%q,"subject":%q,"kind":%q,"severity":%q,"decisionDate":%q,"decisionNo":"罚%d","legalBasis":"法","measures":["procurement","bidding"]}`,
				id, subj, kind, sev, dd, w.next), a, code)
			if ok && code == peer.TxValidationCode_VALID {
				w.active = append(w.active, id+"@"+county)
			}
		case r < 76 && len(w.active) > 0:
			p, i := w.pick(w.active)
			pid, owner := splitAt(p)
			tx, ok = w.tx("RevokePunishment", fmt.Sprintf(`{"id":%q,"reason":"撤销"}`, pid), actor(owner), code)
			if ok && code == peer.TxValidationCode_VALID {
				w.active = remove(w.active, i)
			}
		case r < 82 && len(w.active) > 0:
			p, _ := w.pick(w.active)
			pid, _ := splitAt(p)
			tx, ok = w.tx("RecordEnforcement", fmt.Sprintf(`{"id":%q,"punishmentId":%q,"measure":"procurement","date":%q}`, id, pid, date), a, code)
		case r < 90 && len(w.active) > 0:
			p, _ := w.pick(w.active)
			pid, _ := splitAt(p)
			tx, ok = w.tx("ApplyRepair", fmt.Sprintf(`{"id":%q,"punishmentId":%q,"evidence":{"identity":%q,"penaltyFulfilled":%q,"repairCommitment":%q,"training":%q,"creditReport":%q}}`,
				id, pid, h64('1'), h64('2'), h64('3'), h64('4'), h64('5')), a, code)
			if ok && code == peer.TxValidationCode_VALID {
				w.repairs[id] = pid
			}
		case len(w.repairs) > 0:
			for rid, pid := range w.repairs { // any one; map order is fine for a workload
				r := w.sim.get(credit.RecordKey(credit.TypeRepair, rid))
				var rep credit.Repair
				if err := json.Unmarshal(r, &rep); err != nil {
					w.tb.Fatal(err)
				}
				fn := map[string]string{credit.StateApplied: "AcceptRepair", credit.StateAccepted: "CompleteRepair"}[rep.State]
				if w.rng.IntN(6) == 0 {
					fn = "RejectRepair"
				}
				tx, ok = w.tx(fn, fmt.Sprintf(`{"id":%q,"reason":"不符合条件"}`, rid), actor(rep.County), code)
				if fn == "CompleteRepair" || fn == "RejectRepair" {
					// Done with it whether or not it was allowed yet: a
					// repair refused as too early is retried no more.
					delete(w.repairs, rid)
					if ok && fn == "CompleteRepair" && code == peer.TxValidationCode_VALID {
						w.active = without(w.active, pid)
					}
				}
				break
			}
		}
		if ok {
			txs = append(txs, tx)
		}
	}
	b := w.sim.chain.Block(txs...)
	w.blocks = append(w.blocks, b)
	return b
}

func splitAt(s string) (string, string) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func without(xs []string, id string) []string {
	for i, x := range xs {
		if p, _ := splitAt(x); p == id {
			return remove(xs, i)
		}
	}
	return xs
}

func h64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
