package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)

// testCA makes a county CA like cryptogen's: a self-signed ECDSA P-256 CA
// certificate and its PKCS #8 key.
func testCA(t *testing.T, notAfter time.Time) (*CA, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ca.c330782.credit.local", Organization: []string{"c330782.credit.local"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	ca, err := ParseCA(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return ca, certPEM, keyPEM
}

func officer() Request {
	return Request{MSPID: "County330782MSP", Name: "clerk1", Role: RoleOfficer, Dept: "market"}
}

// TestIssueCarriesRoleDeptAndClientOU parses the issued certificate back and
// checks what chaincode reads: the attribute extension (DESIGN §4, OID
// 1.2.3.4.5.6.7.8.1), OU=client (the NodeOU of a client identity), and the
// county CA's signature.
func TestIssueCarriesRoleDeptAndClientOU(t *testing.T) {
	ca, _, _ := testCA(t, now.AddDate(10, 0, 0))
	iss, err := ca.Issue(officer(), now)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ParseCertificatePEM(iss.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatalf("not signed by the county CA: %v", err)
	}
	if got := cert.Subject.OrganizationalUnit; !slices.Equal(got, []string{"client"}) {
		t.Errorf("OU = %v, want [client]", got)
	}
	if cert.Subject.CommonName != "clerk1" || !slices.Equal(cert.Subject.Organization, []string{"County330782MSP"}) {
		t.Errorf("subject = %s", cert.Subject)
	}
	if cert.IsCA {
		t.Error("issued certificate is a CA")
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || cert.PublicKey.(*ecdsa.PublicKey).Curve != elliptic.P256() {
		t.Errorf("public key = %T, want ECDSA P-256", cert.PublicKey)
	}
	var raw []byte
	for _, e := range cert.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{1, 2, 3, 4, 5, 6, 7, 8, 1}) {
			raw = e.Value
		}
	}
	if raw == nil {
		t.Fatal("no attribute extension 1.2.3.4.5.6.7.8.1")
	}
	// The exact bytes chaincode's attrmgr decodes.
	want := `{"attrs":{"role":"officer","dept":"market","hf.EnrollmentID":"clerk1"}}`
	if string(raw) != want {
		t.Errorf("extension = %s, want %s", raw, want)
	}
	var v struct{ Attrs map[string]string }
	if err := json.Unmarshal(raw, &v); err != nil || v.Attrs["role"] != "officer" || v.Attrs["dept"] != "market" {
		t.Errorf("extension decodes to %v (%v)", v, err)
	}
	// The key in the keystore belongs to the certificate.
	blk, _ := pem.Decode(iss.KeyPEM)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !k.(*ecdsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
		t.Error("keystore key does not match the certificate")
	}
}

// TestIssueNeverStartsBeforeItsCA: Fabric's MSP validates the chain at the
// certificate's NotBefore + 1s, so a certificate backdated before its CA's
// NotBefore is refused by every peer (seen with a CA made a minute earlier).
func TestIssueNeverStartsBeforeItsCA(t *testing.T) {
	ca, _, _ := testCA(t, now.AddDate(10, 0, 0)) // CA NotBefore = now - 1h
	ca.Cert.NotBefore = now.Add(-time.Minute)
	iss, err := ca.Issue(officer(), now)
	if err != nil {
		t.Fatal(err)
	}
	if iss.Cert.NotBefore.Before(ca.Cert.NotBefore) {
		t.Fatalf("NotBefore %s is before the CA's %s", iss.Cert.NotBefore, ca.Cert.NotBefore)
	}
	// Fabric's check: verify at NotBefore + 1s.
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if _, err := iss.Cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: iss.Cert.NotBefore.Add(time.Second), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("chain invalid at NotBefore+1s: %v", err)
	}
}

// TestIssueValidity: from five minutes before now, one year by default,
// never beyond the CA's own expiry.
func TestIssueValidity(t *testing.T) {
	tests := []struct {
		name       string
		caNotAfter time.Time
		validity   time.Duration
		want       time.Time
	}{
		{"default one year", now.AddDate(10, 0, 0), 0, now.Add(DefaultValidity)},
		{"requested 30 days", now.AddDate(10, 0, 0), 30 * 24 * time.Hour, now.Add(30 * 24 * time.Hour)},
		{"clamped to the CA", now.Add(48 * time.Hour), 0, now.Add(48 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, _, _ := testCA(t, tt.caNotAfter)
			r := officer()
			r.Validity = tt.validity
			iss, err := ca.Issue(r, now)
			if err != nil {
				t.Fatal(err)
			}
			if !iss.Cert.NotAfter.Equal(tt.want) {
				t.Errorf("NotAfter = %s, want %s", iss.Cert.NotAfter, tt.want)
			}
			if !iss.Cert.NotBefore.Equal(now.Add(-5 * time.Minute)) {
				t.Errorf("NotBefore = %s", iss.Cert.NotBefore)
			}
		})
	}
}

func TestIssueRefusesExpiredCA(t *testing.T) {
	ca, _, _ := testCA(t, now.Add(30*time.Minute))
	if _, err := ca.Issue(officer(), now.Add(time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

// TestRequestValidate: every bad field is named, and nothing is issued.
func TestRequestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Request)
		field string // "" = valid
	}{
		{"officer", func(*Request) {}, ""},
		{"auditor without dept", func(r *Request) { r.Role, r.Dept = RoleAuditor, "" }, ""},
		{"admin with dept", func(r *Request) { r.Role = RoleAdmin }, ""},
		{"dept credit-office", func(r *Request) { r.Dept = "credit-office" }, ""},
		{"unknown role", func(r *Request) { r.Role = "boss" }, "role"},
		{"empty role", func(r *Request) { r.Role = "" }, "role"},
		{"officer without dept", func(r *Request) { r.Dept = "" }, "dept"},
		{"dept upper case", func(r *Request) { r.Dept = "Market" }, "dept"},
		{"dept one letter", func(r *Request) { r.Dept = "m" }, "dept"},
		{"dept starts with digit", func(r *Request) { r.Dept = "1market" }, "dept"},
		{"dept 33 chars", func(r *Request) { r.Dept = "a" + strings.Repeat("b", 32) }, "dept"},
		{"dept 32 chars", func(r *Request) { r.Dept = "a" + strings.Repeat("b", 31) }, ""},
		{"name empty", func(r *Request) { r.Name = "" }, "name"},
		{"name with slash", func(r *Request) { r.Name = "../x" }, "name"},
		{"name with at", func(r *Request) { r.Name = "a@b" }, "name"},
		{"msp id empty", func(r *Request) { r.MSPID = "" }, "msp-id"},
		{"validity too short", func(r *Request) { r.Validity = time.Minute }, "validity"},
		{"validity negative", func(r *Request) { r.Validity = -time.Hour }, "validity"},
	}
	ca, _, _ := testCA(t, now.AddDate(10, 0, 0))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := officer()
			tt.edit(&r)
			err := r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("err = %v, want a FieldError on %q", err, tt.field)
			}
			if _, err := ca.Issue(r, now); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Issue err = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestCASignaturesAreLowS: the CA signs with S <= N/2 (Fabric's form).
func TestCASignaturesAreLowS(t *testing.T) {
	ca, _, _ := testCA(t, now.AddDate(10, 0, 0))
	half := new(big.Int).Rsh(elliptic.P256().Params().N, 1)
	for i := 0; i < 20; i++ {
		iss, err := ca.Issue(officer(), now)
		if err != nil {
			t.Fatal(err)
		}
		var sig struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(iss.Cert.Signature, &sig); err != nil {
			t.Fatal(err)
		}
		if sig.S.Cmp(half) > 0 {
			t.Fatalf("signature %d is high-S", i)
		}
	}
}

func TestParseCARefusesMismatchedKey(t *testing.T) {
	_, certPEM, _ := testCA(t, now.AddDate(1, 0, 0))
	_, _, otherKey := testCA(t, now.AddDate(1, 0, 0))
	if _, err := ParseCA(certPEM, otherKey); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if _, err := ParseCA([]byte("junk"), otherKey); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

func TestLoadCAFromFiles(t *testing.T) {
	_, certPEM, keyPEM := testCA(t, now.AddDate(1, 0, 0))
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "ca-cert.pem"), filepath.Join(dir, "priv_sk")
	os.WriteFile(cf, certPEM, 0o644)
	os.WriteFile(kf, keyPEM, 0o600)
	if _, err := LoadCA(cf, kf); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(cf, filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

// TestWriteMSPAndDescribe writes the folder layout Fabric loads and reads it
// back; a second write to the same place is refused and changes nothing.
func TestWriteMSPAndDescribe(t *testing.T) {
	ca, _, _ := testCA(t, now.AddDate(10, 0, 0))
	iss, err := ca.Issue(officer(), now)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "users", "clerk1@c330782.credit.local", "msp")
	if err := WriteMSP(dir, ca, []byte("tls ca"), iss); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SignCertFile, KeyFile, CACertFile, TLSCACertFile, ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	st, _ := os.Stat(filepath.Join(dir, KeyFile))
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v, want 0600", st.Mode().Perm())
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
	for _, want := range []string{"Enable: true", "Certificate: cacerts/ca-cert.pem", "OrganizationalUnitIdentifier: client", "OrganizationalUnitIdentifier: admin"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, cfg)
		}
	}
	in, err := Describe(dir)
	if err != nil {
		t.Fatal(err)
	}
	if in.Role != "officer" || in.RoleSource != "attribute" || in.Dept != "market" || in.EnrollmentID != "clerk1" || in.CommonName != "clerk1" {
		t.Errorf("Describe = %+v", in)
	}
	if !in.NotAfter.Equal(now.Add(DefaultValidity)) {
		t.Errorf("NotAfter = %s", in.NotAfter)
	}

	before, _ := os.ReadFile(filepath.Join(dir, SignCertFile))
	iss2, _ := ca.Issue(officer(), now)
	if err := WriteMSP(dir, ca, nil, iss2); !errors.Is(err, ErrExists) {
		t.Fatalf("second write err = %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, SignCertFile))
	if string(before) != string(after) {
		t.Error("refused write changed the certificate")
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".msp.*"))
	if len(left) != 0 {
		t.Errorf("temporary folders left: %v", left)
	}
}

// TestDescribeNodeOUAdmin: a cryptogen Admin@ certificate has no attributes;
// its NodeOU "admin" makes it an admin (DESIGN §4).
func TestDescribeNodeOUAdmin(t *testing.T) {
	ca, _, _ := testCA(t, now.AddDate(1, 0, 0))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "Admin@c330782.credit.local", OrganizationalUnit: []string{"admin"}},
		NotBefore:    now, NotAfter: now.AddDate(1, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	in, err := DescribeCert(cert)
	if err != nil {
		t.Fatal(err)
	}
	if in.Role != RoleAdmin || in.RoleSource != "nodeou" || in.Attrs != nil {
		t.Errorf("Describe = role %q source %q attrs %v", in.Role, in.RoleSource, in.Attrs)
	}
}

func TestDescribeEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "signcerts"), 0o755)
	if _, err := Describe(dir); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}
