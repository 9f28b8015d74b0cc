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
