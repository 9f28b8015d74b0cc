package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
)

// CertLedger is what the certificate commands (cert, trust, serve) need
// from the ledger: the certificate transactions and the reads that
// verification, bundles and trust roots need (qscc transactions and
// blocks, the cscc configuration block, the county registry).
// *client.Client implements it; tests give a ledger in memory.
type CertLedger interface {
	cert.IssueLedger // IssueCertificate, IssueCertificateBatch, Channel, ChaincodeName
	cert.Ledger      // CertificateHistory, TransactionByID, BlockByTxID
	SetCertificateStatus(context.Context, credit.SetCertificateStatusRequest) (*credit.Certificate, client.Result, error)
	GetCertificate(ctx context.Context, id string) (*credit.Certificate, client.Result, error)
	ConfigBlock(ctx context.Context) (*common.Block, error)
	ListCounties(context.Context) ([]credit.County, client.Result, error)
	Close() error
}

var _ CertLedger = (*client.Client)(nil)

// certLedger connects to the ledger for the certificate commands as the
// caller; with readOnly and no identity named (--user, --msp or their
// environment or config keys), as the county's auditor1, the read-only
// identity every county has (DESIGN §9).
func (f *Factory) certLedger(ctx context.Context, readOnly bool) (CertLedger, error) {
	c, err := f.Caller()
	if err != nil {
		return nil, err
	}
	s, _ := f.Settings()
	user := s.User
	if readOnly && !s.IdentitySet {
		user = "auditor1"
		c.MSPDir = c.County.UserMSPDir(user)
	}
	if _, err := os.Stat(c.MSPDir); err != nil {
		return nil, fmt.Errorf("identity %q of county %s: no MSP folder at %s; issue one with `creditctl identity issue --county %s --name %s --role officer --dept <dept>`, or name one with --msp",
			user, c.County.Code, c.MSPDir, c.County.Code, user)
	}
	signer, err := client.LoadMSP(c.County.MSPID, c.MSPDir)
	if err != nil {
		return nil, err
	}
	p, _ := f.Profile()
	return client.Connect(client.Config{
		Signer:          signer,
		PeerAddress:     c.Peer.Address,
		TLSRootCertFile: c.Peer.TLSRootCert,
		HostOverride:    c.Peer.HostOverride,
		Channel:         p.Channel,
		Chaincode:       p.Chaincode,
		OnRetry:         f.retryNotice,
	})
}

// certSigner loads the caller's certificate signer from its MSP folder:
// the officer's Fabric key (ES256), or with sm2 the SM2 signing
// certificate kept in <msp>/sm2/ (cert.pem, key.pem). The SM2 certificate
// is minted once, with the county CA key the profile names, when the
// folder does not hold one yet (docs/CERTIFICATES.md §3: only the county
// holding its CA key can).
func (f *Factory) certSigner(sm2 bool) (*cert.Signer, error) {
	c, err := f.Caller()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.MSPDir); err != nil {
		return nil, fmt.Errorf("signing identity: no MSP folder at %s: %w", c.MSPDir, err)
	}
	officer, err := cert.LoadOfficer(c.County.MSPID, c.MSPDir)
	if err != nil || !sm2 {
		return officer, err
	}
	caPEM, err := os.ReadFile(filepath.Join(c.MSPDir, "cacerts", onlyName(filepath.Join(c.MSPDir, "cacerts"))))
	if err != nil {
		return nil, fmt.Errorf("sm2 signer: county CA certificate: %w", err)
	}
	dir := filepath.Join(c.MSPDir, "sm2")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM, err1 := os.ReadFile(certFile)
	keyPEM, err2 := os.ReadFile(keyFile)
	if errors.Is(err1, os.ErrNotExist) && errors.Is(err2, os.ErrNotExist) {
		if c.County.CAKey == "" {
			return nil, fmt.Errorf("sm2 signer: no SM2 certificate in %s and no county CA key in the profile to mint one", dir)
		}
		caKey, err := os.ReadFile(c.County.CAKey)
		if err != nil {
			return nil, fmt.Errorf("sm2 signer: county CA key: %w", err)
		}
		if certPEM, keyPEM, err = cert.MintSM2Certificate(officer.Certificate(), caPEM, caKey); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sm2 signer: %w", err)
		}
		if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
			return nil, fmt.Errorf("sm2 signer: %w", err)
		}
		if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
			return nil, fmt.Errorf("sm2 signer: %w", err)
		}
		fmt.Fprintf(f.IO.ErrOut, "minted an SM2 signing certificate for this officer with the county CA: %s\n", certFile)
	} else if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("sm2 signer: %w", err)
	}
	return cert.NewSM2Signer(c.County.MSPID, certPEM, keyPEM, caPEM)
}

// onlyName is the name of the only regular file in dir ("" if not one).
func onlyName(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	name := ""
	for _, e := range entries {
		if e.Type().IsRegular() {
			if name != "" {
				return ""
			}
			name = e.Name()
		}
	}
	return name
}

// exportTrust reads the channel's trust roots from the ledger: the latest
// configuration block and the county registry (cert.ExportTrust, through
// the CertLedger interface).
func exportTrust(ctx context.Context, l CertLedger, now func() string) (*cert.TrustRoots, error) {
	block, err := l.ConfigBlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("export trust: %w", err)
	}
	counties, _, err := l.ListCounties(ctx)
	if err != nil {
		return nil, fmt.Errorf("export trust: %w", err)
	}
	t, err := cert.TrustFromConfigBlock(block, counties)
	if err != nil {
		return nil, fmt.Errorf("export trust: %w", err)
	}
	t.ExportedAt = now()
	return t, nil
}

// txValid reports whether a processed transaction is VALID.
func txValid(pt *peer.ProcessedTransaction) bool {
	return peer.TxValidationCode(pt.GetValidationCode()) == peer.TxValidationCode_VALID
}
