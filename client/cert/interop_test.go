package cert_test

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client/cert"
	"github.com/countycredit/creditledger/client/cert/certtest"
	"github.com/go-jose/go-jose/v4"
)

// TestInteropGoJose: go-jose, a general JOSE library, parses the
// certificate as an ES256 compact JWS with the x5c chain and verifies its
// signature with the signing certificate's key.
func TestInteropGoJose(t *testing.T) {
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	obj, err := jose.ParseSignedCompact(iss.JWS, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := obj.Signatures[0].Protected
	chain, err := h.Certificates(x509.VerifyOptions{Roots: poolOf(c.County("330782").CA.Cert)})
	if err != nil {
		t.Fatalf("x5c chain: %v", err)
	}
	if h.ExtraHeaders["typ"] != "vc+jwt" || h.ExtraHeaders["cty"] != "vc" || h.KeyID == "" {
		t.Fatalf("header %+v", h)
	}
	payload, err := obj.Verify(chain[0][0].PublicKey)
	if err != nil {
		t.Fatalf("go-jose refuses the signature: %v", err)
	}
	if !strings.Contains(string(payload), `"type":["VerifiableCredential","CreditStatusCertificate"]`) {
		t.Fatalf("payload %s", payload)
	}
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

// TestInteropOpenSSL verifies a certificate's ES256 signature with
// OpenSSL, an implementation independent of Go: the JWS signing input
// (header "." payload), the signature r||s converted to DER, and the
// public key of x5c[0], with `openssl dgst -sha256 -verify`. A changed
// signing input is refused by OpenSSL too. This is also the recipe
// docs/CERTIFICATES.md gives for checking a certificate without this
// software.
func TestInteropOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is not installed; it is the independent verifier of this test (apt-get install openssl)")
	}
	c := certtest.New(t)
	iss := c.Issue(c.County("330782"), issueReq("cert-1", subjX), nil, nil, certtest.TxOptions{})
	parsed, err := cert.Parse(iss.JWS)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	parts := strings.Split(iss.JWS, ".")
	rs, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:])})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(parsed.Chain[0].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pubPath := write("pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	sigPath := write("sig.der", der)
	verify := func(input string) (string, error) {
		in := write("input.txt", []byte(input))
		out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", pubPath, "-signature", sigPath, in).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := verify(parts[0] + "." + parts[1])
	if err != nil || out != "Verified OK" {
		t.Fatalf("openssl refuses the certificate: %v: %s", err, out)
	}
	out, err = verify(parts[0] + "." + parts[1] + "x")
	if err == nil || !strings.Contains(out, "Verification failure") {
		t.Fatalf("openssl accepts a changed signing input: %s", out)
	}
}

// TestInteropPythonContentCheck runs docs/CERTIFICATES.md's Python recipe
// (testdata/check_certificate.py, standard library only) on a single
// certificate, a batch member and tampered copies: it recomputes the
// digest from the status and the batch root from the Merkle proof, as an
// auditor without this software would.
func TestInteropPythonContentCheck(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	c := certtest.New(t)
	a := c.County("330782")
	recs := punishmentOf(subjX)
	recs[0].(*credit.Punishment).DecisionNo = "义市监罚〔2026〕1号 <A&B> \u2028 \"引号\" \\ /"
	single := c.Issue(a, issueReq("cert-1", subjX), recs, nil, certtest.TxOptions{})
	members := c.IssueBatch(a, credit.IssueCertificateBatchRequest{BatchID: "B01", Subjects: []string{subjX, subjY, credit.CompleteCreditCode("91330782MA2B00002")}, Purpose: "loan", ValidUntil: "2026-06-30"}, nil, certtest.TxOptions{})
	run := func(jws string) (string, error) {
		f := filepath.Join(t.TempDir(), "cert.jws")
		if err := os.WriteFile(f, []byte(jws), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, "testdata/check_certificate.py", f).CombinedOutput()
		return string(out), err
	}
	for _, jws := range []string{single.JWS, members[2].JWS} {
		if out, err := run(jws); err != nil || !strings.HasSuffix(strings.TrimSpace(out), "OK") {
			t.Fatalf("python check refuses a valid certificate: %v\n%s", err, out)
		}
	}
	// The signature and chain, with the files the script writes for
	// openssl (the commands of docs/CERTIFICATES.md §6).
	if openssl, err := exec.LookPath("openssl"); err == nil {
		dir := t.TempDir()
		f := filepath.Join(dir, "cert.jws")
		_ = os.WriteFile(f, []byte(single.JWS), 0o600)
		caFile := filepath.Join(dir, "published-ca.pem")
		_ = os.WriteFile(caFile, a.CA.PEM, 0o600)
		steps := [][]string{
			{python, "testdata/check_certificate.py", f, "--openssl", filepath.Join(dir, "out")},
			{openssl, "x509", "-in", filepath.Join(dir, "out", "signer.pem"), "-pubkey", "-noout", "-out", filepath.Join(dir, "out", "pub.pem")},
			{openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "out", "pub.pem"), "-signature", filepath.Join(dir, "out", "sig.der"), filepath.Join(dir, "out", "input.txt")},
			{openssl, "verify", "-CAfile", caFile, filepath.Join(dir, "out", "signer.pem")},
		}
		for _, s := range steps {
			if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", s, err, out)
			}
		}
	}
	cred := *members[2].Credential
	p := *cred.CredentialStatus.MerkleProof
	p.LeafIndex = 1
	cred.CredentialStatus.MerkleProof = &p
	if out, err := run(mustSign(t, a.Signer, &cred)); err == nil || !strings.Contains(out, "Merkle") {
		t.Fatalf("python check accepts a wrong proof:\n%s", out)
	}
	cred = *single.Credential
	cred.CredentialSubject.CreditStatus = replaceOnce(t, cred.CredentialSubject.CreditStatus, `"severity":"serious"`, `"severity":"general"`)
	if out, err := run(mustSign(t, a.Signer, &cred)); err == nil || !strings.Contains(out, "hashes to") {
		t.Fatalf("python check accepts a changed status:\n%s", out)
	}
}
