//go:build integration

package cert_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/network"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
)

// TestVerifyWithoutThisSoftwareOnNetwork runs step 3 of
// docs/CERTIFICATES.md §6 against the real network, after steps 1-2
// (TestInteropPythonContentCheck runs those on in-memory certificates):
// a certificate issued through the Gateway, its digest recomputed by the
// standard-library Python script, then the ledger asked with Fabric's own
// `peer chaincode query` as another county's auditor — CertificateHistory
// for the anchor (its digest must be the one Python computed) and qscc
// GetTransactionByID for the issuing transaction (VALID).
func TestVerifyWithoutThisSoftwareOnNetwork(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	subj := uniqueSubject(e.issuer.Code)
	if _, _, err := e.officer.MakeCommitment(ctx, credit.MakeCommitmentRequest{ID: uniqueID("com"), Kind: "voluntary", Subject: subj, Content: "自愿信用承诺"}); err != nil {
		t.Fatal(err)
	}
	iss, err := cert.Issue(ctx, e.officer, e.signer, credit.IssueCertificateRequest{ID: uniqueID("cert"), Subject: subj,
		Purpose: credit.PurposeBidding, ValidUntil: credit.DateOf(time.Now()).AddMonths(3).String()})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "cert.jws")
	if err := os.WriteFile(f, []byte(iss.JWS), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "testdata/check_certificate.py", f).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "OK") {
		t.Fatalf("python check: %v\n%s", err, out)
	}
	var digest string
	for _, line := range strings.Split(string(out), "\n") {
		if d, ok := strings.CutPrefix(line, "digest "); ok {
			digest = strings.TrimSpace(d)
		}
	}
	st := iss.Credential.CredentialStatus
	if digest == "" || digest != st.Digest {
		t.Fatalf("python computed digest %q, the certificate says %q", digest, st.Digest)
	}

	// Step 3, as the other county's auditor with Fabric's peer CLI.
	fab := os.Getenv("CREDITCTL_FABRIC")
	if fab == "" {
		fab, _ = filepath.Abs(filepath.Join("..", "..", ".cache", "fabric", network.FabricVersion))
	}
	cp := e.p.Counties[1]
	run := filepath.Dir(os.Getenv("CREDIT_TEST_PROFILE"))
	peerQuery := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(fab, "bin", "peer"), append([]string{"chaincode", "query", "-C", e.p.Channel}, args...)...)
		cmd.Env = append(os.Environ(), "FABRIC_CFG_PATH="+filepath.Join(run, "config"), "FABRIC_LOGGING_SPEC=warning",
			"CORE_PEER_TLS_ENABLED=true", "CORE_PEER_TLS_ROOTCERT_FILE="+cp.Peers[0].TLSRootCert,
			"CORE_PEER_ADDRESS="+cp.Peers[0].Address, "CORE_PEER_TLS_SERVERHOSTOVERRIDE="+cp.Peers[0].HostOverride,
			"CORE_PEER_LOCALMSPID="+cp.MSPID, "CORE_PEER_MSPCONFIGPATH="+cp.UserMSPDir("auditor1"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: []byte(stderr.String())}
		}
		return b, nil
	}
	// The auditor's peer may commit the block a moment after the issuer's.
	var hist []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		hist, err = peerQuery("-n", e.p.Chaincode, "-c", `{"Args":["CertificateHistory","{\"id\":\"`+st.AnchorID+`\"}"]}`)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("peer chaincode query CertificateHistory: %v: %s", err, err.(*exec.ExitError).Stderr)
	}
	var entries []struct {
		TxID   string          `json:"txId"`
		Record json.RawMessage `json:"record"`
	}
	if err := json.Unmarshal(hist, &entries); err != nil || len(entries) == 0 {
		t.Fatalf("CertificateHistory through the peer CLI: %v\n%s", err, hist)
	}
	var anchor struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal(entries[0].Record, &anchor); err != nil || anchor.Digest != digest || entries[0].TxID != st.TxID {
		t.Fatalf("the ledger's anchor (tx %s) has digest %q; python computed %q for tx %s (%v)", entries[0].TxID, anchor.Digest, digest, st.TxID, err)
	}
	// --hex: the answer is a protobuf (peer.ProcessedTransaction), which
	// Fabric's configtxlator decodes too.
	hx, err := peerQuery("-n", "qscc", "--hex", "-c", `{"Args":["GetTransactionByID","`+e.p.Channel+`","`+st.TxID+`"]}`)
	if err != nil {
		t.Fatalf("peer chaincode query qscc GetTransactionByID: %v: %s", err, err.(*exec.ExitError).Stderr)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(hx)))
	if err != nil {
		t.Fatalf("qscc answer: %v", err)
	}
	var pt peer.ProcessedTransaction
	if err := proto.Unmarshal(raw, &pt); err != nil {
		t.Fatalf("qscc answer: %v", err)
	}
	if code := peer.TxValidationCode(pt.ValidationCode); code != peer.TxValidationCode_VALID {
		t.Fatalf("the issuing transaction is %s", code)
	}
	t.Logf("digest %s: python = ledger (anchor %s, tx %s VALID), asked with `peer chaincode query` as %s auditor1", digest, st.AnchorID, st.TxID, cp.MSPID)
}
