package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

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
	// Up and Calendars are dependencies, replaced in tests.
	Up        func(context.Context, network.Options) (*network.Network, error)
	Calendars func() ([]json.RawMessage, error)
}

// NewCmdNetworkUp builds `network up`.
func NewCmdNetworkUp(f *Factory, runF func(*NetworkUpOptions) error) *cobra.Command {
	opts := &NetworkUpOptions{IO: f.IO, Up: network.Up, Calendars: shippedCalendars}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Bring the network up, or repair it: only what is missing is done",
		Long: `Bring the network up from nothing, or repair it after a crash or a down:
generate crypto material, staff identities and the genesis block (once), start
the orderers, peers and chaincode servers that are not running, join the
channel, install, approve and commit the chaincode, register every county and
install the shipped calendars. Ledgers are kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.TopologySet = opts.TopologySet || cmd.Flags().Changed("topology")
			if opts.BasePort < 0 {
				return &UsageError{Err: fmt.Errorf("--base-port %d: must be positive", opts.BasePort)}
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
	ctx, cancel := signalContext()
	defer cancel()
	n, err := o.Up(ctx, network.Options{
		Dir: o.RunDir, Topology: t, FabricDir: o.FabricDir, ChaincodeServer: o.ChaincodeServer,
		Hosts: o.Hosts, StartOnly: o.StartOnly, Calendars: cals, Progress: o.IO.ErrOut,
	})
	if err != nil {
		if n != nil {
			fmt.Fprintf(o.IO.ErrOut, "network: logs are in %s; `creditctl network up` again repairs, `creditctl network down` stops\n", n.LogsDir())
		}
		return err
	}
	fmt.Fprintln(o.IO.Out, n.ProfilePath())
	return nil
}

// NetworkDownOptions are the inputs of `network down` and `network clean`.
type NetworkDownOptions struct {
	IO     *IOStreams
	RunDir string
}

// NewCmdNetworkDown builds `network down`.
func NewCmdNetworkDown(f *Factory, runF func(*NetworkDownOptions) error) *cobra.Command {
	opts := &NetworkDownOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop every process the run folder started (and only those); keep the ledgers",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
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
	return nil
}

// NewCmdNetworkClean builds `network clean`.
func NewCmdNetworkClean(f *Factory, runF func(*NetworkDownOptions) error) *cobra.Command {
	opts := &NetworkDownOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Stop the network and delete its run folder: ledgers, crypto material, logs",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			if !fileExists(opts.RunDir) {
				fmt.Fprintf(opts.IO.ErrOut, "network: nothing to remove: %s does not exist\n", opts.RunDir)
				return nil
			}
			ctx, cancel := signalContext()
			defer cancel()
			if err := network.Clean(ctx, opts.RunDir, opts.IO.ErrOut); err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.ErrOut, "network: removed %s\n", opts.RunDir)
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.RunDir, "run", defaultRunDir(), "run folder (env "+envRun+")")
	return cmd
}

// NetworkStatusOptions are the inputs of `network status`.
type NetworkStatusOptions struct {
	IO        *IOStreams
	RunDir    string
	FabricDir string
	Output    string // "" (table) or "json"
	Status    func(context.Context, string, string) (*network.Status, error)
}

// NewCmdNetworkStatus builds `network status`.
func NewCmdNetworkStatus(f *Factory, runF func(*NetworkStatusOptions) error) *cobra.Command {
	opts := &NetworkStatusOptions{IO: f.IO, Status: networkStatus}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Health of every node, channel height per node, chaincode committed or not",
		Long: `Show every orderer, peer and chaincode server of the run folder: whether its
process runs, its /healthz, and its height of the channel; and whether the
chaincode is committed. Exits 1 when anything is not healthy.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if opts.Output != "" && opts.Output != "json" {
				return &UsageError{Err: fmt.Errorf("-o %q: the only output format is json", opts.Output)}
			}
			if runF != nil {
				return runF(opts)
			}
			return runNetworkStatus(opts)
		},
	}
	cmd.Flags().StringVar(&opts.RunDir, "run", defaultRunDir(), "run folder (env "+envRun+")")
	cmd.Flags().StringVar(&opts.FabricDir, "fabric", defaultFabricDir(), "folder with Fabric's bin/ and config/ (env "+envFabric+")")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "output format: json")
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
	if o.Output == "json" {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return err
		}
	} else {
		writeStatusTable(o.IO.Out, s)
	}
	if !s.Healthy {
		return errUnhealthy
	}
	return nil
}

func writeStatusTable(w io.Writer, s *network.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tADDRESS\tPROCESS\tPID\tHEALTH\tHEIGHT\tNOTE")
	for _, n := range s.Nodes {
		pid, height := "-", "-"
		if n.PID != 0 {
			pid = fmt.Sprint(n.PID)
		}
		if n.Height != 0 {
			height = fmt.Sprint(n.Height)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, n.Kind, n.Address, n.Process, pid, n.Health, height, n.Error)
	}
	tw.Flush()
	cc := "not committed"
	if s.Committed {
		cc = fmt.Sprintf("committed (sequence %d)", s.ChaincodeSequence)
	}
	fmt.Fprintf(w, "\nchannel %s, chaincode %s: %s\n", s.Channel, s.Chaincode, cc)
	health := "yes"
	if !s.Healthy {
		health = "NO"
	}
	fmt.Fprintf(w, "healthy: %s (run folder %s)\n", health, s.Dir)
}
