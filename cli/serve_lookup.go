package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
)

// The QR link of a printed certificate carries its ID and status digest
// (cert.QRContent), not the signed certificate: too large for a QR code.
// The server looks the certificate up on the ledger, through the client's
// connection to its peer: the anchor and its history, and the issuing
// transaction, whose endorsed response holds the status the chaincode
// computed. It checks that the digest in the link is the one anchored
// (for a batch member: the member's, under the anchored Merkle root), that
// the status read hashes to it, that the transaction is VALID, and the
// anchor's state and validity at the date asked. The auditor then compares
// the paper with the content shown. The certificate's signature is not
// checked (the link does not carry it); the page says so.

var digestPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// lookupResult is what a QR look-up found.
type lookupResult struct {
	Verdict  cert.Verdict
	AsOf     time.Time
	Findings []cert.Finding
	// CertificateID and Digest are the link's; AnchorID the anchor that
	// holds the certificate (the batch anchor for a member).
	CertificateID string
	Digest        string
	AnchorID      string
	// Anchor is the version in force at AsOf (or the first, before it);
	// State its state, CurrentState the latest.
	Anchor       *credit.Certificate
	State        string
	CurrentState string
	StatusReason string
	// Status is the credit status the issuing transaction computed.
	Status *credit.CertificateStatus
	TxID   string
	Block  uint64
	// Member is the batch member's leaf index (-1 for a single certificate).
	Member, Count int
}

func (lr *lookupResult) add(r cert.Reason, format string, args ...any) {
	lr.Findings = append(lr.Findings, cert.Finding{Reason: r, Detail: fmt.Sprintf(format, args...)})
}

// finish sets the verdict from the findings, as cert.Report does.
func (lr *lookupResult) finish() *lookupResult {
	lr.Verdict = cert.Valid
	for _, f := range lr.Findings {
		switch f.Reason.Class() {
		case cert.ClassInvalid:
			lr.Verdict = cert.Invalid
		case cert.ClassCannotTell:
			if lr.Verdict == cert.Valid {
				lr.Verdict = cert.CannotTell
			}
		}
	}
	return lr
}

type lookupPage struct {
	pageBase
	Lookup   *lookupResult
	Counties func(string) string
}

// lookup checks a certificate ID and digest against the ledger at asOf
// (zero: now).
func (s *certServer) lookup(ctx context.Context, id, digest string, asOf time.Time) *lookupResult {
	if asOf.IsZero() {
		asOf = s.now()
	}
	lr := &lookupResult{AsOf: asOf.UTC(), CertificateID: id, Digest: digest, Member: -1}
	if err := credit.ValidateRef("id", id); err != nil {
		lr.add(cert.ReasonMalformed, "the link's certificate ID: %v", err)
		return lr.finish()
	}
	if !digestPattern.MatchString(digest) {
		lr.add(cert.ReasonMalformed, "the link's digest %q is not 64 lower-case hex digits", digest)
		return lr.finish()
	}
	if s.ledger == nil {
		lr.add(cert.ReasonLedgerUnavailable, "%v", errNoLedger)
		return lr.finish()
	}
	lr.AnchorID = id
	hist, _, err := s.ledger.CertificateHistory(ctx, id)
	if errors.Is(err, credit.ErrNotFound) {
		if batch, _, ok := credit.ParseMemberID(id); ok {
			lr.AnchorID = batch
			hist, _, err = s.ledger.CertificateHistory(ctx, batch)
		}
	}
	switch {
	case errors.Is(err, credit.ErrNotFound) || (err == nil && len(hist) == 0):
		lr.add(cert.ReasonAnchorNotFound, "the ledger holds no certificate %s", id)
		return lr.finish()
	case err != nil:
		lr.add(cert.ReasonLedgerUnavailable, "certificate history of %s: %v", lr.AnchorID, err)
		return lr.finish()
	}
	versions := make([]*credit.Certificate, len(hist))
	times := make([]time.Time, len(hist))
	for i, h := range hist {
		var a credit.Certificate
		if err := json.Unmarshal(h.Record, &a); err != nil {
			lr.add(cert.ReasonLedgerUnavailable, "anchor %s, version of transaction %s: %v", lr.AnchorID, h.TxID, err)
			return lr.finish()
		}
		versions[i] = &a
		times[i], _ = time.Parse(time.RFC3339, h.Timestamp)
	}
	first, last := versions[0], versions[len(versions)-1]
	// stateOf is the state of certificate id in an anchor version: a
	// member's own if it was changed alone and that is more restrictive
	// than its batch's (credit.Certificate.StateOf), with the reason.
	stateOf := func(a *credit.Certificate) (string, string) {
		if st, m, ok := a.StateOf(id); ok && m != nil {
			return st, m.Reason
		}
		return a.State, a.StatusReason
	}
	lr.Anchor, lr.TxID = first, first.IssueTxID
	lr.CurrentState, _ = stateOf(last)
	if lr.AnchorID == id && first.IsBatch() {
		lr.add(cert.ReasonAnchorMismatch, "%s is a batch anchor, not a certificate: its members are %s.00001 … (the QR link names a member)", id, id)
		return lr.finish()
	}

	// The issuing transaction: VALID, and the status it computed.
	pt, err := s.ledger.TransactionByID(ctx, first.IssueTxID)
	switch {
	case errors.Is(err, credit.ErrNotFound):
		lr.add(cert.ReasonAnchorNotFound, "issuing transaction %s: %v", first.IssueTxID, err)
		return lr.finish()
	case err != nil:
		lr.add(cert.ReasonLedgerUnavailable, "issuing transaction %s: %v", first.IssueTxID, err)
		return lr.finish()
	}
	if !txValid(pt) {
		lr.add(cert.ReasonTxInvalid, "issuing transaction %s is %s on the ledger", first.IssueTxID, peer.TxValidationCode(pt.GetValidationCode()))
		return lr.finish()
	}
	if b, err := s.ledger.BlockByTxID(ctx, first.IssueTxID); err == nil {
		lr.Block = b.GetHeader().GetNumber()
	}
	payload, err := responsePayload(pt.GetTransactionEnvelope())
	if err != nil {
		lr.add(cert.ReasonLedgerProof, "issuing transaction %s: %v", first.IssueTxID, err)
		return lr.finish()
	}
	status, err := anchoredStatus(lr, first, id, digest, payload)
	if err != nil {
		lr.add(cert.ReasonAnchorMismatch, "%v", err)
		return lr.finish()
	}
	lr.Status = status

	// The state and validity at asOf.
	if asOf.Before(times[0]) || asOf.Before(cert.StartOfDate(first.ValidFrom)) {
		lr.add(cert.ReasonNotYetValid, "asked as of %s, before the issuance at %s", asOf.UTC().Format(time.RFC3339), hist[0].Timestamp)
		lr.State, _ = stateOf(first)
		return lr.finish()
	}
	at := first
	for i, v := range versions {
		if !times[i].After(asOf) {
			at = v
		}
	}
	lr.Anchor = at
	lr.State, lr.StatusReason = stateOf(at)
	switch lr.State {
	case credit.CertRevoked:
		lr.add(cert.ReasonRevoked, "the issuing county revoked it: %s", lr.StatusReason)
	case credit.CertSuspended:
		lr.add(cert.ReasonSuspended, "the issuing county suspended it: %s", lr.StatusReason)
	}
	if asOf.After(cert.EndOfDate(at.ValidUntil)) {
		lr.add(cert.ReasonExpired, "valid until %s", at.ValidUntil)
	}
	return lr.finish()
}

// anchoredStatus finds, in the issuing transaction's response, the status
// of certificate id and checks it against the link's digest and the
// anchor: a single certificate's digest, or a batch member's digest under
// the anchored Merkle root.
func anchoredStatus(lr *lookupResult, a *credit.Certificate, id, digest string, payload []byte) (*credit.CertificateStatus, error) {
	var raw json.RawMessage
	if !a.IsBatch() {
		var res credit.IssueCertificateResult
		if err := json.Unmarshal(payload, &res); err != nil || res.Certificate == nil {
			return nil, fmt.Errorf("issuing transaction %s: its response is not an issuance result", a.IssueTxID)
		}
		if res.Digest != a.Digest || res.Certificate.ID != a.ID {
			return nil, fmt.Errorf("issuing transaction %s answered certificate %s, digest %s; the anchor says %s, %s", a.IssueTxID, res.Certificate.ID, res.Digest, a.ID, a.Digest)
		}
		if a.Digest != digest {
			return nil, fmt.Errorf("the link's digest %s is not the anchored digest %s of %s", digest, a.Digest, id)
		}
		raw = res.Status
	} else {
		var res credit.IssueCertificateBatchResult
		if err := json.Unmarshal(payload, &res); err != nil || res.Certificate == nil {
			return nil, fmt.Errorf("issuing transaction %s: its response is not a batch issuance result", a.IssueTxID)
		}
		leaves := make([]credit.Hash, len(res.Members))
		var m *credit.BatchMember
		for i := range res.Members {
			x := &res.Members[i]
			var d credit.Hash
			if b, err := hex.DecodeString(x.Digest); err != nil || len(b) != len(d) {
				return nil, fmt.Errorf("batch %s: member %s has a malformed digest", a.ID, x.ID)
			} else {
				copy(d[:], b)
			}
			leaves[i] = credit.MerkleLeaf(x.ID, d)
			if x.ID == id {
				m = x
			}
		}
		root, err := credit.MerkleRoot(leaves)
		if err != nil || hex.EncodeToString(root[:]) != a.MerkleRoot {
			return nil, fmt.Errorf("batch %s: its members' leaves do not give the anchored Merkle root %s", a.ID, a.MerkleRoot)
		}
		if m == nil {
			return nil, fmt.Errorf("batch %s has no member %s", a.ID, id)
		}
		if m.Digest != digest {
			return nil, fmt.Errorf("the link's digest %s is not member %s's digest %s", digest, id, m.Digest)
		}
		raw = m.Status
		lr.Member, lr.Count = m.Index, len(res.Members)
	}
	canon, err := credit.Canonicalize(raw)
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", id, err)
	}
	if sum := sha256.Sum256(canon); hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("the status the ledger holds for %s does not hash to %s", id, digest)
	}
	var st credit.CertificateStatus
	if err := json.Unmarshal(canon, &st); err != nil {
		return nil, fmt.Errorf("status of %s: %w", id, err)
	}
	return &st, nil
}

// responsePayload is the chaincode's response in an endorser transaction:
// what the endorsing peers signed as the result of the invocation.
func responsePayload(env *common.Envelope) ([]byte, error) {
	var pl common.Payload
	if err := proto.Unmarshal(env.GetPayload(), &pl); err != nil {
		return nil, fmt.Errorf("envelope payload: %w", err)
	}
	var tx peer.Transaction
	if err := proto.Unmarshal(pl.GetData(), &tx); err != nil {
		return nil, fmt.Errorf("transaction: %w", err)
	}
	if len(tx.GetActions()) == 0 {
		return nil, errors.New("transaction has no action")
	}
	var cap peer.ChaincodeActionPayload
	if err := proto.Unmarshal(tx.GetActions()[0].GetPayload(), &cap); err != nil {
		return nil, fmt.Errorf("chaincode action payload: %w", err)
	}
	var prp peer.ProposalResponsePayload
	if err := proto.Unmarshal(cap.GetAction().GetProposalResponsePayload(), &prp); err != nil {
		return nil, fmt.Errorf("proposal response payload: %w", err)
	}
	var ca peer.ChaincodeAction
	if err := proto.Unmarshal(prp.GetExtension(), &ca); err != nil {
		return nil, fmt.Errorf("chaincode action: %w", err)
	}
	return ca.GetResponse().GetPayload(), nil
}
