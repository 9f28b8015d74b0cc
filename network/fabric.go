package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// FabricVersion is the Fabric release the network runs; the binaries are
// built from network/tools (make fabric).
const FabricVersion = "3.1.1"

// FabricBinaries are the Fabric programs the network drives.
var FabricBinaries = []string{"peer", "orderer", "osnadmin", "configtxgen", "cryptogen", "discover"}

// fabric runs Fabric's own command-line tools as subprocesses.
type fabric struct {
	binDir    string // peer, orderer, osnadmin, configtxgen, cryptogen
	sampleCfg string // Fabric's sampleconfig copy: core.yaml, orderer.yaml
}

// newFabric checks that dir (e.g. .cache/fabric/3.1.1) holds bin/ and
// config/ as network/build-fabric.sh leaves them.
func newFabric(dir string) (*fabric, error) {
	f := &fabric{binDir: filepath.Join(dir, "bin"), sampleCfg: filepath.Join(dir, "config")}
	for _, b := range FabricBinaries {
		if st, err := os.Stat(filepath.Join(f.binDir, b)); err != nil || st.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("fabric binary %s not found in %s (run `make fabric`): %w", b, f.binDir, ErrInvalid)
		}
	}
	for _, c := range []string{"core.yaml", "orderer.yaml"} {
		if _, err := os.Stat(filepath.Join(f.sampleCfg, c)); err != nil {
			return nil, fmt.Errorf("fabric default config %s not found in %s (run `make fabric`): %w", c, f.sampleCfg, ErrInvalid)
		}
	}
	return f, nil
}

func (f *fabric) bin(name string) string { return filepath.Join(f.binDir, name) }

// baseEnv is the environment of every Fabric process and CLI call: nothing
// is inherited from the caller (a stray CORE_* or ORDERER_* variable in the
// operator's shell would silently change the network), except HOME, TMPDIR
// and the locale.
func baseEnv(binDir string) []string {
	env := []string{"PATH=" + binDir + ":/usr/local/bin:/usr/bin:/bin"}
	for _, k := range []string{"HOME", "TMPDIR", "LANG", "LC_ALL"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// CommandError is a failed Fabric CLI call, with its output.
type CommandError struct {
	Args   []string
	Output string
	Err    error
}

func (e *CommandError) Error() string {
	out := strings.TrimSpace(e.Output)
	if len(out) > 2000 {
		out = "…" + out[len(out)-2000:]
	}
	return fmt.Sprintf("%s: %v\n%s", strings.Join(e.Args, " "), e.Err, out)
}

func (e *CommandError) Unwrap() error { return e.Err }

// run runs a Fabric tool with env (complete) and returns its stdout; stderr
// goes into the error.
func (f *fabric) run(ctx context.Context, env []string, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, f.bin(name), args...)
	cmd.Env = append(baseEnv(f.binDir), env...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &CommandError{Args: append([]string{name}, args...), Output: stderr.String() + stdout.String(), Err: err}
	}
	return stdout.Bytes(), nil
}

// peerCLI is the peer CLI acting as a county's admin (or another identity)
// against one of its peers.
type peerCLI struct {
	f      *fabric
	l      Layout
	mspID  string
	msp    string // MSP folder of the identity
	peer   PeerNode
	logLvl string
}

func (n *Network) adminCLI(p PeerNode) *peerCLI {
	return &peerCLI{f: n.fab, l: n.Layout, mspID: p.County.MSPID(), msp: n.Layout.AdminMSP(p.County), peer: p}
}

func (c *peerCLI) env() []string {
	lvl := c.logLvl
	if lvl == "" {
		lvl = "warning"
	}
	return []string{
		"FABRIC_CFG_PATH=" + c.l.ConfigDir(),
		"FABRIC_LOGGING_SPEC=" + lvl,
		"CORE_PEER_TLS_ENABLED=true",
		"CORE_PEER_TLS_ROOTCERT_FILE=" + c.l.CountyTLSCA(c.peer.County),
		"CORE_PEER_ADDRESS=" + c.peer.Address(),
		"CORE_PEER_LOCALMSPID=" + c.mspID,
		"CORE_PEER_MSPCONFIGPATH=" + c.msp,
	}
}

func (c *peerCLI) run(ctx context.Context, args ...string) ([]byte, error) {
	return c.f.run(ctx, c.env(), c.l.Dir, "peer", args...)
}

// ordererArgs are the flags that send a transaction to an orderer over TLS.
func (n *Network) ordererArgs(o OrdererNode) []string {
	return []string{"-o", o.Address(), "--tls", "--cafile", n.Layout.OrdererTLSCA()}
}

// endorserArgs name every county's first peer as an endorser, which
// satisfies both the MAJORITY channel policy and any key-level policy.
func (n *Network) endorserArgs() []string {
	var out []string
	for i := range n.T.Counties {
		p := n.T.CountyPeers(i)[0]
		out = append(out, "--peerAddresses", p.Address(), "--tlsRootCertFiles", n.Layout.CountyTLSCA(p.County))
	}
	return out
}

// channelHeight runs `peer channel getinfo` and returns the height.
func (c *peerCLI) channelHeight(ctx context.Context, channel string) (uint64, error) {
	out, err := c.run(ctx, "channel", "getinfo", "-c", channel)
	if err != nil {
		return 0, err
	}
	return parseGetinfo(out)
}

// parseGetinfo reads "Blockchain info: {"height":5,...}".
func parseGetinfo(out []byte) (uint64, error) {
	_, js, ok := bytes.Cut(out, []byte("Blockchain info:"))
	if !ok {
		return 0, fmt.Errorf("parse peer channel getinfo output %q", out)
	}
	var v struct {
		Height uint64 `json:"height"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(js), &v); err != nil {
		return 0, fmt.Errorf("parse peer channel getinfo output: %w", err)
	}
	return v.Height, nil
}

// joinedChannels runs `peer channel list`.
func (c *peerCLI) joinedChannels(ctx context.Context) ([]string, error) {
	out, err := c.run(ctx, "channel", "list")
	if err != nil {
		return nil, err
	}
	return parseChannelList(out), nil
}

// parseChannelList reads "Channels peers has joined: \ncredit\n".
func parseChannelList(out []byte) []string {
	var chs []string
	lines := strings.Split(string(out), "\n")
	for i, ln := range lines {
		if strings.HasPrefix(ln, "Channels peers has joined") {
			for _, c := range lines[i+1:] {
				if c = strings.TrimSpace(c); c != "" {
					chs = append(chs, c)
				}
			}
			break
		}
	}
	return chs
}

// osnadmin runs osnadmin against one orderer's admin endpoint with the
// ordering admin's TLS client certificate.
func (n *Network) osnadmin(ctx context.Context, o OrdererNode, args ...string) (int, []byte, error) {
	cert, key := n.Layout.OrdererAdminTLS()
	full := append(args, "-o", o.AdminAddress(), "--ca-file", n.Layout.OrdererTLSCA(), "--client-cert", cert, "--client-key", key)
	out, err := n.fab.run(ctx, nil, n.Layout.Dir, "osnadmin", full...)
	if err != nil {
		return 0, out, err
	}
	status, body, err := parseOsnadmin(out)
	return status, body, err
}

// parseOsnadmin reads "Status: 201\n{json}".
func parseOsnadmin(out []byte) (int, []byte, error) {
	first, rest, _ := bytes.Cut(out, []byte("\n"))
	s, ok := bytes.CutPrefix(bytes.TrimSpace(first), []byte("Status:"))
	if !ok {
		return 0, nil, fmt.Errorf("parse osnadmin output %q", out)
	}
	code, err := strconv.Atoi(string(bytes.TrimSpace(s)))
	if err != nil {
		return 0, nil, fmt.Errorf("parse osnadmin status %q: %w", s, err)
	}
	return code, bytes.TrimSpace(rest), nil
}

// ordererChannelInfo is osnadmin's view of a channel on one orderer.
type ordererChannelInfo struct {
	Name              string `json:"name"`
	Status            string `json:"status"`
	ConsensusRelation string `json:"consensusRelation"`
	Height            uint64 `json:"height"`
}

// ordererChannel returns the orderer's view of the channel; ok is false when
// it has not joined.
func (n *Network) ordererChannel(ctx context.Context, o OrdererNode) (ordererChannelInfo, bool, error) {
	var info ordererChannelInfo
	code, body, err := n.osnadmin(ctx, o, "channel", "list", "--channelID", n.T.Channel)
	if err != nil {
		return info, false, err
	}
	switch code {
	case 200:
		if err := json.Unmarshal(body, &info); err != nil {
			return info, false, fmt.Errorf("parse osnadmin channel list: %w", err)
		}
		return info, true, nil
	case 404:
		return info, false, nil
	}
	return info, false, fmt.Errorf("osnadmin channel list on %s: status %d: %s", o.Name, code, body)
}

var errNotCommitted = errors.New("chaincode not committed")
