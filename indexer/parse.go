package indexer

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
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// SystemNamespaces are the namespaces of Fabric's system chaincodes. Their
// writes (chaincode definitions, upgrades) are never mirrored, and none of
// them may be the mirrored namespace.
var SystemNamespaces = []string{"_lifecycle", "lscc", "cscc", "qscc"}

func isSystemNamespace(ns string) bool {
	for _, s := range SystemNamespaces {
		if ns == s {
			return true
		}
	}
	return false
}

// asn1Header is the structure Fabric hashes for a block header.
type asn1Header struct {
	Number       *big.Int
	PreviousHash []byte
	DataHash     []byte
}

// BlockHeaderHash returns Fabric's hash of a block header, the value the
// next block carries as its PreviousHash: SHA-256 of the ASN.1 DER encoding
// of the sequence {Number INTEGER, PreviousHash OCTET STRING, DataHash OCTET
// STRING} (Fabric v3.1.1 protoutil.BlockHeaderHash).
func BlockHeaderHash(h *common.BlockHeader) []byte {
	der, err := asn1.Marshal(asn1Header{
		Number:       new(big.Int).SetUint64(h.GetNumber()),
		PreviousHash: h.GetPreviousHash(),
		DataHash:     h.GetDataHash(),
	})
	if err != nil {
		// A big.Int and two byte slices always encode.
		panic(fmt.Sprintf("indexer: asn1 encoding of a block header: %v", err))
	}
	sum := sha256.Sum256(der)
	return sum[:]
}

// BlockDataHash returns Fabric's hash of a block's data: SHA-256 of the
// concatenated envelopes (Fabric v3.1.1 protoutil.ComputeBlockDataHash).
func BlockDataHash(d *common.BlockData) []byte {
	h := sha256.New()
	for _, env := range d.GetData() {
		h.Write(env)
	}
	return h.Sum(nil)
}

// Write is one write of the mirrored namespace: a key set to a value, or
// deleted.
type Write struct {
	Key      []byte
	Value    []byte
	IsDelete bool
}

// ParsedTx is one transaction of a parsed block.
type ParsedTx struct {
	// Num is the transaction's position in the block.
	Num uint32
	// ID, ChannelID, Type and Time come from the channel header. For an
	// invalid transaction whose header does not parse they are zero.
	ID        string
	ChannelID string
	Type      common.HeaderType
	Time      time.Time
	// Code is the validation code from the block's TRANSACTIONS_FILTER.
	Code peer.TxValidationCode
	// Chaincode is the name of the invoked chaincode, for valid endorser
	// transactions.
	Chaincode string
	// Namespaces lists, for valid endorser transactions, every namespace
	// with a read-write set, in order of first appearance.
	Namespaces []string
	// Writes are the writes of the mirrored namespace, from every action of
	// a valid endorser transaction, in order. Nil for every other
	// transaction.
	Writes []Write
}

// label names the transaction in errors: "tx 3 (id)", or "tx 3".
func (t *ParsedTx) label() string {
	if t.ID == "" {
		return fmt.Sprintf("tx %d", t.Num)
	}
	return fmt.Sprintf("tx %d (%s)", t.Num, t.ID)
}

// Valid reports whether the committing peer marked the transaction valid.
func (t *ParsedTx) Valid() bool { return t.Code == peer.TxValidationCode_VALID }

// ParsedBlock is a block as the indexer reads it.
type ParsedBlock struct {
	Number       uint64
	Hash         []byte // BlockHeaderHash of the header
	PreviousHash []byte
	DataHash     []byte
	Txs          []ParsedTx
}

// ParseBlock parses a block as delivered by a peer, keeping the writes of
// namespace. It checks the block's structure and its data hash. Only valid
// transactions (per the TRANSACTIONS_FILTER metadata) of type
// ENDORSER_TRANSACTION are read to their read-write sets; invalid ones are
// counted but never read further than their header, since a peer marks a
// transaction invalid precisely when it may not parse. Config transactions
// and every other type are kept with their header only. Writes of other
// namespaces (another chaincode, or the system chaincodes _lifecycle, lscc,
// cscc, qscc) are skipped; a write with an empty value is a delete, as in
// Fabric's committer; writes of namespace are taken from every action
// and every read-write set in which they appear. Private-data (hashed)
// writes and metadata writes are not read.
//
// Errors wrap ErrMalformed, or ErrDataHash. ParseBlock does not keep
// references to b.
func ParseBlock(b *common.Block, namespace string) (*ParsedBlock, error) {
	if b.GetHeader() == nil {
		return nil, fmt.Errorf("parse block: no header: %w", ErrMalformed)
	}
	n := b.Header.Number
	if b.GetData() == nil {
		return nil, fmt.Errorf("parse block %d: no data: %w", n, ErrMalformed)
	}
	pb := &ParsedBlock{
		Number:       n,
		Hash:         BlockHeaderHash(b.Header),
		PreviousHash: bytes.Clone(b.Header.PreviousHash),
		DataHash:     bytes.Clone(b.Header.DataHash),
	}
	if got := BlockDataHash(b.Data); !bytes.Equal(got, b.Header.DataHash) {
		return nil, fmt.Errorf("parse block %d: data hashes to %x, header says %x: %w",
			n, got, b.Header.DataHash, ErrDataHash)
	}
	data := b.Data.Data
	var filter []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		filter = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	haveFilter := len(filter) == len(data)
	if !haveFilter && len(filter) != 0 {
		return nil, fmt.Errorf("parse block %d: transactions filter has %d entries for %d transactions: %w",
			n, len(filter), len(data), ErrMalformed)
	}
	pb.Txs = make([]ParsedTx, len(data))
	for i, env := range data {
		tx := &pb.Txs[i]
		tx.Num = uint32(i)
		if haveFilter {
			tx.Code = peer.TxValidationCode(filter[i])
		}
		payload, err := parseHeader(env, tx)
		if err != nil {
			if !tx.Valid() {
				continue // invalid and unreadable: counted, never indexed
			}
			return nil, fmt.Errorf("parse block %d tx %d: %w: %w", n, i, err, ErrMalformed)
		}
		if !haveFilter && tx.Type == common.HeaderType_ENDORSER_TRANSACTION {
			// Without a filter we cannot tell valid from invalid; a peer
			// always sets one on blocks with endorser transactions.
			return nil, fmt.Errorf("parse block %d: endorser transaction %s but no transactions filter: %w",
				n, tx.ID, ErrMalformed)
		}
		if !tx.Valid() || tx.Type != common.HeaderType_ENDORSER_TRANSACTION {
			continue
		}
		if tx.Time.IsZero() {
			return nil, fmt.Errorf("parse block %d tx %d (%s): no timestamp: %w", n, i, tx.ID, ErrMalformed)
		}
		if err := parseEndorserTx(payload.Data, namespace, tx); err != nil {
			return nil, fmt.Errorf("parse block %d tx %d (%s): %w: %w", n, i, tx.ID, err, ErrMalformed)
		}
	}
	return pb, nil
}

func parseHeader(env []byte, tx *ParsedTx) (*common.Payload, error) {
	var e common.Envelope
	if err := proto.Unmarshal(env, &e); err != nil {
		return nil, fmt.Errorf("unmarshal envelope: %w", err)
	}
	var p common.Payload
	if err := proto.Unmarshal(e.Payload, &p); err != nil {
		return nil, fmt.Errorf("unmarshal payload: %w", err)
	}
	if p.Header == nil {
		return nil, fmt.Errorf("payload has no header")
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(p.Header.ChannelHeader, &ch); err != nil {
		return nil, fmt.Errorf("unmarshal channel header: %w", err)
	}
	tx.ID = ch.TxId
	tx.ChannelID = ch.ChannelId
	tx.Type = common.HeaderType(ch.Type)
	if ch.Timestamp != nil {
		tx.Time = ch.Timestamp.AsTime()
	}
	return &p, nil
}

func parseEndorserTx(data []byte, namespace string, tx *ParsedTx) error {
	var t peer.Transaction
	if err := proto.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("unmarshal transaction: %w", err)
	}
	for ai, ta := range t.Actions {
		var cap peer.ChaincodeActionPayload
		if err := proto.Unmarshal(ta.GetPayload(), &cap); err != nil {
			return fmt.Errorf("action %d: unmarshal chaincode action payload: %w", ai, err)
		}
		if cap.Action == nil {
			return fmt.Errorf("action %d: no endorsed action", ai)
		}
		var prp peer.ProposalResponsePayload
		if err := proto.Unmarshal(cap.Action.ProposalResponsePayload, &prp); err != nil {
			return fmt.Errorf("action %d: unmarshal proposal response payload: %w", ai, err)
		}
		var ca peer.ChaincodeAction
		if err := proto.Unmarshal(prp.Extension, &ca); err != nil {
			return fmt.Errorf("action %d: unmarshal chaincode action: %w", ai, err)
		}
		if tx.Chaincode == "" {
			tx.Chaincode = ca.GetChaincodeId().GetName()
		}
		var rws rwset.TxReadWriteSet
		if err := proto.Unmarshal(ca.Results, &rws); err != nil {
			return fmt.Errorf("action %d: unmarshal read-write set: %w", ai, err)
		}
		for _, ns := range rws.NsRwset {
			tx.addNamespace(ns.Namespace)
			if ns.Namespace != namespace {
				continue
			}
			var kv kvrwset.KVRWSet
			if err := proto.Unmarshal(ns.Rwset, &kv); err != nil {
				return fmt.Errorf("action %d: unmarshal %s read-write set: %w", ai, ns.Namespace, err)
			}
			for _, w := range kv.Writes {
				if w.Key == "" {
					return fmt.Errorf("action %d: %s write with an empty key", ai, ns.Namespace)
				}
				// As Fabric's committer does (rwsetutil.IsKVWriteDelete), an
				// empty value deletes the key.
				wr := Write{Key: []byte(w.Key), IsDelete: w.IsDelete || len(w.Value) == 0}
				if !wr.IsDelete {
					wr.Value = w.Value
				}
				tx.Writes = append(tx.Writes, wr)
			}
		}
	}
	return nil
}

func (t *ParsedTx) addNamespace(ns string) {
	for _, have := range t.Namespaces {
		if have == ns {
			return
		}
	}
	t.Namespaces = append(t.Namespaces, ns)
}
