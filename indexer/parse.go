package indexer

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/protowire"
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
		if err := parseEndorserTx(payload, namespace, tx); err != nil {
			return nil, fmt.Errorf("parse block %d tx %d (%s): %w: %w", n, i, tx.ID, err, ErrMalformed)
		}
	}
	return pb, nil
}

// The envelope and the endorser transaction are read at the wire level
// (protowire), taking only the fields the indexer needs as sub-slices of
// the block's bytes: endorsements, certificates, signatures, proposal
// payloads and events are skipped, never copied. The field numbers are
// those of fabric-protos-go-apiv2 (common/common.proto, peer/transaction.proto,
// peer/proposal_response.proto, peer/proposal.proto, ledger/rwset). As
// proto.Unmarshal does, a field of an unexpected wire type is ignored, the
// last occurrence of a singular scalar field (bytes, string, number) wins,
// the occurrences of a singular message field are merged (wireMerge), and
// strings must be UTF-8. Fabric's validator and committer read
// transactions with proto.Unmarshal, so a transaction that repeats a
// message field — an envelope a client may build — is read here as they
// read it.
// TestWireParseMatchesProto checks this reading against full
// proto.Unmarshal decoding on every fixture block.

// wireField returns the bytes of the last occurrence of field num (of the
// length-delimited wire type) in message b, and whether there was one.
func wireField(b []byte, num protowire.Number) ([]byte, bool, error) {
	var out []byte
	found := false
	err := wireEach(b, func(n protowire.Number, v []byte) error {
		if n == num {
			out, found = v, true
		}
		return nil
	}, nil)
	return out, found, err
}

// wireMerge adds occurrence v of a singular message field to acc, the
// occurrences so far (n of them): proto.Unmarshal merges the occurrences
// of a message field, which is reading their bytes concatenated. The
// first occurrence is returned as it is (a sub-slice of the block); only a
// repeated field is copied.
func wireMerge(acc []byte, n int, v []byte) []byte {
	switch n {
	case 0:
		return v
	case 1:
		return append(append(make([]byte, 0, len(acc)+len(v)), acc...), v...)
	}
	return append(acc, v...)
}

// wireMessage returns singular message field num of message b as
// proto.Unmarshal reads it (every occurrence merged), and whether there
// was one.
func wireMessage(b []byte, num protowire.Number) ([]byte, bool, error) {
	var out []byte
	count := 0
	err := wireEach(b, func(n protowire.Number, v []byte) error {
		if n == num {
			out = wireMerge(out, count, v)
			count++
		}
		return nil
	}, nil)
	return out, count > 0, err
}

// wireEach calls bytesFn for every length-delimited field of message b and
// varintFn (if not nil) for every varint field, in order.
func wireEach(b []byte, bytesFn func(protowire.Number, []byte) error, varintFn func(protowire.Number, uint64)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if err := bytesFn(num, v); err != nil {
				return err
			}
			b = b[n:]
		case protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			if varintFn != nil {
				varintFn(num, x)
			}
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return nil
}

// wireString checks that a string field is UTF-8, as proto3 requires.
func wireString(field string, v []byte) (string, error) {
	if !utf8.Valid(v) {
		return "", fmt.Errorf("%s is not valid UTF-8", field)
	}
	return string(v), nil
}

// parseHeader reads an envelope's channel header into tx and returns the
// payload's data.
func parseHeader(env []byte, tx *ParsedTx) ([]byte, error) {
	payload, _, err := wireField(env, 1) // Envelope.payload
	if err != nil {
		return nil, fmt.Errorf("unmarshal envelope: %w", err)
	}
	var header, data []byte
	headers := 0
	err = wireEach(payload, func(n protowire.Number, v []byte) error {
		switch n {
		case 1: // Payload.header, a message
			header = wireMerge(header, headers, v)
			headers++
		case 2: // Payload.data
			data = v
		}
		return nil
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("unmarshal payload: %w", err)
	}
	if headers == 0 {
		return nil, fmt.Errorf("payload has no header")
	}
	chb, _, err := wireField(header, 1) // Header.channel_header
	if err != nil {
		return nil, fmt.Errorf("unmarshal payload: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(chb, &ch); err != nil {
		return nil, fmt.Errorf("unmarshal channel header: %w", err)
	}
	tx.ID = ch.TxId
	tx.ChannelID = ch.ChannelId
	tx.Type = common.HeaderType(ch.Type)
	if ch.Timestamp != nil {
		tx.Time = ch.Timestamp.AsTime()
	}
	return data, nil
}

func parseEndorserTx(data []byte, namespace string, tx *ParsedTx) error {
	var actions [][]byte
	err := wireEach(data, func(n protowire.Number, v []byte) error {
		if n == 1 { // Transaction.actions
			actions = append(actions, v)
		}
		return nil
	}, nil)
	if err != nil {
		return fmt.Errorf("unmarshal transaction: %w", err)
	}
	for ai, ta := range actions {
		cap, _, err := wireField(ta, 2) // TransactionAction.payload
		if err != nil {
			return fmt.Errorf("unmarshal transaction: %w", err)
		}
		action, ok, err := wireMessage(cap, 2) // ChaincodeActionPayload.action, a message
		if err != nil {
			return fmt.Errorf("action %d: unmarshal chaincode action payload: %w", ai, err)
		}
		if !ok {
			return fmt.Errorf("action %d: no endorsed action", ai)
		}
		prp, _, err := wireField(action, 1) // ChaincodeEndorsedAction.proposal_response_payload
		if err != nil {
			return fmt.Errorf("action %d: unmarshal chaincode action payload: %w", ai, err)
		}
		ext, _, err := wireField(prp, 2) // ProposalResponsePayload.extension
		if err != nil {
			return fmt.Errorf("action %d: unmarshal proposal response payload: %w", ai, err)
		}
		var results, ccid []byte
		ccids := 0
		err = wireEach(ext, func(n protowire.Number, v []byte) error {
			switch n {
			case 1: // ChaincodeAction.results
				results = v
			case 4: // ChaincodeAction.chaincode_id, a message
				ccid = wireMerge(ccid, ccids, v)
				ccids++
			}
			return nil
		}, nil)
		if err != nil {
			return fmt.Errorf("action %d: unmarshal chaincode action: %w", ai, err)
		}
		name, _, err := wireField(ccid, 2) // ChaincodeID.name
		if err != nil {
			return fmt.Errorf("action %d: unmarshal chaincode action: %w", ai, err)
		}
		if tx.Chaincode == "" {
			if tx.Chaincode, err = wireString("chaincode name", name); err != nil {
				return fmt.Errorf("action %d: unmarshal chaincode action: %w", ai, err)
			}
		}
		err = wireEach(results, func(n protowire.Number, nsrw []byte) error {
			if n != 2 { // TxReadWriteSet.ns_rwset
				return nil
			}
			var nsb, rw []byte
			err := wireEach(nsrw, func(n protowire.Number, v []byte) error {
				switch n {
				case 1: // NsReadWriteSet.namespace
					nsb = v
				case 2: // NsReadWriteSet.rwset
					rw = v
				}
				return nil
			}, nil)
			if err != nil {
				return fmt.Errorf("unmarshal read-write set: %w", err)
			}
			ns, err := wireString("namespace", nsb)
			if err != nil {
				return fmt.Errorf("unmarshal read-write set: %w", err)
			}
			tx.addNamespace(ns)
			if ns != namespace {
				return nil
			}
			return wireEach(rw, func(n protowire.Number, kw []byte) error {
				if n != 3 { // KVRWSet.writes
					return nil
				}
				var key, value []byte
				isDelete := false
				err := wireEach(kw, func(n protowire.Number, v []byte) error {
					switch n {
					case 1: // KVWrite.key
						key = v
					case 3: // KVWrite.value
						value = v
					}
					return nil
				}, func(n protowire.Number, x uint64) {
					if n == 2 { // KVWrite.is_delete
						isDelete = x != 0
					}
				})
				if err != nil {
					return fmt.Errorf("unmarshal %s read-write set: %w", ns, err)
				}
				k, err := wireString("key", key)
				if err != nil {
					return fmt.Errorf("unmarshal %s read-write set: %w", ns, err)
				}
				if k == "" {
					return fmt.Errorf("%s write with an empty key", ns)
				}
				// As Fabric's committer does (rwsetutil.IsKVWriteDelete), an
				// empty value deletes the key.
				wr := Write{Key: []byte(k), IsDelete: isDelete || len(value) == 0}
				if !wr.IsDelete {
					wr.Value = bytes.Clone(value)
				}
				tx.Writes = append(tx.Writes, wr)
				return nil
			}, nil)
		}, nil)
		if err != nil {
			return fmt.Errorf("action %d: %w", ai, err)
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
