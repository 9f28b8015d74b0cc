package identity

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

// Sentinel errors.
var (
	// ErrInvalid: a request field breaks its rule (see FieldError).
	ErrInvalid = errors.New("invalid")
	// ErrExists: the MSP folder to write already exists.
	ErrExists = errors.New("already exists")
)

// FieldError names the bad field of a Request and the rule it breaks.
type FieldError struct {
	Field, Value, Rule string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Rule) }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Roles (DESIGN §4).
const (
	RoleOfficer = "officer" // records: commitments, punishments, repairs
	RoleAuditor = "auditor" // reads
	RoleAdmin   = "admin"   // registers its county, installs rule sets and calendars
)

// Roles lists the valid roles.
var Roles = []string{RoleOfficer, RoleAuditor, RoleAdmin}

// AttrOID is the Fabric CA attribute extension, read by chaincode through
// pkg/cid (attrmgr).
var AttrOID = asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}

// DefaultValidity is how long an issued certificate is valid unless the
// request says otherwise; never longer than the CA itself.
const DefaultValidity = 365 * 24 * time.Hour

var (
	reName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	reDept = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	reMSP  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// Request is what to put in a staff certificate.
type Request struct {
	MSPID    string        // the county's MSP ID, e.g. County330782MSP (written as Subject O)
	Name     string        // enrollment name: Subject CN and hf.EnrollmentID
	Role     string        // officer, auditor or admin
	Dept     string        // department code; required for officers
	Validity time.Duration // 0 means DefaultValidity
}

// Validate checks every field; the first broken rule is returned as a
// *FieldError.
func (r Request) Validate() error {
	if !reMSP.MatchString(r.MSPID) {
		return &FieldError{"msp-id", r.MSPID, "must match " + reMSP.String()}
	}
	if !reName.MatchString(r.Name) {
		return &FieldError{"name", r.Name, "must match " + reName.String()}
	}
	if !slices.Contains(Roles, r.Role) {
		return &FieldError{"role", r.Role, "must be one of officer, auditor, admin"}
	}
	if r.Dept == "" && r.Role == RoleOfficer {
		return &FieldError{"dept", r.Dept, "is required for an officer (the department the officer records for)"}
	}
	if r.Dept != "" && !reDept.MatchString(r.Dept) {
		return &FieldError{"dept", r.Dept, "must match " + reDept.String()}
	}
	if r.Validity < 0 || (r.Validity > 0 && r.Validity < time.Hour) {
		return &FieldError{"validity", r.Validity.String(), "must be at least one hour"}
	}
	return nil
}

// attrs is the extension's JSON; field order is fixed by the struct.
type attrs struct {
	Attrs attrValues `json:"attrs"`
}

type attrValues struct {
	Role         string `json:"role"`
	Dept         string `json:"dept,omitempty"`
	EnrollmentID string `json:"hf.EnrollmentID"`
}

// CA is a county certificate authority: cryptogen's ca/ folder.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	Key     crypto.Signer
}

// LoadCA reads the CA certificate and its PKCS #8 (or SEC 1) private key and
// checks that they belong together.
func LoadCA(certFile, keyFile string) (*CA, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("load county CA certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("load county CA key: %w", err)
	}
	return ParseCA(certPEM, keyPEM)
}

// ParseCA is LoadCA on PEM bytes.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	cert, err := ParseCertificatePEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("county CA certificate: %w", err)
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("county CA certificate %q is not a CA certificate: %w", cert.Subject, ErrInvalid)
	}
	key, err := parsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("county CA key: %w", err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("county CA key does not match certificate %q: %w", cert.Subject, ErrInvalid)
	}
	return &CA{Cert: cert, CertPEM: certPEM, Key: key}, nil
}

// ParseCertificatePEM parses the first CERTIFICATE block.
func ParseCertificatePEM(b []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("no PEM CERTIFICATE block: %w", ErrInvalid)
		}
		if blk.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse certificate: %w", err)
			}
			return c, nil
		}
	}
}

func parsePrivateKeyPEM(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("no PEM private key block: %w", ErrInvalid)
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("private key type %T cannot sign: %w", k, ErrInvalid)
		}
		return s, nil
	}
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key (PKCS #8 or SEC 1): %w", err)
	}
	return k, nil
}

// Issued is a freshly minted identity.
type Issued struct {
	Cert    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte // PKCS #8, unencrypted: the MSP keystore format
}

// Issue mints a certificate for r, valid from now (less five minutes, for
// clock skew, but not before the CA itself) for r.Validity, clamped to the
// CA's own expiry.
func (ca *CA) Issue(r Request, now time.Time) (*Issued, error) {
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("issue identity: %w", err)
	}
	if now.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("issue identity: county CA %q expired on %s: %w", ca.Cert.Subject, ca.Cert.NotAfter.Format(time.DateOnly), ErrInvalid)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("issue identity: generate key: %w", err)
	}
	ext, err := json.Marshal(attrs{attrValues{Role: r.Role, Dept: r.Dept, EnrollmentID: r.Name}})
	if err != nil {
		return nil, fmt.Errorf("issue identity: encode attributes: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("issue identity: serial: %w", err)
	}
	validity := r.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	// Fabric's MSP checks the chain at the certificate's own NotBefore (plus
	// one second), not at the current time: a certificate that starts before
	// its CA fails validation. Backdate for clock skew, but never before the CA.
	notBefore := now.Add(-5 * time.Minute).UTC().Truncate(time.Second)
	if notBefore.Before(ca.Cert.NotBefore) {
		notBefore = ca.Cert.NotBefore
	}
	pubRaw, err := key.PublicKey.ECDH()
	if err != nil {
		return nil, fmt.Errorf("issue identity: public key: %w", err)
	}
	ski := sha256.Sum256(pubRaw.Bytes())
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         r.Name,
			OrganizationalUnit: []string{"client"},
			Organization:       []string{r.MSPID},
		},
		NotBefore:             notBefore,
		NotAfter:              notAfter.UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski[:],
		ExtraExtensions:       []pkix.Extension{{Id: AttrOID, Critical: false, Value: ext}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, lowS(ca.Key))
	if err != nil {
		return nil, fmt.Errorf("issue identity: sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("issue identity: parse signed certificate: %w", err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("issue identity: encode key: %w", err)
	}
	return &Issued{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
	}, nil
}

// lowS wraps an ECDSA signer so its signatures have S <= N/2, the form
// Fabric requires of transaction signatures and normalises certificates to.
func lowS(s crypto.Signer) crypto.Signer {
	if _, ok := s.Public().(*ecdsa.PublicKey); !ok {
		return s
	}
	return lowSSigner{s}
}

type lowSSigner struct{ crypto.Signer }

func (l lowSSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := l.Signer.Sign(r, digest, opts)
	if err != nil {
		return nil, err
	}
	var v struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &v); err != nil {
		return nil, fmt.Errorf("decode ECDSA signature: %w", err)
	}
	n := l.Public().(*ecdsa.PublicKey).Curve.Params().N
	if v.S.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		v.S.Sub(n, v.S)
	}
	return asn1.Marshal(v)
}

// File names inside an MSP folder written by WriteMSP.
const (
	SignCertFile  = "signcerts/cert.pem"
	KeyFile       = "keystore/priv_sk"
	CACertFile    = "cacerts/ca-cert.pem"
	TLSCACertFile = "tlscacerts/tlsca-cert.pem"
	ConfigFile    = "config.yaml"
)

// nodeOUConfig enables NodeOUs against the CA certificate, as cryptogen's
// config.yaml does.
func nodeOUConfig() []byte {
	var b bytes.Buffer
	b.WriteString("NodeOUs:\n  Enable: true\n")
	for _, ou := range []struct{ key, ou string }{
		{"ClientOUIdentifier", "client"}, {"PeerOUIdentifier", "peer"},
		{"AdminOUIdentifier", "admin"}, {"OrdererOUIdentifier", "orderer"},
	} {
		fmt.Fprintf(&b, "  %s:\n    Certificate: %s\n    OrganizationalUnitIdentifier: %s\n", ou.key, CACertFile, ou.ou)
	}
	return b.Bytes()
}

// WriteMSP writes iss as an MSP folder at dir: signcerts, keystore (0600),
// cacerts (the county CA), tlscacerts (tlsCACertPEM, the county TLS CA; may
// be nil) and config.yaml. dir must not exist (ErrExists); it is assembled
// in a temporary sibling and renamed, so a failure leaves nothing behind.
func WriteMSP(dir string, ca *CA, tlsCACertPEM []byte, iss *Issued) error {
	if _, err := os.Lstat(dir); err == nil {
		return fmt.Errorf("write MSP folder %s: %w", dir, ErrExists)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("write MSP folder: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".*")
	if err != nil {
		return fmt.Errorf("write MSP folder: %w", err)
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{SignCertFile, iss.CertPEM, 0o644},
		{KeyFile, iss.KeyPEM, 0o600},
		{CACertFile, ca.CertPEM, 0o644},
		{ConfigFile, nodeOUConfig(), 0o644},
	}
	if len(tlsCACertPEM) > 0 {
		files = append(files, struct {
			name string
			data []byte
			mode os.FileMode
		}{TLSCACertFile, tlsCACertPEM, 0o644})
	}
	for _, f := range files {
		p := filepath.Join(tmp, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			err = os.WriteFile(p, f.data, f.mode)
		}
		if err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("write MSP folder %s: %w", dir, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("write MSP folder %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("write MSP folder %s: %w", dir, err)
	}
	return nil
}

// Info describes an identity certificate.
type Info struct {
	MSPID        string            `json:"mspId"` // not in the certificate itself: filled by the caller (e.g. from the profile's CA certificates)
	Subject      string            `json:"subject"`
	CommonName   string            `json:"commonName"`
	Organization []string          `json:"organization"`
	OUs          []string          `json:"ous"`
	Issuer       string            `json:"issuer"`
	Serial       string            `json:"serial"`
	NotBefore    time.Time         `json:"notBefore"`
	NotAfter     time.Time         `json:"notAfter"`
	Role         string            `json:"role"`       // from the attribute, or "admin" for a NodeOU admin
	RoleSource   string            `json:"roleSource"` // "attribute", "nodeou" or "" (no role: read only)
	Dept         string            `json:"dept"`
	EnrollmentID string            `json:"enrollmentId"`
	Attrs        map[string]string `json:"attrs"` // every attribute in the extension
	Cert         *x509.Certificate `json:"-"`
}

// Attributes returns the Fabric attributes in cert's extension; ok is false
// when the certificate has none.
func Attributes(cert *x509.Certificate) (map[string]string, bool, error) {
	for _, e := range cert.Extensions {
		if !e.Id.Equal(AttrOID) {
			continue
		}
		var v struct {
			Attrs map[string]string `json:"attrs"`
		}
		if err := json.Unmarshal(e.Value, &v); err != nil {
			return nil, true, fmt.Errorf("decode attribute extension %s: %w", AttrOID, err)
		}
		return v.Attrs, true, nil
	}
	return nil, false, nil
}

// Describe reads the certificate in an MSP folder's signcerts/.
func Describe(mspDir string) (*Info, error) {
	entries, err := os.ReadDir(filepath.Join(mspDir, "signcerts"))
	if err != nil {
		return nil, fmt.Errorf("read MSP folder %s: %w", mspDir, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(mspDir, "signcerts", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read MSP folder %s: %w", mspDir, err)
		}
		cert, err := ParseCertificatePEM(b)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name(), err)
		}
		return DescribeCert(cert)
	}
	return nil, fmt.Errorf("read MSP folder %s: no certificate in signcerts: %w", mspDir, ErrInvalid)
}

// DescribeCert is Describe for a parsed certificate.
func DescribeCert(cert *x509.Certificate) (*Info, error) {
	in := &Info{
		Subject:      cert.Subject.String(),
		CommonName:   cert.Subject.CommonName,
		Organization: cert.Subject.Organization,
		OUs:          cert.Subject.OrganizationalUnit,
		Issuer:       cert.Issuer.String(),
		Serial:       fmt.Sprintf("%x", cert.SerialNumber),
		NotBefore:    cert.NotBefore.UTC(),
		NotAfter:     cert.NotAfter.UTC(),
		Cert:         cert,
	}
	attrs, ok, err := Attributes(cert)
	if err != nil {
		return nil, err
	}
	if ok {
		in.Attrs = attrs
		in.Role, in.Dept, in.EnrollmentID = attrs["role"], attrs["dept"], attrs["hf.EnrollmentID"]
		if in.Role != "" {
			in.RoleSource = "attribute"
		}
	}
	if in.Role == "" && slices.Contains(cert.Subject.OrganizationalUnit, "admin") {
		in.Role, in.RoleSource = RoleAdmin, "nodeou"
	}
	return in, nil
}
