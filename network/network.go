package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure Up.
type Options struct {
	// Dir is the run folder. Required.
	Dir string
	// Topology to create the network from. nil means the topology stored in
	// the run folder, or DefaultTopology for a new folder. A topology that
	// differs from the stored one is refused: run Clean first.
	Topology *Topology
	// FabricDir holds Fabric's bin/ and config/ (.cache/fabric/3.1.1).
	FabricDir string
	// ChaincodeServer is the creditcc binary, started once per county.
	ChaincodeServer string
	// Hosts limits the processes started here to nodes whose configured
	// host is listed; empty means every node. Used when the counties run on
	// several machines (docs/NETWORK.md).
	Hosts []string
	// StartOnly starts (and health-checks) this machine's processes and
	// stops there; channel, chaincode and bootstrap are left to the machine
	// that runs the full `up`.
	StartOnly bool
	// Calendars are Calendar JSON documents (DESIGN §5 InstallCalendar)
	// installed after the chaincode is committed, if not there yet.
	Calendars []json.RawMessage
	// Progress receives one line per step; nil discards.
	Progress io.Writer
}

// Network is a run folder with its topology, able to start, stop and
// inspect the processes it describes.
type Network struct {
	Layout
	fab       *fabric
	progress  io.Writer
	hosts     []string
	startOnly bool
}

// Timeouts of the steps of Up.
const (
	healthTimeout   = 120 * time.Second
	convergeTimeout = 180 * time.Second
	retryPause      = 2 * time.Second
	progressPause   = 100 * time.Millisecond
)

func (n *Network) logf(format string, args ...any) {
	if n.progress != nil {
		fmt.Fprintf(n.progress, "network: "+format+"\n", args...)
	}
}

func (n *Network) step(name string, f func() error) error {
	start := time.Now()
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	n.logf("%-34s done (%.1fs)", name, time.Since(start).Seconds())
	return nil
}

// local reports whether a node on host runs on this machine.
func (n *Network) local(host string) bool {
	return len(n.hosts) == 0 || slices.Contains(n.hosts, host)
}

// storedTopology reads the topology a run folder was created from; nil if
// the folder has none yet.
func storedTopology(dir string) (*Topology, error) {
	p := Layout{Dir: dir}.TopologyCopy()
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return LoadTopology(p)
}

// Open returns the network of an existing run folder. fabricDir may be
// empty when only processes are managed (Down); Status needs it.
func Open(dir, fabricDir string) (*Network, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open run folder: %w", err)
	}
	t, err := storedTopology(dir)
	if err != nil {
		return nil, fmt.Errorf("open run folder %s: %w", dir, err)
	}
	if t == nil {
		return nil, fmt.Errorf("open run folder %s: no network here (no config/topology.yaml; run `creditctl network up`): %w", dir, ErrInvalid)
	}
	n := &Network{Layout: Layout{Dir: dir, T: t}}
	if fabricDir != "" {
		if n.fab, err = newFabric(fabricDir); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Up brings the network to the running state, doing only what is missing:
// it generates crypto material, identities and the genesis block once,
// starts the processes that are not running, joins the channel where not
// joined, installs, approves and commits the chaincode where not done, and
// registers the counties and calendars not yet on the ledger. Re-running
// it after a success, a crash or a `down` repairs the network and keeps the
// ledger.
func Up(ctx context.Context, o Options) (*Network, error) {
	if o.Dir == "" {
		return nil, fmt.Errorf("network up: %w", fieldErr("run", "", "a run folder is required"))
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("network up: %w", err)
	}
	stored, err := storedTopology(dir)
	if err != nil {
		return nil, fmt.Errorf("network up: %w", err)
	}
	t := o.Topology
	switch {
	case t == nil && stored != nil:
		t = stored
	case t == nil:
		t = DefaultTopology()
	case stored != nil:
		a, _ := t.Marshal()
		b, _ := stored.Marshal()
		if !bytes.Equal(a, b) {
			return nil, fmt.Errorf("network up: run folder %s was created from a different topology (see %s); use that topology or run `creditctl network clean` first: %w",
				dir, Layout{Dir: dir}.TopologyCopy(), ErrInvalid)
		}
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("network up: %w", err)
	}
	fab, err := newFabric(o.FabricDir)
	if err != nil {
		return nil, fmt.Errorf("network up: %w", err)
	}
	n := &Network{Layout: Layout{Dir: dir, T: t}, fab: fab, progress: o.Progress, hosts: o.Hosts, startOnly: o.StartOnly}
	for _, h := range o.Hosts {
		if !slices.Contains(t.Hosts(), h) {
			return nil, fmt.Errorf("network up: %w", fieldErr("host", h, "is not a host of the topology (%s)", strings.Join(t.Hosts(), ", ")))
		}
	}
	needCC := false
	for _, s := range t.ChaincodeServers() {
		needCC = needCC || n.local(s.Host)
	}
	if needCC {
		if st, err := os.Stat(o.ChaincodeServer); o.ChaincodeServer == "" || err != nil || st.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("network up: chaincode server %q not found or not executable (build it: go build -o bin/ ./chaincode/cmd/creditcc): %w", o.ChaincodeServer, ErrInvalid)
		}
	}
	ccBin, _ := filepath.Abs(o.ChaincodeServer)

	start := time.Now()
	n.logf("run folder %s, %d counties, %d %s orderers", dir, len(t.Counties), t.Orderers.Count, t.Orderers.Consensus)
	var pkgID string
	steps := []struct {
		name string
		f    func() error
	}{
		{"configuration", func() error {
			if err := os.MkdirAll(n.ConfigDir(), 0o755); err != nil {
				return err
			}
			if stored == nil {
				b, err := t.Marshal()
				if err != nil {
					return err
				}
				if err := writeFileAtomic(n.TopologyCopy(), b, 0o644); err != nil {
					return err
				}
			}
			return n.writeConfig()
		}},
		{"crypto material (cryptogen)", func() error { return n.generateCrypto(ctx) }},
		{"staff identities", n.issueDefaultUsers},
		{"genesis block (configtxgen)", func() error { return n.generateGenesis(ctx) }},
		{"profile network.json", func() error { return writeJSONAtomic(n.ProfilePath(), n.Profile()) }},
		{"chaincode package", func() (err error) { pkgID, err = n.writePackage(); return err }},
		{"start processes", func() error { return n.startAll(pkgID, ccBin) }},
		{"wait for health", func() error { return n.waitHealthy(ctx) }},
	}
	if !o.StartOnly {
		steps = append(steps, []struct {
			name string
			f    func() error
		}{
			{"orderers join channel (osnadmin)", func() error { return n.joinOrderers(ctx) }},
			{"wait for the ordering service (a consensus leader)", func() error { return n.waitOrdering(ctx) }},
			{"peers join channel", func() error { return n.joinPeers(ctx) }},
			{"install chaincode", func() error { return n.installAll(ctx, pkgID) }},
			{"approve and commit chaincode", func() error { return n.approveAndCommit(ctx, pkgID) }},
			{"register counties", func() error { return n.registerCounties(ctx) }},
			{"install calendars", func() error { return n.installCalendars(ctx, o.Calendars) }},
			{"wait for service discovery (Gateway endorsement plans)", func() error { return n.waitDiscovery(ctx) }},
		}...)
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("network up: %w", err)
		}
		if err := n.step(s.name, s.f); err != nil {
			return n, fmt.Errorf("network up: %w", err)
		}
	}
	n.logf("up in %.1fs; profile %s", time.Since(start).Seconds(), n.ProfilePath())
	return n, nil
}

// --- processes ---

func (n *Network) ordererSpec(o OrdererNode) procSpec {
	l := n.Layout
	d := l.OrdererNodeDir(o)
	tls := filepath.Join(d, "tls")
	data := l.DataDir(o.Name)
	env := []string{
		"FABRIC_CFG_PATH=" + l.ConfigDir(),
		"FABRIC_LOGGING_SPEC=info:grpc=error",
		"ORDERER_GENERAL_LISTENADDRESS=" + o.Host,
		fmt.Sprintf("ORDERER_GENERAL_LISTENPORT=%d", o.Port),
		"ORDERER_GENERAL_LOCALMSPID=" + n.T.OrdererMSPID(),
		"ORDERER_GENERAL_LOCALMSPDIR=" + filepath.Join(d, "msp"),
		"ORDERER_GENERAL_TLS_ENABLED=true",
		"ORDERER_GENERAL_TLS_PRIVATEKEY=" + filepath.Join(tls, "server.key"),
		"ORDERER_GENERAL_TLS_CERTIFICATE=" + filepath.Join(tls, "server.crt"),
		"ORDERER_GENERAL_TLS_ROOTCAS=[" + filepath.Join(tls, "ca.crt") + "]",
		"ORDERER_GENERAL_BOOTSTRAPMETHOD=none",
		"ORDERER_CHANNELPARTICIPATION_ENABLED=true",
		"ORDERER_FILELEDGER_LOCATION=" + data,
		"ORDERER_CONSENSUS_WALDIR=" + filepath.Join(data, "wal"),
		"ORDERER_CONSENSUS_SNAPDIR=" + filepath.Join(data, "snapshot"),
		"ORDERER_OPERATIONS_LISTENADDRESS=" + o.OpsAddress(),
		// /metrics: network up reads the consensus leader from it (waitOrdering).
		"ORDERER_METRICS_PROVIDER=prometheus",
		"ORDERER_ADMIN_LISTENADDRESS=" + o.AdminAddress(),
		"ORDERER_ADMIN_TLS_ENABLED=true",
		"ORDERER_ADMIN_TLS_PRIVATEKEY=" + filepath.Join(tls, "server.key"),
		"ORDERER_ADMIN_TLS_CERTIFICATE=" + filepath.Join(tls, "server.crt"),
		"ORDERER_ADMIN_TLS_ROOTCAS=[" + filepath.Join(tls, "ca.crt") + "]",
		"ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true",
		"ORDERER_ADMIN_TLS_CLIENTROOTCAS=[" + l.OrdererTLSCA() + "]",
	}
	return procSpec{
		Name: o.Name, Binary: n.fab.bin("orderer"), Env: append(baseEnv(n.fab.binDir), env...), Dir: data,
		Ports: []string{o.Address(), o.AdminAddress(), o.OpsAddress()},
	}
}

func (n *Network) ccServerFor(c County) ChaincodeServer {
	for _, s := range n.T.ChaincodeServers() {
		if s.County.Code == c.Code {
			return s
		}
	}
	panic("no chaincode server for county " + c.Code)
}

func (n *Network) peerSpec(p PeerNode) procSpec {
	l := n.Layout
	d := l.PeerNodeDir(p)
	tls := filepath.Join(d, "tls")
	data := l.DataDir(p.ProcName())
	bootstrap := n.T.CountyPeersOf(p.County)[0].Address()
	env := []string{
		"FABRIC_CFG_PATH=" + l.ConfigDir(),
		"FABRIC_LOGGING_SPEC=info:grpc=error:gossip=warning",
		"CORE_PEER_ID=" + l.PeerHost(p),
		"CORE_PEER_ADDRESS=" + p.Address(),
		"CORE_PEER_LISTENADDRESS=" + p.Address(),
		"CORE_PEER_CHAINCODEADDRESS=" + hostPort(p.Host, p.ChaincodePort),
		"CORE_PEER_CHAINCODELISTENADDRESS=" + hostPort(p.Host, p.ChaincodePort),
		"CORE_PEER_GOSSIP_BOOTSTRAP=" + bootstrap,
		"CORE_PEER_GOSSIP_EXTERNALENDPOINT=" + p.Address(),
		// Faster gossip than the defaults (5 s alive, 25 s expiry and
		// reconnect, 4 s state info): a peer that joins the channel after
		// its first membership attempt is otherwise rediscovered only after
		// 25 s, and a stopped peer stays in endorsement plans as long.
		"CORE_PEER_GOSSIP_ALIVETIMEINTERVAL=2s",
		"CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT=10s",
		"CORE_PEER_GOSSIP_RECONNECTINTERVAL=3s",
		"CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL=2s",
		"CORE_PEER_GOSSIP_REQUESTSTATEINFOINTERVAL=2s",
		"CORE_PEER_LOCALMSPID=" + p.County.MSPID(),
		"CORE_PEER_MSPCONFIGPATH=" + filepath.Join(d, "msp"),
		"CORE_PEER_TLS_ENABLED=true",
		"CORE_PEER_TLS_CERT_FILE=" + filepath.Join(tls, "server.crt"),
		"CORE_PEER_TLS_KEY_FILE=" + filepath.Join(tls, "server.key"),
		"CORE_PEER_TLS_ROOTCERT_FILE=" + filepath.Join(tls, "ca.crt"),
		"CORE_PEER_FILESYSTEMPATH=" + data,
		"CORE_LEDGER_SNAPSHOTS_ROOTDIR=" + filepath.Join(data, "snapshots"),
		"CORE_OPERATIONS_LISTENADDRESS=" + p.OpsAddress(),
		// No Docker: without this the peer's /healthz fails its docker check.
		"CORE_VM_ENDPOINT=",
		"CORE_CHAINCODE_EXTERNALBUILDERS=[{name: credit-ccaas, path: " + l.BuilderDir() + ", propagateEnvironment: [" + chaincodeAddressEnv + "]}]",
		chaincodeAddressEnv + "=" + n.ccServerFor(p.County).Address(),
	}
	env = append(env, n.T.PeerLimits.env()...)
	return procSpec{
		Name: p.ProcName(), Binary: n.fab.bin("peer"), Args: []string{"node", "start"},
		Env: append(baseEnv(n.fab.binDir), env...), Dir: data,
		Ports: []string{p.Address(), hostPort(p.Host, p.ChaincodePort), p.OpsAddress()},
	}
}

// ccServerSpec runs creditcc as a chaincode server in a clean environment:
// CHAINCODE_SERVER_ADDRESS and CORE_CHAINCODE_ID_NAME switch contract-api
// into server mode; no CORE_PEER_TLS_* may leak in (it would turn on TLS
// with empty key paths).
func (n *Network) ccServerSpec(s ChaincodeServer, pkgID, bin string) procSpec {
	data := n.DataDir(s.ProcName())
	env := []string{
		"CHAINCODE_SERVER_ADDRESS=" + s.Address(),
		"CORE_CHAINCODE_ID_NAME=" + pkgID,
	}
	return procSpec{
		Name: s.ProcName(), Binary: bin, Env: append(baseEnv(n.fab.binDir), env...), Dir: data,
		Ports: []string{s.Address()},
	}
}

// CountyPeersOf lists the peers of county c.
func (t *Topology) CountyPeersOf(c County) []PeerNode {
	_, i, ok := t.County(c.Code)
	if !ok {
		return nil
	}
	return t.CountyPeers(i)
}

// localSpecs lists the process specs of this machine's nodes.
func (n *Network) localSpecs(pkgID, ccBin string) []procSpec {
	var specs []procSpec
	for _, o := range n.T.OrdererNodes() {
		if n.local(o.Host) {
			specs = append(specs, n.ordererSpec(o))
		}
	}
	for _, p := range n.T.PeerNodes() {
		if n.local(p.Host) {
			specs = append(specs, n.peerSpec(p))
		}
	}
	for _, s := range n.T.ChaincodeServers() {
		if n.local(s.Host) {
			specs = append(specs, n.ccServerSpec(s, pkgID, ccBin))
		}
	}
	return specs
}

// startAll starts every local process that is not running. A stale PID
// file (the process died or the machine rebooted) is replaced.
func (n *Network) startAll(pkgID, ccBin string) error {
	started, running := 0, 0
	for _, s := range n.localSpecs(pkgID, ccBin) {
		st, _, err := n.status(s.Name)
		if err != nil {
			return err
		}
		if st == procRunning {
			running++
			continue
		}
		if _, err := n.start(s); err != nil {
			return err
		}
		started++
	}
	n.logf("%d started, %d already running", started, running)
	return nil
}

// healthTarget is one thing waitHealthy polls.
type healthTarget struct {
	name  string // process name
	ops   string // operations address (orderers, peers); "" for chaincode servers
	dial  string // TCP address (chaincode servers)
	local bool
}

func (n *Network) healthTargets() []healthTarget {
	var ts []healthTarget
	for _, o := range n.T.OrdererNodes() {
		ts = append(ts, healthTarget{name: o.Name, ops: o.OpsAddress(), local: n.local(o.Host)})
	}
	for _, p := range n.T.PeerNodes() {
		ts = append(ts, healthTarget{name: p.ProcName(), ops: p.OpsAddress(), local: n.local(p.Host)})
	}
	for _, s := range n.T.ChaincodeServers() {
		ts = append(ts, healthTarget{name: s.ProcName(), dial: s.Address(), local: n.local(s.Host)})
	}
	return ts
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

// healthz returns "OK" or why not.
func healthz(ctx context.Context, ops string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ops+"/healthz", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "unreachable"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var v struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(body, &v)
	if resp.StatusCode == http.StatusOK && v.Status == "OK" {
		return "OK"
	}
	return fmt.Sprintf("HTTP %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

func tcpUp(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// waitHealthy waits until every node answers: /healthz OK for orderers and
// peers, a TCP connection for chaincode servers. In StartOnly mode only
// this machine's nodes are waited for; the full up waits for every node,
// wherever it runs. A local process that dies while we wait fails at once,
// with the end of its log.
func (n *Network) waitHealthy(ctx context.Context) error {
	deadline := time.Now().Add(healthTimeout)
	pending := n.healthTargets()
	for {
		var still []healthTarget
		var why []string
		for _, h := range pending {
			if n.startOnly && !h.local {
				continue // another machine's business
			}
			if h.local {
				if st, _, _ := n.status(h.name); st != procRunning {
					return fmt.Errorf("%s exited; last lines of %s:\n%s", h.name, n.LogFile(h.name), n.logTail(h.name, 15))
				}
			}
			if h.ops != "" {
				if s := healthz(ctx, h.ops); s != "OK" {
					still = append(still, h)
					why = append(why, h.name+": "+s)
				}
			} else if !tcpUp(h.dial) {
				still = append(still, h)
				why = append(why, h.name+": not listening on "+h.dial)
			}
		}
		if len(still) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy after %s: %s", healthTimeout, strings.Join(why, "; "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		pending = still
	}
}

// waitOrdering waits until the channel's ordering service accepts
// transactions: one orderer reports itself the consensus leader on its
// /metrics (the followers hear of it with its first message and forward
// to it). Orderers that have just been restarted elect a leader first;
// until then a transaction fails with "no orderers could successfully
// process transaction", which without this wait was the first write after
// `network up` on stopped orderers (3 of 3 tries, 2026-11-23; with it, 7
// of 7 committed).
func (n *Network) waitOrdering(ctx context.Context) error {
	// Polled often: a Raft election after a restart takes 5-10 s (ticks of
	// 500 ms, election after 10), and up should return when it is over.
	deadline := time.Now().Add(convergeTimeout)
	for {
		_, err := n.OrderingLeader(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", convergeTimeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// OrderingLeader returns the name of the orderer that reports itself the
// consensus leader of the channel on its /metrics (Raft or BFT), or an
// error saying what each orderer answered.
func (n *Network) OrderingLeader(ctx context.Context) (string, error) {
	prefix := "consensus_etcdraft_"
	if n.T.Orderers.Consensus == ConsensusBFT {
		prefix = "consensus_BFT_"
	}
	var seen []string
	for _, o := range n.T.OrdererNodes() {
		m, err := scrapeGauges(ctx, o.OpsAddress(), prefix, n.T.Channel)
		switch {
		case err != nil:
			seen = append(seen, o.Name+": "+err.Error())
		case m["is_leader"] != 1:
			seen = append(seen, o.Name+": not the leader")
		default:
			return o.Name, nil
		}
	}
	return "", fmt.Errorf("no consensus leader on channel %s: %s", n.T.Channel, strings.Join(seen, "; "))
}

// scrapeGauges reads the gauges named prefix+… of channel from an
// operations endpoint's Prometheus /metrics, by the name after prefix.
func scrapeGauges(ctx context.Context, ops, prefix, channel string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ops+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, errors.New("unreachable")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	label := `{channel="` + channel + `"} `
	for line := range strings.Lines(string(body)) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), label)
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		if v, err := strconv.ParseFloat(rest, 64); err == nil {
			out[strings.TrimPrefix(name, prefix)] = v
		}
	}
	return out, nil
}

// --- channel ---

// parallel runs f for every item and joins the errors.
func parallel[T any](items []T, f func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// converge repeats observe-and-act until done or the deadline: act may
// fail transiently (no Raft leader yet, a peer still catching up).
func (n *Network) converge(ctx context.Context, what string, f func(attempt int) (done bool, err error)) error {
	deadline := time.Now().Add(convergeTimeout)
	var last error
	for attempt := 0; ; attempt++ {
		done, err := f(attempt)
		if err == nil && done {
			return nil
		}
		if err != nil {
			last = err
			if attempt > 0 && attempt%5 == 0 {
				n.logf("%s: still trying: %s", what, firstLine(err.Error()))
			}
		}
		if time.Now().After(deadline) {
			if last == nil {
				last = errors.New("no progress")
			}
			return fmt.Errorf("%s: gave up after %s: %w", what, convergeTimeout, last)
		}
		pause := retryPause
		if err == nil {
			pause = progressPause // the action worked: look again at once
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func (n *Network) joinOrderers(ctx context.Context) error {
	return parallel(n.T.OrdererNodes(), func(o OrdererNode) error {
		return n.converge(ctx, "join "+o.Name, func(int) (bool, error) {
			if _, ok, err := n.ordererChannel(ctx, o); err != nil || ok {
				return ok, err
			}
			code, body, err := n.osnadmin(ctx, o, "channel", "join", "--channelID", n.T.Channel, "--config-block", n.GenesisBlock())
			if err != nil {
				return false, err
			}
			if code != http.StatusCreated {
				return false, fmt.Errorf("osnadmin channel join on %s: status %d: %s", o.Name, code, body)
			}
			return true, nil
		})
	})
}

func (n *Network) joinPeers(ctx context.Context) error {
	return parallel(n.T.PeerNodes(), func(p PeerNode) error {
		cli := n.adminCLI(p)
		return n.converge(ctx, "join "+p.ProcName(), func(int) (bool, error) {
			chs, err := cli.joinedChannels(ctx)
			if err != nil {
				return false, err
			}
			if slices.Contains(chs, n.T.Channel) {
				return true, nil
			}
			if _, err := cli.run(ctx, "channel", "join", "-b", n.GenesisBlock()); err != nil {
				return false, err
			}
			return true, nil
		})
	})
}

// --- chaincode lifecycle ---

func (n *Network) installAll(ctx context.Context, pkgID string) error {
	return parallel(n.T.PeerNodes(), func(p PeerNode) error {
		cli := n.adminCLI(p)
		return n.converge(ctx, "install on "+p.ProcName(), func(int) (bool, error) {
			ids, err := cli.installed(ctx)
			if err != nil {
				return false, err
			}
			if slices.Contains(ids, pkgID) {
				return true, nil
			}
			if _, err := cli.run(ctx, "lifecycle", "chaincode", "install", n.ChaincodePackage()); err != nil {
				return false, err
			}
			return true, nil
		})
	})
}

// orderer picks the orderer for attempt, rotating so that one orderer
// being down does not stall the step.
func (n *Network) orderer(attempt int) OrdererNode {
	ords := n.T.OrdererNodes()
	return ords[attempt%len(ords)]
}

func (n *Network) firstPeer(i int) PeerNode { return n.T.CountyPeers(i)[0] }

// approveAndCommit approves the definition for every county that has not,
// then commits it with every county's peer endorsing.
func (n *Network) approveAndCommit(ctx context.Context, pkgID string) error {
	ch, cc := n.T.Channel, n.T.Chaincode
	cli0 := n.adminCLI(n.firstPeer(0))
	return n.converge(ctx, "approve and commit", func(attempt int) (bool, error) {
		seq, err := cli0.committedSequence(ctx, ch, cc)
		if err == nil && seq >= ChaincodeSequence {
			return true, nil
		}
		if err != nil && !errors.Is(err, errNotCommitted) {
			return false, err
		}
		approvals, err := cli0.commitReadiness(ctx, ch, cc)
		if err != nil {
			return false, err
		}
		var missing []int
		for i, c := range n.T.Counties {
			if !approvals[c.MSPID()] {
				missing = append(missing, i)
			}
		}
		o := n.orderer(attempt)
		if len(missing) > 0 {
			err := parallel(missing, func(i int) error {
				args := append([]string{"lifecycle", "chaincode", "approveformyorg"}, n.ordererArgs(o)...)
				args = append(args, "-C", ch, "-n", cc, "-v", ChaincodeVersion, "--package-id", pkgID,
					"--sequence", fmt.Sprint(ChaincodeSequence), "--waitForEventTimeout", "60s")
				_, err := n.adminCLI(n.firstPeer(i)).run(ctx, args...)
				return err
			})
			return false, err // observe again: approvals are checked, then commit
		}
		args := append([]string{"lifecycle", "chaincode", "commit"}, n.ordererArgs(o)...)
		args = append(args, "-C", ch, "-n", cc, "-v", ChaincodeVersion, "--sequence", fmt.Sprint(ChaincodeSequence),
			"--waitForEventTimeout", "60s")
		args = append(args, n.endorserArgs()...)
		if _, err := cli0.run(ctx, args...); err != nil {
			return false, err
		}
		return false, nil // observe the commit on the next round
	})
}

// invoke submits fn(arg) as the CLI's identity, endorsed by every county,
// and waits for it to commit.
func (n *Network) invoke(ctx context.Context, cli *peerCLI, attempt int, fn string, arg any) ([]byte, error) {
	a, err := ccArgs(fn, arg)
	if err != nil {
		return nil, err
	}
	args := append([]string{"chaincode", "invoke"}, n.ordererArgs(n.orderer(attempt))...)
	args = append(args, "-C", n.T.Channel, "-n", n.T.Chaincode, "-c", a, "--waitForEvent", "--waitForEventTimeout", "60s")
	args = append(args, n.endorserArgs()...)
	return cli.run(ctx, args...)
}

// registeredCounties asks the chaincode which counties are registered.
func (n *Network) registeredCounties(ctx context.Context, cli *peerCLI) ([]string, error) {
	out, err := cli.chaincodeQuery(ctx, n.T.Channel, n.T.Chaincode, "ListCounties", struct{}{})
	if err != nil {
		return nil, err
	}
	return parseCountyCodes(out)
}

// parseCountyCodes reads ListCounties' result: an array of County objects
// (or an object holding one under "counties").
func parseCountyCodes(out []byte) ([]string, error) {
	type county struct {
		Code string `json:"code"`
	}
	var list []county
	if err := json.Unmarshal(out, &list); err != nil {
		var wrapped struct {
			Counties []county `json:"counties"`
		}
		if err2 := json.Unmarshal(out, &wrapped); err2 != nil {
			return nil, fmt.Errorf("parse ListCounties result %q: %w", out, err)
		}
		list = wrapped.Counties
	}
	codes := make([]string, len(list))
	for i, c := range list {
		codes[i] = c.Code
	}
	return codes, nil
}

// registerCounties has each county's admin register its own county
// (RegisterCounty registers the calling MSP), where not registered yet.
func (n *Network) registerCounties(ctx context.Context) error {
	cli0 := n.adminCLI(n.firstPeer(0))
	return n.converge(ctx, "register counties", func(attempt int) (bool, error) {
		have, err := n.registeredCounties(ctx, cli0)
		if err != nil {
			return false, err
		}
		var missing []int
		for i, c := range n.T.Counties {
			if !slices.Contains(have, c.Code) {
				missing = append(missing, i)
			}
		}
		if len(missing) == 0 {
			return true, nil
		}
		return false, parallel(missing, func(i int) error {
			c := n.T.Counties[i]
			_, err := n.invoke(ctx, n.adminCLI(n.firstPeer(i)), attempt, "RegisterCounty",
				struct {
					Code string `json:"code"`
					Name string `json:"name"`
				}{c.Code, c.Name})
			return err
		})
	})
}

// installCalendars installs each calendar whose year the ledger lacks, as
// the first county's admin.
func (n *Network) installCalendars(ctx context.Context, cals []json.RawMessage) error {
	if len(cals) == 0 {
		n.logf("no calendars to install")
		return nil
	}
	type yearOf struct {
		Year int `json:"year"`
	}
	for _, cal := range cals {
		var y yearOf
		if err := json.Unmarshal(cal, &y); err != nil || y.Year == 0 {
			return fmt.Errorf("calendar without a year: %.60s", cal)
		}
	}
	cli := n.adminCLI(n.firstPeer(0))
	return parallel(cals, func(cal json.RawMessage) error {
		var y yearOf
		_ = json.Unmarshal(cal, &y)
		return n.converge(ctx, fmt.Sprintf("install calendar %d", y.Year), func(attempt int) (bool, error) {
			_, err := cli.chaincodeQuery(ctx, n.T.Channel, n.T.Chaincode, "GetCalendar", y)
			if err == nil {
				return true, nil
			}
			if !strings.Contains(err.Error(), "[NOT_FOUND]") {
				return false, err
			}
			_, err = n.invoke(ctx, cli, attempt, "InstallCalendar", cal)
			return false, err
		})
	})
}

// --- down, clean ---

// Down stops every process the run folder's PID files name, and only
// those: chaincode servers, then peers, then orderers. Ledgers stay.
func Down(ctx context.Context, dir string, progress io.Writer) ([]StopResult, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("network down: %w", err)
	}
	l := Layout{Dir: dir}
	names, err := l.pidFiles()
	if err != nil {
		return nil, fmt.Errorf("network down: %w", err)
	}
	var results []StopResult
	var mu sync.Mutex
	var errs []error
	for rank := 0; rank <= 2; rank++ {
		var group []string
		for _, nm := range names {
			if stopRank(nm) == rank {
				group = append(group, nm)
			}
		}
		_ = parallel(group, func(nm string) error {
			r, err := l.stop(ctx, nm)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			if r != nil {
				results = append(results, *r)
				if progress != nil {
					fmt.Fprintf(progress, "network: %-16s pid %-7d %s\n", r.Name, r.PID, r.Action)
				}
			}
			return nil
		})
	}
	slices.SortFunc(results, func(a, b StopResult) int { return strings.Compare(a.Name, b.Name) })
	if err := errors.Join(errs...); err != nil {
		return results, fmt.Errorf("network down: %w", err)
	}
	return results, nil
}

// Clean stops the network and removes its run folder. It refuses a folder
// that does not look like a run folder, so a mistyped path is never wiped.
func Clean(ctx context.Context, dir string, progress io.Writer) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("network clean: %w", err)
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l := Layout{Dir: dir}
	looks := false
	for _, p := range []string{l.TopologyCopy(), l.ProfilePath(), l.PidsDir()} {
		if _, err := os.Stat(p); err == nil {
			looks = true
		}
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == 0 {
		looks = true
	}
	if !looks {
		return fmt.Errorf("network clean: %s does not look like a run folder (no config/topology.yaml, network.json or pids/); not removing it: %w", dir, ErrInvalid)
	}
	if _, err := Down(ctx, dir, progress); err != nil {
		return fmt.Errorf("network clean: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("network clean: %w", err)
	}
	return nil
}

// StopProcess stops one process of this network by name (e.g.
// "peer0.c371324"); Up starts it again.
func (n *Network) StopProcess(ctx context.Context, name string) (*StopResult, error) {
	return n.stop(ctx, name)
}

// StartProcess starts one process of this network by name (an orderer, a
// peer, or a county's chaincode server, e.g. "cc.c330182") unless it is
// running, and waits until it answers: /healthz for an orderer or a peer,
// a TCP connection for a chaincode server. chaincodeServer is the creditcc
// binary to run for a chaincode server (ignored for other processes).
// Nothing else is started or changed, unlike Up: the chaos tests
// (cli/chaos) restart one node while another stays down, and run a
// county's chaincode server from another binary. The network must have
// been opened with its Fabric folder (Open(dir, fabricDir) or Up). It
// returns the process's PID.
func (n *Network) StartProcess(ctx context.Context, name, chaincodeServer string) (int, error) {
	if n.fab == nil {
		return 0, fmt.Errorf("start %s: the network was opened without its Fabric folder: %w", name, ErrInvalid)
	}
	id, err := os.ReadFile(filepath.Join(n.ChaincodeDir(), "package-id"))
	if err != nil {
		return 0, fmt.Errorf("start %s: chaincode package ID (run up first): %w", name, err)
	}
	ccBin := chaincodeServer
	if ccBin != "" {
		if ccBin, err = filepath.Abs(ccBin); err != nil {
			return 0, fmt.Errorf("start %s: %w", name, err)
		}
	}
	var spec *procSpec
	for _, s := range n.localSpecs(strings.TrimSpace(string(id)), ccBin) {
		if s.Name == name {
			spec = &s
		}
	}
	if spec == nil {
		return 0, fmt.Errorf("start %s: %w", name, fieldErr("process", name, "is not a process of this network (%s)", strings.Join(n.processes(), ", ")))
	}
	if strings.HasPrefix(name, "cc.") && chaincodeServer == "" {
		return 0, fmt.Errorf("start %s: %w", name, fieldErr("chaincodeServer", "", "is required to start a chaincode server"))
	}
	st, rec, err := n.status(name)
	if err != nil {
		return 0, err
	}
	pid := 0
	if st == procRunning {
		pid = rec.PID
	} else if pid, err = n.start(*spec); err != nil {
		return 0, err
	}
	var target healthTarget
	for _, h := range n.healthTargets() {
		if h.name == name {
			target = h
		}
	}
	deadline := time.Now().Add(healthTimeout)
	for {
		if st, _, _ := n.status(name); st != procRunning {
			return pid, fmt.Errorf("start %s: it exited; last lines of %s:\n%s", name, n.LogFile(name), n.logTail(name, 15))
		}
		if target.ops != "" && healthz(ctx, target.ops) == "OK" || target.ops == "" && tcpUp(target.dial) {
			return pid, nil
		}
		if time.Now().After(deadline) {
			return pid, fmt.Errorf("start %s: not healthy after %s", name, healthTimeout)
		}
		select {
		case <-ctx.Done():
			return pid, fmt.Errorf("start %s: %w", name, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Processes lists the names of all processes of the topology.
func (n *Network) Processes() []string { return n.processes() }
