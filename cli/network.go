package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/network"
	"github.com/countycredit/creditledger/network/identity"
)

func init() {
	commandAdders = append(commandAdders, NewCmdNetwork)
	exitClassifiers = append(exitClassifiers, func(err error) (int, bool) {
		switch {
		case errors.Is(err, network.ErrInvalid), errors.Is(err, identity.ErrInvalid):
			return ExitInvalid, true
		case errors.Is(err, identity.ErrExists):
			return ExitExists, true
		}
		return 0, false
	})
}

// Environment variables that set the defaults of the network and identity
// commands (flags win).
const (
	envRun             = "CREDITCTL_RUN"              // run folder
	envTopology        = "CREDITCTL_TOPOLOGY"         // topology file
	envFabric          = "CREDITCTL_FABRIC"           // Fabric bin/ + config/ folder
	envChaincodeServer = "CREDITCTL_CHAINCODE_SERVER" // creditcc binary
	envProfile         = "CREDITCTL_PROFILE"          // network.json
)

// checkoutRoot finds the repository checkout above the working directory
// (the folder whose go.mod declares this module); "" if there is none.
func checkoutRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/countycredit/creditledger\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// underCheckout joins rel to the checkout root, or to the working
// directory outside a checkout.
func underCheckout(rel string) string {
	if root := checkoutRoot(); root != "" {
		return filepath.Join(root, rel)
	}
	return rel
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// defaultRunDir is DESIGN §9's .run/net in the checkout.
func defaultRunDir() string { return envOr(envRun, underCheckout(filepath.Join(".run", "net"))) }

// defaultProfilePath is the run folder's network.json.
func defaultProfilePath() string {
	return envOr(envProfile, filepath.Join(defaultRunDir(), "network.json"))
}

func defaultFabricDir() string {
	return envOr(envFabric, underCheckout(filepath.Join(".cache", "fabric", network.FabricVersion)))
}

// defaultChaincodeServer looks for creditcc next to this executable, then
// in the checkout's bin/, then on PATH.
func defaultChaincodeServer() string {
	if v := os.Getenv(envChaincodeServer); v != "" {
		return v
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "creditcc"))
	}
	if root := checkoutRoot(); root != "" {
		candidates = append(candidates, filepath.Join(root, "bin", "creditcc"))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	if p, err := exec.LookPath("creditcc"); err == nil {
		return p
	}
	return ""
}

// signalContext is cancelled by SIGINT or SIGTERM, so a long `up` stops
// cleanly between steps.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// NewCmdNetwork is the "network" noun.
func NewCmdNetwork(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network <up|down|status|clean>",
		Short: "Run the local Fabric network of county peers and orderers",
		Long: `Run the county credit network natively (no Docker): Fabric ` + network.FabricVersion + ` orderers and
peers, and the credit chaincode as a service, as background processes. The
topology (counties, hosts, ports, Raft or BFT) comes from network/topology.yaml;
everything the network writes goes to one run folder (default .run/net), whose
network.json is the profile clients read. See docs/NETWORK.md.`,
	}
	cmd.AddCommand(NewCmdNetworkUp(f, nil), NewCmdNetworkDown(f, nil), NewCmdNetworkStatus(f, nil), NewCmdNetworkClean(f, nil))
	return cmd
}

// NetworkUpOptions are the inputs of `network up`.
type NetworkUpOptions struct {
	IO              *IOStreams
	RunDir          string
	TopologyFile    string // "" = the run folder's stored topology, else network/topology.yaml, else built-in
	TopologySet     bool   // --topology (or its env) was given explicitly
	BasePort        int    // 0 = as in the topology
	FabricDir       string
	ChaincodeServer string
	Hosts           []string
	StartOnly       bool
	FreePorts       bool // on creation, shift the base port until every port is free
	// Output and Lang are the global -o and --lang ("" output = table on a
	// terminal, plain otherwise).
	Output, Lang string
	// Up, Status and Calendars are dependencies, replaced in tests. Status
	// reports the network as Up left it.
	Up        func(context.Context, network.Options) (*network.Network, error)
	Status    func(context.Context, *network.Network) (*network.Status, error)
	Calendars func() ([]json.RawMessage, error)
}

// NewCmdNetworkUp builds `network up`.
func NewCmdNetworkUp(f *Factory, runF func(*NetworkUpOptions) error) *cobra.Command {
	opts := &NetworkUpOptions{IO: f.IO, Up: network.Up, Status: upStatus, Calendars: shippedCalendars}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Bring the network up, or repair it: only what is missing is done",
		Long: `Bring the network up from nothing, or repair it after a crash or a down:
generate crypto material, staff identities and the genesis block (once), start
the orderers, peers and chaincode servers that are not running, join the
channel, install, approve and commit the chaincode, register every county and
install the shipped calendars. Ledgers are kept.

Progress goes to stderr. At the end it prints every node of the network as
up left it (process, PID, health, height) and the profile it wrote;
-o json prints the same as network status -o json, plus "profile".`,
		Example: `  creditctl network up
  creditctl network up --run /tmp/testnet --base-port 37050 --free-ports -o json
  creditctl network up --topology two-host.yaml --host 10.0.0.1 --start-only`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.TopologySet = opts.TopologySet || cmd.Flags().Changed("topology")
			if opts.BasePort < 0 {
				return &UsageError{Err: fmt.Errorf("--base-port %d: must be positive", opts.BasePort)}
			}
			var err error
			if opts.Output, opts.Lang, err = f.outputSettings(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runNetworkUp(opts)
		},
	}
	opts.TopologyFile = os.Getenv(envTopology)
	opts.TopologySet = opts.TopologyFile != ""
	cmd.Flags().StringVar(&opts.RunDir, "run", defaultRunDir(), "run folder (env "+envRun+")")
	cmd.Flags().StringVar(&opts.TopologyFile, "topology", opts.TopologyFile, "topology file (env "+envTopology+"; default: the run folder's own, else network/topology.yaml)")
	cmd.Flags().IntVar(&opts.BasePort, "base-port", 0, "first port of the network, overriding the topology's basePort")
	cmd.Flags().StringVar(&opts.FabricDir, "fabric", defaultFabricDir(), "folder with Fabric's bin/ and config/ (env "+envFabric+"; make fabric)")
	cmd.Flags().StringVar(&opts.ChaincodeServer, "chaincode-server", defaultChaincodeServer(), "creditcc binary (env "+envChaincodeServer+")")
	cmd.Flags().StringSliceVar(&opts.Hosts, "host", nil, "start only the nodes on these hosts (several machines; see docs/NETWORK.md)")
	cmd.Flags().BoolVar(&opts.StartOnly, "start-only", false, "start this machine's processes and stop there (with --host, on a second machine)")
	cmd.Flags().BoolVar(&opts.FreePorts, "free-ports", false, "for a new run folder: move the base port up in steps of 1000 until all its ports are free (throw-away test networks)")
	return cmd
}

func upStatus(ctx context.Context, n *network.Network) (*network.Status, error) { return n.Status(ctx) }

// shippedCalendars are the chaincode's built-in calendars, installed by up.
func shippedCalendars() ([]json.RawMessage, error) {
	var out []json.RawMessage
	for _, c := range credit.ShippedCalendars() {
		out = append(out, credit.MarshalCalendar(&c))
	}
	return out, nil
}

// resolveTopology picks the topology for up (see NetworkUpOptions).
func (o *NetworkUpOptions) resolveTopology() (*network.Topology, error) {
	path := o.TopologyFile
	exists := fileExists(filepath.Join(o.RunDir, "config", "topology.yaml"))
	if !o.TopologySet {
		if exists && o.BasePort == 0 {
			return nil, nil // the run folder's own
		}
		if p := underCheckout(filepath.Join("network", "topology.yaml")); fileExists(p) {
			path = p
		}
	}
	var t *network.Topology
	if path == "" {
		t = network.DefaultTopology()
	} else {
		var err error
		if t, err = network.LoadTopology(path); err != nil {
			return nil, err
		}
	}
	if o.BasePort != 0 {
		t.BasePort = o.BasePort
		if err := t.Validate(); err != nil {
			return nil, err
		}
	}
	if o.FreePorts && !exists {
		if err := t.ShiftToFreePorts(1000, 20); err != nil {
			return nil, fmt.Errorf("network up --free-ports: %w", err)
		}
	}
	return t, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func runNetworkUp(o *NetworkUpOptions) error {
	t, err := o.resolveTopology()
	if err != nil {
		return err
	}
	cals, err := o.Calendars()
	if err != nil {
		return fmt.Errorf("load shipped calendars: %w", err)
	}
	// The network runs Fabric's binaries from other working directories,
	// so a relative --fabric would not be found there.
	fabric := o.FabricDir
	if abs, err := filepath.Abs(fabric); err == nil {
		fabric = abs
	}
	ctx, cancel := signalContext()
	defer cancel()
	n, err := o.Up(ctx, network.Options{
		Dir: o.RunDir, Topology: t, FabricDir: fabric, ChaincodeServer: o.ChaincodeServer,
		Hosts: o.Hosts, StartOnly: o.StartOnly, Calendars: cals, Progress: o.IO.ErrOut,
	})
	if err != nil {
		if n != nil {
			fmt.Fprintf(o.IO.ErrOut, "network: logs are in %s; `creditctl network up` again repairs, `creditctl network down` stops\n", n.LogsDir())
		}
		return err
	}
	st, err := o.Status(ctx, n)
	if err != nil {
		return fmt.Errorf("network up: it is up, but its status could not be read: %w", err)
	}
	p := NewPrinter(o.IO, o.Output, o.Lang)
	res := NetworkUpResult{Profile: n.ProfilePath(), Status: st}
	if p.JSON() {
		return p.WriteJSON(res)
	}
	return writeStatus(p, st, []string{"profile", res.Profile})
}

// NetworkUpResult is what network up prints (docs/OPERATOR.md): the
// profile it wrote and the network's status as up left it. In JSON the
// status's fields sit beside "profile".
type NetworkUpResult struct {
	Profile string `json:"profile"`
	*network.Status
}

// outputSettings resolves the global -o and --lang for the commands that
// read no ledger (network, identity); called after flag parsing.
func (f *Factory) outputSettings() (output, lang string, err error) {
	s, err := f.Settings()
	if err != nil {
		return "", "", err
	}
	return s.Output, s.Lang, nil
}

// NetworkDownOptions are the inputs of `network down` and `network clean`.
type NetworkDownOptions struct {
	IO     *IOStreams
	RunDir string
	// Output and Lang are the global -o and --lang.
	Output, Lang string
}

// NetworkDownResult is what network down prints (docs/OPERATOR.md): every
// process a PID file of the run folder named, sorted by name, and what
// was done to it.
type NetworkDownResult struct {
	RunFolder string           `json:"runFolder"`
	Nodes     []NetworkStopped `json:"nodes"`
}

// NetworkStopped is one process down found.
type NetworkStopped struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Action is "stopped" (SIGTERM), "killed" (did not stop within the
	// grace period: SIGKILL) or "stale" (the PID file's process was gone;
	// only the file was removed).
	Action string `json:"action"`
}

// NetworkCleanResult is what network clean prints: what it stopped, and
// whether it removed the run folder (false when there was none).
type NetworkCleanResult struct {
	NetworkDownResult
	Removed bool `json:"removed"`
}

func downResult(dir string, res []network.StopResult) NetworkDownResult {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	out := NetworkDownResult{RunFolder: dir, Nodes: []NetworkStopped{}}
	for _, r := range res {
		out.Nodes = append(out.Nodes, NetworkStopped{Name: r.Name, PID: r.PID, Action: r.Action})
	}
	return out
}

// writeStopped prints down's and clean's result: a row per process, then
// the run folder (and, for clean, whether it was removed).
func writeStopped(p *Printer, r NetworkDownResult, extra ...[]string) error {
	if len(r.Nodes) > 0 {
		rows := make([][]string, 0, len(r.Nodes))
		for _, n := range r.Nodes {
			rows = append(rows, []string{n.Name, strconv.Itoa(n.PID), n.Action})
		}
		if err := p.Table([]string{p.Label("node"), p.Label("pid"), p.Label("action")}, rows); err != nil {
			return err
		}
		if p.Format == OutputTable {
			fmt.Fprintln(p.IO.Out)
		}
	}
	return p.Table(nil, append([][]string{{p.Label("runFolder"), r.RunFolder}}, extra...))
}

// NewCmdNetworkDown builds `network down`.
func NewCmdNetworkDown(f *Factory, runF func(*NetworkDownOptions) error) *cobra.Command {
	opts := &NetworkDownOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every process the run folder started (and only those); keep the ledgers",
		Long: `Stop the chaincode servers, then the peers, then the orderers that the run
folder's PID files name, and only those (a PID reused by another program is
never signalled). Ledgers, crypto material and logs stay: network up starts
them again. It prints each process with its PID and what was done
(stopped, killed after the 15 s grace period, or stale: already gone).`,
		Example: `  creditctl network down
  creditctl network down --run /tmp/testnet -o json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			var err error
			if opts.Output, opts.Lang, err = f.outputSettings(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runNetworkDown(opts)
		},
	}
	cmd.Flags().StringVar(&opts.RunDir, "run", defaultRunDir(), "run folder (env "+envRun+")")
	return cmd
}

func runNetworkDown(o *NetworkDownOptions) error {
	ctx, cancel := signalContext()
	defer cancel()
	res, err := network.Down(ctx, o.RunDir, o.IO.ErrOut)
	if err != nil {
		return err
	}
	if len(res) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "network: nothing running from %s\n", o.RunDir)
	}
	p := NewPrinter(o.IO, o.Output, o.Lang)
	r := downResult(o.RunDir, res)
	if p.JSON() {
		return p.WriteJSON(r)
	}
	return writeStopped(p, r)
}

// NewCmdNetworkClean builds `network clean`.
func NewCmdNetworkClean(f *Factory, runF func(*NetworkDownOptions) error) *cobra.Command {
	opts := &NetworkDownOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Stop the network and delete its run folder: ledgers, crypto material, logs",
		Long: `Stop the network as network down does, then delete the run folder. A folder
that does not look like a run folder (no config/topology.yaml, network.json
or pids/) is refused, so a mistyped path is never wiped.`,
		Example: `  creditctl network clean
  creditctl network clean --run /tmp/testnet -o json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			var err error
			if opts.Output, opts.Lang, err = f.outputSettings(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runNetworkClean(opts)
		},
	}
	cmd.Flags().StringVar(&opts.RunDir, "run", defaultRunDir(), "run folder (env "+envRun+")")
	return cmd
}

func runNetworkClean(o *NetworkDownOptions) error {
	p := NewPrinter(o.IO, o.Output, o.Lang)
	r := NetworkCleanResult{NetworkDownResult: downResult(o.RunDir, nil)}
	if fileExists(o.RunDir) {
		ctx, cancel := signalContext()
		defer cancel()
		// Down first, for its results (Clean stops through Down too, and
		// then finds nothing). Down only acts on the folder's pids/, and a
		// folder with pids/ passes Clean's run-folder check anyway; any
		// other folder goes straight to Clean, which refuses it.
		var res []network.StopResult
		if fileExists(network.Layout{Dir: o.RunDir}.PidsDir()) {
			var err error
			if res, err = network.Down(ctx, o.RunDir, o.IO.ErrOut); err != nil {
				return fmt.Errorf("network clean: %w", err)
			}
		}
		if err := network.Clean(ctx, o.RunDir, o.IO.ErrOut); err != nil {
			return err
		}
		r.NetworkDownResult, r.Removed = downResult(o.RunDir, res), true
		fmt.Fprintf(o.IO.ErrOut, "network: removed %s\n", o.RunDir)
	} else {
		fmt.Fprintf(o.IO.ErrOut, "network: nothing to remove: %s does not exist\n", o.RunDir)
	}
	if p.JSON() {
		return p.WriteJSON(r)
	}
	return writeStopped(p, r.NetworkDownResult, []string{p.Label("removed"), p.Value("removed", strconv.FormatBool(r.Removed))})
}

// NetworkStatusOptions are the inputs of `network status`.
type NetworkStatusOptions struct {
	IO        *IOStreams
	RunDir    string
	FabricDir string
	// Output and Lang are the global -o and --lang.
	Output, Lang string
	Status       func(context.Context, string, string) (*network.Status, error)
}

// NewCmdNetworkStatus builds `network status`.
func NewCmdNetworkStatus(f *Factory, runF func(*NetworkStatusOptions) error) *cobra.Command {
	opts := &NetworkStatusOptions{IO: f.IO, Status: networkStatus}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Health of every node, channel height per node, chaincode committed or not",
		Long: `Show every orderer, peer and chaincode server of the run folder: whether its
process runs, its PID, its /healthz, and its height of the channel; which
orderer is the channel's consensus leader (none during an election: nothing
can be ordered then); and whether the chaincode is committed. Exits 1 when
anything is not healthy.

-o plain prints one tab-separated line per node (node, kind, county,
address, process, pid, health, height, note), then "field<TAB>value" lines
(channel, chaincode, chaincodeCommitted, chaincodeSequence, orderingLeader,
healthy, runFolder); -o json prints the same as an object (docs/OPERATOR.md).`,
		Example: `  creditctl network status
  creditctl network status --run /tmp/testnet -o json
  creditctl network status -o plain | awk -F'\t' 'NF > 2 && $7 != "OK"'   # the nodes that are not healthy`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			var err error
			if opts.Output, opts.Lang, err = f.outputSettings(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runNetworkStatus(opts)
		},
	}
	cmd.Flags().StringVar(&opts.RunDir, "run", defaultRunDir(), "run folder (env "+envRun+")")
	cmd.Flags().StringVar(&opts.FabricDir, "fabric", defaultFabricDir(), "folder with Fabric's bin/ and config/ (env "+envFabric+")")
	return cmd
}

func networkStatus(ctx context.Context, dir, fabricDir string) (*network.Status, error) {
	n, err := network.Open(dir, fabricDir)
	if err != nil {
		return nil, err
	}
	return n.Status(ctx)
}

// errUnhealthy makes `network status` exit 1 after printing.
var errUnhealthy = errors.New("network is not healthy")

func runNetworkStatus(o *NetworkStatusOptions) error {
	ctx, cancel := signalContext()
	defer cancel()
	s, err := o.Status(ctx, o.RunDir, o.FabricDir)
	if err != nil {
		return err
	}
	p := NewPrinter(o.IO, o.Output, o.Lang)
	if p.JSON() {
		err = p.WriteJSON(s)
	} else {
		err = writeStatus(p, s)
	}
	if err != nil {
		return err
	}
	if !s.Healthy {
		return errUnhealthy
	}
	return nil
}

// writeStatus prints a status as table or plain: a row per node, then the
// channel's rows (and extra rows, e.g. up's profile).
func writeStatus(p *Printer, s *network.Status, extra ...[]string) error {
	dash := func(v string) string {
		if v == "" || v == "0" {
			return "-"
		}
		return v
	}
	rows := make([][]string, 0, len(s.Nodes))
	for _, n := range s.Nodes {
		rows = append(rows, []string{n.Name, n.Kind, dash(n.County), n.Address, n.Process, dash(strconv.Itoa(n.PID)),
			n.Health, dash(strconv.FormatUint(n.Height, 10)), n.Error})
	}
	var headers []string
	for _, h := range []string{"node", "kind", "county", "address", "process", "pid", "health", "height", "note"} {
		headers = append(headers, p.Label(h))
	}
	if err := p.Table(headers, rows); err != nil {
		return err
	}
	if p.Format == OutputTable {
		fmt.Fprintln(p.IO.Out)
	}
	summary := [][]string{
		{p.Label("channel"), s.Channel},
		{p.Label("chaincode"), s.Chaincode},
		{p.Label("chaincodeCommitted"), p.Value("chaincodeCommitted", strconv.FormatBool(s.Committed))},
		{p.Label("chaincodeSequence"), strconv.Itoa(s.ChaincodeSequence)},
		{p.Label("orderingLeader"), cmp.Or(s.OrderingLeader, "none")},
		{p.Label("healthy"), p.Value("healthy", strconv.FormatBool(s.Healthy))},
		{p.Label("runFolder"), s.Dir},
	}
	return p.Table(nil, append(summary, extra...))
}
