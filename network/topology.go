package network

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// ErrInvalid marks a topology, option or run folder that cannot be used as
// given. The message names the field and the rule.
var ErrInvalid = errors.New("invalid")

// FieldError is a bad value in a topology file or an option.
type FieldError struct {
	Field string // e.g. "counties[1].code"
	Rule  string // what the value must be
	Value string // the offending value, quoted in the message
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Rule)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, value, rule string, args ...any) error {
	return &FieldError{Field: field, Value: value, Rule: fmt.Sprintf(rule, args...)}
}

// Consensus types of the ordering service.
const (
	ConsensusRaft = "raft"
	ConsensusBFT  = "bft"
)

// Port offsets inside a node's block of PortsPerNode ports (see Topology).
const (
	PortsPerNode         = 10
	offListen            = 0 // orderer and peer gRPC listener
	offAdminOrChaincode  = 1 // orderer admin (channel participation) / peer chaincode listener
	offOperations        = 2 // /healthz and /metrics
	offChaincodeServer   = 3 // the county's chaincode server (peer0's block only)
	minBasePort          = 1024
	maxPeersPerCounty    = 4
	maxOrderers          = 7
	defaultBatchTimeout  = "100ms"
	defaultMaxMessages   = 100
	maxMaxMessages       = 10000
	maxPeerConcurrency   = 100000
	defaultTopologyName  = "credit-local"
	defaultChannel       = "credit"
	defaultChaincode     = "credit"
	defaultDomain        = "credit.local"
	defaultBasePort      = 7050
	defaultOrdererCount  = 3
	defaultBFTOrderers   = 4
	defaultHost          = "127.0.0.1"
	ordererOrgMSPID      = "OrdererMSP"
	ordererOrgDomainPart = "orderer"
)

// Channel endorsement policies (Topology.Endorsement): the default policy
// the credit chaincode uses, as it is committed without one of its own.
const (
	// EndorsementMajority is MAJORITY Endorsement: most counties' peers
	// endorse every transaction. The product's policy (DESIGN §7).
	EndorsementMajority = "majority"
	// EndorsementAny is ANY Endorsement: one county's peer suffices. For
	// benchmarks only (it shows what MAJORITY costs): with it a single
	// county could create records alone.
	EndorsementAny = "any"
)

// Topology is the network's shape, read from one small YAML file
// (network/topology.yaml): the counties, where each node runs, and the
// ordering service.
//
// Ports: every node owns a block of PortsPerNode consecutive ports. Blocks
// are handed out from BasePort in order: orderer0, orderer1, …, then each
// county's peers in file order. Inside a block: +0 listen, +1 orderer admin
// or peer chaincode listener, +2 operations (/healthz), +3 the county's
// chaincode server (in the block of the county's first peer). An orderer set
// or a county with its own basePort takes its blocks from there instead,
// which is how nodes on different hosts keep stable ports.
type Topology struct {
	Name      string   `yaml:"name"`
	Channel   string   `yaml:"channel"`
	Chaincode string   `yaml:"chaincode"`
	Domain    string   `yaml:"domain"`
	BasePort  int      `yaml:"basePort"`
	Orderers  Orderers `yaml:"orderers"`
	Counties  []County `yaml:"counties"`
	// Endorsement is the channel's Endorsement policy, which the chaincode
	// uses: EndorsementMajority (default; the product) or EndorsementAny
	// (benchmarks only).
	Endorsement string `yaml:"endorsement"`
	// PeerLimits tunes every peer's concurrency limits; zero fields keep
	// Fabric's defaults.
	PeerLimits PeerLimits `yaml:"peerLimits,omitempty"`
}

// PeerLimits are the peers' limits on concurrent requests per gRPC service
// (core.yaml peer.limits.concurrency). A request beyond the limit is
// refused at once ("too many requests … exceeding concurrency limit"), not
// queued, so a limit must stay above the concurrent calls a peer serves
// (docs/PERFORMANCE.md). Zero keeps Fabric's default.
type PeerLimits struct {
	// GatewayService bounds concurrent Gateway calls (Evaluate, Endorse,
	// Submit, CommitStatus); Fabric's default is 500.
	GatewayService int `yaml:"gatewayService,omitempty"`
	// EndorserService bounds concurrent proposals (from the Gateways of
	// every county); Fabric's default is 2500.
	EndorserService int `yaml:"endorserService,omitempty"`
	// DeliverService bounds concurrent block and commit-status streams;
	// Fabric's default is 2500.
	DeliverService int `yaml:"deliverService,omitempty"`
}

// env lists the CORE_PEER_LIMITS_CONCURRENCY_* settings of the non-zero
// limits.
func (l PeerLimits) env() []string {
	var out []string
	for _, v := range []struct {
		name string
		n    int
	}{{"GATEWAYSERVICE", l.GatewayService}, {"ENDORSERSERVICE", l.EndorserService}, {"DELIVERSERVICE", l.DeliverService}} {
		if v.n != 0 {
			out = append(out, fmt.Sprintf("CORE_PEER_LIMITS_CONCURRENCY_%s=%d", v.name, v.n))
		}
	}
	return out
}

// Orderers is the ordering service: one organisation (OrdererMSP) with
// Count nodes on Host.
type Orderers struct {
	Consensus    string `yaml:"consensus"` // raft or bft
	Count        int    `yaml:"count"`
	Host         string `yaml:"host"`
	BasePort     int    `yaml:"basePort,omitempty"`
	BatchTimeout string `yaml:"batchTimeout"`
	// MaxMessageCount is the most transactions in a block: a block is cut
	// when it holds this many or BatchTimeout after its first
	// transaction, whichever comes first.
	MaxMessageCount int `yaml:"maxMessageCount"`
}

// County is one county organisation: its administrative division code,
// its name, and its peers on Host.
type County struct {
	Code     string `yaml:"code"`
	Name     string `yaml:"name"`
	Host     string `yaml:"host"`
	Peers    int    `yaml:"peers"`
	BasePort int    `yaml:"basePort,omitempty"`
}

// MSPID is the county's Fabric MSP ID, County<code>MSP.
func (c County) MSPID() string { return "County" + c.Code + "MSP" }

// OrgDomain is the county organisation's domain in node names and TLS
// host names, c<code>.<domain>.
func (t *Topology) OrgDomain(c County) string { return "c" + c.Code + "." + t.Domain }

// OrdererDomain is the ordering organisation's domain.
func (t *Topology) OrdererDomain() string { return ordererOrgDomainPart + "." + t.Domain }

// OrdererMSPID is the ordering organisation's MSP ID.
func (t *Topology) OrdererMSPID() string { return ordererOrgMSPID }

// OrdererNode is one orderer with its resolved ports.
type OrdererNode struct {
	Name      string // orderer0 …
	Index     int
	Host      string
	Port      int // gRPC: broadcast, deliver, cluster
	AdminPort int // channel participation API (osnadmin)
	OpsPort   int // operations: /healthz
}

// Address is host:port of the orderer's gRPC listener.
func (o OrdererNode) Address() string { return hostPort(o.Host, o.Port) }

// AdminAddress is host:port of the channel participation API.
func (o OrdererNode) AdminAddress() string { return hostPort(o.Host, o.AdminPort) }

// OpsAddress is host:port of the operations endpoint.
func (o OrdererNode) OpsAddress() string { return hostPort(o.Host, o.OpsPort) }

// PeerNode is one county peer with its resolved ports.
type PeerNode struct {
	Name          string // peer0 …
	County        County
	Index         int
	Host          string
	Port          int
	ChaincodePort int // the peer's chaincode listener (unused by CCaaS but must be unique)
	OpsPort       int
}

// Address is host:port of the peer's gRPC listener.
func (p PeerNode) Address() string { return hostPort(p.Host, p.Port) }

// OpsAddress is host:port of the operations endpoint.
func (p PeerNode) OpsAddress() string { return hostPort(p.Host, p.OpsPort) }

// ProcName is the peer's process name in the run folder (pids/, logs/, data/).
func (p PeerNode) ProcName() string { return p.Name + ".c" + p.County.Code }

// ChaincodeServer is a county's chaincode-as-a-service process, next to
// the county's peers; every peer of the county dials it.
type ChaincodeServer struct {
	County County
	Host   string
	Port   int
}

// Address is host:port the server listens on and the peers dial.
func (c ChaincodeServer) Address() string { return hostPort(c.Host, c.Port) }

// ProcName is the server's process name in the run folder.
func (c ChaincodeServer) ProcName() string { return "cc.c" + c.County.Code }

func hostPort(h string, p int) string { return net.JoinHostPort(h, strconv.Itoa(p)) }

// DefaultTopology returns the built-in three-county Raft network, the same
// as network/topology.yaml.
func DefaultTopology() *Topology {
	t := &Topology{
		Counties: []County{
			{Code: "330782", Name: "义乌市"},
			{Code: "330182", Name: "建德市"},
			{Code: "371324", Name: "兰陵县"},
		},
	}
	t.applyDefaults()
	return t
}

// LoadTopology reads and validates a topology file. Unknown fields are
// refused, so a misspelt key is not silently ignored.
func LoadTopology(path string) (*Topology, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	t, err := ParseTopology(b)
	if err != nil {
		return nil, fmt.Errorf("topology %s: %w", path, err)
	}
	return t, nil
}

// ParseTopology decodes YAML, fills defaults and validates.
func ParseTopology(b []byte) (*Topology, error) {
	var t Topology
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse: %w: %w", ErrInvalid, err)
	}
	t.applyDefaults()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Marshal encodes the topology (with defaults filled) as YAML; the run
// folder keeps this copy to detect a changed topology.
func (t *Topology) Marshal() ([]byte, error) {
	return yaml.Marshal(t)
}

func (t *Topology) applyDefaults() {
	if t.Name == "" {
		t.Name = defaultTopologyName
	}
	if t.Channel == "" {
		t.Channel = defaultChannel
	}
	if t.Chaincode == "" {
		t.Chaincode = defaultChaincode
	}
	if t.Domain == "" {
		t.Domain = defaultDomain
	}
	if t.BasePort == 0 {
		t.BasePort = defaultBasePort
	}
	o := &t.Orderers
	if o.Consensus == "" {
		o.Consensus = ConsensusRaft
	}
	if o.Count == 0 {
		o.Count = defaultOrdererCount
		if o.Consensus == ConsensusBFT {
			o.Count = defaultBFTOrderers
		}
	}
	if o.Host == "" {
		o.Host = defaultHost
	}
	if o.BatchTimeout == "" {
		o.BatchTimeout = defaultBatchTimeout
	}
	if o.MaxMessageCount == 0 {
		o.MaxMessageCount = defaultMaxMessages
	}
	if t.Endorsement == "" {
		t.Endorsement = EndorsementMajority
	}
	for i := range t.Counties {
		c := &t.Counties[i]
		if c.Host == "" {
			c.Host = defaultHost
		}
		if c.Peers == 0 {
			c.Peers = 1
		}
	}
}

var (
	reName      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	reChannel   = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,48}$`)
	reChaincode = regexp.MustCompile(`^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$`)
	reDomain    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	reHostname  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	reCode      = regexp.MustCompile(`^[1-9][0-9]{5}$`)
)

// provinces are the first two digits of a valid division code (GB/T 2260).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	return len(h) <= 253 && reHostname.MatchString(h)
}

// Validate checks every field and that no two nodes on the same host share
// a port.
func (t *Topology) Validate() error {
	if !reName.MatchString(t.Name) {
		return fieldErr("name", t.Name, "must match %s", reName)
	}
	if !reChannel.MatchString(t.Channel) {
		return fieldErr("channel", t.Channel, "must match %s (a Fabric channel name)", reChannel)
	}
	if !reChaincode.MatchString(t.Chaincode) {
		return fieldErr("chaincode", t.Chaincode, "must match %s (a Fabric chaincode name)", reChaincode)
	}
	if !reDomain.MatchString(t.Domain) || len(t.Domain) > 200 {
		return fieldErr("domain", t.Domain, "must be a lower-case DNS domain with at least two labels")
	}
	if err := checkBase("basePort", t.BasePort); err != nil {
		return err
	}
	o := t.Orderers
	switch o.Consensus {
	case ConsensusRaft:
		if o.Count < 1 || o.Count > maxOrderers {
			return fieldErr("orderers.count", strconv.Itoa(o.Count), "a raft ordering service has 1 to %d orderers (3 tolerate one crash)", maxOrderers)
		}
	case ConsensusBFT:
		if o.Count < 4 || o.Count > maxOrderers {
			return fieldErr("orderers.count", strconv.Itoa(o.Count), "a bft ordering service has 4 to %d orderers (3f+1 with f >= 1)", maxOrderers)
		}
	default:
		return fieldErr("orderers.consensus", o.Consensus, "must be %q or %q", ConsensusRaft, ConsensusBFT)
	}
	if !validHost(o.Host) {
		return fieldErr("orderers.host", o.Host, "must be an IP address or a host name")
	}
	if o.BasePort != 0 {
		if err := checkBase("orderers.basePort", o.BasePort); err != nil {
			return err
		}
	}
	bt, err := time.ParseDuration(o.BatchTimeout)
	if err != nil || bt < 10*time.Millisecond || bt > 10*time.Second {
		return fieldErr("orderers.batchTimeout", o.BatchTimeout, "must be a duration from 10ms to 10s")
	}
	if o.MaxMessageCount < 1 || o.MaxMessageCount > maxMaxMessages {
		return fieldErr("orderers.maxMessageCount", strconv.Itoa(o.MaxMessageCount), "must be 1 to %d transactions per block", maxMaxMessages)
	}
	if t.Endorsement != EndorsementMajority && t.Endorsement != EndorsementAny {
		return fieldErr("endorsement", t.Endorsement, "must be %q (the product) or %q (benchmarks only)", EndorsementMajority, EndorsementAny)
	}
	for _, l := range []struct {
		field string
		n     int
	}{{"gatewayService", t.PeerLimits.GatewayService}, {"endorserService", t.PeerLimits.EndorserService}, {"deliverService", t.PeerLimits.DeliverService}} {
		if l.n < 0 || l.n > maxPeerConcurrency {
			return fieldErr("peerLimits."+l.field, strconv.Itoa(l.n), "must be 1 to %d concurrent requests, or 0 for Fabric's default", maxPeerConcurrency)
		}
	}
	if len(t.Counties) == 0 {
		return fieldErr("counties", "", "at least one county is required")
	}
	seen := map[string]int{}
	for i, c := range t.Counties {
		f := fmt.Sprintf("counties[%d]", i)
		if !reCode.MatchString(c.Code) || !provinces[c.Code[:2]] {
			return fieldErr(f+".code", c.Code, "must be a 6-digit administrative division code whose first two digits are a province code")
		}
		if j, dup := seen[c.Code]; dup {
			return fieldErr(f+".code", c.Code, "already used by counties[%d]", j)
		}
		seen[c.Code] = i
		if c.Name == "" || utf8.RuneCountInString(c.Name) > 32 || !utf8.ValidString(c.Name) || hasControl(c.Name) {
			return fieldErr(f+".name", c.Name, "must be 1 to 32 printable characters")
		}
		if !validHost(c.Host) {
			return fieldErr(f+".host", c.Host, "must be an IP address or a host name")
		}
		if c.Peers < 1 || c.Peers > maxPeersPerCounty {
			return fieldErr(f+".peers", strconv.Itoa(c.Peers), "must be 1 to %d", maxPeersPerCounty)
		}
		if c.BasePort != 0 {
			if err := checkBase(f+".basePort", c.BasePort); err != nil {
				return err
			}
		}
	}
	return t.checkPorts()
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

func checkBase(field string, p int) error {
	if p < minBasePort || p+PortsPerNode > 65535 {
		return fieldErr(field, strconv.Itoa(p), "must be from %d to %d", minBasePort, 65535-PortsPerNode)
	}
	return nil
}

// checkPorts refuses a layout in which two nodes on one host would share a
// port, or a port would exceed 65535.
func (t *Topology) checkPorts() error {
	type use struct{ what string }
	used := map[string]use{}
	claim := func(host string, port int, what string) error {
		if port > 65535 {
			return fieldErr("basePort", strconv.Itoa(port), "%s would get a port above 65535", what)
		}
		k := hostPort(host, port)
		if prev, ok := used[k]; ok {
			return fieldErr("basePort", k, "%s and %s would share this port", prev.what, what)
		}
		used[k] = use{what}
		return nil
	}
	for _, o := range t.OrdererNodes() {
		for _, p := range []int{o.Port, o.AdminPort, o.OpsPort} {
			if err := claim(o.Host, p, o.Name); err != nil {
				return err
			}
		}
	}
	for _, p := range t.PeerNodes() {
		for _, port := range []int{p.Port, p.ChaincodePort, p.OpsPort} {
			if err := claim(p.Host, port, p.ProcName()); err != nil {
				return err
			}
		}
	}
	for _, s := range t.ChaincodeServers() {
		if err := claim(s.Host, s.Port, s.ProcName()); err != nil {
			return err
		}
	}
	return nil
}

// OrdererNodes lists the orderers with their ports.
func (t *Topology) OrdererNodes() []OrdererNode {
	base := t.BasePort
	if t.Orderers.BasePort != 0 {
		base = t.Orderers.BasePort
	}
	out := make([]OrdererNode, t.Orderers.Count)
	for i := range out {
		b := base + i*PortsPerNode
		out[i] = OrdererNode{
			Name: fmt.Sprintf("orderer%d", i), Index: i, Host: t.Orderers.Host,
			Port: b + offListen, AdminPort: b + offAdminOrChaincode, OpsPort: b + offOperations,
		}
	}
	return out
}

// countyBase is the first port of county i's first peer block.
func (t *Topology) countyBase(i int) int {
	if c := t.Counties[i]; c.BasePort != 0 {
		return c.BasePort
	}
	slot := 0
	if t.Orderers.BasePort == 0 {
		slot = t.Orderers.Count
	}
	for j := 0; j < i; j++ {
		if t.Counties[j].BasePort == 0 {
			slot += t.Counties[j].Peers
		}
	}
	return t.BasePort + slot*PortsPerNode
}

// PeerNodes lists every county's peers, county by county.
func (t *Topology) PeerNodes() []PeerNode {
	var out []PeerNode
	for i := range t.Counties {
		out = append(out, t.CountyPeers(i)...)
	}
	return out
}

// CountyPeers lists county i's peers.
func (t *Topology) CountyPeers(i int) []PeerNode {
	c := t.Counties[i]
	base := t.countyBase(i)
	out := make([]PeerNode, c.Peers)
	for j := range out {
		b := base + j*PortsPerNode
		out[j] = PeerNode{
			Name: fmt.Sprintf("peer%d", j), County: c, Index: j, Host: c.Host,
			Port: b + offListen, ChaincodePort: b + offAdminOrChaincode, OpsPort: b + offOperations,
		}
	}
	return out
}

// ChaincodeServers lists one chaincode server per county.
func (t *Topology) ChaincodeServers() []ChaincodeServer {
	out := make([]ChaincodeServer, len(t.Counties))
	for i, c := range t.Counties {
		out[i] = ChaincodeServer{County: c, Host: c.Host, Port: t.countyBase(i) + offChaincodeServer}
	}
	return out
}

// County returns the county with the given code.
func (t *Topology) County(code string) (County, int, bool) {
	for i, c := range t.Counties {
		if c.Code == code {
			return c, i, true
		}
	}
	return County{}, -1, false
}

// Hosts lists the distinct hosts named in the topology, in first-use order.
func (t *Topology) Hosts() []string {
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	add(t.Orderers.Host)
	for _, c := range t.Counties {
		add(c.Host)
	}
	return out
}

// allAddrs lists every host:port the topology listens on.
func (t *Topology) allAddrs() []string {
	var out []string
	for _, o := range t.OrdererNodes() {
		out = append(out, o.Address(), o.AdminAddress(), o.OpsAddress())
	}
	for _, p := range t.PeerNodes() {
		out = append(out, p.Address(), hostPort(p.Host, p.ChaincodePort), p.OpsAddress())
	}
	for _, s := range t.ChaincodeServers() {
		out = append(out, s.Address())
	}
	return out
}

// ShiftToFreePorts moves BasePort up by step until every port of the
// network can be bound on this machine, trying at most tries bases. It is
// for throw-away networks (tests) that must not collide with a network
// already running; it refuses topologies with their own per-organisation
// base ports.
func (t *Topology) ShiftToFreePorts(step, tries int) error {
	if t.Orderers.BasePort != 0 {
		return fieldErr("orderers.basePort", strconv.Itoa(t.Orderers.BasePort), "cannot be shifted to free ports; remove it")
	}
	for i, c := range t.Counties {
		if c.BasePort != 0 {
			return fieldErr(fmt.Sprintf("counties[%d].basePort", i), strconv.Itoa(c.BasePort), "cannot be shifted to free ports; remove it")
		}
	}
	base := t.BasePort
	for i := 0; i < tries; i++ {
		t.BasePort = base + i*step
		if t.Validate() != nil {
			break
		}
		if checkPortsFree(t.allAddrs()) == nil {
			return nil
		}
	}
	t.BasePort = base
	return fmt.Errorf("no free port range from %d in %d steps of %d", base, tries, step)
}
