package cert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	jsonv2 "github.com/go-json-experiment/json"
)

// Header is the JWS protected header of a certificate.
type Header struct {
	Alg  string   `json:"alg"`
	Typ  string   `json:"typ"`
	Cty  string   `json:"cty"`
	Kid  string   `json:"kid"`
	X5C  []string `json:"x5c"`
	Crit []string `json:"crit,omitempty"`
}

// Certificate is a parsed certificate: the compact JWS, its header and
// credential, the status's subject and time, and the status digest
// recomputed (SHA-256 of its RFC 8785 form). Parse checks structure only;
// Verifier decides whether to trust it.
type Certificate struct {
	JWS        string
	Header     Header
	Credential Credential
	// Subject and AsOf are the status's subject and time.
	Subject string
	AsOf    string
	// Digest is recomputed from Credential.CredentialSubject.CreditStatus.
	Digest string
	// Chain is the x5c chain, parsed: the signing certificate, then the CA.
	Chain []*x509.Certificate

	headerSeg    string
	signingInput string
	signature    []byte

	statusOnce sync.Once
	status     *credit.CertificateStatus
	statusErr  error
}

// Status decodes the credit status the certificate states.
func (c *Certificate) Status() (*credit.CertificateStatus, error) {
	c.statusOnce.Do(func() {
		var s credit.CertificateStatus
		if err := json.Unmarshal(c.Credential.CredentialSubject.CreditStatus, &s); err != nil {
			c.statusErr = fmt.Errorf("%w: creditStatus: %v", errMalformed, err)
			return
		}
		c.status = &s
	})
	return c.status, c.statusErr
}

var b64 = base64.RawURLEncoding.Strict()

// errMalformed wraps structural errors of a certificate.
var errMalformed = errors.New("malformed certificate")

// splitJWS returns the three segments of a compact JWS.
func splitJWS(jws string) (h, p, s string, err error) {
	jws = strings.TrimSpace(jws)
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("%w: a compact JWS has 3 dot-separated parts, got %d", errMalformed, len(parts))
	}
	return parts[0], parts[1], parts[2], nil
}

// parseHeader decodes and checks a protected header segment and its x5c
// chain.
func parseHeader(seg string) (Header, []*x509.Certificate, error) {
	var h Header
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return h, nil, fmt.Errorf("%w: header is not base64url: %v", errMalformed, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&h); err != nil {
		return h, nil, fmt.Errorf("%w: header is not a JSON object: %v", errMalformed, err)
	}
	switch {
	case h.Alg != AlgES256 && h.Alg != AlgSM2SM3:
		return h, nil, fmt.Errorf("%w: alg %q is not %s or %s", errMalformed, h.Alg, AlgES256, AlgSM2SM3)
	case h.Typ != MediaType:
		return h, nil, fmt.Errorf("%w: typ %q is not %q", errMalformed, h.Typ, MediaType)
	case h.Cty != ContentType:
		return h, nil, fmt.Errorf("%w: cty %q is not %q", errMalformed, h.Cty, ContentType)
	case len(h.Crit) > 0:
		return h, nil, fmt.Errorf("%w: critical header extensions %v are not understood", errMalformed, h.Crit)
	case len(h.X5C) < 2:
		return h, nil, fmt.Errorf("%w: x5c must hold the signing certificate and its CA, has %d", errMalformed, len(h.X5C))
	}
	chain := make([]*x509.Certificate, len(h.X5C))
	for i, c := range h.X5C {
		der, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return h, nil, fmt.Errorf("%w: x5c[%d] is not base64: %v", errMalformed, i, err)
		}
		if i == 0 && h.Alg == AlgSM2SM3 {
			sc, err := smx509.ParseCertificate(der)
			if err != nil {
				return h, nil, fmt.Errorf("%w: x5c[0]: %v", errMalformed, err)
			}
			chain[i] = sc.ToX509()
			continue
		}
		if chain[i], err = x509.ParseCertificate(der); err != nil {
			return h, nil, fmt.Errorf("%w: x5c[%d]: %v", errMalformed, i, err)
		}
	}
	return h, chain, nil
}

// Parse decodes a compact JWS certificate without trusting it: the header,
// the x5c chain, the credential, and the status with its recomputed digest.
// Errors wrap a malformed-certificate error.
func Parse(jws string) (*Certificate, error) {
	hs, ps, ss, err := splitJWS(jws)
	if err != nil {
		return nil, err
	}
	h, chain, err := parseHeader(hs)
	if err != nil {
		return nil, err
	}
	c, err := parseRest(strings.TrimSpace(jws), hs, ps, ss)
	if err != nil {
		return nil, err
	}
	c.Header, c.Chain = h, chain
	if _, err := c.Status(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseRest decodes the payload and signature segments.
func parseRest(jws, hs, ps, ss string) (*Certificate, error) {
	payload, err := b64.DecodeString(ps)
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url: %v", errMalformed, err)
	}
	sig, err := b64.DecodeString(ss)
	if err != nil {
		sig = nil // a signature that does not decode does not verify
	}
	c := &Certificate{JWS: jws, headerSeg: hs, signingInput: jws[:len(hs)+1+len(ps)], signature: sig}
	// go-json-experiment decodes a signed payload strictly (member names
	// match exactly, a repeated name is an error) and fast.
	if err := jsonv2.Unmarshal(payload, &c.Credential); err != nil {
		return nil, fmt.Errorf("%w: payload is not a credential: %v", errMalformed, err)
	}
	cs := c.Credential.CredentialSubject.CreditStatus
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: credentialSubject.creditStatus is missing", errMalformed)
	}
	canon, subject, asOf, err := credit.CanonicalStatus(cs)
	if err != nil {
		return nil, fmt.Errorf("%w: creditStatus: %v", errMalformed, err)
	}
	c.Subject, c.AsOf = subject, asOf
	sum := sha256.Sum256(canon)
	c.Digest = hex.EncodeToString(sum[:])
	return c, nil
}

// verifySignature checks the JWS signature with the signing certificate's
// public key.
func verifySignature(alg string, pub any, signingInput string, sig []byte) error {
	if len(sig) != 64 {
		return fmt.Errorf("signature has %d bytes, an %s signature has 64", len(sig), alg)
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("signing key is %T, not an EC key", pub)
	}
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	switch alg {
	case AlgES256:
		if key.Curve != elliptic.P256() {
			return errors.New("ES256 needs a P-256 key")
		}
		h := sha256.Sum256([]byte(signingInput))
		if !ecdsa.Verify(key, h[:], r, s) {
			return errors.New("ES256 signature does not verify")
		}
	case AlgSM2SM3:
		if !sm2.IsSM2PublicKey(key) {
			return errors.New("SM2SM3 needs an SM2 key")
		}
		der, err := rsToDER(sig)
		if err != nil {
			return err
		}
		if !sm2.VerifyASN1WithSM2(key, nil, []byte(signingInput), der) {
			return errors.New("SM2SM3 signature does not verify")
		}
	default:
		return fmt.Errorf("alg %q", alg)
	}
	return nil
}
