package chaincode

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Certificate transactions and queries (DESIGN §5, docs/CERTIFICATES.md).
//
// An issuance reads the subject's records through a range query on the
// subject index (GetStateByPartialCompositeKey), then each record. The range
// goes into the transaction's read set, so at commit Fabric re-runs it and
// invalidates the transaction (phantom read) if any record of the subject
// was added or removed since simulation; a changed record fails the MVCC
// check. The status a committed certificate states is therefore exactly the
// ledger's at that transaction.

// subjectRecords range-reads the subject index and loads every record of
// the subject, in index order (kind, then ID).
func (l *ledger) subjectRecords(subject string) ([]credit.Record, error) {
	it, err := l.stub.GetStateByPartialCompositeKey(credit.TypeSubject, []string{subject})
	if err != nil {
		return nil, fmt.Errorf("query subject index of %s: %w", subject, err)
	}
	defer it.Close()
	var out []credit.Record
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("query subject index of %s: %w", subject, err)
		}
		_, attrs, err := l.stub.SplitCompositeKey(kv.GetKey())
		if err != nil || len(attrs) != 3 {
			return nil, fmt.Errorf("subject index key %q is malformed", kv.GetKey())
		}
		rec, err := l.record(attrs[1], attrs[2])
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// issuerName is the registered name of the caller's county ("" if none).
func (l *ledger) issuerName(code string) (string, error) {
	if code == "" {
		return "", nil
	}
	c, err := l.county(code)
	if err != nil || c == nil {
		return "", err
	}
	return c.Name, nil
}

// certificate loads an anchor; NOT_FOUND if absent.
func (l *ledger) certificate(field, id string) (*credit.Certificate, error) {
	if err := credit.ValidateRef(field, id); err != nil {
		return nil, err
	}
	b, err := l.get(credit.CertificateKey(id))
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("certificate %s: %w", id, credit.ErrNotFound)
	}
	c := new(credit.Certificate)
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("decode certificate %s: %w", id, err)
	}
	return c, nil
}

// IssueCertificate issues a certificate: computes the subject's credit
// status from its records and anchors its digest (officer).
func (c *Contract) IssueCertificate(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "issue certificate", req, func(l *ledger, r *credit.IssueCertificateRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := l.mustBeNew(credit.TypeCertificate, "id", r.ID); err != nil {
			return credit.Change{}, err
		}
		if _, err := credit.ParseSubject("subject", r.Subject); err != nil {
			return credit.Change{}, err
		}
		recs, err := l.subjectRecords(r.Subject)
		if err != nil {
			return credit.Change{}, err
		}
		rules, err := l.ruleSets()
		if err != nil {
			return credit.Change{}, err
		}
		name, err := l.issuerName(a.County)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.IssueCertificate(*r, recs, rules, name, a, tx)
	})
}

// IssueCertificateBatch issues one certificate per subject under one
// Merkle-root anchor (officer).
func (c *Contract) IssueCertificateBatch(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "issue certificate batch", req, func(l *ledger, r *credit.IssueCertificateBatchRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		if err := l.mustBeNew(credit.TypeCertificate, "batchId", r.BatchID); err != nil {
			return credit.Change{}, err
		}
		if err := credit.ValidateBatchSubjects(r.Subjects); err != nil {
			return credit.Change{}, err
		}
		recs := make([][]credit.Record, len(r.Subjects))
		for i, s := range r.Subjects {
			var err error
			if recs[i], err = l.subjectRecords(s); err != nil {
				return credit.Change{}, err
			}
		}
		rules, err := l.ruleSets()
		if err != nil {
			return credit.Change{}, err
		}
		name, err := l.issuerName(a.County)
		if err != nil {
			return credit.Change{}, err
		}
		return credit.IssueCertificateBatch(*r, recs, rules, name, a, tx)
	})
}

// SetCertificateStatus suspends, reinstates or revokes a certificate, a
// batch, or one member of a batch by its certificate ID (officer of the
// issuing county). A member's change is a new version of its batch's
// anchor, under the anchor's key-level policy.
func (c *Contract) SetCertificateStatus(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return write(ctx, "set certificate status", req, func(l *ledger, r *credit.SetCertificateStatusRequest, a credit.Actor, tx credit.Tx) (credit.Change, error) {
		anchor := credit.AnchorOf(r.ID)
		cert, err := l.certificate("id", anchor)
		if errors.Is(err, credit.ErrNotFound) && anchor != r.ID {
			return credit.Change{}, fmt.Errorf("certificate %s: no batch %s: %w", r.ID, anchor, credit.ErrNotFound)
		}
		if err != nil {
			return credit.Change{}, err
		}
		return credit.SetCertificateStatus(cert, *r, a, tx)
	})
}

// GetCertificate returns a certificate or batch anchor with its derived
// state.
func (c *Contract) GetCertificate(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "get certificate", req, func(l *ledger, r *credit.CertificateRequest, tx credit.Tx) (any, error) {
		cert, err := l.certificate("id", r.ID)
		if err != nil {
			return nil, err
		}
		cert.Derive(tx.Date())
		return cert, nil
	})
}

// CertificateHistory returns every version of an anchor, oldest first, with
// its transaction and time: the issuance and each status change.
func (c *Contract) CertificateHistory(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "certificate history", req, func(l *ledger, r *credit.CertificateRequest, tx credit.Tx) (any, error) {
		if err := credit.ValidateRef("id", r.ID); err != nil {
			return nil, err
		}
		return l.history(credit.CertificateKey(r.ID), "certificate "+r.ID)
	})
}

// ListCertificates pages through the anchors a county issued, by ID.
func (c *Contract) ListCertificates(ctx contractapi.TransactionContextInterface, req string) (string, error) {
	return read(ctx, "list certificates", req, func(l *ledger, r *credit.ListCertificatesRequest, tx credit.Tx) (any, error) {
		if err := credit.ValidateCountyCode("county", r.County); err != nil {
			return nil, err
		}
		if err := checkPage(r.PageSize); err != nil {
			return nil, err
		}
		it, meta, err := l.stub.GetStateByPartialCompositeKeyWithPagination(credit.TypeCertCounty, []string{r.County}, int32(r.PageSize), r.Bookmark)
		if err != nil {
			return nil, &credit.FieldError{Field: "bookmark", Rule: fmt.Sprintf("query failed: %v", err)}
		}
		defer it.Close()
		out := credit.ListCertificatesResult{Certificates: []credit.Certificate{}}
		if meta != nil {
			out.Bookmark = meta.GetBookmark()
		}
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("query certificate index: %w", err)
			}
			_, parts, err := l.stub.SplitCompositeKey(kv.GetKey())
			if err != nil || len(parts) != 2 {
				return nil, fmt.Errorf("certificate index key %q is malformed", kv.GetKey())
			}
			cert, err := l.certificate("id", parts[1])
			if err != nil {
				return nil, err
			}
			cert.Derive(tx.Date())
			out.Certificates = append(out.Certificates, *cert)
		}
		return out, nil
	})
}
