package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/countycredit/creditledger/network"
	"github.com/countycredit/creditledger/network/identity"
)

// fakeCounty writes a county CA and a profile naming it, as `network up`
// leaves them.
func fakeCounty(t *testing.T) (profile string, county network.CountyProfile) {
	t.Helper()
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca.c330782.credit.local"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	p8, _ := x509.MarshalPKCS8PrivateKey(key)
	org := filepath.Join(dir, "crypto", "peerOrganizations", "c330782.credit.local")
	os.MkdirAll(filepath.Join(org, "ca"), 0o755)
	os.MkdirAll(filepath.Join(org, "users"), 0o755)
	caCert, caKey := filepath.Join(org, "ca", "ca-cert.pem"), filepath.Join(org, "ca", "priv_sk")
	os.WriteFile(caCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(caKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600)
	county = network.CountyProfile{Code: "330782", Name: "义乌市", MSPID: "County330782MSP", CACert: caCert, CAKey: caKey,
		AdminMSP: filepath.Join(org, "users", "Admin@c330782.credit.local", "msp"), UsersDir: filepath.Join(org, "users"),
		Peers: []network.PeerProfile{{Name: "peer0", Address: "127.0.0.1:7080", TLSRootCert: caCert}}}
	p := network.Profile{Name: "credit-local", Channel: "credit", Chaincode: "credit", Counties: []network.CountyProfile{county},
		Orderers: []network.OrdererProfile{{Name: "orderer0", Address: "127.0.0.1:7050", TLSRootCert: caCert}}}
	b, _ := json.Marshal(p)
	profile = filepath.Join(dir, "network.json")
	os.WriteFile(profile, b, 0o644)
	return profile, county
}

func TestIdentityIssueFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		exit int
	}{
		{"county form", []string{"--county", "330782", "--name", "clerk1", "--role", "officer", "--dept", "market"}, ExitOK},
		{"offline form", []string{"--name", "c", "--role", "auditor", "--ca-cert", "a", "--ca-key", "b", "--msp-id", "M", "--out", "o"}, ExitOK},
		{"no county", []string{"--name", "clerk1", "--role", "officer"}, ExitUsage},
		{"offline without out", []string{"--name", "c", "--role", "auditor", "--ca-cert", "a", "--ca-key", "b", "--msp-id", "M"}, ExitUsage},
		{"no name", []string{"--county", "330782", "--role", "officer"}, ExitUsage},
		{"bad output", []string{"--county", "330782", "--name", "n", "--role", "auditor", "-o", "xml"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			cmd := NewCmdIdentityIssue(&Factory{IO: ios}, func(*IdentityIssueOptions) error { return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(ios.Out)
			cmd.SetErr(ios.ErrOut)
			if code := ExitCode(cmd.Execute()); code != tt.exit {
				t.Fatalf("exit = %d, want %d", code, tt.exit)
			}
		})
	}
}

// TestIdentityIssueAndShow issues through the profile and shows the result
// with the MSP ID verified against the county CA.
func TestIdentityIssueAndShow(t *testing.T) {
	profile, county := fakeCounty(t)
	ios, _, out, _ := Test()
	o := &IdentityIssueOptions{IO: ios, Profile: profile, County: "330782", Name: "clerk1", Role: "officer", Dept: "market", Days: 30, Now: time.Now}
	if err := runIdentityIssue(o); err != nil {
		t.Fatal(err)
	}
	dir := county.UserMSPDir("clerk1")
	if strings.TrimSpace(out.String()) != dir {
		t.Errorf("stdout = %q, want %s", out, dir)
	}
	// Issuing again is refused: exit 5, nothing changed.
	if err := runIdentityIssue(o); ExitCode(err) != ExitExists {
		t.Fatalf("second issue exit = %d (%v)", ExitCode(err), err)
	}

	ios, _, out, _ = Test()
	if err := runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: profile, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"MSP ID:      County330782MSP (verified", "Role:        officer (attribute)", "Dept:        market", "CN=clerk1", "expires in 30 days"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("show lacks %q:\n%s", w, out)
		}
	}
	ios, _, out, _ = Test()
	if err := runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: profile, Output: "json", Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	var v struct {
		MSPID, Role, Dept, MSPDir string
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.MSPID != "County330782MSP" || v.Role != "officer" || v.Dept != "market" || v.MSPDir != dir {
		t.Errorf("json = %s (%v)", out, err)
	}
}

// TestIdentityIssueBadInputWritesNothing: a refused request names the
// field and leaves no folder behind.
func TestIdentityIssueBadInputWritesNothing(t *testing.T) {
	profile, county := fakeCounty(t)
	tests := []struct{ name, role, dept, county, want string }{
		{"officer without dept", "officer", "", "330782", "dept"},
		{"unknown role", "boss", "", "330782", "role"},
		{"bad dept", "officer", "Market", "330782", "dept"},
		{"unknown county", "auditor", "", "110101", "110101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := Test()
			err := runIdentityIssue(&IdentityIssueOptions{IO: ios, Profile: profile, County: tt.county, Name: "x1", Role: tt.role, Dept: tt.dept, Days: 1, Now: time.Now})
			if ExitCode(err) != ExitInvalid || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (exit %d), want exit %d naming %s", err, ExitCode(err), ExitInvalid, tt.want)
			}
			if ents, _ := os.ReadDir(county.UsersDir); len(ents) != 0 {
				t.Errorf("users folder not empty: %v", ents)
			}
		})
	}
}

func TestIdentityShowWithoutProfile(t *testing.T) {
	_, county := fakeCounty(t)
	ca, err := identity.LoadCA(county.CACert, county.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := ca.Issue(identity.Request{MSPID: "County330782MSP", Name: "a1", Role: "auditor"}, time.Now())
	dir := filepath.Join(t.TempDir(), "msp")
	identity.WriteMSP(dir, ca, nil, iss)
	ios, _, out, _ := Test()
	err = runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: filepath.Join(t.TempDir(), "none.json"), Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "County330782MSP (from the subject's O, not verified)") || !strings.Contains(out.String(), "Dept:        -") {
		t.Errorf("show:\n%s", out)
	}
	// An explicitly named profile that cannot be read is an error.
	err = runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: "/none.json", ProfileSet: true, Now: time.Now})
	if err == nil {
		t.Error("missing explicit profile accepted")
	}
}
