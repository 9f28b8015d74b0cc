package cert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// Offline proof that a transaction is in the ledger: the block's orderer
// signatures over its header, the header's hash over the block's data,
// the transaction's creator signature, and each endorsement, all checked
// against the channel's trust roots, the way Fabric's own validation does
// (protoutil BlockSignatureVerifier, core/common/validation).

// kvWrite is one write of a transaction in the chaincode's namespace.
type kvWrite struct {
	key    string
	value  []byte
	delete bool
}

// envelopeInfo is a transaction of a block, parsed but not yet verified.
type envelopeInfo struct {
	index  int
	txID   string
	raw    []byte
	header *common.ChannelHeader
	writes []kvWrite // in the chaincode namespace, if an endorser transaction
}

// blockInfo is a block, parsed, with its proof checked once.
type blockInfo struct {
	number uint64
	block  *common.Block
	txs    []*envelopeInfo
	byTxID map[string]*envelopeInfo
	flags  []byte // TRANSACTIONS_FILTER: the peer's validation flags
}

// txFacts is what a verified transaction establishes.
type txFacts struct {
	txID      string
	block     uint64
	index     int
	time      time.Time
	creator   *identity
	endorsers []string // distinct MSP IDs with a valid peer endorsement, sorted
	writes    []kvWrite
	flag      peer.TxValidationCode
	flagKnown bool
}

// blockHeaderBytes is the ASN.1 DER encoding of a block header that Fabric
// signs and hashes (protoutil.BlockHeaderBytes): SEQUENCE { number
// INTEGER, previousHash OCTET STRING, dataHash OCTET STRING }.
func blockHeaderBytes(h *common.BlockHeader) []byte {
	b, err := asn1.Marshal(struct {
		Number       *big.Int
		PreviousHash []byte
		DataHash     []byte
	}{new(big.Int).SetUint64(h.GetNumber()), h.GetPreviousHash(), h.GetDataHash()})
	if err != nil {
		panic("asn1 block header: " + err.Error()) // only encodable types
	}
	return b
}

// parseBlock indexes a block's transactions and the writes each makes in
// namespace ns. It verifies nothing.
func parseBlock(b *common.Block, ns string) (*blockInfo, error) {
	if b.GetHeader() == nil || b.GetData() == nil {
		return nil, errors.New("block without header or data")
	}
	bi := &blockInfo{number: b.Header.Number, block: b, byTxID: map[string]*envelopeInfo{}}
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		bi.flags = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	for i, raw := range b.Data.Data {
		ei := &envelopeInfo{index: i, raw: raw}
		var env common.Envelope
		var pl common.Payload
		var ch common.ChannelHeader
		if proto.Unmarshal(raw, &env) != nil || proto.Unmarshal(env.Payload, &pl) != nil ||
			proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch) != nil {
			bi.txs = append(bi.txs, ei) // unreadable: cannot be the one we look for
			continue
		}
		ei.txID, ei.header = ch.TxId, &ch
		if common.HeaderType(ch.Type) == common.HeaderType_ENDORSER_TRANSACTION {
			if _, action, err := endorsedAction(pl.Data); err == nil {
				ei.writes, _ = namespaceWrites(action, ns)
			}
		}
		bi.txs = append(bi.txs, ei)
		if ei.txID != "" {
			bi.byTxID[ei.txID] = ei
		}
	}
	return bi, nil
}

// endorsedAction returns the one action of an endorser transaction and its
// chaincode action.
func endorsedAction(txBytes []byte) (*peer.ChaincodeActionPayload, *peer.ChaincodeAction, error) {
	var tx peer.Transaction
	if err := proto.Unmarshal(txBytes, &tx); err != nil {
		return nil, nil, err
	}
	if len(tx.Actions) != 1 {
		return nil, nil, fmt.Errorf("transaction has %d actions, want 1", len(tx.Actions))
	}
	var cap peer.ChaincodeActionPayload
	if err := proto.Unmarshal(tx.Actions[0].Payload, &cap); err != nil {
		return nil, nil, err
	}
	var prp peer.ProposalResponsePayload
	if err := proto.Unmarshal(cap.GetAction().GetProposalResponsePayload(), &prp); err != nil {
		return nil, nil, err
	}
	var ca peer.ChaincodeAction
	if err := proto.Unmarshal(prp.Extension, &ca); err != nil {
		return nil, nil, err
	}
	return &cap, &ca, nil
}

// namespaceWrites returns the public writes of a chaincode action in ns.
func namespaceWrites(ca *peer.ChaincodeAction, ns string) ([]kvWrite, error) {
	var rws rwset.TxReadWriteSet
	if err := proto.Unmarshal(ca.Results, &rws); err != nil {
		return nil, err
	}
	var out []kvWrite
	for _, n := range rws.NsRwset {
		if n.Namespace != ns {
			continue
		}
		var kv kvrwset.KVRWSet
		if err := proto.Unmarshal(n.Rwset, &kv); err != nil {
			return nil, err
		}
		for _, w := range kv.Writes {
			out = append(out, kvWrite{key: w.Key, value: w.Value, delete: w.IsDelete})
		}
	}
	return out, nil
}

// bftQuorum is the number of distinct consenter signatures a BFT block
// needs: ⌈(n+f+1)/2⌉ with f = ⌊(n-1)/3⌋ (SmartBFT's quorum).
func bftQuorum(n int) int {
	f := (n - 1) / 3
	return (n + f + 2) / 2
}

// checkBlockProof verifies a block's data hash and its orderer signatures
// at time at: one valid orderer signature for Raft (BlockValidation "ANY
// Writers"), a quorum of distinct consenters for BFT.
func (ix *trustIndex) checkBlockProof(bi *blockInfo, at time.Time) error {
	b := bi.block
	if sum := sha256.Sum256(bytes.Join(b.Data.Data, nil)); !bytes.Equal(sum[:], b.Header.DataHash) {
		return fmt.Errorf("block %d: the header's data hash does not match the block's transactions", bi.number)
	}
	md := b.GetMetadata().GetMetadata()
	if len(md) <= int(common.BlockMetadataIndex_SIGNATURES) {
		return fmt.Errorf("block %d: no orderer signatures", bi.number)
	}
	var sigs common.Metadata
	if err := proto.Unmarshal(md[common.BlockMetadataIndex_SIGNATURES], &sigs); err != nil {
		return fmt.Errorf("block %d: orderer signatures: %w", bi.number, err)
	}
	hdr := blockHeaderBytes(b.Header)
	bft := ix.t.OrdererType == "BFT"
	signers := map[string]bool{}
	var lastErr error
	for _, s := range sigs.Signatures {
		var serialized, signed []byte
		switch {
		case bft && len(s.SignatureHeader) == 0 && len(s.IdentifierHeader) > 0:
			var ih common.IdentifierHeader
			if err := proto.Unmarshal(s.IdentifierHeader, &ih); err != nil {
				lastErr = err
				continue
			}
			c := ix.consenter(ih.Identifier)
			if c == nil {
				lastErr = fmt.Errorf("signature by unknown consenter %d", ih.Identifier)
				continue
			}
			serialized, _ = proto.Marshal(&msp.SerializedIdentity{Mspid: c.MSPID, IdBytes: []byte(c.Identity)})
			signed = slices.Concat(sigs.Value, s.IdentifierHeader, hdr)
		default:
			var sh common.SignatureHeader
			if err := proto.Unmarshal(s.SignatureHeader, &sh); err != nil {
				lastErr = err
				continue
			}
			serialized = sh.Creator
			signed = slices.Concat(sigs.Value, s.SignatureHeader, hdr)
		}
		id, err := ix.verifyIdentity(serialized, "orderer", at)
		if err != nil {
			lastErr = err
			continue
		}
		if ix.orgs[id.mspID].org.Role != RoleOrderer {
			lastErr = fmt.Errorf("block signed by %s, not an ordering organisation", id.mspID)
			continue
		}
		if err := verifyECDSA(id, signed, s.Signature); err != nil {
			lastErr = fmt.Errorf("orderer %q: %w", id.cert.Subject.CommonName, err)
			continue
		}
		signers[string(id.cert.Raw)] = true
	}
	need := 1
	if bft {
		need = bftQuorum(len(ix.t.Consenters))
	}
	if len(signers) < need {
		return fmt.Errorf("block %d: %d valid orderer signatures, %d needed (last error: %v)", bi.number, len(signers), need, lastErr)
	}
	return nil
}

func (ix *trustIndex) consenter(id uint32) *Consenter {
	for i := range ix.t.Consenters {
		if ix.t.Consenters[i].ID == id {
			return &ix.t.Consenters[i]
		}
	}
	return nil
}

// verifyECDSA checks a Fabric signature: ASN.1 ECDSA over SHA-256(msg).
func verifyECDSA(id *identity, msg, sig []byte) error {
	pub, ok := id.cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("key is %T, not ECDSA", id.cert.PublicKey)
	}
	h := sha256.Sum256(msg)
	if !ecdsa.VerifyASN1(pub, h[:], sig) {
		return errors.New("signature does not verify")
	}
	return nil
}

// checkTx verifies transaction ei of a block (whose proof the caller
// checked): an endorser transaction on channel, its ID derived from the
// creator and nonce, the creator's signature, the proposal hash binding the
// endorsements to this transaction, the chaincode name, and each
// endorsement's signature by a peer of a member organisation. A bad
// endorsement makes the transaction fail, as at Fabric's validation.
func (ix *trustIndex) checkTx(bi *blockInfo, ei *envelopeInfo, channel, chaincode string) (*txFacts, error) {
	var env common.Envelope
	var pl common.Payload
	if err := proto.Unmarshal(ei.raw, &env); err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(env.Payload, &pl); err != nil {
		return nil, err
	}
	ch := ei.header
	if common.HeaderType(ch.Type) != common.HeaderType_ENDORSER_TRANSACTION {
		return nil, fmt.Errorf("transaction %s is not an endorser transaction", ei.txID)
	}
	if ch.ChannelId != channel {
		return nil, fmt.Errorf("transaction %s is on channel %q, not %q", ei.txID, ch.ChannelId, channel)
	}
	var sh common.SignatureHeader
	if err := proto.Unmarshal(pl.GetHeader().GetSignatureHeader(), &sh); err != nil {
		return nil, err
	}
	idSum := sha256.Sum256(slices.Concat(sh.Nonce, sh.Creator))
	if hex.EncodeToString(idSum[:]) != ch.TxId {
		return nil, fmt.Errorf("transaction ID %s is not SHA-256(nonce || creator)", ch.TxId)
	}
	at := ch.GetTimestamp().AsTime()
	creator, err := ix.verifyIdentity(sh.Creator, "", at)
	if err != nil {
		return nil, fmt.Errorf("transaction %s creator: %w", ei.txID, err)
	}
	if err := verifyECDSA(creator, env.Payload, env.Signature); err != nil {
		return nil, fmt.Errorf("transaction %s creator signature: %w", ei.txID, err)
	}
	cap, action, err := endorsedAction(pl.Data)
	if err != nil {
		return nil, fmt.Errorf("transaction %s: %w", ei.txID, err)
	}
	var prp peer.ProposalResponsePayload
	if err := proto.Unmarshal(cap.Action.ProposalResponsePayload, &prp); err != nil {
		return nil, err
	}
	ph := sha256.Sum256(slices.Concat(pl.Header.ChannelHeader, pl.Header.SignatureHeader, cap.ChaincodeProposalPayload))
	if !bytes.Equal(ph[:], prp.ProposalHash) {
		return nil, fmt.Errorf("transaction %s: the endorsed proposal hash is not this transaction's", ei.txID)
	}
	if name := action.GetChaincodeId().GetName(); name != chaincode {
		return nil, fmt.Errorf("transaction %s invokes chaincode %q, not %q", ei.txID, name, chaincode)
	}
	writes, err := namespaceWrites(action, chaincode)
	if err != nil {
		return nil, fmt.Errorf("transaction %s: read-write set: %w", ei.txID, err)
	}
	seen := map[string]bool{}
	for i, e := range cap.Action.Endorsements {
		id, err := ix.verifyIdentity(e.Endorser, "peer", at)
		if err != nil {
			return nil, fmt.Errorf("transaction %s endorsement %d: %w", ei.txID, i, err)
		}
		if err := verifyECDSA(id, slices.Concat(cap.Action.ProposalResponsePayload, e.Endorser), e.Signature); err != nil {
			return nil, fmt.Errorf("transaction %s endorsement %d by %s: %w", ei.txID, i, id.mspID, err)
		}
		if ix.orgs[id.mspID].org.Role == RoleApplication {
			seen[id.mspID] = true
		}
	}
	f := &txFacts{txID: ei.txID, block: bi.number, index: ei.index, time: at, creator: creator, writes: writes}
	for m := range seen {
		f.endorsers = append(f.endorsers, m)
	}
	slices.Sort(f.endorsers)
	if ei.index < len(bi.flags) {
		f.flag, f.flagKnown = peer.TxValidationCode(bi.flags[ei.index]), true
	}
	return f, nil
}

// applicationOrgs counts the member organisations that endorse.
func (ix *trustIndex) applicationOrgs() int {
	n := 0
	for _, o := range ix.t.Organizations {
		if o.Role == RoleApplication {
			n++
		}
	}
	return n
}

// checkEndorsements checks the endorsement policy of an anchoring
// transaction: the issuer's MSP endorsed, and for an issuance a majority
// of the application organisations (the channel's MAJORITY Endorsement).
func (ix *trustIndex) checkEndorsements(f *txFacts, issuerMSP string, majority bool) error {
	if !slices.Contains(f.endorsers, issuerMSP) {
		return fmt.Errorf("transaction %s is not endorsed by the issuing county's %s (endorsers %v)", f.txID, issuerMSP, f.endorsers)
	}
	if n := ix.applicationOrgs(); majority && len(f.endorsers)*2 <= n {
		return fmt.Errorf("transaction %s is endorsed by %d of %d counties (%v), a majority is needed", f.txID, len(f.endorsers), n, f.endorsers)
	}
	return nil
}
