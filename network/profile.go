package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Profile is <run>/network.json, the connection profile every client reads
// (DESIGN §9). All paths in it are absolute.
type Profile struct {
	Name      string           `json:"name"`
	Channel   string           `json:"channel"`
	Chaincode string           `json:"chaincode"`
	Counties  []CountyProfile  `json:"counties"`
	Orderers  []OrdererProfile `json:"orderers"`
}

// CountyProfile is one county organisation in the profile.
type CountyProfile struct {
	Code     string        `json:"code"`
	Name     string        `json:"name"`
	MSPID    string        `json:"mspId"`
	Peers    []PeerProfile `json:"peers"`
	CACert   string        `json:"caCert"`   // the county CA certificate (PEM), which signs its identities
	CAKey    string        `json:"caKey"`    // the county CA private key (PKCS #8 PEM), held by the county
	AdminMSP string        `json:"adminMsp"` // MSP folder of the county's admin (cryptogen Admin@)
	UsersDir string        `json:"usersDir"` // folder holding <name>@<org domain>/msp user identities
}

// PeerProfile is one peer in the profile.
type PeerProfile struct {
	Name         string `json:"name"`
	Address      string `json:"address"`      // host:port to dial
	HostOverride string `json:"hostOverride"` // TLS server name in the peer's certificate
	TLSRootCert  string `json:"tlsRootCert"`  // the county TLS CA certificate
	OpsAddress   string `json:"opsAddress"`   // operations endpoint: http://<opsAddress>/healthz
}

// OrdererProfile is one orderer in the profile.
type OrdererProfile struct {
	Name         string `json:"name"`
	Address      string `json:"address"`
	TLSRootCert  string `json:"tlsRootCert"`
	AdminAddress string `json:"adminAddress"`
	OpsAddress   string `json:"opsAddress"`
}

// County returns the county with the given division code.
func (p *Profile) County(code string) (*CountyProfile, error) {
	for i := range p.Counties {
		if p.Counties[i].Code == code {
			return &p.Counties[i], nil
		}
	}
	codes := make([]string, len(p.Counties))
	for i, c := range p.Counties {
		codes[i] = c.Code
	}
	return nil, fmt.Errorf("county %q is not in profile %q (counties: %s): %w", code, p.Name, strings.Join(codes, ", "), ErrInvalid)
}

// OrgDomain is the county organisation's domain (the name of the folder
// above usersDir), e.g. c330782.credit.local.
func (c *CountyProfile) OrgDomain() string {
	return filepath.Base(filepath.Dir(c.UsersDir))
}

// UserMSPDir is where the identity of user name lives:
// <usersDir>/<name>@<org domain>/msp.
func (c *CountyProfile) UserMSPDir(name string) string {
	return filepath.Join(c.UsersDir, name+"@"+c.OrgDomain(), "msp")
}

// LoadProfile reads and checks a network.json.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read network profile: %w", err)
	}
	var p Profile
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parse network profile %s: %w: %w", path, ErrInvalid, err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("network profile %s: %w", path, err)
	}
	return &p, nil
}

func (p *Profile) check() error {
	var errs []error
	req := func(field, v string) {
		if v == "" {
			errs = append(errs, fieldErr(field, v, "is required"))
		}
	}
	abs := func(field, v string) {
		if v == "" || !filepath.IsAbs(v) {
			errs = append(errs, fieldErr(field, v, "must be an absolute path"))
		}
	}
	req("name", p.Name)
	req("channel", p.Channel)
	req("chaincode", p.Chaincode)
	if len(p.Counties) == 0 {
		errs = append(errs, fieldErr("counties", "", "at least one county is required"))
	}
	if len(p.Orderers) == 0 {
		errs = append(errs, fieldErr("orderers", "", "at least one orderer is required"))
	}
	for i, c := range p.Counties {
		f := fmt.Sprintf("counties[%d]", i)
		req(f+".code", c.Code)
		req(f+".mspId", c.MSPID)
		abs(f+".caCert", c.CACert)
		abs(f+".caKey", c.CAKey)
		abs(f+".adminMsp", c.AdminMSP)
		abs(f+".usersDir", c.UsersDir)
		if len(c.Peers) == 0 {
			errs = append(errs, fieldErr(f+".peers", "", "at least one peer is required"))
		}
		for j, pe := range c.Peers {
			g := fmt.Sprintf("%s.peers[%d]", f, j)
			req(g+".address", pe.Address)
			abs(g+".tlsRootCert", pe.TLSRootCert)
		}
	}
	for i, o := range p.Orderers {
		f := fmt.Sprintf("orderers[%d]", i)
		req(f+".address", o.Address)
		abs(f+".tlsRootCert", o.TLSRootCert)
	}
	return errors.Join(errs...)
}

// writeJSONAtomic writes v as indented JSON to path through a temporary
// file and a rename, so a reader never sees half a file.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return writeFileAtomic(path, append(b, '\n'), 0o644)
}

func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
