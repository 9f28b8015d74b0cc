package network

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The chaincode definition `up` commits. No --signature-policy is given, so
// the channel's /Channel/Application/Endorsement (MAJORITY) applies; the
// chaincode adds key-level policies naming the owning county (DESIGN §7).
const (
	ChaincodeVersion  = "1.0"
	ChaincodeSequence = 1
	// connectionAddressPlaceholder in the package's connection.json is
	// replaced by our builder with the peer's CREDIT_CHAINCODE_ADDRESS.
	connectionAddressPlaceholder = "{{address}}"
	chaincodeAddressEnv          = "CREDIT_CHAINCODE_ADDRESS"
)

// chaincodeLabel is the package label, e.g. credit_1.0.
func (t *Topology) chaincodeLabel() string { return t.Chaincode + "_" + ChaincodeVersion }

// tarGz writes files (name -> content, in the given order) as a
// deterministic .tar.gz: fixed modes and times, no owner names, so the same
// input always gives the same bytes and so the same package ID.
func tarGz(names []string, files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, n := range names {
		b := files[n]
		hdr := &tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ChaincodePackage builds the CCaaS package for label: metadata.json
// (type ccaas) and code.tar.gz holding connection.json, whose address is the
// {{address}} placeholder our builder fills per peer. Plain gRPC between peer
// and chaincode server: each county's server runs next to its peers.
func ChaincodePackage(label string) ([]byte, error) {
	conn, err := json.Marshal(struct {
		Address     string `json:"address"`
		DialTimeout string `json:"dial_timeout"`
		TLSRequired bool   `json:"tls_required"`
	}{connectionAddressPlaceholder, "10s", false})
	if err != nil {
		return nil, err
	}
	code, err := tarGz([]string{"connection.json"}, map[string][]byte{"connection.json": conn})
	if err != nil {
		return nil, fmt.Errorf("package chaincode: %w", err)
	}
	meta, err := json.Marshal(struct {
		Type  string `json:"type"`
		Label string `json:"label"`
	}{"ccaas", label})
	if err != nil {
		return nil, err
	}
	pkg, err := tarGz([]string{"metadata.json", "code.tar.gz"}, map[string][]byte{"metadata.json": meta, "code.tar.gz": code})
	if err != nil {
		return nil, fmt.Errorf("package chaincode: %w", err)
	}
	return pkg, nil
}

// PackageID is Fabric's package ID: label:sha256(package bytes).
func PackageID(label string, pkg []byte) string {
	sum := sha256.Sum256(pkg)
	return label + ":" + hex.EncodeToString(sum[:])
}

// writePackage writes the package to the run folder (if absent or
// different) and returns its ID.
func (n *Network) writePackage() (string, error) {
	label := n.T.chaincodeLabel()
	pkg, err := ChaincodePackage(label)
	if err != nil {
		return "", err
	}
	path := n.Layout.ChaincodePackage()
	if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, pkg) {
		if err := writeFileAtomic(path, pkg, 0o644); err != nil {
			return "", fmt.Errorf("write chaincode package: %w", err)
		}
	}
	id := PackageID(label, pkg)
	if err := writeFileAtomic(filepath.Join(n.Layout.ChaincodeDir(), "package-id"), []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write chaincode package: %w", err)
	}
	return id, nil
}

// installed lists the package IDs installed on the CLI's peer.
func (c *peerCLI) installed(ctx context.Context) ([]string, error) {
	out, err := c.run(ctx, "lifecycle", "chaincode", "queryinstalled", "--output", "json")
	if err != nil {
		return nil, err
	}
	var v struct {
		Installed []struct {
			PackageID string `json:"package_id"`
		} `json:"installed_chaincodes"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("parse queryinstalled: %w", err)
	}
	ids := make([]string, len(v.Installed))
	for i, x := range v.Installed {
		ids[i] = x.PackageID
	}
	return ids, nil
}

// committedSequence returns the committed definition's sequence, or
// errNotCommitted.
func (c *peerCLI) committedSequence(ctx context.Context, channel, name string) (int, error) {
	out, err := c.run(ctx, "lifecycle", "chaincode", "querycommitted", "-C", channel, "-n", name, "--output", "json")
	if err != nil {
		if strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "not defined") {
			return 0, errNotCommitted
		}
		return 0, err
	}
	var v struct {
		Sequence int `json:"sequence"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return 0, fmt.Errorf("parse querycommitted: %w", err)
	}
	return v.Sequence, nil
}

// commitReadiness returns which MSPs have approved the definition.
func (c *peerCLI) commitReadiness(ctx context.Context, channel, name string) (map[string]bool, error) {
	out, err := c.run(ctx, "lifecycle", "chaincode", "checkcommitreadiness", "-C", channel, "-n", name,
		"-v", ChaincodeVersion, "--sequence", strconv.Itoa(ChaincodeSequence), "--output", "json")
	if err != nil {
		return nil, err
	}
	var v struct {
		Approvals map[string]bool `json:"approvals"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, fmt.Errorf("parse checkcommitreadiness: %w", err)
	}
	return v.Approvals, nil
}

// chaincodeQuery evaluates fn with one JSON argument on the CLI's peer.
func (c *peerCLI) chaincodeQuery(ctx context.Context, channel, name, fn string, arg any) ([]byte, error) {
	a, err := ccArgs(fn, arg)
	if err != nil {
		return nil, err
	}
	return c.run(ctx, "chaincode", "query", "-C", channel, "-n", name, "-c", a)
}

// ccArgs encodes {"Args":[fn, json(arg)]}, the peer CLI's -c argument.
func ccArgs(fn string, arg any) (string, error) {
	var js []byte
	switch v := arg.(type) {
	case json.RawMessage:
		js = v
	case []byte:
		js = v
	default:
		var err error
		if js, err = json.Marshal(arg); err != nil {
			return "", fmt.Errorf("encode %s argument: %w", fn, err)
		}
	}
	b, err := json.Marshal(struct {
		Args []string `json:"Args"`
	}{[]string{fn, string(js)}})
	return string(b), err
}

// waitDiscovery waits until service discovery on every county's first peer
// offers an endorser of every county for the chaincode. Until then the
// peers' Gateways cannot plan endorsements ("no combination of peers can
// be derived which satisfy the endorsement policy"): gossip membership
// across organisations and each peer's published chaincode list converge
// some seconds after the channel join. The check is Fabric's own discover
// CLI (`discover endorsers`), run as each county's admin.
func (n *Network) waitDiscovery(ctx context.Context) error {
	want := make([]string, len(n.T.Counties))
	for i, c := range n.T.Counties {
		want[i] = c.MSPID()
	}
	idx := make([]int, len(n.T.Counties))
	for i := range idx {
		idx[i] = i
	}
	return parallel(idx, func(i int) error {
		p := n.firstPeer(i)
		return n.converge(ctx, "discovery at "+p.ProcName(), func(int) (bool, error) {
			out, err := n.discoverEndorsers(ctx, p)
			if err != nil {
				return false, err
			}
			missing := missingMSPs(out, want)
			if len(missing) > 0 {
				return false, fmt.Errorf("discovery at %s offers no endorser of %s yet", p.ProcName(), strings.Join(missing, ", "))
			}
			return true, nil
		})
	})
}

// discoverEndorsers runs `discover endorsers` against peer p as its county's
// admin and returns the JSON answer.
func (n *Network) discoverEndorsers(ctx context.Context, p PeerNode) ([]byte, error) {
	msp := n.Layout.AdminMSP(p.County)
	key, err := onlyFileIn(filepath.Join(msp, "keystore"))
	if err != nil {
		return nil, err
	}
	cert, err := onlyFileIn(filepath.Join(msp, "signcerts"))
	if err != nil {
		return nil, err
	}
	env := []string{"FABRIC_LOGGING_SPEC=error"}
	return n.fab.run(ctx, env, n.Layout.Dir, "discover",
		"--MSP", p.County.MSPID(), "--userKey", key, "--userCert", cert,
		"--peerTLSCA", n.Layout.CountyTLSCA(p.County),
		"endorsers", "--channel", n.T.Channel, "--chaincode", n.T.Chaincode, "--server", p.Address())
}

// missingMSPs returns the MSP IDs of want that no endorser group of a
// `discover endorsers` answer contains.
func missingMSPs(out []byte, want []string) []string {
	var answer []struct {
		EndorsersByGroups map[string][]struct {
			MSPID string `json:"MSPID"`
		} `json:"EndorsersByGroups"`
	}
	seen := map[string]bool{}
	if err := json.Unmarshal(out, &answer); err == nil {
		for _, a := range answer {
			for _, group := range a.EndorsersByGroups {
				for _, e := range group {
					seen[e.MSPID] = true
				}
			}
		}
	}
	var missing []string
	for _, m := range want {
		if !seen[m] {
			missing = append(missing, m)
		}
	}
	return missing
}

// onlyFileIn returns the path of the single regular file in dir.
func onlyFileIn(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) != 1 {
		return "", fmt.Errorf("want exactly one file in %s, found %d", dir, len(files))
	}
	return files[0], nil
}
