package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/network"
)

func init() {
	commandAdders = append(commandAdders, NewCmdBench)
}

// NewCmdBench is the "bench" noun: the load generator and the benchmark
// suite behind `make bench` (docs/PERFORMANCE.md).
func NewCmdBench(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench <load|suite|table>",
		Short: "Measure the ledger: load a network, or run the whole benchmark suite",
		Long: `Measure a credit ledger network. "bench load" drives a running network (yours, through
its profile) with concurrent clients and reports committed transactions per second
and commit latency, each workload against the others in the same run. "bench
suite" is what make bench runs: throw-away networks for the default topology, each
tuning setting and 2 to 6 counties, plus the Go benchmarks of the indexer and the
certificates, folded into one table of figures, same-run baselines and ratios
(docs/PERFORMANCE.md).`,
	}
	cmd.AddCommand(NewCmdBenchLoad(f, nil), NewCmdBenchSuite(f, nil), NewCmdBenchTable(f, nil))
	return cmd
}

// BenchLoadOptions are the inputs of `bench load`.
type BenchLoadOptions struct {
	IO          *IOStreams
	Workloads   []string
	Clients     int
	Connections int // 0 = one per peer
	Rate        float64
	Duration    time.Duration
	Warmup      time.Duration
	Rounds      int
	User        string // every county's clients act as this user (--user; an officer)
	JSON        bool   // -o json
	// CPU samples the CPU of the processes serving the load (the run
	// folder's, when --run is given) and of creditctl; nil: not sampled.
	CPU func() map[string]time.Duration
	// RunDir is the network's run folder, for CPU accounting ("" = none).
	RunDir string
	// Profile, Dial and Now are dependencies, replaced in tests.
	Profile func() (*network.Profile, error)
	Dial    func(p *network.Profile, connections int, user string) ([]BenchConn, error)
	Now     func() time.Time
}

// NewCmdBenchLoad builds `bench load`.
func NewCmdBenchLoad(f *Factory, runF func(*BenchLoadOptions) error) *cobra.Command {
	opts := &BenchLoadOptions{IO: f.IO, Profile: f.Profile, Dial: DialPool, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Drive a running network with concurrent clients; report tx/s and commit latency",
		Long: `Drive the network of the profile with --clients concurrent clients, each submitting
transactions through the Gateway as its county's officer and waiting for the
commit status, and report committed transactions per second and the latency from
proposal to commit status (p50, p90, p99). Connections go to every county and peer
in turn. Several workloads are measured alternately (--rounds), so they see the
same machine, and each is compared with the first.

Workloads: noop (the platform's ceiling: no read, no write), put (BaselinePut: one
key, one JSON value, asset-transfer style), credit (MakeCommitment, the most common
credit write), mix (45% commitments made, 20% fulfilled, 20% punishments imposed,
15% enforcements recorded).

The records it writes are real records on the ledger: use a test network.`,
		Example: `  creditctl bench load --workload noop,credit --clients 100 --duration 30s
  creditctl bench load --workload credit --rate 50 --duration 60s -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			for _, w := range opts.Workloads {
				if !containsStr(Workloads, w) {
					return &UsageError{Err: fmt.Errorf("--workload %q: must be one of %s", w, strings.Join(Workloads, ", "))}
				}
			}
			if len(opts.Workloads) == 0 {
				return &UsageError{Err: errors.New("--workload: name at least one")}
			}
			if opts.Clients < 1 || opts.Connections < 0 || opts.Rate < 0 || opts.Rounds < 1 || opts.Duration <= 0 || opts.Warmup < 0 {
				return &UsageError{Err: fmt.Errorf("--clients %d, --connections %d, --rate %g, --rounds %d, --duration %s, --warmup %s: clients and rounds at least 1, duration positive, the others not negative",
					opts.Clients, opts.Connections, opts.Rate, opts.Rounds, opts.Duration, opts.Warmup)}
			}
			st, err := f.Settings()
			if err != nil {
				return err
			}
			opts.JSON, opts.User = st.Output == OutputJSON, st.User
			if opts.RunDir != "" {
				opts.CPU = NetworkCPU(opts.RunDir)
			} else {
				opts.CPU = func() map[string]time.Duration { return map[string]time.Duration{"client": SelfCPU()} }
			}
			if runF != nil {
				return runF(opts)
			}
			return runBenchLoad(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Workloads, "workload", []string{WorkloadNoop, WorkloadCredit}, "workloads to compare: "+strings.Join(Workloads, ", "))
	cmd.Flags().IntVar(&opts.Clients, "clients", 100, "concurrent clients")
	cmd.Flags().IntVar(&opts.Connections, "connections", 0, "Gateway connections shared by the clients (0 = one per peer)")
	cmd.Flags().Float64Var(&opts.Rate, "rate", 0, "open loop: start this many transactions per second in total (0 = closed loop)")
	cmd.Flags().DurationVar(&opts.Duration, "duration", 30*time.Second, "measured time per workload")
	cmd.Flags().DurationVar(&opts.Warmup, "warmup", 5*time.Second, "unmeasured time before each round")
	cmd.Flags().StringVar(&opts.RunDir, "run", "", "the network's run folder on this machine, to report the CPU its processes use per transaction")
	cmd.Flags().IntVar(&opts.Rounds, "rounds", 1, "alternate the workloads this many times (the duration is split over the rounds)")
	return cmd
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func runBenchLoad(o *BenchLoadOptions) error {
	p, err := o.Profile()
	if err != nil {
		return err
	}
	conns := o.Connections
	if conns == 0 {
		conns = PeerCount(p)
	}
	pool, err := o.Dial(p, conns, o.User)
	if err != nil {
		return err
	}
	defer ClosePool(pool)
	ctx, cancel := signalContext()
	defer cancel()
	if err := WaitReady(ctx, pool, time.Minute); err != nil {
		return err
	}
	var cases []LoadCase
	for _, w := range o.Workloads {
		cases = append(cases, LoadCase{Name: w, Pool: pool, Spec: LoadSpec{Workload: w, Clients: o.Clients, Rate: o.Rate, Warmup: o.Warmup, Duration: o.Duration}})
	}
	now := o.Now()
	tag := strconv.FormatInt(now.UnixNano()/1e6%(36*36*36*36*36*36), 36)
	fmt.Fprintf(o.IO.ErrOut, "bench: %d clients over %d connections to %d counties; %s per workload after %s warmup\n",
		o.Clients, len(pool), len(p.Counties), o.Duration, o.Warmup)
	res, err := CompareLoads(ctx, cases, CompareOptions{Rounds: o.Rounds, Tag: tag, Today: credit.DateOf(now),
		Progress: func(s string) { fmt.Fprintln(o.IO.ErrOut, "bench: "+s) }, CPU: o.CPU})
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return writeLoadTable(o.IO.Out, res)
}

// writeLoadTable prints one line per workload, with its ratio to the first.
func writeLoadTable(w io.Writer, res []LoadResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\ttx/s\tp50 ms\tp90 ms\tp99 ms\tcommitted\tfailed\tvs first\tcpu ms/tx\t")
	for _, r := range res {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t\n", r.Name, sig3(r.TPS), sig3(r.Latency.P50), sig3(r.Latency.P90), sig3(r.Latency.P99),
			r.Committed, r.Failed, FormatRatio(Ratio(r.TPS, res[0].TPS)), cpuBreakdown(r.CPUPerTx))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range res {
		for _, e := range r.Errors {
			fmt.Fprintf(w, "%s: %d× %s\n", r.Name, e.Count, e.Error)
		}
	}
	return nil
}

// BenchSuiteOptions are the inputs of `bench suite`.
type BenchSuiteOptions struct {
	IO              *IOStreams
	Out             string   // folder for results.json, table.md, scaling.png, networks.log
	GoBench         []string // go test -bench outputs to fold in
	TopologyFile    string
	BasePort        int
	FabricDir       string
	ChaincodeServer string
	Plan            SuitePlan
	Doc             string // a document whose bench block is replaced
	Plot            string // where to write the plot (default <out>/scaling.png)
	Command         string // the command shown in the table's header
	// Run is RunSuite, replaced in tests.
	Run func(context.Context, SuitePlan, SuiteConfig) (*SuiteResults, error)
	Now func() time.Time
}

// NewCmdBenchSuite builds `bench suite`.
func NewCmdBenchSuite(f *Factory, runF func(*BenchSuiteOptions) error) *cobra.Command {
	opts := &BenchSuiteOptions{IO: f.IO, Plan: DefaultSuitePlan, Now: f.Now}
	opts.Run = func(ctx context.Context, plan SuitePlan, cfg SuiteConfig) (*SuiteResults, error) {
		return RunSuite(ctx, plan, cfg, SuiteEnv{Up: network.Up, Clean: network.Clean, Dial: DialPool, Profile: network.LoadProfile, Now: time.Now, CPU: NetworkCPU})
	}
	cmd := &cobra.Command{
		Use:   "suite",
		Short: "Run the benchmark suite on throw-away networks and print one table (make bench)",
		Long: `Run the benchmark suite: bring up a throw-away network of the topology (on free
ports from --base-port, in a temporary folder under --out), measure credit writes,
the credit mix, BaselinePut and Noop with --clients closed-loop clients, commit
latency at a moderate open-loop load, and client connection counts; then one fresh
network per tuning setting (--variants) and per county count (--counties), each
measured with the same credit load; fold in the Go benchmarks named by --go-bench
(go test -bench -json output); and print one table: figure, baseline measured in
the same run, ratio. Every network is stopped and removed, also on Ctrl-C.

It writes <out>/results.json (everything measured; "bench table" redraws from
it), <out>/table.md and the plot (<out>/scaling.png or --plot), and with --doc
replaces the generated block of that document. It exits 1 when a row could not be
measured, after printing the table.`,
		Example: `  creditctl bench suite --go-bench .run/bench/indexer.json --doc docs/PERFORMANCE.md --plot docs/scaling.png
  creditctl bench suite --duration 4s --warmup 1s --rounds 1 --variants block-10 --counties 2   # a quick check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := &opts.Plan
			if p.Clients < 1 || p.Rounds < 1 || p.Duration <= 0 || p.Warmup < 0 || p.ModerateLoad <= 0 || p.ModerateLoad > 1 {
				return &UsageError{Err: fmt.Errorf("--clients %d, --rounds %d, --duration %s, --warmup %s, --moderate-load %g: clients and rounds at least 1, duration positive, warmup not negative, moderate load in (0, 1]",
					p.Clients, p.Rounds, p.Duration, p.Warmup, p.ModerateLoad)}
			}
			for _, v := range p.Variants {
				if _, ok := findVariant(v); !ok {
					return &UsageError{Err: fmt.Errorf("--variants %q: must be among %s", v, strings.Join(variantNames(), ", "))}
				}
			}
			for _, n := range p.Counties {
				if n < 1 || n > MaxScalingCounties {
					return &UsageError{Err: fmt.Errorf("--counties %d: must be 1 to %d", n, MaxScalingCounties)}
				}
			}
			if opts.BasePort < 1024 || opts.BasePort > 60000 {
				return &UsageError{Err: fmt.Errorf("--base-port %d: must be 1024 to 60000", opts.BasePort)}
			}
			if opts.Command == "" {
				opts.Command = "creditctl " + strings.Join(os.Args[1:], " ")
			}
			if runF != nil {
				return runF(opts)
			}
			return runBenchSuite(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Out, "out", underCheckout(filepath.Join(".run", "bench")), "folder for results.json, table.md, scaling.png and the networks' log")
	fl.StringSliceVar(&opts.GoBench, "go-bench", nil, "go test -bench output (-json or text) to fold into the table; repeatable")
	fl.StringVar(&opts.TopologyFile, "topology", underCheckout(filepath.Join("network", "topology.yaml")), "the default network's topology")
	fl.IntVar(&opts.BasePort, "base-port", 32050, "first port of the throw-away networks (moved up while busy; below the ephemeral range 32768-60999, where a port free for a moment may be handed to an outgoing connection)")
	fl.StringVar(&opts.FabricDir, "fabric", defaultFabricDir(), "folder with Fabric's bin/ and config/ (env "+envFabric+")")
	fl.StringVar(&opts.ChaincodeServer, "chaincode-server", defaultChaincodeServer(), "creditcc binary (env "+envChaincodeServer+")")
	fl.IntVar(&opts.Plan.Clients, "clients", opts.Plan.Clients, "closed-loop clients")
	fl.DurationVar(&opts.Plan.Duration, "duration", opts.Plan.Duration, "measured time of each load")
	fl.DurationVar(&opts.Plan.Warmup, "warmup", opts.Plan.Warmup, "unmeasured time before each round")
	fl.IntVar(&opts.Plan.Rounds, "rounds", opts.Plan.Rounds, "rounds of alternation when loads are compared on one network")
	fl.Float64Var(&opts.Plan.ModerateLoad, "moderate-load", opts.Plan.ModerateLoad, "latency is measured at this fraction of the credit throughput")
	fl.StringSliceVar(&opts.Plan.Variants, "variants", opts.Plan.Variants, "tuning settings to measure: "+strings.Join(variantNames(), ", ")+" (none: --variants '')")
	fl.IntSliceVar(&opts.Plan.Counties, "counties", opts.Plan.Counties, fmt.Sprintf("county counts of the scaling curve (1-%d; the default network gives its own)", MaxScalingCounties))
	fl.StringVar(&opts.Doc, "doc", "", "replace the generated block of this Markdown file (docs/PERFORMANCE.md) with the table")
	fl.StringVar(&opts.Plot, "plot", "", "write the scaling plot here (default <out>/scaling.png)")
	fl.StringVar(&opts.Command, "command", "", "the command shown in the table's header (default: this command line)")
	return cmd
}

// errIncomplete makes the suite exit 1 after printing a table with rows
// that could not be measured.
var errIncomplete = errors.New("some rows could not be measured")

func runBenchSuite(o *BenchSuiteOptions) error {
	top, err := network.LoadTopology(o.TopologyFile)
	if err != nil {
		return err
	}
	top.BasePort = o.BasePort
	if err := top.Validate(); err != nil {
		return err
	}
	goBench, err := readGoBench(o.GoBench)
	if err != nil {
		return err
	}
	cals, err := shippedCalendars()
	if err != nil {
		return fmt.Errorf("load shipped calendars: %w", err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("bench suite: %w", err)
	}
	logPath := filepath.Join(o.Out, "networks.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("bench suite: %w", err)
	}
	defer logf.Close()
	runs, err := os.MkdirTemp(o.Out, "net-")
	if err != nil {
		return fmt.Errorf("bench suite: %w", err)
	}
	defer os.RemoveAll(runs)
	machine, loadStart := MachineHeader()
	start := o.Now()
	fmt.Fprintf(o.IO.ErrOut, "bench: %s; load average %s; networks' progress in %s\n", machine, loadStart, logPath)
	ctx, cancel := signalContext()
	defer cancel()
	res, runErr := o.Run(ctx, o.Plan, SuiteConfig{Topology: top, Dir: runs, FabricDir: o.FabricDir, ChaincodeServer: o.ChaincodeServer,
		Calendars: cals, Log: logf, Progress: o.IO.ErrOut, IdleSample: 3 * time.Second})
	if res == nil {
		return runErr
	}
	res.GoBench = append(res.GoBench, goBench...)
	res.Header = TableHeader{
		Date: start, Machine: machine, Command: o.Command,
		Load: fmt.Sprintf("load average (1, 5, 15 min) %s at the start, %s at the end; %s in all", loadStart, LoadAverage(), o.Now().Sub(start).Round(time.Second)),
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.Out, "results.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	plot := o.Plot
	if plot == "" {
		plot = filepath.Join(o.Out, "scaling.png")
	}
	if err := renderSuite(o.IO.Out, res, filepath.Join(o.Out, "table.md"), o.Doc, plot); err != nil {
		return err
	}
	return runErr
}

// renderSuite prints the table, writes it to tablePath (if set) and into
// doc's generated block (if set), and draws the plot (if set). It returns
// errIncomplete if a row has a missing value.
func renderSuite(out io.Writer, res *SuiteResults, tablePath, doc, plot string) error {
	rows := SuiteRows(res)
	var buf bytes.Buffer
	if err := WriteTable(&buf, res.Header, rows); err != nil {
		return err
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		return err
	}
	if tablePath != "" {
		if err := os.WriteFile(tablePath, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
	}
	if doc != "" {
		old, err := os.ReadFile(doc)
		if err != nil {
			return fmt.Errorf("update %s: %w", doc, err)
		}
		block := buf.String()
		if plot != "" {
			if rel, err := filepath.Rel(filepath.Dir(doc), plot); err == nil {
				block += fmt.Sprintf("\n![Scaling: credit throughput and commit latency against counties, index lookup latency against records](%s)\n", filepath.ToSlash(rel))
			}
		}
		nu, err := ReplaceDocBlock(old, []byte(block))
		if err != nil {
			return fmt.Errorf("update %s: %w", doc, err)
		}
		if err := os.WriteFile(doc, nu, 0o644); err != nil {
			return fmt.Errorf("update %s: %w", doc, err)
		}
	}
	if plot != "" {
		var png bytes.Buffer
		title := "County credit ledger, " + res.Header.Date.UTC().Format("2006-01-02") + ", " + strings.SplitN(res.Header.Machine, ",", 2)[0]
		if err := WriteScalingPlot(&png, title, ScalingPoints(res), LookupPoints(res.GoBench)); err != nil {
			return err
		}
		if err := os.WriteFile(plot, png.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write plot: %w", err)
		}
	}
	var missing []string
	for _, r := range rows {
		if !r.Complete() {
			missing = append(missing, r.Section+": "+r.Name+" ("+r.Note+")")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w:\n  %s", errIncomplete, strings.Join(missing, "\n  "))
	}
	return nil
}

func readGoBench(paths []string) ([]GoBench, error) {
	var out []GoBench
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("read go benchmarks: %w", err)
		}
		bs, err := ParseGoBench(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, bs...)
	}
	return out, nil
}

// BenchTableOptions are the inputs of `bench table`.
type BenchTableOptions struct {
	IO      *IOStreams
	Results string
	GoBench []string
	Doc     string
	Plot    string
}

// NewCmdBenchTable builds `bench table`.
func NewCmdBenchTable(f *Factory, runF func(*BenchTableOptions) error) *cobra.Command {
	opts := &BenchTableOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "table <results.json>",
		Short: "Print the table (and redraw the plot) from a suite's results.json",
		Long: `Print the benchmark table from the results.json a "bench suite" run wrote, with more
Go benchmark outputs folded in (--go-bench, which replace earlier results of the
same benchmarks); optionally update a document's generated block and redraw the
plot. Nothing is measured.`,
		Example: `  creditctl bench table .run/bench/results.json --doc docs/PERFORMANCE.md --plot docs/scaling.png`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			opts.Results = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runBenchTable(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.GoBench, "go-bench", nil, "more go test -bench output to fold in; repeatable")
	cmd.Flags().StringVar(&opts.Doc, "doc", "", "replace the generated block of this Markdown file with the table")
	cmd.Flags().StringVar(&opts.Plot, "plot", "", "redraw the scaling plot here")
	return cmd
}

func runBenchTable(o *BenchTableOptions) error {
	b, err := os.ReadFile(o.Results)
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	var res SuiteResults
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("parse results %s: %w", o.Results, err)
	}
	more, err := readGoBench(o.GoBench)
	if err != nil {
		return err
	}
	res.GoBench = append(res.GoBench, more...)
	return renderSuite(o.IO.Out, &res, "", o.Doc, o.Plot)
}

// cpuBreakdown prints CPU ms per transaction: the total, then by group.
func cpuBreakdown(m map[string]float64) string {
	all, ok := m["all"]
	if !ok {
		return "—"
	}
	var parts []string
	for _, g := range []string{"peer", "orderer", "chaincode", "client"} {
		if v, ok := m[g]; ok {
			parts = append(parts, fmt.Sprintf("%s %.2f", g, v))
		}
	}
	if len(parts) == 1 { // only the client was sampled
		return fmt.Sprintf("%.2f (client only)", all)
	}
	return fmt.Sprintf("%.2f (%s)", all, strings.Join(parts, ", "))
}
