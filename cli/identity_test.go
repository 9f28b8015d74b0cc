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

	"github.com/spf13/cobra"

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
		{"county form", []string{"issue", "--county", "330782", "--name", "clerk1", "--role", "officer", "--dept", "market"}, ExitOK},
		{"offline form", []string{"issue", "--name", "c", "--role", "auditor", "--ca-cert", "a", "--ca-key", "b", "--msp-id", "M", "--out", "o"}, ExitOK},
		{"global output", []string{"-o", "table", "issue", "--county", "330782", "--name", "n", "--role", "auditor"}, ExitOK},
		{"no county", []string{"issue", "--name", "clerk1", "--role", "officer"}, ExitUsage},
		{"offline without out", []string{"issue", "--name", "c", "--role", "auditor", "--ca-cert", "a", "--ca-key", "b", "--msp-id", "M"}, ExitUsage},
		{"no name", []string{"issue", "--county", "330782", "--role", "officer"}, ExitUsage},
		{"bad output", []string{"issue", "--county", "330782", "--name", "n", "--role", "auditor", "-o", "xml"}, ExitUsage},
		{"extra argument", []string{"issue", "--county", "330782", "--name", "n", "--role", "auditor", "now"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parse(t, func(f *Factory) *cobra.Command {
				return NewCmdIdentityIssue(f, func(*IdentityIssueOptions) error { return nil })
			}, tt.args...)
			if code := ExitCode(err); code != tt.exit {
				t.Fatalf("exit = %d (%v), want %d", code, err, tt.exit)
			}
		})
	}
}

// TestIdentityVerbsHonourTheGlobalOutput: -o table, plain and json, and
// --lang, reach issue and show (they once had a json-only -o of their own).
func TestIdentityVerbsHonourTheGlobalOutput(t *testing.T) {
	for _, format := range []string{OutputTable, OutputPlain, OutputJSON} {
		var issue *IdentityIssueOptions
		err := parse(t, func(f *Factory) *cobra.Command {
			return NewCmdIdentityIssue(f, func(o *IdentityIssueOptions) error { issue = o; return nil })
		}, "issue", "--county", "330782", "--name", "n", "--role", "auditor", "-o", format, "--lang", "zh")
		if err != nil || issue.Output != format || issue.Lang != "zh" {
			t.Errorf("issue -o %s: err %v, opts %+v", format, err, issue)
		}
		var show *IdentityShowOptions
		err = parse(t, func(f *Factory) *cobra.Command {
			return NewCmdIdentityShow(f, func(o *IdentityShowOptions) error { show = o; return nil })
		}, "-o", format, "show", "some/msp")
		if err != nil || show.Output != format || show.Dir != "some/msp" {
			t.Errorf("show -o %s: err %v, opts %+v", format, err, show)
		}
	}
	err := parse(t, func(f *Factory) *cobra.Command {
		return NewCmdIdentityShow(f, func(*IdentityShowOptions) error { return nil })
	}, "show", "some/msp", "-o", "yaml")
	if ExitCode(err) != ExitUsage {
		t.Errorf("show -o yaml: exit %d (%v), want %d", ExitCode(err), err, ExitUsage)
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
	for _, w := range []string{"mspId\tCounty330782MSP\n", "role\tofficer\n", "mspDir\t" + dir + "\n", "validity\texpires in 30 days\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("issue output lacks %q:\n%s", w, out)
		}
	}
	// Issuing again is refused: exit 5, nothing changed.
	if err := runIdentityIssue(o); ExitCode(err) != ExitExists {
		t.Fatalf("second issue exit = %d (%v)", ExitCode(err), err)
	}

	ios, _, out, _ = Test()
	if err := runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: profile, Output: OutputTable, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"mspId         County330782MSP\n", "mspIdSource   verified against the profile's county CA\n",
		"role          officer\n", "roleSource    attribute\n", "dept          market\n", "CN=clerk1", "validity      expires in 30 days\n"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("show lacks %q:\n%s", w, out)
		}
	}
	ios, _, out, _ = Test()
	if err := runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: profile, Output: OutputPlain, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\ndept\tmarket\n") || strings.Contains(out.String(), "  ") {
		t.Errorf("plain show:\n%s", out)
	}
	ios, _, out, _ = Test()
	if err := runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: profile, Output: OutputJSON, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	var v struct {
		MSPID, Role, Dept, MSPDir string
		MSPIDVerified             *bool `json:"mspIdVerified"`
		NotAfter                  time.Time
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.MSPID != "County330782MSP" || v.Role != "officer" || v.Dept != "market" || v.MSPDir != dir ||
		v.MSPIDVerified == nil || !*v.MSPIDVerified || time.Until(v.NotAfter) < 29*24*time.Hour {
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
	if !strings.Contains(out.String(), "mspId\tCounty330782MSP\nmspIdSource\tfrom the subject's O, not verified\n") || !strings.Contains(out.String(), "\ndept\t-\n") {
		t.Errorf("show:\n%s", out)
	}
	ios, _, out, _ = Test()
	if err := runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Output: OutputJSON, Now: time.Now}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"mspIdVerified": false`) {
		t.Errorf("json:\n%s", out)
	}
	// An explicitly named profile that cannot be read is an error.
	err = runIdentityShow(&IdentityShowOptions{IO: ios, Dir: dir, Profile: "/none.json", ProfileSet: true, Now: time.Now})
	if err == nil {
		t.Error("missing explicit profile accepted")
	}
}
