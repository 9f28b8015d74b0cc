package network

import (
	"fmt"
	"path/filepath"
)

// Layout names every file and folder of a run folder (DESIGN §9):
//
//	network.json           the profile clients read
//	config/                core.yaml, orderer.yaml (Fabric defaults), crypto-config.yaml,
//	                       configtx.yaml, topology.yaml (the topology this folder was made from),
//	                       builder/bin/{detect,build,release} (our CCaaS external builder)
//	crypto/                cryptogen output, plus the staff identities we issue
//	channel/<channel>.block the channel's genesis block
//	chaincode/             the CCaaS package and its package ID
//	data/<process>/        ledgers, WAL, snapshots
//	logs/<process>.log     stdout and stderr of each process
//	pids/<process>.pid     what `down` stops
type Layout struct {
	Dir string // absolute
	T   *Topology
}

// Paths of the run folder.
func (l Layout) ConfigDir() string    { return filepath.Join(l.Dir, "config") }
func (l Layout) CryptoDir() string    { return filepath.Join(l.Dir, "crypto") }
func (l Layout) ChannelDir() string   { return filepath.Join(l.Dir, "channel") }
func (l Layout) ChaincodeDir() string { return filepath.Join(l.Dir, "chaincode") }
func (l Layout) DataDir(proc string) string {
	return filepath.Join(l.Dir, "data", proc)
}
func (l Layout) LogsDir() string            { return filepath.Join(l.Dir, "logs") }
func (l Layout) LogFile(proc string) string { return filepath.Join(l.LogsDir(), proc+".log") }
func (l Layout) PidsDir() string            { return filepath.Join(l.Dir, "pids") }
func (l Layout) PidFile(proc string) string { return filepath.Join(l.PidsDir(), proc+".pid") }
func (l Layout) ProfilePath() string        { return filepath.Join(l.Dir, "network.json") }
func (l Layout) TopologyCopy() string       { return filepath.Join(l.ConfigDir(), "topology.yaml") }
func (l Layout) BuilderDir() string         { return filepath.Join(l.ConfigDir(), "builder") }
func (l Layout) GenesisBlock() string       { return filepath.Join(l.ChannelDir(), l.T.Channel+".block") }
func (l Layout) ChaincodePackage() string {
	return filepath.Join(l.ChaincodeDir(), l.T.Chaincode+".tgz")
}
func (l Layout) cryptoDone() string { return filepath.Join(l.CryptoDir(), ".complete") }
func (l Layout) ordererOrgDir() string {
	return filepath.Join(l.CryptoDir(), "ordererOrganizations", l.T.OrdererDomain())
}
func (l Layout) countyOrgDir(c County) string {
	return filepath.Join(l.CryptoDir(), "peerOrganizations", l.T.OrgDomain(c))
}

// OrdererNodeDir is cryptogen's folder of one orderer (msp/, tls/).
func (l Layout) OrdererNodeDir(o OrdererNode) string {
	return filepath.Join(l.ordererOrgDir(), "orderers", o.Name+"."+l.T.OrdererDomain())
}

// OrdererTLSCA is the ordering organisation's TLS CA certificate.
func (l Layout) OrdererTLSCA() string {
	return filepath.Join(l.ordererOrgDir(), "tlsca", "tlsca."+l.T.OrdererDomain()+"-cert.pem")
}

// OrdererAdminTLS is the ordering admin's TLS client certificate and key,
// used with osnadmin (the admin endpoint requires mutual TLS).
func (l Layout) OrdererAdminTLS() (cert, key string) {
	d := filepath.Join(l.ordererOrgDir(), "users", "Admin@"+l.T.OrdererDomain(), "tls")
	return filepath.Join(d, "client.crt"), filepath.Join(d, "client.key")
}

// PeerNodeDir is cryptogen's folder of one peer (msp/, tls/).
func (l Layout) PeerNodeDir(p PeerNode) string {
	return filepath.Join(l.countyOrgDir(p.County), "peers", p.Name+"."+l.T.OrgDomain(p.County))
}

// PeerHost is the peer's TLS host name, e.g. peer0.c330782.credit.local.
func (l Layout) PeerHost(p PeerNode) string { return p.Name + "." + l.T.OrgDomain(p.County) }

// CountyMSPDir is the county's verifying MSP (what configtxgen reads).
func (l Layout) CountyMSPDir(c County) string { return filepath.Join(l.countyOrgDir(c), "msp") }

// CountyCACert is the county CA certificate, which signs its identities.
func (l Layout) CountyCACert(c County) string {
	return filepath.Join(l.countyOrgDir(c), "ca", "ca."+l.T.OrgDomain(c)+"-cert.pem")
}

// CountyCAKey is the county CA private key.
func (l Layout) CountyCAKey(c County) string {
	return filepath.Join(l.countyOrgDir(c), "ca", "priv_sk")
}

// CountyTLSCA is the county TLS CA certificate, which clients trust for the
// county's peers.
func (l Layout) CountyTLSCA(c County) string {
	return filepath.Join(l.countyOrgDir(c), "tlsca", "tlsca."+l.T.OrgDomain(c)+"-cert.pem")
}

// UsersDir holds the county's user identities.
func (l Layout) UsersDir(c County) string { return filepath.Join(l.countyOrgDir(c), "users") }

// UserMSP is the MSP folder of user name in county c.
func (l Layout) UserMSP(c County, name string) string {
	return filepath.Join(l.UsersDir(c), name+"@"+l.T.OrgDomain(c), "msp")
}

// AdminMSP is the county admin's MSP folder (cryptogen Admin@).
func (l Layout) AdminMSP(c County) string { return l.UserMSP(c, "Admin") }

// Profile builds the network.json content for this run folder.
func (l Layout) Profile() *Profile {
	p := &Profile{Name: l.T.Name, Channel: l.T.Channel, Chaincode: l.T.Chaincode}
	for i, c := range l.T.Counties {
		cp := CountyProfile{
			Code: c.Code, Name: c.Name, MSPID: c.MSPID(),
			CACert: l.CountyCACert(c), CAKey: l.CountyCAKey(c),
			AdminMSP: l.AdminMSP(c), UsersDir: l.UsersDir(c),
		}
		for _, pe := range l.T.CountyPeers(i) {
			cp.Peers = append(cp.Peers, PeerProfile{
				Name: pe.Name, Address: pe.Address(), HostOverride: l.PeerHost(pe),
				TLSRootCert: l.CountyTLSCA(c), OpsAddress: pe.OpsAddress(),
			})
		}
		p.Counties = append(p.Counties, cp)
	}
	for _, o := range l.T.OrdererNodes() {
		p.Orderers = append(p.Orderers, OrdererProfile{
			Name: o.Name, Address: o.Address(), TLSRootCert: l.OrdererTLSCA(),
			AdminAddress: o.AdminAddress(), OpsAddress: o.OpsAddress(),
		})
	}
	return p
}

// processes lists every process of the topology, in start order.
func (l Layout) processes() []string {
	var out []string
	for _, o := range l.T.OrdererNodes() {
		out = append(out, o.Name)
	}
	for _, p := range l.T.PeerNodes() {
		out = append(out, p.ProcName())
	}
	for _, s := range l.T.ChaincodeServers() {
		out = append(out, s.ProcName())
	}
	return out
}

func (l Layout) String() string { return fmt.Sprintf("run folder %s", l.Dir) }
