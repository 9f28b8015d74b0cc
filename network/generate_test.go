package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func layout(t *testing.T, yml string) Layout {
	t.Helper()
	top := DefaultTopology()
	if yml != "" {
		var err error
		if top, err = ParseTopology([]byte(yml)); err != nil {
			t.Fatal(err)
		}
	}
	return Layout{Dir: "/run/net", T: top}
}

// TestProfileMatchesDesign: network.json has DESIGN §9's fields, absolute
// paths, and loads back.
func TestProfileMatchesDesign(t *testing.T) {
	l := layout(t, "")
	p := l.Profile()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"name":"credit-local"`, `"channel":"credit"`, `"chaincode":"credit"`, `"mspId":"County330782MSP"`,
		`"hostOverride":"peer0.c330782.credit.local"`, `"opsAddress":"127.0.0.1:7082"`, `"address":"127.0.0.1:7080"`,
		`"adminAddress":"127.0.0.1:7051"`, `"caCert":"/run/net/crypto/peerOrganizations/c330782.credit.local/ca/ca.c330782.credit.local-cert.pem"`,
		`"caKey":"/run/net/crypto/peerOrganizations/c330782.credit.local/ca/priv_sk"`,
		`"adminMsp":"/run/net/crypto/peerOrganizations/c330782.credit.local/users/Admin@c330782.credit.local/msp"`,
		`"usersDir":"/run/net/crypto/peerOrganizations/c330782.credit.local/users"`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("profile lacks %s", key)
		}
	}
	path := filepath.Join(t.TempDir(), "network.json")
	if err := writeJSONAtomic(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := got.County("371324")
	if err != nil {
		t.Fatal(err)
	}
	if c.UserMSPDir("officer1") != "/run/net/crypto/peerOrganizations/c371324.credit.local/users/officer1@c371324.credit.local/msp" {
		t.Errorf("UserMSPDir = %s", c.UserMSPDir("officer1"))
	}
	if _, err := got.County("110101"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown county err = %v", err)
	}
}

func TestLoadProfileRefuses(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"not json", "{", "parse"},
		{"empty", "{}", "name"},
		{"relative path", `{"name":"n","channel":"c","chaincode":"cc","orderers":[{"address":"a:1","tlsRootCert":"/x"}],
		  "counties":[{"code":"330782","mspId":"m","caCert":"ca.pem","caKey":"/k","adminMsp":"/a","usersDir":"/u","peers":[{"address":"a:2","tlsRootCert":"/t"}]}]}`, "counties[0].caCert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "network.json")
			os.WriteFile(p, []byte(tt.json), 0o644)
			_, err := LoadProfile(p)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tt.want)
			}
		})
	}
}

// TestChannelConfigRaft: V3_0 channel capability, MAJORITY endorsement and
// lifecycle endorsement, per-org orderer endpoints and anchor peers.
func TestChannelConfigRaft(t *testing.T) {
	l := layout(t, "")
	p := l.channelConfig().Profiles[channelProfile]
	if !p.Capabilities["V3_0"] || !p.Application.Capabilities["V2_5"] {
		t.Errorf("capabilities = %v / %v", p.Capabilities, p.Application.Capabilities)
	}
	for _, k := range []string{"Endorsement", "LifecycleEndorsement"} {
		if got := p.Application.Policies[k]; got != implicit("MAJORITY Endorsement") {
			t.Errorf("%s = %+v", k, got)
		}
	}
	if p.Orderer.OrdererType != "etcdraft" || len(p.Orderer.EtcdRaft.Consenters) != 3 || p.Orderer.SmartBFT != nil {
		t.Errorf("orderer = %+v", p.Orderer)
	}
	if eps := p.Orderer.Organizations[0].OrdererEndpoints; !slices.Equal(eps, []string{"127.0.0.1:7050", "127.0.0.1:7060", "127.0.0.1:7070"}) {
		t.Errorf("orderer endpoints = %v", eps)
	}
	if len(p.Application.Organizations) != 3 || p.Application.Organizations[2].AnchorPeers[0] != (ctxAnchor{"127.0.0.1", 7100}) {
		t.Errorf("application orgs = %+v", p.Application.Organizations)
	}
	if got := p.Application.Organizations[0].Policies["Endorsement"].Rule; got != "OR('County330782MSP.peer')" {
		t.Errorf("county endorsement policy = %s", got)
	}
	if _, err := yaml.Marshal(l.channelConfig()); err != nil {
		t.Fatal(err)
	}
}

// TestChannelConfigTuning: the topology's block size, batch timeout and
// endorsement variant reach the channel configuration; the lifecycle
// policy stays MAJORITY whatever the variant.
func TestChannelConfigTuning(t *testing.T) {
	def := layout(t, "").channelConfig().Profiles[channelProfile]
	if def.Orderer.BatchSize.MaxMessageCount != 100 || def.Orderer.BatchTimeout != "100ms" {
		t.Errorf("default batch = %+v, timeout %s", def.Orderer.BatchSize, def.Orderer.BatchTimeout)
	}
	p := layout(t, "endorsement: any\norderers: {batchTimeout: 2s, maxMessageCount: 500}\ncounties:\n  - {code: \"330782\", name: a}\n").channelConfig().Profiles[channelProfile]
	if p.Orderer.BatchSize.MaxMessageCount != 500 || p.Orderer.BatchTimeout != "2s" {
		t.Errorf("batch = %+v, timeout %s", p.Orderer.BatchSize, p.Orderer.BatchTimeout)
	}
	if got := p.Application.Policies["Endorsement"]; got != implicit("ANY Endorsement") {
		t.Errorf("Endorsement = %+v", got)
	}
	if got := p.Application.Policies["LifecycleEndorsement"]; got != implicit("MAJORITY Endorsement") {
		t.Errorf("LifecycleEndorsement = %+v", got)
	}
}

func TestChannelConfigBFT(t *testing.T) {
	l := layout(t, "orderers: {consensus: bft}\ncounties:\n  - {code: \"330782\", name: a}\n")
	o := l.channelConfig().Profiles[channelProfile].Orderer
	if o.OrdererType != "BFT" || o.EtcdRaft != nil || o.SmartBFT == nil || len(o.ConsenterMapping) != 4 {
		t.Fatalf("orderer = %+v", o)
	}
	for i, c := range o.ConsenterMapping {
		if c.ID != i+1 || c.MSPID != "OrdererMSP" || !strings.HasSuffix(c.Identity, "orderer"+string(rune('0'+i))+".orderer.credit.local-cert.pem") {
			t.Errorf("consenter %d = %+v", i, c)
		}
	}
}

func TestCryptoConfigSANs(t *testing.T) {
	l := layout(t, "counties:\n  - {code: \"330782\", name: a, host: 10.1.2.3}\n")
	cfg := l.cryptoConfig()
	if got := cfg.PeerOrgs[0].Specs[0].SANS; !slices.Equal(got, []string{"127.0.0.1", "localhost", "10.1.2.3"}) {
		t.Errorf("peer SANS = %v", got)
	}
	if got := cfg.OrdererOrgs[0].Specs[0].SANS; !slices.Equal(got, []string{"127.0.0.1", "localhost"}) {
		t.Errorf("orderer SANS = %v", got)
	}
	if !cfg.PeerOrgs[0].EnableNodeOUs || cfg.PeerOrgs[0].Domain != "c330782.credit.local" || cfg.PeerOrgs[0].Users.Count != 0 {
		t.Errorf("peer org = %+v", cfg.PeerOrgs[0])
	}
}

// TestChaincodePackageDeterministic: the same label always gives the same
// bytes, so every county computes the same package ID.
func TestChaincodePackageDeterministic(t *testing.T) {
	a, err := ChaincodePackage("credit_1.0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ChaincodePackage("credit_1.0")
	if !bytes.Equal(a, b) {
		t.Fatal("package bytes differ between two builds")
	}
	id := PackageID("credit_1.0", a)
	if !strings.HasPrefix(id, "credit_1.0:") || len(id) != len("credit_1.0:")+64 {
		t.Errorf("package ID = %s", id)
	}
	// Its content: metadata.json type ccaas, code.tar.gz with the placeholder.
	dir := t.TempDir()
	pkg := filepath.Join(dir, "p.tgz")
	os.WriteFile(pkg, a, 0o644)
	if out, err := exec.Command("tar", "-xzf", pkg, "-C", dir).CombinedOutput(); err != nil {
		t.Skipf("tar: %v %s", err, out)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if string(meta) != `{"type":"ccaas","label":"credit_1.0"}` {
		t.Errorf("metadata.json = %s", meta)
	}
	exec.Command("tar", "-xzf", filepath.Join(dir, "code.tar.gz"), "-C", dir).Run()
	conn, _ := os.ReadFile(filepath.Join(dir, "connection.json"))
	if string(conn) != `{"address":"{{address}}","dial_timeout":"10s","tls_required":false}` {
		t.Errorf("connection.json = %s", conn)
	}
}

// TestBuilderScripts runs our external builder as the peer does: detect
// accepts only ccaas, build fills this peer's chaincode address, release
// puts connection.json where the peer looks for a chaincode server.
func TestBuilderScripts(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	bin, _ := filepath.Abs("builder/bin")
	dir := t.TempDir()
	src, meta, build, rel := filepath.Join(dir, "src"), filepath.Join(dir, "meta"), filepath.Join(dir, "build"), filepath.Join(dir, "release")
	for _, d := range []string{src, meta, build, rel} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(src, "connection.json"), []byte(`{"address":"{{address}}","dial_timeout":"10s","tls_required":false}`), 0o644)
	run := func(env []string, name string, args ...string) error {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return errors.New(err.Error() + ": " + string(out))
		}
		return nil
	}
	os.WriteFile(filepath.Join(meta, "metadata.json"), []byte(`{"type":"golang","label":"x"}`), 0o644)
	if err := run(nil, "detect", src, meta); err == nil {
		t.Error("detect accepted a golang package")
	}
	os.WriteFile(filepath.Join(meta, "metadata.json"), []byte(`{"type":"ccaas","label":"credit_1.0"}`), 0o644)
	if err := run(nil, "detect", src, meta); err != nil {
		t.Fatalf("detect refused ccaas: %v", err)
	}
	if err := run(nil, "build", src, meta, build); err == nil {
		t.Error("build without CREDIT_CHAINCODE_ADDRESS succeeded")
	}
	if err := run([]string{"CREDIT_CHAINCODE_ADDRESS=127.0.0.1:7083/;rm"}, "build", src, meta, build); err == nil {
		t.Error("build accepted a malformed address")
	}
	if err := run([]string{"CREDIT_CHAINCODE_ADDRESS=127.0.0.1:7083"}, "build", src, meta, build); err != nil {
		t.Fatal(err)
	}
	if err := run(nil, "release", build, rel); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(rel, "chaincode", "server", "connection.json"))
	if string(got) != `{"address":"127.0.0.1:7083","dial_timeout":"10s","tls_required":false}` {
		t.Errorf("released connection.json = %s", got)
	}
}

func TestParsers(t *testing.T) {
	h, err := parseGetinfo([]byte(`Blockchain info: {"height":12,"currentBlockHash":"abc","previousBlockHash":"def"}` + "\n"))
	if err != nil || h != 12 {
		t.Errorf("getinfo = %d, %v", h, err)
	}
	if _, err := parseGetinfo([]byte("Error: nope")); err == nil {
		t.Error("getinfo accepted garbage")
	}
	if chs := parseChannelList([]byte("Channels peers has joined: \ncredit\nother\n")); !slices.Equal(chs, []string{"credit", "other"}) {
		t.Errorf("channel list = %v", chs)
	}
	if chs := parseChannelList([]byte("Channels peers has joined: \n")); len(chs) != 0 {
		t.Errorf("empty channel list = %v", chs)
	}
	code, body, err := parseOsnadmin([]byte("Status: 201\n{\n\t\"name\": \"credit\"\n}\n"))
	if err != nil || code != 201 || !bytes.HasPrefix(body, []byte("{")) {
		t.Errorf("osnadmin = %d %s %v", code, body, err)
	}
	codes, err := parseCountyCodes([]byte(`[{"kind":"county","code":"330182"},{"kind":"county","code":"330782"}]`))
	if err != nil || !slices.Equal(codes, []string{"330182", "330782"}) {
		t.Errorf("counties = %v, %v", codes, err)
	}
	if a, _ := ccArgs("GetCalendar", struct {
		Year int `json:"year"`
	}{2026}); a != `{"Args":["GetCalendar","{\"year\":2026}"]}` {
		t.Errorf("ccArgs = %s", a)
	}
}

// TestMissingMSPs reads `discover endorsers` answers: network up waits until
// every county's peer offers an endorser of every county.
func TestMissingMSPs(t *testing.T) {
	want := []string{"County330782MSP", "County330182MSP", "County371324MSP"}
	all := `[{"Chaincode":"credit","EndorsersByGroups":{"G0":[{"MSPID":"County371324MSP"}],"G1":[{"MSPID":"County330782MSP"}],"G2":[{"MSPID":"County330182MSP"}]},"Layouts":[]}]`
	two := `[{"Chaincode":"credit","EndorsersByGroups":{"G0":[{"MSPID":"County371324MSP"}],"G1":[{"MSPID":"County330782MSP"}]}}]`
	for _, tc := range []struct {
		name, out string
		missing   []string
	}{
		{"all counties", all, nil},
		{"one not yet seen", two, []string{"County330182MSP"}},
		{"not JSON", "error: no peer combination", want},
	} {
		got := missingMSPs([]byte(tc.out), want)
		if strings.Join(got, ",") != strings.Join(tc.missing, ",") {
			t.Errorf("%s: missing %v, want %v", tc.name, got, tc.missing)
		}
	}
}
