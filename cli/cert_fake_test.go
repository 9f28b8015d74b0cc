package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
)

// certLedgerFake is a CertLedger in memory: the consortium of certtest,
// whose transactions are real-format Fabric blocks computed by the
// chaincode's own domain code, as seen by an officer of county co.
type certLedgerFake struct {
	*certtest.Ledger
	c       *certtest.Consortium
	co      *certtest.County
	records map[string][]credit.Record // a subject's records, for issuance
	calls   []string
	closed  bool
}

func newCertLedgerFake(t *testing.T) *certLedgerFake {
	c := certtest.New(t)
	return &certLedgerFake{Ledger: c.Ledger(), c: c, co: c.County("330782"), records: map[string][]credit.Record{}}
}

func (f *certLedgerFake) Channel() string       { return certtest.Channel }
func (f *certLedgerFake) ChaincodeName() string { return certtest.Chaincode }
func (f *certLedgerFake) Close() error          { f.closed = true; return nil }

// anchor is the latest version of an anchor.
func (f *certLedgerFake) anchor(id string) (*credit.Certificate, string, error) {
	h, _, err := f.Ledger.CertificateHistory(context.Background(), id)
	if err != nil {
		return nil, "", err
	}
	var a credit.Certificate
	if err := json.Unmarshal(h[len(h)-1].Record, &a); err != nil {
		return nil, "", err
	}
	return &a, h[len(h)-1].TxID, nil
}

func (f *certLedgerFake) result(txID string) client.Result {
	b, _ := f.Ledger.BlockByTxID(context.Background(), txID)
	return client.Result{TxID: txID, BlockNumber: b.GetHeader().GetNumber(), Attempts: 1}
}

func (f *certLedgerFake) IssueCertificate(_ context.Context, req credit.IssueCertificateRequest) (*credit.IssueCertificateResult, client.Result, error) {
	f.calls = append(f.calls, "IssueCertificate")
	if err := req.Validate(); err != nil {
		return nil, client.Result{}, err
	}
	iss := f.c.Issue(f.co, req, f.records[req.Subject], nil, certtest.TxOptions{})
	a, _, err := f.anchor(req.ID)
	if err != nil {
		return nil, client.Result{}, err
	}
	return &credit.IssueCertificateResult{Certificate: a, Status: iss.Credential.CredentialSubject.CreditStatus,
		Digest: iss.Credential.CredentialStatus.Digest, IssuerName: f.co.Name}, f.result(iss.TxID), nil
}

func (f *certLedgerFake) IssueCertificateBatch(_ context.Context, req credit.IssueCertificateBatchRequest) (*credit.IssueCertificateBatchResult, client.Result, error) {
	f.calls = append(f.calls, "IssueCertificateBatch")
	if err := req.Validate(); err != nil {
		return nil, client.Result{}, err
	}
	recs := make([][]credit.Record, len(req.Subjects))
	for i, s := range req.Subjects {
		recs[i] = f.records[s]
	}
	members := f.c.IssueBatch(f.co, req, recs, certtest.TxOptions{})
	a, _, err := f.anchor(req.BatchID)
	if err != nil {
		return nil, client.Result{}, err
	}
	res := &credit.IssueCertificateBatchResult{Certificate: a, IssuerName: f.co.Name}
	for i, m := range members {
		st := m.Credential.CredentialStatus
		res.Members = append(res.Members, credit.BatchMember{ID: st.CertificateID, Index: i, Subject: req.Subjects[i], Digest: st.Digest,
			Status: m.Credential.CredentialSubject.CreditStatus})
	}
	return res, f.result(members[0].TxID), nil
}

func (f *certLedgerFake) SetCertificateStatus(_ context.Context, req credit.SetCertificateStatusRequest) (*credit.Certificate, client.Result, error) {
	f.calls = append(f.calls, "SetCertificateStatus")
	if _, _, err := f.anchor(credit.AnchorOf(req.ID)); err != nil {
		return nil, client.Result{}, err
	}
	txID := f.c.SetStatus(f.co, req.ID, req.Status, req.Reason, certtest.TxOptions{})
	a, _, err := f.anchor(credit.AnchorOf(req.ID))
	return a, f.result(txID), err
}

func (f *certLedgerFake) GetCertificate(_ context.Context, id string) (*credit.Certificate, client.Result, error) {
	f.calls = append(f.calls, "GetCertificate")
	a, _, err := f.anchor(id)
	if err != nil {
		return nil, client.Result{}, err
	}
	a.Derive(credit.DateOf(f.c.Now))
	return a, client.Result{}, nil
}

func (f *certLedgerFake) ConfigBlock(context.Context) (*common.Block, error) {
	f.calls = append(f.calls, "ConfigBlock")
	return f.c.ConfigBlock(), nil
}

func (f *certLedgerFake) ListCounties(context.Context) ([]credit.County, client.Result, error) {
	f.calls = append(f.calls, "ListCounties")
	return f.c.Registry(), client.Result{}, nil
}

// officerMSP writes the county officer's identity as an MSP folder.
func officerMSP(t *testing.T, co *certtest.County) string {
	dir := filepath.Join(t.TempDir(), "msp")
	for sub, b := range map[string][]byte{"signcerts": co.Officer.CertPEM, "keystore": co.Officer.KeyPEM, "cacerts": co.CA.PEM} {
		writeFile(t, filepath.Join(dir, sub, "f.pem"), string(b))
	}
	return dir
}

// certEnv is a command environment over the fake: streams, the
// consortium's clock, and the dependencies of the certificate commands.
type certEnv struct {
	t    *testing.T
	l    *certLedgerFake
	ios  *IOStreams
	in   *bytes.Buffer
	dir  string
	deps certDeps
	// connects counts ledger connections.
	connects int
}

func newCertEnv(t *testing.T) *certEnv {
	e := &certEnv{t: t, l: newCertLedgerFake(t), dir: t.TempDir()}
	msp := officerMSP(t, e.l.co)
	e.deps = certDeps{
		CertLedger: func(context.Context) (CertLedger, error) { e.connects++; return e.l, nil },
		Signer: func(sm2 bool) (*cert.Signer, error) {
			if sm2 {
				return e.l.co.SM2Signer(t), nil
			}
			return cert.LoadOfficer(e.l.co.MSPID, msp)
		},
		Chromium: func() (string, error) {
			return "", fmt.Errorf("no chromium on PATH (Debian: apt-get install chromium)")
		},
		Getenv: func(string) string { return "" },
	}
	return e
}

// base returns fresh streams in the given format.
func (e *certEnv) base(output string) Base {
	ios, in, _, _ := Test()
	e.ios, e.in = ios, in
	return Base{IO: ios, Now: func() time.Time { return e.l.c.Now }, County: func() (string, error) { return e.l.co.Code, nil },
		Output: output, Lang: "en"}
}

func (e *certEnv) out() string    { return outOf(e.ios) }
func (e *certEnv) errOut() string { return errOf(e.ios) }

func (e *certEnv) path(name string) string { return filepath.Join(e.dir, name) }

func (e *certEnv) read(name string) string {
	b, err := os.ReadFile(e.path(name))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// issue issues a certificate through `cert issue` and returns its file.
func (e *certEnv) issue(id, subject string) string {
	e.t.Helper()
	o := &CertIssueOptions{Base: e.base(OutputPlain), certDeps: e.deps, Out: e.path(id + ".jws"),
		Req: credit.IssueCertificateRequest{ID: id, Subject: subject, Purpose: credit.PurposeBidding, ValidUntil: "+3m"}}
	if err := runCertIssue(o); err != nil {
		e.t.Fatalf("cert issue: %v", err)
	}
	return o.Out
}

// verify runs `cert verify` and returns its exit code.
func (e *certEnv) verify(o CertVerifyOptions) int {
	e.t.Helper()
	o.Base, o.certDeps = e.base(OutputPlain), e.deps
	return ExitCode(runCertVerify(&o))
}
