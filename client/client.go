package client

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// Config says which peer to talk to, as whom, and on which channel.
type Config struct {
	// Signer is the caller's identity (LoadMSP).
	Signer *Signer
	// PeerAddress is host:port of the peer's Gateway service.
	PeerAddress string
	// TLSRootCertFile is the PEM file of the CA that issued the peer's TLS
	// certificate.
	TLSRootCertFile string
	// HostOverride is the TLS server name to verify, when the address is an
	// IP (the peer's host name from the profile). Empty: the address host.
	HostOverride string
	// Channel and Chaincode default to "credit".
	Channel   string
	Chaincode string
	// Timeouts per stage; zero fields take DefaultTimeouts.
	Timeouts Timeouts
	// Retry governs resubmission (read conflicts, lagging peers); the zero
	// value takes DefaultRetry.
	Retry Retry
	// OnRetry, if set, is told of each failed attempt that Submit is about
	// to try again, and the pause before it (for progress messages).
	OnRetry func(err error, pause time.Duration)
	// MaxRecvBytes bounds one answer from the peer; zero takes
	// DefaultMaxRecvBytes. gRPC's own default, 4 MiB, is too small for a
	// batch of 10,000 certificates under one anchor (a 6.4 MB endorsement
	// response; the orderer takes blocks up to 10 MiB).
	MaxRecvBytes int
}

// DefaultMaxRecvBytes is the largest peer answer a Client accepts unless
// Config.MaxRecvBytes says otherwise: the orderer's largest block.
const DefaultMaxRecvBytes = 10 << 20

// Timeouts bound each stage of a call. A call's context can shorten them.
type Timeouts struct {
	Evaluate     time.Duration
	Endorse      time.Duration
	Submit       time.Duration
	CommitStatus time.Duration
}

// DefaultTimeouts suit a local or county-to-county network.
var DefaultTimeouts = Timeouts{
	Evaluate:     15 * time.Second,
	Endorse:      30 * time.Second,
	Submit:       15 * time.Second,
	CommitStatus: 60 * time.Second,
}

// Retry says which failed submissions are tried again. All of them are
// failures after which the ledger holds nothing of the attempt, so a new
// attempt cannot duplicate a record.
type Retry struct {
	// Attempts bounds the tries of a transaction invalidated by an MVCC or
	// phantom-read conflict, the first included; the pauses start at
	// Initial and double up to Max.
	Attempts int
	Initial  time.Duration
	Max      time.Duration
	// NotFound is how long a write the chaincode refused as NOT_FOUND at
	// endorsement is tried again, every 200 ms: the record it refers to
	// may have been committed a moment ago through another county's peer
	// and not yet on this one (peers commit the same block a few
	// milliseconds apart). Zero turns it off.
	NotFound time.Duration
	// NoPlan is how long a write is tried again, every 2 s, while the
	// Gateway cannot plan its endorsement (ErrNoPlan): right after a
	// network starts, peers of other counties are not yet known to
	// discovery. Zero turns it off.
	NoPlan time.Duration
	// Ordering is how long an endorsed transaction is sent again, every
	// 500 ms, while no orderer can take it (ErrOrderingUnavailable): a
	// Raft election after the leader was lost takes 5-10 s. The same
	// signed transaction is sent, so it cannot be ordered twice to effect:
	// the ledger keeps the first transaction of an ID and marks a later
	// copy DUPLICATE_TXID. Zero turns it off.
	Ordering time.Duration
}

// DefaultRetry: five tries on read conflicts (pauses 100, 200, 400, 800
// ms), 2 s for a reference to catch up, 60 s for discovery to converge,
// 20 s for the orderers to elect a leader.
var DefaultRetry = Retry{Attempts: 5, Initial: 100 * time.Millisecond, Max: 2 * time.Second,
	NotFound: 2 * time.Second, NoPlan: 60 * time.Second, Ordering: 20 * time.Second}

// Client is a connection to one peer's Gateway for one signing identity.
// It is safe for concurrent use.
type Client struct {
	cfg      Config
	conn     *grpc.ClientConn
	gw       *client.Gateway
	contract *client.Contract
	network  *client.Network
	// sleep, now and submitOne are replaced in tests.
	sleep     func(context.Context, time.Duration) error
	now       func() time.Time
	submitOne func(ctx context.Context, fn string, arg []byte) ([]byte, Result, error)
}

// Connect dials the peer and returns a Client. It does not block for the
// connection: the first call reports an unreachable peer.
func Connect(cfg Config) (*Client, error) {
	if cfg.Signer == nil {
		return nil, errors.New("connect: no signing identity")
	}
	if cfg.PeerAddress == "" {
		return nil, errors.New("connect: no peer address")
	}
	if cfg.Channel == "" {
		cfg.Channel = "credit"
	}
	if cfg.Chaincode == "" {
		cfg.Chaincode = "credit"
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	if cfg.Retry.Attempts <= 0 {
		cfg.Retry = DefaultRetry
	}

	pool := x509.NewCertPool()
	certs, err := readPEMCerts(cfg.TLSRootCertFile)
	if err != nil {
		return nil, fmt.Errorf("connect %s: tls root: %w", cfg.PeerAddress, err)
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	creds := credentials.NewClientTLSFromCert(pool, cfg.HostOverride)
	if cfg.MaxRecvBytes <= 0 {
		cfg.MaxRecvBytes = DefaultMaxRecvBytes
	}
	conn, err := grpc.NewClient(cfg.PeerAddress, grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(cfg.MaxRecvBytes)))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", cfg.PeerAddress, err)
	}

	id, err := identity.NewX509Identity(cfg.Signer.MSPID, cfg.Signer.Certificate)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect: identity: %w", err)
	}
	gw, err := client.Connect(id,
		client.WithSign(cfg.Signer.Sign),
		client.WithHash(hash.SHA256),
		client.WithClientConnection(conn),
		client.WithEvaluateTimeout(cfg.Timeouts.Evaluate),
		client.WithEndorseTimeout(cfg.Timeouts.Endorse),
		client.WithSubmitTimeout(cfg.Timeouts.Submit),
		client.WithCommitStatusTimeout(cfg.Timeouts.CommitStatus),
	)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connect: gateway: %w", err)
	}
	network := gw.GetNetwork(cfg.Channel)
	c := &Client{
		cfg:      cfg,
		conn:     conn,
		gw:       gw,
		network:  network,
		contract: network.GetContract(cfg.Chaincode),
		sleep:    sleepCtx,
		now:      time.Now,
	}
	c.submitOne = c.submitOnce
	return c, nil
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts
	if t.Evaluate > 0 {
		d.Evaluate = t.Evaluate
	}
	if t.Endorse > 0 {
		d.Endorse = t.Endorse
	}
	if t.Submit > 0 {
		d.Submit = t.Submit
	}
	if t.CommitStatus > 0 {
		d.CommitStatus = t.CommitStatus
	}
	return d
}

// Close closes the Gateway and the connection.
func (c *Client) Close() error {
	gerr := c.gw.Close()
	cerr := c.conn.Close()
	return errors.Join(gerr, cerr)
}

// MSPID is the caller's MSP.
func (c *Client) MSPID() string { return c.cfg.Signer.MSPID }

// Channel is the channel name.
func (c *Client) Channel() string { return c.cfg.Channel }

// Result describes the transaction behind a call's answer.
type Result struct {
	// TxID is the transaction ID (of the last attempt, for a retried
	// submit).
	TxID string
	// BlockNumber is the block that committed a submitted transaction; 0
	// for an evaluate.
	BlockNumber uint64
	// Attempts is how many transactions Submit sent (1 unless retried).
	Attempts int
}

// Evaluate calls a read-only chaincode function on the connected peer with
// req marshalled as its one JSON argument, and decodes the JSON result into
// out (unless out is nil). Nothing is sent to the orderer.
func (c *Client) Evaluate(ctx context.Context, fn string, req, out any) (Result, error) {
	arg, err := json.Marshal(req)
	if err != nil {
		return Result{}, &TxError{Op: fn, Stage: StageEvaluate, Err: fmt.Errorf("encode request: %w", err)}
	}
	proposal, err := c.contract.NewProposal(fn, client.WithBytesArguments(arg))
	if err != nil {
		return Result{}, &TxError{Op: fn, Stage: StageEvaluate, Err: err}
	}
	res := Result{TxID: proposal.TransactionID()}
	ectx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.Evaluate)
	defer cancel()
	payload, err := proposal.EvaluateWithContext(ectx)
	if err != nil {
		return res, newTxError(fn, StageEvaluate, res.TxID, err)
	}
	if err := decode(fn, payload, out); err != nil {
		return res, &TxError{Op: fn, Stage: StageEvaluate, TxID: res.TxID, Err: err}
	}
	return res, nil
}

// Submit endorses fn with req as its one JSON argument, sends it to the
// orderer, waits for it to commit, and decodes the endorsed result into out.
//
// Failures after which the ledger holds nothing of the attempt are tried
// again with a new proposal (a new transaction ID), as Retry says: a
// transaction invalidated by an MVCC or phantom-read conflict; a refusal
// of a missing reference that another county's peer may not have
// committed yet; no endorsement plan yet. Any other failure is returned at
// once as a *TxError; one whose commit outcome is unknown matches
// ErrCommitUnknown and is never retried here.
func (c *Client) Submit(ctx context.Context, fn string, req, out any) (Result, error) {
	arg, err := json.Marshal(req)
	if err != nil {
		return Result{}, &TxError{Op: fn, Stage: StageEndorse, Err: fmt.Errorf("encode request: %w", err)}
	}
	backoff := c.cfg.Retry.Initial
	start := c.now()
	var res Result
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		payload, r, err := c.submitOne(ctx, fn, arg)
		res.TxID, res.BlockNumber = r.TxID, r.BlockNumber
		if err == nil {
			if err := decode(fn, payload, out); err != nil {
				return res, &TxError{Op: fn, Stage: StageCommit, TxID: res.TxID, Err: err}
			}
			return res, nil
		}
		pause, again := c.cfg.Retry.pause(err, attempt, c.now().Sub(start), &backoff)
		if !again {
			return res, err
		}
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(err, pause)
		}
		if serr := c.sleep(ctx, pause); serr != nil {
			return res, err
		}
	}
}

// pause decides whether a failed attempt is tried again, and after how
// long; elapsed is the time since the first attempt.
func (r Retry) pause(err error, attempt int, elapsed time.Duration, backoff *time.Duration) (time.Duration, bool) {
	switch {
	case errors.Is(err, ErrConflict):
		if attempt >= r.Attempts {
			return 0, false
		}
		p := *backoff
		*backoff = min(2*p, r.Max)
		return p, true
	case errors.Is(err, ErrNoPlan):
		return 2 * time.Second, elapsed < r.NoPlan
	case refusedAtEndorsement(err, credit.ErrNotFound):
		return 200 * time.Millisecond, elapsed < r.NotFound
	}
	return 0, false
}

func (c *Client) submitOnce(ctx context.Context, fn string, arg []byte) ([]byte, Result, error) {
	proposal, err := c.contract.NewProposal(fn, client.WithBytesArguments(arg))
	if err != nil {
		return nil, Result{}, &TxError{Op: fn, Stage: StageEndorse, Err: err}
	}
	res := Result{TxID: proposal.TransactionID()}

	ectx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.Endorse)
	tx, err := proposal.EndorseWithContext(ectx)
	cancel()
	if err != nil {
		return nil, res, newTxError(fn, StageEndorse, res.TxID, err)
	}

	commit, err := c.resubmit(ctx, tx.SubmitWithContext)
	if err != nil {
		return nil, res, newTxError(fn, StageSubmit, res.TxID, err)
	}

	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.CommitStatus)
	status, err := commit.StatusWithContext(cctx)
	cancel()
	if err != nil {
		return nil, res, newTxError(fn, StageCommitStatus, res.TxID, err)
	}
	res.BlockNumber = status.BlockNumber
	if !status.Successful {
		return nil, res, newTxError(fn, StageCommit, res.TxID,
			&client.CommitError{TransactionID: res.TxID, Code: status.Code})
	}
	return tx.Result(), res, nil
}

// orderingPause is the pause between sends of a transaction no orderer
// could take.
const orderingPause = 500 * time.Millisecond

// resubmit sends an endorsed, signed transaction (send) to the ordering
// service through the Gateway. While the Gateway answers Unavailable — it
// reached no orderer that could take it: an orderer down, or no consensus
// leader during an election — it sends the same transaction again, every
// orderingPause, for up to Retry.Ordering. Any other answer, or the end
// of that time, is returned as it is.
func (c *Client) resubmit(ctx context.Context, send func(context.Context, ...grpc.CallOption) (*client.Commit, error)) (*client.Commit, error) {
	start := c.now()
	for {
		sctx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.Submit)
		commit, err := send(sctx)
		cancel()
		if err == nil || status.Code(err) != codes.Unavailable || ctx.Err() != nil ||
			c.now().Sub(start)+orderingPause > c.cfg.Retry.Ordering {
			return commit, err
		}
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(fmt.Errorf("%w: %w", ErrOrderingUnavailable, err), orderingPause)
		}
		if c.sleep(ctx, orderingPause) != nil {
			return commit, err
		}
	}
}

// TransactionStatus reports how a transaction was validated, by asking the
// peer's ledger (qscc GetTransactionByID). It resolves ErrCommitUnknown:
// a transaction the ledger does not hold is reported with found false.
func (c *Client) TransactionStatus(ctx context.Context, txID string) (code peer.TxValidationCode, found bool, err error) {
	qscc := c.network.GetContract("qscc")
	ectx, cancel := context.WithTimeout(ctx, c.cfg.Timeouts.Evaluate)
	defer cancel()
	payload, err := qscc.EvaluateWithContext(ectx, "GetTransactionByID", client.WithArguments(c.cfg.Channel, txID))
	if err != nil {
		if isNotFound(err) {
			return 0, false, nil
		}
		return 0, false, newTxError("GetTransactionByID", StageEvaluate, txID, err)
	}
	var pt peer.ProcessedTransaction
	if err := unmarshalProto(payload, &pt); err != nil {
		return 0, false, fmt.Errorf("transaction %s: %w", txID, err)
	}
	return peer.TxValidationCode(pt.GetValidationCode()), true, nil
}

func decode(fn string, payload []byte, out any) error {
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return fmt.Errorf("decode %s result: %w", fn, err)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
