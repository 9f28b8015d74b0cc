package network

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/countycredit/creditledger/network/identity"
)

//go:embed builder/bin
var builderFS embed.FS

// Capabilities of the channel. Channel V3_0 is required for BFT and forbids
// the global orderer addresses (every org lists its OrdererEndpoints
// instead); it is used for Raft too, so both run the same channel config.
const (
	channelCapability     = "V3_0"
	ordererCapability     = "V2_0"
	applicationCapability = "V2_5"
	channelProfile        = "CreditChannel"
)

// --- cryptogen ---

type cgConfig struct {
	OrdererOrgs []cgOrg `yaml:"OrdererOrgs"`
	PeerOrgs    []cgOrg `yaml:"PeerOrgs"`
}

type cgOrg struct {
	Name          string   `yaml:"Name"`
	Domain        string   `yaml:"Domain"`
	EnableNodeOUs bool     `yaml:"EnableNodeOUs"`
	CA            cgCA     `yaml:"CA"`
	Specs         []cgSpec `yaml:"Specs"`
	Users         cgUsers  `yaml:"Users"`
}

type cgCA struct {
	Country  string `yaml:"Country"`
	Locality string `yaml:"Locality,omitempty"`
}

type cgSpec struct {
	Hostname string   `yaml:"Hostname"`
	SANS     []string `yaml:"SANS"`
}

type cgUsers struct {
	Count int `yaml:"Count"`
}

func sans(host string) []string {
	out := []string{"127.0.0.1", "localhost"}
	if host != "127.0.0.1" && host != "localhost" {
		out = append(out, host)
	}
	return out
}

// cryptoConfig is cryptogen's input: the ordering org and one org per
// county, NodeOUs on, SANs covering 127.0.0.1, localhost and the node's
// configured host; no extra users (staff identities come from the issuer).
func (l Layout) cryptoConfig() cgConfig {
	oo := cgOrg{Name: "Orderer", Domain: l.T.OrdererDomain(), EnableNodeOUs: true, CA: cgCA{Country: "CN"}}
	for _, o := range l.T.OrdererNodes() {
		oo.Specs = append(oo.Specs, cgSpec{Hostname: o.Name, SANS: sans(o.Host)})
	}
	cfg := cgConfig{OrdererOrgs: []cgOrg{oo}}
	for i, c := range l.T.Counties {
		org := cgOrg{Name: "County" + c.Code, Domain: l.T.OrgDomain(c), EnableNodeOUs: true, CA: cgCA{Country: "CN"}}
		for _, p := range l.T.CountyPeers(i) {
			org.Specs = append(org.Specs, cgSpec{Hostname: p.Name, SANS: sans(p.Host)})
		}
		cfg.PeerOrgs = append(cfg.PeerOrgs, org)
	}
	return cfg
}

// generateCrypto runs cryptogen into a temporary folder and renames it into
// place, so crypto/ is either complete or absent.
func (n *Network) generateCrypto(ctx context.Context) error {
	l := n.Layout
	if _, err := os.Stat(l.cryptoDone()); err == nil {
		return nil
	}
	b, err := yaml.Marshal(l.cryptoConfig())
	if err != nil {
		return fmt.Errorf("generate crypto: %w", err)
	}
	cfgPath := filepath.Join(l.ConfigDir(), "crypto-config.yaml")
	if err := writeFileAtomic(cfgPath, b, 0o644); err != nil {
		return fmt.Errorf("generate crypto: %w", err)
	}
	tmp := l.CryptoDir() + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("generate crypto: %w", err)
	}
	if _, err := n.fab.run(ctx, nil, l.Dir, "cryptogen", "generate", "--config="+cfgPath, "--output="+tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("generate crypto: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return fmt.Errorf("generate crypto: %w", err)
	}
	if err := os.RemoveAll(l.CryptoDir()); err != nil {
		return fmt.Errorf("generate crypto: %w", err)
	}
	if err := os.Rename(tmp, l.CryptoDir()); err != nil {
		return fmt.Errorf("generate crypto: %w", err)
	}
	return nil
}

// --- configtxgen ---

type ctxPolicy struct {
	Type string `yaml:"Type"`
	Rule string `yaml:"Rule"`
}

type ctxAnchor struct {
	Host string `yaml:"Host"`
	Port int    `yaml:"Port"`
}

type ctxOrg struct {
	Name             string               `yaml:"Name"`
	ID               string               `yaml:"ID"`
	MSPDir           string               `yaml:"MSPDir"`
	Policies         map[string]ctxPolicy `yaml:"Policies"`
	OrdererEndpoints []string             `yaml:"OrdererEndpoints,omitempty"`
	AnchorPeers      []ctxAnchor          `yaml:"AnchorPeers,omitempty"`
}

type ctxBatchSize struct {
	MaxMessageCount   int `yaml:"MaxMessageCount"`
	AbsoluteMaxBytes  int `yaml:"AbsoluteMaxBytes"`
	PreferredMaxBytes int `yaml:"PreferredMaxBytes"`
}

type ctxRaftConsenter struct {
	Host          string `yaml:"Host"`
	Port          int    `yaml:"Port"`
	ClientTLSCert string `yaml:"ClientTLSCert"`
	ServerTLSCert string `yaml:"ServerTLSCert"`
}

type ctxRaftOptions struct {
	TickInterval         string `yaml:"TickInterval"`
	ElectionTick         int    `yaml:"ElectionTick"`
	HeartbeatTick        int    `yaml:"HeartbeatTick"`
	MaxInflightBlocks    int    `yaml:"MaxInflightBlocks"`
	SnapshotIntervalSize int    `yaml:"SnapshotIntervalSize"`
}

type ctxRaft struct {
	Consenters []ctxRaftConsenter `yaml:"Consenters"`
	Options    ctxRaftOptions     `yaml:"Options"`
}

type ctxBFTConsenter struct {
	ID            int    `yaml:"ID"`
	Host          string `yaml:"Host"`
	Port          int    `yaml:"Port"`
	MSPID         string `yaml:"MSPID"`
	Identity      string `yaml:"Identity"`
	ClientTLSCert string `yaml:"ClientTLSCert"`
	ServerTLSCert string `yaml:"ServerTLSCert"`
}

type ctxSmartBFT struct {
	RequestBatchMaxCount      int    `yaml:"RequestBatchMaxCount"`
	RequestBatchMaxBytes      int    `yaml:"RequestBatchMaxBytes"`
	RequestBatchMaxInterval   string `yaml:"RequestBatchMaxInterval"`
	IncomingMessageBufferSize int    `yaml:"IncomingMessageBufferSize"`
	RequestPoolSize           int    `yaml:"RequestPoolSize"`
	RequestForwardTimeout     string `yaml:"RequestForwardTimeout"`
	RequestComplainTimeout    string `yaml:"RequestComplainTimeout"`
	RequestAutoRemoveTimeout  string `yaml:"RequestAutoRemoveTimeout"`
	ViewChangeResendInterval  string `yaml:"ViewChangeResendInterval"`
	ViewChangeTimeout         string `yaml:"ViewChangeTimeout"`
	LeaderHeartbeatTimeout    string `yaml:"LeaderHeartbeatTimeout"`
	LeaderHeartbeatCount      int    `yaml:"LeaderHeartbeatCount"`
	CollectTimeout            string `yaml:"CollectTimeout"`
}

type ctxOrderer struct {
	OrdererType      string               `yaml:"OrdererType"`
	BatchTimeout     string               `yaml:"BatchTimeout"`
	BatchSize        ctxBatchSize         `yaml:"BatchSize"`
	EtcdRaft         *ctxRaft             `yaml:"EtcdRaft,omitempty"`
	SmartBFT         *ctxSmartBFT         `yaml:"SmartBFT,omitempty"`
	ConsenterMapping []ctxBFTConsenter    `yaml:"ConsenterMapping,omitempty"`
	Organizations    []ctxOrg             `yaml:"Organizations"`
	Policies         map[string]ctxPolicy `yaml:"Policies"`
	Capabilities     map[string]bool      `yaml:"Capabilities"`
}

type ctxApplication struct {
	Organizations []ctxOrg             `yaml:"Organizations"`
	Policies      map[string]ctxPolicy `yaml:"Policies"`
	Capabilities  map[string]bool      `yaml:"Capabilities"`
}

type ctxProfile struct {
	Policies     map[string]ctxPolicy `yaml:"Policies"`
	Capabilities map[string]bool      `yaml:"Capabilities"`
	Orderer      ctxOrderer           `yaml:"Orderer"`
	Application  ctxApplication       `yaml:"Application"`
}

type ctxFile struct {
	Profiles map[string]ctxProfile `yaml:"Profiles"`
}

func sig(rule string) ctxPolicy      { return ctxPolicy{Type: "Signature", Rule: rule} }
func implicit(rule string) ctxPolicy { return ctxPolicy{Type: "ImplicitMeta", Rule: rule} }

// endorsementRule is the channel Endorsement policy's ImplicitMeta rule.
func endorsementRule(e string) string {
	if e == EndorsementAny {
		return "ANY Endorsement"
	}
	return "MAJORITY Endorsement"
}

// channelConfig is configtxgen's input for the credit channel. Each county
// lists its peers as anchor peers; the ordering org lists every orderer as
// an endpoint. LifecycleEndorsement is MAJORITY, so a chaincode definition
// needs most counties and no county decides alone; Endorsement, the
// chaincode's policy, is MAJORITY too unless the topology asks for ANY (a
// benchmark variant). Blocks are cut at the topology's batch timeout or
// maxMessageCount transactions.
func (l Layout) channelConfig() ctxFile {
	t := l.T
	om := t.OrdererMSPID()
	ordererOrg := ctxOrg{
		Name: om, ID: om, MSPDir: filepath.Join(l.ordererOrgDir(), "msp"),
		Policies: map[string]ctxPolicy{
			"Readers": sig(fmt.Sprintf("OR('%[1]s.admin', '%[1]s.orderer', '%[1]s.client')", om)),
			"Writers": sig(fmt.Sprintf("OR('%[1]s.admin', '%[1]s.orderer', '%[1]s.client')", om)),
			"Admins":  sig(fmt.Sprintf("OR('%s.admin')", om)),
		},
	}
	ords := t.OrdererNodes()
	for _, o := range ords {
		ordererOrg.OrdererEndpoints = append(ordererOrg.OrdererEndpoints, o.Address())
	}
	var counties []ctxOrg
	for i, c := range t.Counties {
		m := c.MSPID()
		org := ctxOrg{
			Name: m, ID: m, MSPDir: l.CountyMSPDir(c),
			Policies: map[string]ctxPolicy{
				"Readers":     sig(fmt.Sprintf("OR('%[1]s.admin', '%[1]s.peer', '%[1]s.client')", m)),
				"Writers":     sig(fmt.Sprintf("OR('%[1]s.admin', '%[1]s.client')", m)),
				"Admins":      sig(fmt.Sprintf("OR('%s.admin')", m)),
				"Endorsement": sig(fmt.Sprintf("OR('%s.peer')", m)),
			},
		}
		for _, p := range t.CountyPeers(i) {
			org.AnchorPeers = append(org.AnchorPeers, ctxAnchor{Host: p.Host, Port: p.Port})
		}
		counties = append(counties, org)
	}
	std := map[string]ctxPolicy{
		"Readers": implicit("ANY Readers"),
		"Writers": implicit("ANY Writers"),
		"Admins":  implicit("MAJORITY Admins"),
	}
	ordererPolicies := map[string]ctxPolicy{
		"Readers":         implicit("ANY Readers"),
		"Writers":         implicit("ANY Writers"),
		"Admins":          implicit("MAJORITY Admins"),
		"BlockValidation": implicit("ANY Writers"),
	}
	bt := t.Orderers.BatchTimeout
	orderer := ctxOrderer{
		BatchTimeout:  bt,
		BatchSize:     ctxBatchSize{MaxMessageCount: t.Orderers.MaxMessageCount, AbsoluteMaxBytes: 10 << 20, PreferredMaxBytes: 2 << 20},
		Organizations: []ctxOrg{ordererOrg},
		Policies:      ordererPolicies,
		Capabilities:  map[string]bool{ordererCapability: true},
	}
	switch t.Orderers.Consensus {
	case ConsensusRaft:
		orderer.OrdererType = "etcdraft"
		raft := &ctxRaft{Options: ctxRaftOptions{
			TickInterval: "500ms", ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5, SnapshotIntervalSize: 16 << 20,
		}}
		for _, o := range ords {
			tls := filepath.Join(l.OrdererNodeDir(o), "tls", "server.crt")
			raft.Consenters = append(raft.Consenters, ctxRaftConsenter{Host: o.Host, Port: o.Port, ClientTLSCert: tls, ServerTLSCert: tls})
		}
		orderer.EtcdRaft = raft
	case ConsensusBFT:
		orderer.OrdererType = "BFT"
		orderer.SmartBFT = &ctxSmartBFT{
			RequestBatchMaxCount: 100, RequestBatchMaxBytes: 10 << 20, RequestBatchMaxInterval: "50ms",
			IncomingMessageBufferSize: 200, RequestPoolSize: 100000,
			RequestForwardTimeout: "2s", RequestComplainTimeout: "20s", RequestAutoRemoveTimeout: "3m",
			ViewChangeResendInterval: "5s", ViewChangeTimeout: "20s",
			LeaderHeartbeatTimeout: "1m", LeaderHeartbeatCount: 10, CollectTimeout: "1s",
		}
		for _, o := range ords {
			d := l.OrdererNodeDir(o)
			tls := filepath.Join(d, "tls", "server.crt")
			orderer.ConsenterMapping = append(orderer.ConsenterMapping, ctxBFTConsenter{
				ID: o.Index + 1, Host: o.Host, Port: o.Port, MSPID: om,
				Identity:      filepath.Join(d, "msp", "signcerts", o.Name+"."+t.OrdererDomain()+"-cert.pem"),
				ClientTLSCert: tls, ServerTLSCert: tls,
			})
		}
	}
	app := ctxApplication{
		Organizations: counties,
		Policies: map[string]ctxPolicy{
			"Readers":              implicit("ANY Readers"),
			"Writers":              implicit("ANY Writers"),
			"Admins":               implicit("MAJORITY Admins"),
			"LifecycleEndorsement": implicit("MAJORITY Endorsement"),
			"Endorsement":          implicit(endorsementRule(t.Endorsement)),
		},
		Capabilities: map[string]bool{applicationCapability: true},
	}
	return ctxFile{Profiles: map[string]ctxProfile{channelProfile: {
		Policies: std, Capabilities: map[string]bool{channelCapability: true},
		Orderer: orderer, Application: app,
	}}}
}

// generateGenesis writes configtx.yaml and runs configtxgen to make the
// channel's genesis block, once.
func (n *Network) generateGenesis(ctx context.Context) error {
	l := n.Layout
	if _, err := os.Stat(l.GenesisBlock()); err == nil {
		return nil
	}
	b, err := yaml.Marshal(l.channelConfig())
	if err != nil {
		return fmt.Errorf("generate genesis block: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(l.ConfigDir(), "configtx.yaml"), b, 0o644); err != nil {
		return fmt.Errorf("generate genesis block: %w", err)
	}
	if err := os.MkdirAll(l.ChannelDir(), 0o755); err != nil {
		return fmt.Errorf("generate genesis block: %w", err)
	}
	tmp := l.GenesisBlock() + ".tmp"
	_, err = n.fab.run(ctx, []string{"FABRIC_CFG_PATH=" + l.ConfigDir()}, l.Dir, "configtxgen",
		"-configPath", l.ConfigDir(), "-profile", channelProfile, "-channelID", l.T.Channel, "-outputBlock", tmp)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("generate genesis block: %w", err)
	}
	if err := os.Rename(tmp, l.GenesisBlock()); err != nil {
		return fmt.Errorf("generate genesis block: %w", err)
	}
	return nil
}

// --- configuration files, builder, identities ---

// writeConfig copies Fabric's default core.yaml and orderer.yaml (every
// node-specific value is overridden by environment variables, as
// fabric-samples' test-network-nano-bash does) and installs our external
// builder.
func (n *Network) writeConfig() error {
	l := n.Layout
	for _, f := range []string{"core.yaml", "orderer.yaml"} {
		dst := filepath.Join(l.ConfigDir(), f)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(n.fab.sampleCfg, f))
		if err != nil {
			return fmt.Errorf("copy Fabric default config: %w", err)
		}
		if err := writeFileAtomic(dst, b, 0o644); err != nil {
			return fmt.Errorf("copy Fabric default config: %w", err)
		}
	}
	return fs.WalkDir(builderFS, "builder/bin", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := builderFS.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(l.BuilderDir(), "bin", filepath.Base(p))
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
			return nil
		}
		if err := writeFileAtomic(dst, b, 0o755); err != nil {
			return fmt.Errorf("install external builder: %w", err)
		}
		return nil
	})
}

// DefaultUsers are the staff identities `up` issues in every county.
var DefaultUsers = []identity.Request{
	{Name: "officer1", Role: identity.RoleOfficer, Dept: "credit-office"},
	{Name: "auditor1", Role: identity.RoleAuditor},
}

// issueDefaultUsers mints DefaultUsers in every county that lacks them.
func (n *Network) issueDefaultUsers() error {
	l := n.Layout
	for _, c := range l.T.Counties {
		var ca *identity.CA
		for _, u := range DefaultUsers {
			dir := l.UserMSP(c, u.Name)
			if _, err := os.Stat(dir); err == nil {
				continue
			}
			if ca == nil {
				var err error
				if ca, err = identity.LoadCA(l.CountyCACert(c), l.CountyCAKey(c)); err != nil {
					return fmt.Errorf("issue default identities for %s: %w", c.Code, err)
				}
			}
			req := u
			req.MSPID = c.MSPID()
			iss, err := ca.Issue(req, time.Now())
			if err != nil {
				return fmt.Errorf("issue %s for %s: %w", u.Name, c.Code, err)
			}
			tlsCA, err := os.ReadFile(l.CountyTLSCA(c))
			if err != nil {
				return fmt.Errorf("issue %s for %s: %w", u.Name, c.Code, err)
			}
			if err := identity.WriteMSP(dir, ca, tlsCA, iss); err != nil && !errors.Is(err, identity.ErrExists) {
				return fmt.Errorf("issue %s for %s: %w", u.Name, c.Code, err)
			}
		}
	}
	return nil
}
