package cert

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/orderer"
	"google.golang.org/protobuf/proto"
)

// TrustFormat identifies the layout of TrustRoots.
const TrustFormat = "credit-trust/1"

// Organisation roles in the channel.
const (
	RoleApplication = "application"
	RoleOrderer     = "orderer"
)

// TrustRoots are what an offline verifier trusts: each member
// organisation's MSP (root and intermediate CA certificates, revocation
// lists, node OU names) from the channel configuration, the ordering
// service's type and consenters, the application endorsement policy, and
// the county registry (division code → MSP). Exported from the ledger by
// ExportTrust; an auditor compares Fingerprint with the one the network
// publishes.
type TrustRoots struct {
	Format        string         `json:"format"`
	Channel       string         `json:"channel"`
	ConfigBlock   uint64         `json:"configBlock"`
	ExportedAt    string         `json:"exportedAt,omitempty"`
	OrdererType   string         `json:"ordererType"` // etcdraft | BFT
	Endorsement   string         `json:"endorsement"` // e.g. "MAJORITY Endorsement"
	Organizations []Organization `json:"organizations"`
	Consenters    []Consenter    `json:"consenters,omitempty"`
	Counties      []TrustCounty  `json:"counties"`
}

// Organization is one MSP of the channel.
type Organization struct {
	MSPID             string   `json:"mspId"`
	Role              string   `json:"role"`
	RootCerts         []string `json:"rootCerts"`
	IntermediateCerts []string `json:"intermediateCerts,omitempty"`
	CRLs              []string `json:"crls,omitempty"`
	NodeOUs           *NodeOUs `json:"nodeOUs,omitempty"`
}

// NodeOUs are the OU names that mark an identity's role when the MSP
// enables node OUs.
type NodeOUs struct {
	Client  string `json:"client"`
	Peer    string `json:"peer"`
	Admin   string `json:"admin"`
	Orderer string `json:"orderer"`
}

// Consenter is a BFT orderer: its numeric ID and identity.
type Consenter struct {
	ID       uint32 `json:"id"`
	MSPID    string `json:"mspId"`
	Identity string `json:"identity"` // PEM certificate
}

// TrustCounty is a county of the on-ledger registry.
type TrustCounty struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	MSPID string `json:"mspId"`
}

// Fingerprint is the hex SHA-256 of the trust roots' RFC 8785 form without
// the export time: the value a network publishes for auditors to compare.
func (t *TrustRoots) Fingerprint() string {
	c := *t
	c.ExportedAt = ""
	b, err := credit.CanonicalJSON(&c)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WriteTo writes the trust roots as indented JSON.
func (t *TrustRoots) WriteTo(w io.Writer) (int64, error) {
	out, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(out, '\n'))
	return int64(n), err
}

// ReadTrust decodes trust roots written by WriteTo and checks their format
// and that they parse (every certificate and CRL).
func ReadTrust(r io.Reader) (*TrustRoots, error) {
	var t TrustRoots
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, fmt.Errorf("read trust roots: %w", err)
	}
	if t.Format != TrustFormat {
		return nil, fmt.Errorf("read trust roots: format %q is not %q", t.Format, TrustFormat)
	}
	if _, err := newTrustIndex(&t); err != nil {
		return nil, fmt.Errorf("read trust roots: %w", err)
	}
	return &t, nil
}

// County returns the registry entry of a county code.
func (t *TrustRoots) County(code string) (TrustCounty, bool) {
	for _, c := range t.Counties {
		if c.Code == code {
			return c, true
		}
	}
	return TrustCounty{}, false
}

// Organization returns an MSP by ID.
func (t *TrustRoots) Organization(mspID string) (*Organization, bool) {
	for i := range t.Organizations {
		if t.Organizations[i].MSPID == mspID {
			return &t.Organizations[i], true
		}
	}
	return nil, false
}

// ExportTrust reads the channel's latest configuration block (cscc) and
// the county registry (ListCounties) from the ledger.
func ExportTrust(ctx context.Context, c *client.Client) (*TrustRoots, error) {
	block, err := c.ConfigBlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("export trust: %w", err)
	}
	counties, _, err := c.ListCounties(ctx)
	if err != nil {
		return nil, fmt.Errorf("export trust: %w", err)
	}
	t, err := TrustFromConfigBlock(block, counties)
	if err != nil {
		return nil, fmt.Errorf("export trust: %w", err)
	}
	t.ExportedAt = time.Now().UTC().Format(time.RFC3339)
	return t, nil
}

// TrustFromConfigBlock extracts the trust roots from a configuration block
// and the county registry.
func TrustFromConfigBlock(block *common.Block, counties []credit.County) (*TrustRoots, error) {
	if len(block.GetData().GetData()) != 1 {
		return nil, errors.New("config block: want exactly one envelope")
	}
	var env common.Envelope
	var pl common.Payload
	var ce common.ConfigEnvelope
	if err := proto.Unmarshal(block.Data.Data[0], &env); err != nil {
		return nil, fmt.Errorf("config block: %w", err)
	}
	if err := proto.Unmarshal(env.Payload, &pl); err != nil {
		return nil, fmt.Errorf("config block: %w", err)
	}
	var ch common.ChannelHeader
	if err := proto.Unmarshal(pl.GetHeader().GetChannelHeader(), &ch); err != nil {
		return nil, fmt.Errorf("config block: %w", err)
	}
	if common.HeaderType(ch.Type) != common.HeaderType_CONFIG {
		return nil, fmt.Errorf("config block: envelope type %d is not CONFIG", ch.Type)
	}
	if err := proto.Unmarshal(pl.Data, &ce); err != nil {
		return nil, fmt.Errorf("config block: %w", err)
	}
	root := ce.GetConfig().GetChannelGroup()
	t := &TrustRoots{Format: TrustFormat, Channel: ch.ChannelId, ConfigBlock: block.GetHeader().GetNumber()}
	app, ord := root.GetGroups()["Application"], root.GetGroups()["Orderer"]
	if app == nil || ord == nil {
		return nil, errors.New("config block: no Application or Orderer group")
	}
	for _, g := range []struct {
		role  string
		group *common.ConfigGroup
	}{{RoleApplication, app}, {RoleOrderer, ord}} {
		names := make([]string, 0, len(g.group.Groups))
		for name := range g.group.Groups {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			org, err := mspOrganization(g.group.Groups[name], g.role)
			if err != nil {
				return nil, fmt.Errorf("config block: organisation %s: %w", name, err)
			}
			t.Organizations = append(t.Organizations, org)
		}
	}
	if v := ord.GetValues()["ConsensusType"]; v != nil {
		var ct orderer.ConsensusType
		if err := proto.Unmarshal(v.Value, &ct); err != nil {
			return nil, fmt.Errorf("config block: consensus type: %w", err)
		}
		t.OrdererType = ct.Type
	}
	if v := ord.GetValues()["Orderers"]; v != nil {
		var os common.Orderers
		if err := proto.Unmarshal(v.Value, &os); err != nil {
			return nil, fmt.Errorf("config block: orderers: %w", err)
		}
		for _, c := range os.ConsenterMapping {
			t.Consenters = append(t.Consenters, Consenter{ID: c.Id, MSPID: c.MspId, Identity: string(c.Identity)})
		}
	}
	if p := app.GetPolicies()["Endorsement"].GetPolicy(); p != nil && common.Policy_PolicyType(p.Type) == common.Policy_IMPLICIT_META {
		var im common.ImplicitMetaPolicy
		if err := proto.Unmarshal(p.Value, &im); err == nil {
			t.Endorsement = im.Rule.String() + " " + im.SubPolicy
		}
	}
	for _, c := range counties {
		t.Counties = append(t.Counties, TrustCounty{Code: c.Code, Name: c.Name, MSPID: c.MSPID})
	}
	slices.SortFunc(t.Counties, func(a, b TrustCounty) int { return compareStrings(a.Code, b.Code) })
	return t, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func mspOrganization(g *common.ConfigGroup, role string) (Organization, error) {
	v := g.GetValues()["MSP"]
	if v == nil {
		return Organization{}, errors.New("no MSP value")
	}
	var mc msp.MSPConfig
	if err := proto.Unmarshal(v.Value, &mc); err != nil {
		return Organization{}, err
	}
	if mc.Type != 0 {
		return Organization{}, fmt.Errorf("MSP type %d is not an X.509 (FABRIC) MSP", mc.Type)
	}
	var fc msp.FabricMSPConfig
	if err := proto.Unmarshal(mc.Config, &fc); err != nil {
		return Organization{}, err
	}
	org := Organization{MSPID: fc.Name, Role: role}
	for _, c := range fc.RootCerts {
		org.RootCerts = append(org.RootCerts, string(c))
	}
	for _, c := range fc.IntermediateCerts {
		org.IntermediateCerts = append(org.IntermediateCerts, string(c))
	}
	for _, c := range fc.RevocationList {
		org.CRLs = append(org.CRLs, string(c))
	}
	if n := fc.FabricNodeOus; n != nil && n.Enable {
		org.NodeOUs = &NodeOUs{
			Client:  n.GetClientOuIdentifier().GetOrganizationalUnitIdentifier(),
			Peer:    n.GetPeerOuIdentifier().GetOrganizationalUnitIdentifier(),
			Admin:   n.GetAdminOuIdentifier().GetOrganizationalUnitIdentifier(),
			Orderer: n.GetOrdererOuIdentifier().GetOrganizationalUnitIdentifier(),
		}
	}
	return org, nil
}

// trustIndex is TrustRoots parsed for verification, with a cache of
// verified identities.
type trustIndex struct {
	t       *TrustRoots
	orgs    map[string]*orgIndex
	mu      sync.Mutex
	checked map[string]*identity // serialized identity → verified identity
}

type orgIndex struct {
	org     *Organization
	roots   *x509.CertPool
	inter   *x509.CertPool
	cas     [][]byte // DER of root and intermediate certificates
	revoked map[string]bool
}

// identity is a verified member identity.
type identity struct {
	mspID    string
	cert     *x509.Certificate
	from, to time.Time // when the whole chain is valid
}

func newTrustIndex(t *TrustRoots) (*trustIndex, error) {
	if t == nil {
		return nil, errors.New("no trust roots")
	}
	ix := &trustIndex{t: t, orgs: map[string]*orgIndex{}, checked: map[string]*identity{}}
	for i := range t.Organizations {
		o := &t.Organizations[i]
		oi := &orgIndex{org: o, roots: x509.NewCertPool(), inter: x509.NewCertPool(), revoked: map[string]bool{}}
		for _, p := range o.RootCerts {
			c, err := parseCertPEM([]byte(p))
			if err != nil {
				return nil, fmt.Errorf("trust roots: %s root: %w", o.MSPID, err)
			}
			oi.roots.AddCert(c)
			oi.cas = append(oi.cas, c.Raw)
		}
		for _, p := range o.IntermediateCerts {
			c, err := parseCertPEM([]byte(p))
			if err != nil {
				return nil, fmt.Errorf("trust roots: %s intermediate: %w", o.MSPID, err)
			}
			oi.inter.AddCert(c)
			oi.cas = append(oi.cas, c.Raw)
		}
		for _, p := range o.CRLs {
			block, _ := pem.Decode([]byte(p))
			if block == nil {
				return nil, fmt.Errorf("trust roots: %s: a CRL is not PEM", o.MSPID)
			}
			crl, err := x509.ParseRevocationList(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("trust roots: %s CRL: %w", o.MSPID, err)
			}
			for _, e := range crl.RevokedCertificateEntries {
				oi.revoked[string(crl.RawIssuer)+"/"+e.SerialNumber.String()] = true
			}
		}
		ix.orgs[o.MSPID] = oi
	}
	return ix, nil
}

// orgOfCA returns the organisation one of whose CA certificates is der.
func (ix *trustIndex) orgOfCA(der []byte) *orgIndex {
	for _, mspID := range ix.mspIDs() {
		oi := ix.orgs[mspID]
		for _, ca := range oi.cas {
			if bytes.Equal(ca, der) {
				return oi
			}
		}
	}
	return nil
}

func (ix *trustIndex) mspIDs() []string {
	ids := make([]string, 0, len(ix.orgs))
	for _, o := range ix.t.Organizations {
		ids = append(ids, o.MSPID)
	}
	return ids
}

// chainValidity returns when a verified chain is valid.
func chainValidity(chain []*x509.Certificate) (from, to time.Time) {
	for i, c := range chain {
		if i == 0 || c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(to) {
			to = c.NotAfter
		}
	}
	return from, to
}

// verifyCert checks that cert chains to a CA of org oi at time at, is not
// revoked, and carries the role's OU if the MSP uses node OUs ("" for any
// role). The identity records when its chain is valid, so a cached result
// can be checked at another time.
func (oi *orgIndex) verifyCert(cert *x509.Certificate, role string, at time.Time) (*identity, error) {
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots: oi.roots, Intermediates: oi.inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		CurrentTime: at,
	})
	if err != nil || len(chains) == 0 {
		return nil, fmt.Errorf("certificate %q does not chain to a CA of %s: %v", cert.Subject.CommonName, oi.org.MSPID, err)
	}
	if oi.revoked[string(cert.RawIssuer)+"/"+cert.SerialNumber.String()] {
		return nil, fmt.Errorf("certificate %q is revoked by %s", cert.Subject.CommonName, oi.org.MSPID)
	}
	if err := oi.checkRole(cert, role); err != nil {
		return nil, err
	}
	from, to := chainValidity(chains[0])
	return &identity{mspID: oi.org.MSPID, cert: cert, from: from, to: to}, nil
}

func (oi *orgIndex) checkRole(cert *x509.Certificate, role string) error {
	n := oi.org.NodeOUs
	if n == nil || role == "" {
		return nil
	}
	want := map[string]string{"client": n.Client, "peer": n.Peer, "admin": n.Admin, "orderer": n.Orderer}[role]
	if want == "" || slices.Contains(cert.Subject.OrganizationalUnit, want) {
		return nil
	}
	return fmt.Errorf("certificate %q of %s is not a %s (OU %q)", cert.Subject.CommonName, oi.org.MSPID, role, want)
}

// verifyIdentity checks a serialized Fabric identity (msp.SerializedIdentity)
// at time at: its certificate chains to a CA of the MSP it names, and has
// the role's OU. Results are cached by the serialized bytes.
func (ix *trustIndex) verifyIdentity(serialized []byte, role string, at time.Time) (*identity, error) {
	key := role + "\x00" + string(serialized)
	ix.mu.Lock()
	id, ok := ix.checked[key]
	ix.mu.Unlock()
	if !ok {
		var sid msp.SerializedIdentity
		if err := proto.Unmarshal(serialized, &sid); err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		oi := ix.orgs[sid.Mspid]
		if oi == nil {
			return nil, fmt.Errorf("identity of %s: not a member organisation", sid.Mspid)
		}
		cert, err := parseCertPEM(sid.IdBytes)
		if err != nil {
			return nil, fmt.Errorf("identity of %s: %w", sid.Mspid, err)
		}
		if id, err = oi.verifyCert(cert, role, at); err != nil {
			return nil, err
		}
		ix.mu.Lock()
		ix.checked[key] = id
		ix.mu.Unlock()
	}
	if at.Before(id.from) || at.After(id.to) {
		return nil, fmt.Errorf("identity %q of %s is not valid at %s (valid %s to %s)", id.cert.Subject.CommonName, id.mspID,
			at.UTC().Format(time.RFC3339), id.from.UTC().Format(time.RFC3339), id.to.UTC().Format(time.RFC3339))
	}
	return id, nil
}
