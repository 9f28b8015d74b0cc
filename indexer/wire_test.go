package indexer

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// referenceTx reads an envelope with full proto.Unmarshal decoding, every
// message of the path as fabric-protos-go-apiv2 defines it: the reference
// for ParseBlock's wire-level reading.
func referenceTx(env []byte, namespace string) (ParsedTx, error) {
	var tx ParsedTx
	var e common.Envelope
	var p common.Payload
	var ch common.ChannelHeader
	if err := proto.Unmarshal(env, &e); err != nil {
		return tx, err
	}
	if err := proto.Unmarshal(e.Payload, &p); err != nil {
		return tx, err
	}
	if p.Header == nil {
		return tx, fmt.Errorf("no header")
	}
	if err := proto.Unmarshal(p.Header.ChannelHeader, &ch); err != nil {
		return tx, err
	}
	tx.ID, tx.ChannelID, tx.Type = ch.TxId, ch.ChannelId, common.HeaderType(ch.Type)
	if tx.Type != common.HeaderType_ENDORSER_TRANSACTION {
		return tx, nil
	}
	var t peer.Transaction
	if err := proto.Unmarshal(p.Data, &t); err != nil {
		return tx, err
	}
	for _, ta := range t.Actions {
		var cap peer.ChaincodeActionPayload
		if err := proto.Unmarshal(ta.GetPayload(), &cap); err != nil {
			return tx, err
		}
		if cap.Action == nil {
			return tx, fmt.Errorf("no endorsed action")
		}
		var prp peer.ProposalResponsePayload
		if err := proto.Unmarshal(cap.Action.ProposalResponsePayload, &prp); err != nil {
			return tx, err
		}
		var ca peer.ChaincodeAction
		if err := proto.Unmarshal(prp.Extension, &ca); err != nil {
			return tx, err
		}
		if tx.Chaincode == "" {
			tx.Chaincode = ca.GetChaincodeId().GetName()
		}
		var rws rwset.TxReadWriteSet
		if err := proto.Unmarshal(ca.Results, &rws); err != nil {
			return tx, err
		}
		for _, ns := range rws.NsRwset {
			tx.addNamespace(ns.Namespace)
			if ns.Namespace != namespace {
				continue
			}
			var kv kvrwset.KVRWSet
			if err := proto.Unmarshal(ns.Rwset, &kv); err != nil {
				return tx, err
			}
			for _, w := range kv.Writes {
				wr := Write{Key: []byte(w.Key), IsDelete: w.IsDelete || len(w.Value) == 0}
				if !wr.IsDelete {
					wr.Value = w.Value
				}
				tx.Writes = append(tx.Writes, wr)
			}
		}
	}
	return tx, nil
}

// TestWireParseMatchesProto: on every fixture block (captured from the
// real network, synthetic) and a workload, ParseBlock's wire-level reading
// gives, for every transaction, the header, chaincode, namespaces and
// writes that full protobuf decoding gives.
func TestWireParseMatchesProto(t *testing.T) {
	var blocks []*common.Block
	for _, dir := range []string{"testdata/blocks/network", "testdata/blocks/synthetic"} {
		bs, err := ReadBlockDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, bs...)
	}
	w := newWorkload(t, 31, 30)
	for range 10 {
		w.block(20)
	}
	blocks = append(blocks, w.blocks...)
	txs, writes := 0, 0
	for _, b := range blocks {
		pb, err := ParseBlock(b, DefaultNamespace)
		if err != nil {
			t.Fatal(err)
		}
		for i, got := range pb.Txs {
			want, err := referenceTx(b.Data.Data[i], DefaultNamespace)
			if err != nil {
				if got.Valid() {
					t.Fatalf("block %d tx %d: the reference fails (%v) on a transaction ParseBlock read", b.Header.Number, i, err)
				}
				continue
			}
			if got.ID != want.ID || got.ChannelID != want.ChannelID || got.Type != want.Type {
				t.Fatalf("block %d tx %d: header %s %s %v, want %s %s %v", b.Header.Number, i, got.ID, got.ChannelID, got.Type, want.ID, want.ChannelID, want.Type)
			}
			if !got.Valid() || got.Type != common.HeaderType_ENDORSER_TRANSACTION {
				continue
			}
			txs++
			writes += len(got.Writes)
			if got.Chaincode != want.Chaincode || !slices.Equal(got.Namespaces, want.Namespaces) {
				t.Fatalf("block %d tx %d: chaincode %s namespaces %v, want %s %v", b.Header.Number, i, got.Chaincode, got.Namespaces, want.Chaincode, want.Namespaces)
			}
			if !slices.EqualFunc(got.Writes, want.Writes, func(x, y Write) bool {
				return bytes.Equal(x.Key, y.Key) && bytes.Equal(x.Value, y.Value) && x.IsDelete == y.IsDelete
			}) {
				t.Fatalf("block %d tx %d: writes differ", b.Header.Number, i)
			}
		}
	}
	t.Logf("%d blocks, %d valid endorser transactions, %d writes: equal", len(blocks), txs, writes)
}

// TestWireParseMergesRepeatedMessages: an envelope that repeats a singular
// message field — a payload header split in two, an extra empty endorsed
// action, a chaincode ID given twice — is read as proto.Unmarshal, and so
// Fabric's validator and committer, read it: the occurrences merged, not
// the last one alone (which would lose the transaction's writes).
func TestWireParseMergesRepeatedMessages(t *testing.T) {
	blocks, err := ReadBlockDir("testdata/blocks/network")
	if err != nil {
		t.Fatal(err)
	}
	var env []byte
	for _, b := range blocks {
		pb, err := ParseBlock(b, DefaultNamespace)
		if err != nil {
			t.Fatal(err)
		}
		for i, tx := range pb.Txs {
			if tx.Valid() && len(tx.Writes) > 0 && env == nil {
				env = b.Data.Data[i]
			}
		}
	}
	if env == nil {
		t.Fatal("no fixture transaction with credit writes")
	}
	field := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// rebuild re-encodes env with f applied to its ChaincodeActionPayload
	// and ChaincodeAction bytes and to its Payload bytes.
	rebuild := func(onPayload, onCAP, onCA func([]byte) []byte) []byte {
		var e common.Envelope
		var p common.Payload
		var tr peer.Transaction
		must(proto.Unmarshal(env, &e))
		must(proto.Unmarshal(e.Payload, &p))
		must(proto.Unmarshal(p.Data, &tr))
		ta := tr.Actions[0]
		var cap peer.ChaincodeActionPayload
		must(proto.Unmarshal(ta.Payload, &cap))
		var prp peer.ProposalResponsePayload
		must(proto.Unmarshal(cap.Action.ProposalResponsePayload, &prp))
		prp.Extension = onCA(prp.Extension)
		var err error
		cap.Action.ProposalResponsePayload, err = proto.Marshal(&prp)
		must(err)
		ta.Payload, err = proto.Marshal(&cap)
		must(err)
		ta.Payload = onCAP(ta.Payload)
		p.Data, err = proto.Marshal(&tr)
		must(err)
		e.Payload, err = proto.Marshal(&p)
		must(err)
		e.Payload = onPayload(e.Payload)
		out, err := proto.Marshal(&e)
		must(err)
		return out
	}
	same := func(b []byte) []byte { return b }
	cases := map[string][]byte{
		"an empty endorsed action after the real one": rebuild(same, func(b []byte) []byte { return append(b, field(2, nil)...) }, same),
		// The header's channel header, then (as a second occurrence) its
		// signature header alone: merged, it is the whole header again.
		"the payload header in two occurrences": rebuild(func(b []byte) []byte {
			var p common.Payload
			must(proto.Unmarshal(b, &p))
			sh := p.Header.SignatureHeader
			p.Header.SignatureHeader = nil
			out, err := proto.Marshal(&p)
			must(err)
			return append(out, field(1, field(2, sh))...)
		}, same, same),
		"a chaincode ID with its version alone after the real one": rebuild(same, same, func(b []byte) []byte {
			return append(b, field(4, field(3, []byte("9.9")))...)
		}),
	}
	want, err := referenceTx(env, DefaultNamespace)
	if err != nil || len(want.Writes) == 0 {
		t.Fatalf("reference of the fixture: %v, %d writes", err, len(want.Writes))
	}
	for name, altered := range cases {
		ref, err := referenceTx(altered, DefaultNamespace)
		if err != nil {
			t.Fatalf("%s: the reference fails: %v", name, err)
		}
		if ref.Chaincode != want.Chaincode || len(ref.Writes) != len(want.Writes) {
			t.Fatalf("%s: proto.Unmarshal reads chaincode %q and %d writes, want %q and %d (the case does not test merging)",
				name, ref.Chaincode, len(ref.Writes), want.Chaincode, len(want.Writes))
		}
		var got ParsedTx
		data, err := parseHeader(altered, &got)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ID != ref.ID || got.Type != ref.Type {
			t.Fatalf("%s: header %s %v, want %s %v", name, got.ID, got.Type, ref.ID, ref.Type)
		}
		if err := parseEndorserTx(data, DefaultNamespace, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Chaincode != ref.Chaincode || !slices.EqualFunc(got.Writes, ref.Writes, func(x, y Write) bool {
			return bytes.Equal(x.Key, y.Key) && bytes.Equal(x.Value, y.Value) && x.IsDelete == y.IsDelete
		}) {
			t.Fatalf("%s: chaincode %q, %d writes; proto.Unmarshal reads %q, %d writes", name, got.Chaincode, len(got.Writes), ref.Chaincode, len(ref.Writes))
		}
	}
}
