package cert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
)

// The credential: a W3C Verifiable Credential (Data Model 2.0). Nothing in
// it is fetched: the contexts are identifiers, not documents to load.
const (
	// ContextV2 is the W3C VC 2.0 base context.
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
	// ContextCredit names this certificate vocabulary (docs/CERTIFICATES.md).
	ContextCredit = "urn:cn:credit:context:certificate:v1"
	// TypeCertificate is the credential type after VerifiableCredential.
	TypeCertificate = "CreditStatusCertificate"
	// TypeAnchor is the credentialStatus type: a Fabric ledger anchor.
	TypeAnchor = "FabricLedgerAnchor"
	// CertificateName is the credential's name (社会信用区块链证书).
	CertificateName = "社会信用区块链证书"
	// IssuerSuffix follows the county's registered name in the issuer's
	// name: 义乌市 → 义乌市信用办.
	IssuerSuffix = "信用办"

	urnCounty      = "urn:cn:credit:county:"
	urnSubject     = "urn:cn:credit:subject:"
	urnCertificate = "urn:cn:credit:certificate:"
	urnAnchor      = "urn:cn:credit:anchor:"
)

// Credential is the JWS payload.
type Credential struct {
	Context           []string          `json:"@context"`
	ID                string            `json:"id"` // urn:cn:credit:certificate:<certificate ID>
	Type              []string          `json:"type"`
	Name              string            `json:"name"`
	Issuer            Issuer            `json:"issuer"`
	ValidFrom         string            `json:"validFrom"`  // the issuing date, 00:00:00+08:00
	ValidUntil        string            `json:"validUntil"` // validUntil, 23:59:59+08:00
	CredentialSubject CredentialSubject `json:"credentialSubject"`
	CredentialStatus  LedgerAnchor      `json:"credentialStatus"`
}

// Issuer is the issuing county office and its officer.
type Issuer struct {
	ID      string  `json:"id"`     // urn:cn:credit:county:<code>
	Name    string  `json:"name"`   // e.g. 义乌市信用办
	County  string  `json:"county"` // division code
	MSPID   string  `json:"mspId"`
	Officer Officer `json:"officer"`
}

// Officer is the officer who issued and signed.
type Officer struct {
	// ID is the officer's Fabric client identity ID (cid GetID), as the
	// anchor's createdBy records it.
	ID         string `json:"id"`
	Name       string `json:"name"` // certificate common name
	Department string `json:"department,omitempty"`
}

// CredentialSubject is the subject and the status the chaincode computed,
// verbatim: its SHA-256 over RFC 8785 canonical JSON is the anchored
// digest.
type CredentialSubject struct {
	ID           string          `json:"id"` // urn:cn:credit:subject:<subject>
	Purpose      string          `json:"purpose"`
	PurposeLabel string          `json:"purposeLabel"`
	CreditStatus json.RawMessage `json:"creditStatus"`
}

// LedgerAnchor says where the certificate is anchored: the channel,
// chaincode, anchor and certificate IDs, the issuing transaction and its
// block (the ledger height the status speaks for), the status digest and,
// for a batch member, the Merkle proof to the anchored root.
type LedgerAnchor struct {
	ID            string       `json:"id"`   // urn:cn:credit:anchor:<channel>:<chaincode>:<anchorId>
	Type          string       `json:"type"` // FabricLedgerAnchor
	Channel       string       `json:"channel"`
	Chaincode     string       `json:"chaincode"`
	AnchorID      string       `json:"anchorId"`
	CertificateID string       `json:"certificateId"`
	TxID          string       `json:"txId"`
	BlockNumber   uint64       `json:"blockNumber"`
	Digest        string       `json:"digest"`
	MerkleProof   *MerkleProof `json:"merkleProof,omitempty"`
}

// MerkleProof is an RFC 9162 inclusion proof of a batch member.
type MerkleProof struct {
	LeafIndex int      `json:"leafIndex"`
	TreeSize  int      `json:"treeSize"`
	Root      string   `json:"root"`
	Path      []string `json:"path"` // hex, from the leaf's level up
}

// Position is where an issuing transaction committed.
type Position struct {
	Channel     string
	Chaincode   string
	TxID        string
	BlockNumber uint64
}

// StartOfDate and EndOfDate are the first and last second of a civil date
// in China Standard Time.
func StartOfDate(d credit.Date) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, credit.CST)
}

// EndOfDate is 23:59:59 China Standard Time on d: "as of a date" means at
// the end of that day (a revocation during the day counts).
func EndOfDate(d credit.Date) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, credit.CST)
}

func formatStart(d credit.Date) string { return StartOfDate(d).Format(time.RFC3339) }
func formatEnd(d credit.Date) string   { return EndOfDate(d).Format(time.RFC3339) }

// CountyURN and SubjectURN are the identifiers used in credentials.
func CountyURN(code string) string     { return urnCounty + code }
func SubjectURN(subject string) string { return urnSubject + subject }

// IssuerInfo describes the issuing office for a credential: the county's
// registered name (the chaincode returns it), its MSP, and the officer.
type IssuerInfo struct {
	CountyName string
	MSPID      string
	OfficerCN  string
	Department string
}

func newCredential(a *credit.Certificate, certID string, status json.RawMessage, digest string, issuer IssuerInfo, pos Position) (*Credential, error) {
	var s credit.CertificateStatus
	if err := json.Unmarshal(status, &s); err != nil {
		return nil, fmt.Errorf("certificate %s: decode status: %w", certID, err)
	}
	canon, err := credit.Canonicalize(status)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", certID, err)
	}
	if sum := sha256.Sum256(canon); hex.EncodeToString(sum[:]) != digest {
		return nil, fmt.Errorf("certificate %s: the status does not match its digest %s", certID, digest)
	}
	if pos.Channel == "" || pos.Chaincode == "" || pos.TxID == "" {
		return nil, errors.New("certificate " + certID + ": the ledger position needs channel, chaincode and transaction ID")
	}
	if pos.TxID != a.IssueTxID {
		return nil, fmt.Errorf("certificate %s: anchor issued by transaction %s, not %s", certID, a.IssueTxID, pos.TxID)
	}
	return &Credential{
		Context: []string{ContextV2, ContextCredit},
		ID:      urnCertificate + certID,
		Type:    []string{"VerifiableCredential", TypeCertificate},
		Name:    CertificateName,
		Issuer: Issuer{
			ID: CountyURN(a.County), Name: issuer.CountyName + IssuerSuffix, County: a.County, MSPID: issuer.MSPID,
			Officer: Officer{ID: a.CreatedBy, Name: issuer.OfficerCN, Department: issuer.Department},
		},
		ValidFrom:  formatStart(a.ValidFrom),
		ValidUntil: formatEnd(a.ValidUntil),
		CredentialSubject: CredentialSubject{
			ID: SubjectURN(s.Subject), Purpose: a.Purpose, PurposeLabel: credit.PurposeLabel(a.Purpose), CreditStatus: canon,
		},
		CredentialStatus: LedgerAnchor{
			ID: urnAnchor + pos.Channel + ":" + pos.Chaincode + ":" + a.ID, Type: TypeAnchor,
			Channel: pos.Channel, Chaincode: pos.Chaincode, AnchorID: a.ID, CertificateID: certID,
			TxID: pos.TxID, BlockNumber: pos.BlockNumber, Digest: digest,
		},
	}, nil
}

// NewCredential builds the credential of a single certificate from the
// chaincode's IssueCertificate result and the position of its transaction.
func NewCredential(res *credit.IssueCertificateResult, issuer IssuerInfo, pos Position) (*Credential, error) {
	if res == nil || res.Certificate == nil {
		return nil, errors.New("new credential: no issuance result")
	}
	if res.Certificate.IsBatch() {
		return nil, fmt.Errorf("new credential: %s is a batch anchor; use NewBatchCredentials", res.Certificate.ID)
	}
	if issuer.CountyName == "" {
		issuer.CountyName = res.IssuerName
	}
	return newCredential(res.Certificate, res.Certificate.ID, res.Status, res.Digest, issuer, pos)
}

// NewBatchCredentials builds the credentials of every member of a batch,
// each with its Merkle proof to the anchored root. It checks that the
// members' leaves give that root.
func NewBatchCredentials(res *credit.IssueCertificateBatchResult, issuer IssuerInfo, pos Position) ([]*Credential, error) {
	if res == nil || res.Certificate == nil || !res.Certificate.IsBatch() {
		return nil, errors.New("new batch credentials: not a batch issuance result")
	}
	a := res.Certificate
	if len(res.Members) != a.Count {
		return nil, fmt.Errorf("new batch credentials %s: %d members for count %d", a.ID, len(res.Members), a.Count)
	}
	if issuer.CountyName == "" {
		issuer.CountyName = res.IssuerName
	}
	leaves := make([]credit.Hash, len(res.Members))
	for i, m := range res.Members {
		d, err := credit.DigestBytes(m.Digest)
		if err != nil {
			return nil, fmt.Errorf("batch %s member %d: %w", a.ID, i, err)
		}
		if m.Index != i || m.ID != credit.MemberID(a.ID, i) {
			return nil, fmt.Errorf("batch %s member %d: id %s index %d", a.ID, i, m.ID, m.Index)
		}
		leaves[i] = credit.MerkleLeaf(m.ID, d)
	}
	tree, err := credit.NewMerkleTree(leaves)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", a.ID, err)
	}
	root := tree.Root()
	if hex.EncodeToString(root[:]) != a.MerkleRoot {
		return nil, fmt.Errorf("batch %s: members give root %x, the anchor holds %s", a.ID, root, a.MerkleRoot)
	}
	out := make([]*Credential, len(res.Members))
	for i, m := range res.Members {
		c, err := newCredential(a, m.ID, m.Status, m.Digest, issuer, pos)
		if err != nil {
			return nil, err
		}
		path, _ := tree.Path(i)
		hp := make([]string, len(path))
		for j, h := range path {
			hp[j] = hex.EncodeToString(h[:])
		}
		c.CredentialStatus.MerkleProof = &MerkleProof{LeafIndex: i, TreeSize: a.Count, Root: a.MerkleRoot, Path: hp}
		out[i] = c
	}
	return out, nil
}

// SubjectFromURN returns the subject of a credential subject ID.
func SubjectFromURN(id string) (string, bool) { return strings.CutPrefix(id, urnSubject) }

// CountyFromURN returns the county code of an issuer ID.
func CountyFromURN(id string) (string, bool) { return strings.CutPrefix(id, urnCounty) }

// CertificateID is the certificate's ID (the anchor's for a single
// certificate, the member's for a batch member).
func (c *Credential) CertificateID() string { return c.CredentialStatus.CertificateID }
