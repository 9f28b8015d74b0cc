package replay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// networkBlocks are blocks captured from a real 3-county network: county
// registrations, every record family, an MVCC conflict, a chaincode
// upgrade (indexer/testdata/blocks/network).
const networkBlocks = "../../indexer/testdata/blocks/network"

// readBlocks reads a folder of block files (indexer.WriteBlockFile's
// NNNNNN.block) in order.
func readBlocks(t testing.TB, dir string) []*common.Block {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.block"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no blocks in %s: %v", dir, err)
	}
	out := make([]*common.Block, len(names))
	for i, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var b common.Block
		if err := proto.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		out[i] = &b
	}
	return out
}

// replayAll replays blocks and returns the findings.
func replayAll(t *testing.T, blocks []*common.Block) ([]Finding, *Replayer) {
	t.Helper()
	r, err := New("credit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	var out []Finding
	for _, b := range blocks {
		if err := r.Block(b, func(f Finding) { out = append(out, f) }); err != nil {
			t.Fatal(err)
		}
	}
	return out, r
}

// TestReplayMatchesTheNetwork: every valid credit transaction of a real
// network's blocks is reproduced exactly by the reference chaincode
// (writes and key-level policies). REPLAY_BLOCKS=DIR replays another
// capture (e.g. cli's BenchmarkIndexIngestVsDelivery with
// CREDIT_BENCH_SAVE_BLOCKS: 4,399 transactions of a 100-client load
// replayed clean on 2026-11-23).
func TestReplayMatchesTheNetwork(t *testing.T) {
	dir := networkBlocks
	if d := os.Getenv("REPLAY_BLOCKS"); d != "" {
		dir = d
	}
	blocks := readBlocks(t, dir)
	findings, r := replayAll(t, blocks)
	if len(findings) != 0 {
		t.Fatalf("findings on an honest ledger: %v", findings)
	}
	if r.Blocks != len(blocks) || r.Txs < 20 {
		t.Fatalf("%d blocks, %d transactions replayed", r.Blocks, r.Txs)
	}
	t.Logf("%d blocks, %d transactions replayed", r.Blocks, r.Txs)
}

// tamper rewrites the credit write set of the first valid credit
// transaction after block from whose function is fn, with f; it returns
// that transaction's block and ID. (Signatures are not checked by replay:
// the committing peer did.)
func tamper(t *testing.T, blocks []*common.Block, fn string, f func(kv *kvrwset.KVRWSet, args [][]byte) [][]byte) (uint64, string) {
	return tamperTx(t, blocks, fn, func(_ *peer.Transaction, kv *kvrwset.KVRWSet, args [][]byte) [][]byte { return f(kv, args) })
}

// tamperTx is tamper with the whole transaction at hand too.
func tamperTx(t *testing.T, blocks []*common.Block, fn string, f func(tr *peer.Transaction, kv *kvrwset.KVRWSet, args [][]byte) [][]byte) (uint64, string) {
	t.Helper()
	for _, b := range blocks {
		for i, env := range b.Data.Data {
			if peer.TxValidationCode(b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER][i]) != peer.TxValidationCode_VALID {
				continue
			}
			var e common.Envelope
			var p common.Payload
			var ch common.ChannelHeader
			var tr peer.Transaction
			var cap peer.ChaincodeActionPayload
			var cpp peer.ChaincodeProposalPayload
			var cis peer.ChaincodeInvocationSpec
			var prp peer.ProposalResponsePayload
			var ca peer.ChaincodeAction
			var rws rwset.TxReadWriteSet
			must(t, proto.Unmarshal(env, &e), proto.Unmarshal(e.Payload, &p), proto.Unmarshal(p.Header.ChannelHeader, &ch))
			if common.HeaderType(ch.Type) != common.HeaderType_ENDORSER_TRANSACTION {
				continue
			}
			must(t, proto.Unmarshal(p.Data, &tr), proto.Unmarshal(tr.Actions[0].Payload, &cap), proto.Unmarshal(cap.ChaincodeProposalPayload, &cpp),
				proto.Unmarshal(cpp.Input, &cis), proto.Unmarshal(cap.Action.ProposalResponsePayload, &prp), proto.Unmarshal(prp.Extension, &ca),
				proto.Unmarshal(ca.Results, &rws))
			args := cis.ChaincodeSpec.Input.Args
			if cis.ChaincodeSpec.ChaincodeId.Name != "credit" || len(args) == 0 || !strings.HasSuffix(string(args[0]), fn) {
				continue
			}
			for _, ns := range rws.NsRwset {
				if ns.Namespace != "credit" {
					continue
				}
				var kv kvrwset.KVRWSet
				must(t, proto.Unmarshal(ns.Rwset, &kv))
				cis.ChaincodeSpec.Input.Args = f(&tr, &kv, args)
				ns.Rwset = mustMarshal(t, &kv)
			}
			ca.Results = mustMarshal(t, &rws)
			prp.Extension = mustMarshal(t, &ca)
			cap.Action.ProposalResponsePayload = mustMarshal(t, &prp)
			cpp.Input = mustMarshal(t, &cis)
			cap.ChaincodeProposalPayload = mustMarshal(t, &cpp)
			tr.Actions[0].Payload = mustMarshal(t, &cap)
			p.Data = mustMarshal(t, &tr)
			e.Payload = mustMarshal(t, &p)
			b.Data.Data[i] = mustMarshal(t, &e)
			return b.Header.Number, ch.TxId
		}
	}
	t.Fatalf("no valid %s transaction", fn)
	return 0, ""
}

func must(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplayFindsRewrites: a transaction whose writes are not the
// reference chaincode's — a value changed (an owner's own chaincode
// shortening a publicity period), a key added (a record created on the
// side), a key-level policy dropped, or a proposal the chaincode refuses —
// is reported with its block, transaction, function, creator and the
// keys that differ. The transactions after it replay clean against the
// state the ledger actually has.
func TestReplayFindsRewrites(t *testing.T) {
	cases := []struct {
		name string
		fn   string
		f    func(kv *kvrwset.KVRWSet, args [][]byte) [][]byte
		want []string
		// more: later transactions judged against the rewritten state
		// differ too (the first finding is the rewrite's)
		more bool
	}{
		{"value changed", "ImposePunishment", func(kv *kvrwset.KVRWSet, args [][]byte) [][]byte {
			for _, w := range kv.Writes {
				if strings.HasPrefix(w.Key, "\x00punishment\x00") {
					w.Value = []byte(strings.Replace(string(w.Value), `"maxEnd":"20`, `"maxEnd":"19`, 1))
				}
			}
			return args
		}, []string{"ImposePunishment", "punishment{", `"maxEnd":"19`, `the reference chaincode writes …`, `"maxEnd":"20`}, true},
		{"key added", "MakeCommitment", func(kv *kvrwset.KVRWSet, args [][]byte) [][]byte {
			kv.Writes = append(kv.Writes, &kvrwset.KVWrite{Key: "\x00punishment\x00PN-SIDE\x00", Value: []byte(`{"kind":"punishment"}`)})
			return args
		}, []string{"MakeCommitment", `punishment{PN-SIDE} written ({"kind":"punishment"}), the reference chaincode does not write it`}, false},
		{"policy dropped", "MakeCommitment", func(kv *kvrwset.KVRWSet, args [][]byte) [][]byte {
			kv.MetadataWrites = nil
			return args
		}, []string{"MakeCommitment", "its key-level policy differs from the reference chaincode's (0 bytes written"}, false},
		{"proposal refused", "ImposePunishment", func(kv *kvrwset.KVRWSet, args [][]byte) [][]byte {
			return [][]byte{args[0], []byte(`{"id":"x"}`)}
		}, []string{"ImposePunishment", "the reference chaincode refuses it: [INVALID]"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			blocks := readBlocks(t, networkBlocks)
			block, txID := tamper(t, blocks, tc.fn, tc.f)
			findings, r := replayAll(t, blocks)
			if len(findings) == 0 || len(findings) > 1 && !tc.more {
				t.Fatalf("findings %v, want one", findings)
			}
			for _, f := range findings[1:] {
				t.Logf("then: %s", f)
			}
			f := findings[0]
			got := f.String()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("finding %q lacks %q", got, w)
				}
			}
			if f.Block != block || f.TxID != txID || !strings.HasPrefix(f.Creator, "County") {
				t.Errorf("finding names block %d tx %s creator %s; tampered block %d tx %s", f.Block, f.TxID, f.Creator, block, txID)
			}
			if r.Blocks != len(blocks) {
				t.Errorf("%d blocks replayed of %d", r.Blocks, len(blocks))
			}
		})
	}
}

// TestReplayReportsSeveralActions: a transaction of two actions (no
// client of ours makes one) is reported, not replayed as if it were one.
func TestReplayReportsSeveralActions(t *testing.T) {
	blocks := readBlocks(t, networkBlocks)
	_, txID := tamperTx(t, blocks, "MakeCommitment", func(tr *peer.Transaction, _ *kvrwset.KVRWSet, args [][]byte) [][]byte {
		tr.Actions = append(tr.Actions, tr.Actions[0])
		return args
	})
	findings, _ := replayAll(t, blocks)
	if len(findings) != 1 || findings[0].TxID != txID || !strings.Contains(findings[0].Detail, "2 actions") {
		t.Fatalf("findings %v", findings)
	}
}

// TestReplayRefusesBlocksOutOfOrder: block 1 first is an error.
func TestReplayRefusesBlocksOutOfOrder(t *testing.T) {
	r, err := New("credit")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Block(readBlocks(t, networkBlocks)[1], func(Finding) {}); err == nil {
		t.Fatal("block 1 first was accepted")
	}
}
