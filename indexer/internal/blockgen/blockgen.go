// Package blockgen builds Fabric blocks for the indexer's tests, fixtures
// and benchmarks: a hash-chained sequence of config and endorser-transaction
// blocks with the structure a peer delivers (Envelope → Payload →
// ChannelHeader, Transaction → ChaincodeActionPayload →
// ChaincodeEndorsedAction → ProposalResponsePayload → ChaincodeAction →
// Results = TxReadWriteSet) and a TRANSACTIONS_FILTER in the metadata.
// Signatures and certificates are placeholders: the indexer does not check
// them (the peer did). Output is deterministic for the same input.
package blockgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Write is one key written (or deleted) in a namespace.
type Write struct {
	Key    string
	Value  []byte
	Delete bool
}

// NsRWSet is the writes (and read keys) of one namespace.
type NsRWSet struct {
	Namespace string
	Reads     []string
	Writes    []Write
}

// Tx is one transaction of a block.
type Tx struct {
	// ID is the transaction ID; empty gives a derived one.
	ID string
	// Time is the proposal timestamp.
	Time time.Time
	// Type is the channel header type; zero means ENDORSER_TRANSACTION.
	// CONFIG builds a config envelope.
	Type common.HeaderType
	// Code is the validation code the committing peer set.
	Code peer.TxValidationCode
	// Chaincode is the invoked chaincode's name (ChaincodeAction.ChaincodeId).
	Chaincode string
	// MSP is the creator's MSP ID.
	MSP string
	// Endorsers are the MSP IDs of the endorsements; nil gives one, of
	// County330782MSP.
	Endorsers []string
	// RWSets are the read-write sets, one per namespace, in order.
	RWSets []NsRWSet
	// Garbage, when set, replaces the envelope with these bytes (to model a
	// transaction the peer marked invalid because it did not parse).
	Garbage []byte
}

// Chain builds a hash-chained sequence of blocks for one channel.
type Chain struct {
	Channel    string
	next       uint64
	prevHash   []byte
	lastConfig uint64
	txSeq      int
}

// NewChain starts a chain for the channel; the first block built is block 0.
func NewChain(channel string) *Chain { return &Chain{Channel: channel} }

// ChainState is a saved position of a Chain.
type ChainState struct {
	next       uint64
	prevHash   []byte
	lastConfig uint64
	txSeq      int
}

// Save returns the chain's position, for Restore.
func (c *Chain) Save() ChainState {
	return ChainState{c.next, bytes.Clone(c.prevHash), c.lastConfig, c.txSeq}
}

// Restore returns the chain to a saved position: the blocks built since are
// forgotten and the next block reuses their numbers.
func (c *Chain) Restore(s ChainState) {
	c.next, c.prevHash, c.lastConfig, c.txSeq = s.next, bytes.Clone(s.prevHash), s.lastConfig, s.txSeq
}

// Skip leaves out the next block number, as a source with a gap would.
func (c *Chain) Skip() { c.next++ }

// Next returns the number of the next block built.
func (c *Chain) Next() uint64 { return c.next }

var det = proto.MarshalOptions{Deterministic: true}

func mustMarshal(m proto.Message) []byte {
	b, err := det.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("blockgen: marshal %T: %v", m, err))
	}
	return b
}

// HeaderHash is Fabric's block header hash (protoutil.BlockHeaderHash):
// SHA-256 of the ASN.1 DER of {Number, PreviousHash, DataHash}. Computed
// here independently of the indexer so that the tests compare two
// implementations.
func HeaderHash(h *common.BlockHeader) []byte {
	der, err := asn1.Marshal(struct {
		Number       *big.Int
		PreviousHash []byte
		DataHash     []byte
	}{new(big.Int).SetUint64(h.Number), h.PreviousHash, h.DataHash})
	if err != nil {
		panic(err)
	}
	s := sha256.Sum256(der)
	return s[:]
}

// Config appends a config block (the genesis block when it is the first).
func (c *Chain) Config(t time.Time) *common.Block {
	c.lastConfig = c.next
	return c.Block(Tx{Type: common.HeaderType_CONFIG, Time: t})
}

// Block appends a block holding txs.
func (c *Chain) Block(txs ...Tx) *common.Block {
	data := make([][]byte, len(txs))
	filter := make([]byte, len(txs))
	for i, tx := range txs {
		c.txSeq++
		if tx.ID == "" && tx.Type != common.HeaderType_CONFIG {
			tx.ID = fmt.Sprintf("%064x", sha256.Sum256(fmt.Appendf(nil, "%s/%d", c.Channel, c.txSeq)))
		}
		data[i] = c.envelope(tx)
		filter[i] = byte(tx.Code)
	}
	return c.seal(data, filter)
}

// Raw appends a block with the given envelopes and filter, as is.
func (c *Chain) Raw(data [][]byte, filter []byte) *common.Block { return c.seal(data, filter) }

func (c *Chain) seal(data [][]byte, filter []byte) *common.Block {
	dh := sha256.Sum256(bytes.Join(data, nil))
	h := &common.BlockHeader{Number: c.next, PreviousHash: c.prevHash, DataHash: dh[:]}
	sig := mustMarshal(&common.Metadata{
		Value: mustMarshal(&common.OrdererBlockMetadata{LastConfig: &common.LastConfig{Index: c.lastConfig}}),
		Signatures: []*common.MetadataSignature{{
			SignatureHeader: mustMarshal(&common.SignatureHeader{Creator: identity("OrdererMSP"), Nonce: []byte("nonce")}),
			Signature:       []byte("orderer-signature"),
		}},
	})
	b := &common.Block{
		Header:   h,
		Data:     &common.BlockData{Data: data},
		Metadata: &common.BlockMetadata{Metadata: [][]byte{sig, {}, filter, {}, {}}},
	}
	c.prevHash = HeaderHash(h)
	c.next++
	return b
}

func identity(mspID string) []byte {
	return mustMarshal(&msp.SerializedIdentity{
		Mspid:   mspID,
		IdBytes: []byte("-----BEGIN CERTIFICATE-----\nplaceholder for " + mspID + "\n-----END CERTIFICATE-----\n"),
	})
}

func (c *Chain) envelope(tx Tx) []byte {
	if tx.Garbage != nil {
		return tx.Garbage
	}
	typ := tx.Type
	if typ == 0 {
		typ = common.HeaderType_ENDORSER_TRANSACTION
	}
	mspID := tx.MSP
	if mspID == "" {
		mspID = "County330782MSP"
	}
	ch := &common.ChannelHeader{
		Type:      int32(typ),
		ChannelId: c.Channel,
		TxId:      tx.ID,
		Timestamp: timestamppb.New(tx.Time),
	}
	sh := mustMarshal(&common.SignatureHeader{Creator: identity(mspID), Nonce: []byte(tx.ID)})
	var data []byte
	switch typ {
	case common.HeaderType_CONFIG:
		data = mustMarshal(&common.ConfigEnvelope{Config: &common.Config{
			Sequence: c.next,
			ChannelGroup: &common.ConfigGroup{
				Version: c.next,
				Groups:  map[string]*common.ConfigGroup{"Application": {}, "Orderer": {}},
			},
		}})
	case common.HeaderType_ENDORSER_TRANSACTION:
		data = mustMarshal(endorserTx(tx, sh))
	default:
		data = []byte("opaque")
	}
	payload := mustMarshal(&common.Payload{
		Header: &common.Header{ChannelHeader: mustMarshal(ch), SignatureHeader: sh},
		Data:   data,
	})
	return mustMarshal(&common.Envelope{Payload: payload, Signature: []byte("client-signature")})
}

func endorserTx(tx Tx, sh []byte) *peer.Transaction {
	rws := &rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV}
	for _, ns := range tx.RWSets {
		kv := &kvrwset.KVRWSet{}
		for _, r := range ns.Reads {
			kv.Reads = append(kv.Reads, &kvrwset.KVRead{Key: r, Version: &kvrwset.Version{BlockNum: 1}})
		}
		for _, w := range ns.Writes {
			kv.Writes = append(kv.Writes, &kvrwset.KVWrite{Key: w.Key, IsDelete: w.Delete, Value: w.Value})
		}
		rws.NsRwset = append(rws.NsRwset, &rwset.NsReadWriteSet{Namespace: ns.Namespace, Rwset: mustMarshal(kv)})
	}
	cc := tx.Chaincode
	if cc == "" {
		cc = "credit"
	}
	action := &peer.ChaincodeAction{
		Results:     mustMarshal(rws),
		Events:      mustMarshal(&peer.ChaincodeEvent{ChaincodeId: cc, TxId: tx.ID, EventName: "Event"}),
		Response:    &peer.Response{Status: 200, Payload: []byte("{}")},
		ChaincodeId: &peer.ChaincodeID{Name: cc, Version: "1.0"},
	}
	prp := mustMarshal(&peer.ProposalResponsePayload{
		ProposalHash: []byte("proposal-hash"),
		Extension:    mustMarshal(action),
	})
	cap := &peer.ChaincodeActionPayload{
		ChaincodeProposalPayload: mustMarshal(&peer.ChaincodeProposalPayload{
			Input: mustMarshal(&peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{
				Type:        peer.ChaincodeSpec_GOLANG,
				ChaincodeId: &peer.ChaincodeID{Name: cc},
				Input:       &peer.ChaincodeInput{Args: [][]byte{[]byte("Invoke"), []byte("{}")}},
			}}),
		}),
		Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp},
	}
	endorsers := tx.Endorsers
	if endorsers == nil {
		endorsers = []string{"County330782MSP"}
	}
	for _, e := range endorsers {
		cap.Action.Endorsements = append(cap.Action.Endorsements, &peer.Endorsement{Endorser: identity(e), Signature: []byte("endorser-signature")})
	}
	return &peer.Transaction{Actions: []*peer.TransactionAction{{Header: sh, Payload: mustMarshal(cap)}}}
}
