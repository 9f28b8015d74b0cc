package cert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/go-jose/go-jose/v4"
)

// Signing profiles.
const (
	// AlgES256 is ECDSA P-256 with SHA-256 (RFC 7518), the default profile,
	// with the officer's Fabric key and certificate.
	AlgES256 = "ES256"
	// AlgSM2SM3 is the optional guomi profile: an SM2 signature (GB/T
	// 32918.2, default user ID "1234567812345678") with SM3 over the JWS
	// signing input, encoded as r||s, 32 bytes each, like ES256. The name is
	// ours and not registered with IANA; JOSE libraries do not know it.
	AlgSM2SM3 = "SM2SM3"
	// MediaType and ContentType are the JWS "typ" and "cty" of VC-JOSE-COSE.
	MediaType   = "vc+jwt"
	ContentType = "vc"
)

// attrOID is the Fabric CA attribute extension ({"attrs":{...}}).
var attrOID = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}

// Signer signs certificates as one officer: its private key, its
// certificate and the county CA certificate that issued it (the x5c
// chain). It is safe for concurrent use.
type Signer struct {
	alg   string
	mspID string
	chain [][]byte          // DER: the officer's certificate, then the county CA's
	leaf  *x509.Certificate // for SM2, parsed by smx509 (public key on the SM2 curve)
	ec    *ecdsa.PrivateKey
	sm2   *sm2.PrivateKey
	jose  jose.Signer
}

// Alg is the signer's JWS algorithm (AlgES256 or AlgSM2SM3).
func (s *Signer) Alg() string { return s.alg }

// MSPID is the officer's organisation.
func (s *Signer) MSPID() string { return s.mspID }

// Certificate is the officer's (signing) certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.leaf }

// NewSigner returns an ES256 signer from PEM: the officer's certificate, its
// EC P-256 private key (PKCS #8 or SEC 1) and the county CA certificate.
func NewSigner(mspID string, certPEM, keyPEM, caPEM []byte) (*Signer, error) {
	leaf, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("signer certificate: %w", err)
	}
	ca, err := parseCertPEM(caPEM)
	if err != nil {
		return nil, fmt.Errorf("signer CA certificate: %w", err)
	}
	key, err := parseECKey(keyPEM)
	if err != nil {
		return nil, err
	}
	if key.Curve != elliptic.P256() {
		return nil, errors.New("signer key: ES256 needs a P-256 key")
	}
	if !key.PublicKey.Equal(leaf.PublicKey) {
		return nil, errors.New("signer key does not match the certificate")
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("signer certificate is not issued by the CA certificate: %w", err)
	}
	s := &Signer{alg: AlgES256, mspID: mspID, chain: [][]byte{leaf.Raw, ca.Raw}, leaf: leaf, ec: key}
	return s, s.initJOSE()
}

// LoadOfficer reads an ES256 signer from a Fabric MSP folder: the
// certificate in signcerts/, the key in keystore/ and the CA certificate in
// cacerts/ (each folder holding exactly one file).
func LoadOfficer(mspID, dir string) (*Signer, error) {
	var files [3][]byte
	for i, sub := range []string{"signcerts", "keystore", "cacerts"} {
		b, err := onlyFileIn(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("load officer %s: %w", dir, err)
		}
		files[i] = b
	}
	s, err := NewSigner(mspID, files[0], files[1], files[2])
	if err != nil {
		return nil, fmt.Errorf("load officer %s: %w", dir, err)
	}
	return s, nil
}

// NewSM2Signer returns an SM2SM3 signer from PEM: the officer's SM2
// signing certificate (see MintSM2Certificate), its SM2 private key and the
// county CA certificate that signed it.
func NewSM2Signer(mspID string, certPEM, keyPEM, caPEM []byte) (*Signer, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, errors.New("sm2 signer certificate: no PEM block")
	}
	leaf, err := smx509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sm2 signer certificate: %w", err)
	}
	ca, err := parseCertPEM(caPEM)
	if err != nil {
		return nil, fmt.Errorf("sm2 signer CA certificate: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("sm2 signer key: no PEM block")
	}
	k, err := smx509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sm2 signer key: %w", err)
	}
	key, ok := k.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("sm2 signer key: %T is not an SM2 key", k)
	}
	if !key.PublicKey.Equal(leaf.PublicKey) {
		return nil, errors.New("sm2 signer key does not match the certificate")
	}
	if err := leaf.CheckSignatureFrom((*smx509.Certificate)(ca)); err != nil {
		return nil, fmt.Errorf("sm2 signer certificate is not issued by the CA certificate: %w", err)
	}
	s := &Signer{alg: AlgSM2SM3, mspID: mspID, chain: [][]byte{leaf.Raw, ca.Raw}, leaf: leaf.ToX509(), sm2: key}
	return s, s.initJOSE()
}

// MintSM2Certificate makes an officer's SM2 signing certificate for the
// guomi profile: a new SM2 key, and a certificate for it with the officer's
// subject (so the same name and client identity as the officer's Fabric
// certificate) and attribute extension, valid as long as the officer's
// certificate, signed by the county CA with its ordinary ECDSA key. Fabric
// MSPs do not accept SM2, so the chain stays anchored in the county's
// ECDSA CA; only the certificate's own signature key is SM2. The county
// (which holds its CA key) runs this once per officer.
func MintSM2Certificate(officer *x509.Certificate, caPEM, caKeyPEM []byte) (certPEM, keyPEM []byte, err error) {
	ca, err := parseCertPEM(caPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("mint sm2 certificate: CA: %w", err)
	}
	caKey, err := parseECKey(caKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("mint sm2 certificate: CA key: %w", err)
	}
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("mint sm2 certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, RawSubject: officer.RawSubject,
		NotBefore: officer.NotBefore, NotAfter: officer.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	for _, e := range officer.Extensions {
		if e.Id.Equal(attrOID) {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		}
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("mint sm2 certificate: %w", err)
	}
	kder, err := smx509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("mint sm2 certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// Kid is the key ID the signer puts in the JWS header: base64url of the
// SHA-256 of the signing certificate (its x5t#S256).
func (s *Signer) Kid() string {
	sum := sha256.Sum256(s.chain[0])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (s *Signer) initJOSE() error {
	x5c := make([]string, len(s.chain))
	for i, der := range s.chain {
		x5c[i] = base64.StdEncoding.EncodeToString(der)
	}
	opts := (&jose.SignerOptions{}).WithType(MediaType).WithContentType(ContentType).
		WithHeader("x5c", x5c).WithHeader("kid", s.Kid())
	var key any = s.ec
	if s.alg == AlgSM2SM3 {
		key = sm2Opaque{s.sm2}
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(s.alg), Key: key}, opts)
	if err != nil {
		return fmt.Errorf("jws signer: %w", err)
	}
	s.jose = js
	return nil
}

// Issuer describes the signer as the issuing officer of a county whose
// registered name is countyName (e.g. 义乌市).
func (s *Signer) Issuer(countyName string) IssuerInfo {
	return IssuerInfo{CountyName: countyName, MSPID: s.mspID, OfficerCN: s.leaf.Subject.CommonName, Department: attribute(s.leaf, "dept")}
}

// Sign returns the credential as a compact JWS: header {alg, typ vc+jwt,
// cty vc, x5c [officer, county CA], kid}, payload the credential's JSON.
func (s *Signer) Sign(c *Credential) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", c.CertificateID(), err)
	}
	obj, err := s.jose.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", c.CertificateID(), err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", c.CertificateID(), err)
	}
	return out, nil
}

// sm2Opaque signs with SM2 for go-jose.
type sm2Opaque struct{ key *sm2.PrivateKey }

func (o sm2Opaque) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: &o.key.PublicKey, Algorithm: AlgSM2SM3}
}

func (o sm2Opaque) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{AlgSM2SM3} }

func (o sm2Opaque) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != AlgSM2SM3 {
		return nil, jose.ErrUnsupportedAlgorithm
	}
	der, err := o.key.Sign(rand.Reader, payload, sm2.DefaultSM2SignerOpts)
	if err != nil {
		return nil, err
	}
	return derToRS(der, 32)
}

// derToRS converts an ASN.1 (r, s) signature to r||s of size bytes each.
func derToRS(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil {
		return nil, errors.New("malformed ASN.1 signature")
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}

// rsToDER converts r||s to an ASN.1 (r, s) signature.
func rsToDER(rs []byte) ([]byte, error) {
	if len(rs) == 0 || len(rs)%2 != 0 {
		return nil, errors.New("signature is not r||s")
	}
	n := len(rs) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(rs[:n]), new(big.Int).SetBytes(rs[n:])})
}

// attribute returns a Fabric CA attribute of a certificate ("" if none).
func attribute(c *x509.Certificate, name string) string {
	for _, e := range c.Extensions {
		if !e.Id.Equal(attrOID) {
			continue
		}
		var v struct {
			Attrs map[string]string `json:"attrs"`
		}
		if json.Unmarshal(e.Value, &v) == nil {
			return v.Attrs[name]
		}
	}
	return ""
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseECKey(b []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("private key: no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		ec, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key: %T is not an EC key", k)
		}
		return ec, nil
	}
	k, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: neither PKCS #8 nor SEC 1: %w", err)
	}
	return k, nil
}

func onlyFileIn(dir string) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	if len(files) != 1 {
		return nil, fmt.Errorf("%d files in %s, want exactly one", len(files), dir)
	}
	return os.ReadFile(filepath.Join(dir, files[0]))
}
