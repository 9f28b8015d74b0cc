package network

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestShippedTopologyIsTheDefault: network/topology.yaml and
// DefaultTopology describe the same network (three counties from the source
// documents, three Raft orderers).
func TestShippedTopologyIsTheDefault(t *testing.T) {
	got, err := LoadTopology("topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := got.Marshal()
	b, _ := DefaultTopology().Marshal()
	if string(a) != string(b) {
		t.Fatalf("topology.yaml differs from DefaultTopology:\n%s\n---\n%s", a, b)
	}
	var codes []string
	for _, c := range got.Counties {
		codes = append(codes, c.Code+" "+c.Name+" "+c.MSPID())
	}
	want := "330782 义乌市 County330782MSP,330182 建德市 County330182MSP,371324 兰陵县 County371324MSP"
	if strings.Join(codes, ",") != want {
		t.Errorf("counties = %v", codes)
	}
	if got.Orderers.Consensus != ConsensusRaft || got.Orderers.Count != 3 {
		t.Errorf("orderers = %+v", got.Orderers)
	}
}

func TestParseTopologyDefaults(t *testing.T) {
	top, err := ParseTopology([]byte("counties:\n  - {code: \"330782\", name: 义乌市}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if top.Name != "credit-local" || top.Channel != "credit" || top.Chaincode != "credit" || top.BasePort != 7050 ||
		top.Orderers.Count != 3 || top.Orderers.Host != "127.0.0.1" || top.Counties[0].Peers != 1 || top.Counties[0].Host != "127.0.0.1" {
		t.Errorf("defaults not applied: %+v", top)
	}
	if top.Orderers.MaxMessageCount != 100 || top.Endorsement != EndorsementMajority || top.PeerLimits != (PeerLimits{}) {
		t.Errorf("block size, endorsement or peer limits not defaulted: %+v", top)
	}
	bft, err := ParseTopology([]byte("orderers: {consensus: bft}\ncounties:\n  - {code: \"330782\", name: x}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if bft.Orderers.Count != 4 {
		t.Errorf("bft default count = %d, want 4", bft.Orderers.Count)
	}
}

// TestParseTopologyRefuses: every bad field is named.
func TestParseTopologyRefuses(t *testing.T) {
	county := "counties:\n  - {code: \"330782\", name: 义乌市}\n"
	tests := []struct {
		name, yaml, field string
	}{
		{"unknown key", "colour: red\n" + county, ""},
		{"no counties", "name: x\n", "counties"},
		{"bad code", "counties:\n  - {code: \"33078\", name: x}\n", "counties[0].code"},
		{"province 99", "counties:\n  - {code: \"990782\", name: x}\n", "counties[0].code"},
		{"duplicate code", "counties:\n  - {code: \"330782\", name: a}\n  - {code: \"330782\", name: b}\n", "counties[1].code"},
		{"empty name", "counties:\n  - {code: \"330782\", name: \"\"}\n", "counties[0].name"},
		{"name too long", "counties:\n  - {code: \"330782\", name: " + strings.Repeat("县", 33) + "}\n", "counties[0].name"},
		{"peers 0 is default, 9 too many", "counties:\n  - {code: \"330782\", name: x, peers: 9}\n", "counties[0].peers"},
		{"bad host", "counties:\n  - {code: \"330782\", name: x, host: \"a b\"}\n", "counties[0].host"},
		{"consensus solo", "orderers: {consensus: solo}\n" + county, "orderers.consensus"},
		{"bft with 3", "orderers: {consensus: bft, count: 3}\n" + county, "orderers.count"},
		{"raft with 8", "orderers: {count: 8}\n" + county, "orderers.count"},
		{"batch timeout", "orderers: {batchTimeout: 1h}\n" + county, "orderers.batchTimeout"},
		{"negative block size", "orderers: {maxMessageCount: -1}\n" + county, "orderers.maxMessageCount"},
		{"block size too large", "orderers: {maxMessageCount: 10001}\n" + county, "orderers.maxMessageCount"},
		{"endorsement all", "endorsement: all\n" + county, "endorsement"},
		{"endorsement upper case", "endorsement: MAJORITY\n" + county, "endorsement"},
		{"negative gateway limit", "peerLimits: {gatewayService: -1}\n" + county, "peerLimits.gatewayService"},
		{"endorser limit too large", "peerLimits: {endorserService: 100001}\n" + county, "peerLimits.endorserService"},
		{"unknown peer limit", "peerLimits: {chaincodeService: 5}\n" + county, ""},
		{"base port low", "basePort: 80\n" + county, "basePort"},
		{"base port high", "basePort: 65530\n" + county, "basePort"},
		{"channel upper case", "channel: Credit\n" + county, "channel"},
		{"chaincode name", "chaincode: \"cc name\"\n" + county, "chaincode"},
		{"domain one label", "domain: local\n" + county, "domain"},
		{"ports collide", "counties:\n  - {code: \"330782\", name: a}\n  - {code: \"330182\", name: b, basePort: 7080}\n", "basePort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTopology([]byte(tt.yaml))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			var fe *FieldError
			if tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Fatalf("err = %v, want a FieldError on %q", err, tt.field)
			}
		})
	}
}

// TestPortPlan: blocks of ten from basePort, orderers first, then the
// counties' peers in order; +0 listen, +1 admin/chaincode, +2 operations,
// +3 the county's chaincode server.
func TestPortPlan(t *testing.T) {
	top := DefaultTopology()
	o := top.OrdererNodes()
	if len(o) != 3 || o[0].Port != 7050 || o[0].AdminPort != 7051 || o[0].OpsPort != 7052 || o[2].Port != 7070 {
		t.Errorf("orderers = %+v", o)
	}
	p := top.PeerNodes()
	if len(p) != 3 || p[0].Port != 7080 || p[0].ChaincodePort != 7081 || p[0].OpsPort != 7082 || p[2].Port != 7100 {
		t.Errorf("peers = %+v", p)
	}
	if p[1].ProcName() != "peer0.c330182" || p[1].Address() != "127.0.0.1:7090" {
		t.Errorf("peer 1 = %s %s", p[1].ProcName(), p[1].Address())
	}
	s := top.ChaincodeServers()
	if s[0].Port != 7083 || s[2].Port != 7103 || s[0].ProcName() != "cc.c330782" {
		t.Errorf("chaincode servers = %+v", s)
	}
	top.BasePort = 27050
	if got := top.PeerNodes()[0].Port; got != 27080 {
		t.Errorf("peer port with base 27050 = %d", got)
	}
}

func TestPortPlanOverridesAndHosts(t *testing.T) {
	top, err := ParseTopology([]byte(`
basePort: 20000
orderers: {count: 1, basePort: 30000}
counties:
  - {code: "330782", name: a, peers: 2}
  - {code: "330182", name: b, host: 10.0.0.2, basePort: 20000}
  - {code: "371324", name: c}
`))
	if err != nil {
		t.Fatal(err)
	}
	if o := top.OrdererNodes(); o[0].Port != 30000 {
		t.Errorf("orderer port = %d", o[0].Port)
	}
	peers := top.PeerNodes()
	got := []int{}
	for _, p := range peers {
		got = append(got, p.Port)
	}
	// County a takes slots 0 and 1 from 20000 (orderers have their own base);
	// b has its own base on another host; c follows a.
	want := []int{20000, 20010, 20000, 20020}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("peer ports = %v, want %v", got, want)
		}
	}
	if h := top.Hosts(); strings.Join(h, ",") != "127.0.0.1,10.0.0.2" {
		t.Errorf("hosts = %v", h)
	}
	// The same ports on one host collide.
	if _, err := ParseTopology([]byte("counties:\n  - {code: \"330782\", name: a, basePort: 9000}\n  - {code: \"330182\", name: b, basePort: 9000}\n")); !errors.Is(err, ErrInvalid) {
		t.Errorf("same host, same ports: err = %v", err)
	}
}

func TestLoadTopologyMissingFile(t *testing.T) {
	if _, err := LoadTopology(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// TestShiftToFreePorts: a busy port in the range moves the whole network up
// by one step; per-organisation base ports are refused.
func TestShiftToFreePorts(t *testing.T) {
	top := DefaultTopology()
	top.BasePort = 41050
	if err := top.ShiftToFreePorts(1000, 5); err != nil {
		t.Skipf("ports from 41050 not free here: %v", err)
	}
	base := top.BasePort
	ln, err := net.Listen("tcp", hostPort("127.0.0.1", top.PeerNodes()[2].OpsPort))
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	if err := top.ShiftToFreePorts(1000, 5); err != nil {
		t.Fatal(err)
	}
	// One step up, or more where another network holds that range too
	// (other engineers' and tests' networks run on this machine).
	if top.BasePort <= base || (top.BasePort-base)%1000 != 0 {
		t.Errorf("base = %d, want %d or a further step of 1000", top.BasePort, base+1000)
	}
	if err := top.ShiftToFreePorts(1000, 1); err != nil {
		t.Errorf("already free: %v", err)
	}
	top.Counties[0].BasePort = 50000
	if err := top.ShiftToFreePorts(1000, 5); !errors.Is(err, ErrInvalid) {
		t.Errorf("per-county base: err = %v", err)
	}
}

// TestTuningOptions: block size, endorsement policy and peer limits are read
// from the file, kept in the stored copy, and only non-zero limits reach
// the peers' environment.
func TestTuningOptions(t *testing.T) {
	top, err := ParseTopology([]byte(`
endorsement: any
peerLimits: {gatewayService: 64, deliverService: 1000}
orderers: {batchTimeout: 250ms, maxMessageCount: 20}
counties:
  - {code: "330782", name: a}
`))
	if err != nil {
		t.Fatal(err)
	}
	if top.Endorsement != EndorsementAny || top.Orderers.MaxMessageCount != 20 || top.Orderers.BatchTimeout != "250ms" {
		t.Errorf("topology = %+v", top)
	}
	got := top.PeerLimits.env()
	want := []string{"CORE_PEER_LIMITS_CONCURRENCY_GATEWAYSERVICE=64", "CORE_PEER_LIMITS_CONCURRENCY_DELIVERSERVICE=1000"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("peer limits env = %v, want %v", got, want)
	}
	b, err := top.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseTopology(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Endorsement != top.Endorsement || back.PeerLimits != top.PeerLimits || back.Orderers != top.Orderers {
		t.Errorf("round trip: %+v, want %+v", back, top)
	}
	n := &Network{Layout: Layout{Dir: "/run/net", T: top}, fab: &fabric{binDir: "/fabric/bin"}}
	if env := n.peerSpec(top.PeerNodes()[0]).Env; !slices.Contains(env, want[0]) || !slices.Contains(env, want[1]) {
		t.Errorf("peer environment lacks the limits: %v", env)
	}
	if env := DefaultTopology().PeerLimits.env(); len(env) != 0 {
		t.Errorf("default peer limits set %v", env)
	}
}
