package cert

import (
	"context"
	"errors"
	"fmt"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
)

// IssueLedger is what issuing needs from the ledger; *client.Client
// implements it.
type IssueLedger interface {
	IssueCertificate(ctx context.Context, req credit.IssueCertificateRequest) (*credit.IssueCertificateResult, client.Result, error)
	IssueCertificateBatch(ctx context.Context, req credit.IssueCertificateBatchRequest) (*credit.IssueCertificateBatchResult, client.Result, error)
	Channel() string
	ChaincodeName() string
}

// Issued is a signed certificate and where it is anchored.
type Issued struct {
	JWS        string
	Credential *Credential
	Anchor     *credit.Certificate
	Position   Position
}

// Issue submits IssueCertificate, waits for it to commit, and returns the
// certificate signed by s. The caller's client must be the officer's: the
// chaincode records the submitting identity as the issuer, and verifiers
// check that it is the signer.
func Issue(ctx context.Context, l IssueLedger, s *Signer, req credit.IssueCertificateRequest) (*Issued, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	res, r, err := l.IssueCertificate(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("issue certificate %s: %w", req.ID, err)
	}
	pos := Position{Channel: l.Channel(), Chaincode: l.ChaincodeName(), TxID: r.TxID, BlockNumber: r.BlockNumber}
	cred, err := NewCredential(res, s.Issuer(res.IssuerName), pos)
	if err != nil {
		return nil, fmt.Errorf("issue certificate %s: %w", req.ID, err)
	}
	jws, err := s.Sign(cred)
	if err != nil {
		return nil, err
	}
	return &Issued{JWS: jws, Credential: cred, Anchor: res.Certificate, Position: pos}, nil
}

// DefaultBatchChunk is how many subjects IssueBatch puts under one anchor.
// A transaction carries every member's status (about 540 bytes each) and a
// range read per subject, about 640 bytes a member in all: 1,000 members
// make a 0.64 MB block, which keeps an offline bundle (the whole block)
// small; up to credit.MaxBatchSubjects fit one transaction
// (docs/CERTIFICATES.md, "Batch size").
const DefaultBatchChunk = 1000

// ChunkID is the anchor ID of chunk k (0-based) of a batch split in n
// chunks: the batch ID itself for one chunk, else "<batchId>-001", ….
func ChunkID(batchID string, k, n int) string {
	if n == 1 {
		return batchID
	}
	return fmt.Sprintf("%s-%03d", batchID, k+1)
}

// IssueBatch issues one certificate per subject, in anchors of at most
// chunk subjects (DefaultBatchChunk if chunk <= 0), one transaction each,
// and returns the certificates signed by s in subject order. If a chunk
// fails, the certificates of the chunks before it are returned with the
// error.
func IssueBatch(ctx context.Context, l IssueLedger, s *Signer, req credit.IssueCertificateBatchRequest, chunk int) ([]*Issued, error) {
	if chunk <= 0 {
		chunk = DefaultBatchChunk
	}
	if chunk > credit.MaxBatchSubjects {
		return nil, fmt.Errorf("issue batch: chunk %d is above %d", chunk, credit.MaxBatchSubjects)
	}
	if len(req.Subjects) == 0 {
		return nil, errors.New("issue batch: no subjects")
	}
	n := (len(req.Subjects) + chunk - 1) / chunk
	if n > 999 {
		return nil, fmt.Errorf("issue batch: %d subjects make %d chunks of %d, at most 999", len(req.Subjects), n, chunk)
	}
	var out []*Issued
	for k := 0; k < n; k++ {
		part := req
		part.BatchID = ChunkID(req.BatchID, k, n)
		part.Subjects = req.Subjects[k*chunk : min((k+1)*chunk, len(req.Subjects))]
		if err := part.Validate(); err != nil {
			return out, fmt.Errorf("issue batch: %w", err)
		}
		res, r, err := l.IssueCertificateBatch(ctx, part)
		if err != nil {
			return out, fmt.Errorf("issue batch %s: %w", part.BatchID, err)
		}
		pos := Position{Channel: l.Channel(), Chaincode: l.ChaincodeName(), TxID: r.TxID, BlockNumber: r.BlockNumber}
		creds, err := NewBatchCredentials(res, s.Issuer(res.IssuerName), pos)
		if err != nil {
			return out, fmt.Errorf("issue batch %s: %w", part.BatchID, err)
		}
		for _, c := range creds {
			jws, err := s.Sign(c)
			if err != nil {
				return out, err
			}
			out = append(out, &Issued{JWS: jws, Credential: c, Anchor: res.Certificate, Position: pos})
		}
	}
	return out, nil
}
