package client

import (
	"context"
	"fmt"
	"strconv"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// Typed calls for blockchain credit certificates (docs/CERTIFICATES.md),
// and the ledger reads their verification needs: a transaction with its
// validation code, a block, and the channel's latest configuration block,
// through the peer's system chaincodes qscc and cscc.

// IssueCertificate issues a certificate (officer); the result holds the
// anchor, the canonical status and its digest. Result.BlockNumber is the
// block of the anchoring transaction.
func (c *Client) IssueCertificate(ctx context.Context, req credit.IssueCertificateRequest) (*credit.IssueCertificateResult, Result, error) {
	return submitAs[credit.IssueCertificateResult](ctx, c, "IssueCertificate", req)
}

// IssueCertificateBatch issues one certificate per subject under one
// anchor (officer).
func (c *Client) IssueCertificateBatch(ctx context.Context, req credit.IssueCertificateBatchRequest) (*credit.IssueCertificateBatchResult, Result, error) {
	return submitAs[credit.IssueCertificateBatchResult](ctx, c, "IssueCertificateBatch", req)
}

// SetCertificateStatus suspends, reinstates or revokes a certificate or a
// batch (officer of the issuing county); credit.ErrState if revoked or
// already in that state.
func (c *Client) SetCertificateStatus(ctx context.Context, req credit.SetCertificateStatusRequest) (*credit.Certificate, Result, error) {
	return submitAs[credit.Certificate](ctx, c, "SetCertificateStatus", req)
}

// GetCertificate returns an anchor (credit.ErrNotFound if none).
func (c *Client) GetCertificate(ctx context.Context, id string) (*credit.Certificate, Result, error) {
	return evaluateAs[credit.Certificate](ctx, c, "GetCertificate", credit.CertificateRequest{ID: id})
}

// CertificateHistory returns every version of an anchor, oldest first.
func (c *Client) CertificateHistory(ctx context.Context, id string) ([]credit.HistoryEntry, Result, error) {
	out, res, err := evaluateAs[[]credit.HistoryEntry](ctx, c, "CertificateHistory", credit.CertificateRequest{ID: id})
	if err != nil {
		return nil, res, err
	}
	return *out, res, nil
}

// ListCertificates returns one page of the anchors a county issued.
func (c *Client) ListCertificates(ctx context.Context, req credit.ListCertificatesRequest) (*credit.ListCertificatesResult, Result, error) {
	return evaluateAs[credit.ListCertificatesResult](ctx, c, "ListCertificates", req)
}

// systemQuery evaluates a system chaincode function on the connected peer
// and decodes its protobuf answer.
func (c *Client) systemQuery(ctx context.Context, cc, fn, txID string, out proto.Message, args ...string) error {
	contract := c.network.GetContract(cc)
	ectx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.Evaluate)
	defer cancel()
	payload, err := contract.EvaluateWithContext(ectx, fn, client.WithArguments(args...))
	if err != nil {
		return newTxError(fn, StageEvaluate, txID, err)
	}
	if err := unmarshalProto(payload, out); err != nil {
		return &TxError{Op: fn, Stage: StageEvaluate, TxID: txID, Err: err}
	}
	return nil
}

// TransactionByID returns a committed transaction: its envelope and its
// validation code (qscc GetTransactionByID). A transaction the peer does
// not hold gives an error matching credit.ErrNotFound.
func (c *Client) TransactionByID(ctx context.Context, txID string) (*peer.ProcessedTransaction, error) {
	var pt peer.ProcessedTransaction
	if err := c.systemQuery(ctx, "qscc", "GetTransactionByID", txID, &pt, c.cfg.Channel, txID); err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("transaction %s: %w", txID, credit.ErrNotFound)
		}
		return nil, err
	}
	return &pt, nil
}

// BlockByTxID returns the block holding a transaction (qscc
// GetBlockByTxID), with the metadata the peer keeps: the orderers'
// signatures and the peer's own validation flags.
func (c *Client) BlockByTxID(ctx context.Context, txID string) (*common.Block, error) {
	var b common.Block
	if err := c.systemQuery(ctx, "qscc", "GetBlockByTxID", txID, &b, c.cfg.Channel, txID); err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("block of transaction %s: %w", txID, credit.ErrNotFound)
		}
		return nil, err
	}
	return &b, nil
}

// BlockByNumber returns block n of the channel (qscc GetBlockByNumber).
func (c *Client) BlockByNumber(ctx context.Context, n uint64) (*common.Block, error) {
	var b common.Block
	if err := c.systemQuery(ctx, "qscc", "GetBlockByNumber", "", &b, c.cfg.Channel, strconv.FormatUint(n, 10)); err != nil {
		return nil, err
	}
	return &b, nil
}

// ChainInfo returns the channel's height and current block hash (qscc
// GetChainInfo).
func (c *Client) ChainInfo(ctx context.Context) (*common.BlockchainInfo, error) {
	var info common.BlockchainInfo
	if err := c.systemQuery(ctx, "qscc", "GetChainInfo", "", &info, c.cfg.Channel); err != nil {
		return nil, err
	}
	return &info, nil
}

// ConfigBlock returns the channel's latest configuration block (cscc
// GetConfigBlock): the member organisations' MSPs, the orderers and the
// policies, for exporting trust roots.
func (c *Client) ConfigBlock(ctx context.Context) (*common.Block, error) {
	var b common.Block
	if err := c.systemQuery(ctx, "cscc", "GetConfigBlock", "", &b, c.cfg.Channel); err != nil {
		return nil, err
	}
	return &b, nil
}

// ChaincodeName is the chaincode the client calls (for certificates'
// ledger anchors).
func (c *Client) ChaincodeName() string { return c.cfg.Chaincode }
