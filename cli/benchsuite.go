package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/network"
)

// The suite behind `make bench`: it brings up throw-away networks (the
// default one, one per tuning setting, and one per county count), drives
// each with the load generator, folds in the Go benchmarks' results, and
// writes one table (docs/PERFORMANCE.md), the results as JSON and the
// scaling plot.

// SuitePlan is what the suite measures and for how long.
type SuitePlan struct {
	// Clients is the closed-loop load (the 100 concurrent clients).
	Clients int `json:"clients"`
	// Duration is each load's measured time, split over Rounds rounds
	// when loads are compared alternately; Warmup precedes every round.
	Duration time.Duration `json:"durationNs"`
	Warmup   time.Duration `json:"warmupNs"`
	Rounds   int           `json:"rounds"`
	// ModerateLoad is the fraction of the measured credit throughput at
	// which commit latency is measured (open loop).
	ModerateLoad float64 `json:"moderateLoad"`
	// Variants are the tuning settings to measure (names of
	// TuningVariants); Counties the county counts of the scaling curve.
	Variants []string `json:"variants"`
	Counties []int    `json:"counties"`
}

// DefaultSuitePlan is `make bench`'s plan (about eleven minutes on 2
// cores): the block-cutting alternatives around the default (100 ms, 100
// transactions), the endorsement policy, a gateway limit below the
// clients per peer, two peers per county, and 2, 4 and 6 counties.
var DefaultSuitePlan = SuitePlan{
	Clients: 100, Duration: 16 * time.Second, Warmup: 3 * time.Second, Rounds: 2, ModerateLoad: 0.5,
	Variants: []string{"block-10", "block-50", "block-500-2s", "timeout-500ms", "endorse-any", "gateway-16", "peers-2"},
	Counties: []int{2, 4, 6},
}

// TuningVariant is a network that differs from the default topology in
// one setting; the suite measures its credit throughput against the
// default's.
type TuningVariant struct {
	Name    string // short, for flags and file names
	Group   string // which tuning question it answers
	Setting string // the setting, as the table shows it
	Apply   func(*network.Topology)
	// Latency: also measure commit latency at the default network's
	// moderate load (block cutting decides how long a transaction waits).
	Latency bool
}

// TuningVariants are the settings the suite can measure.
var TuningVariants = []TuningVariant{
	{Name: "block-10", Group: "block cutting", Setting: "maxMessageCount 10", Latency: true,
		Apply: func(t *network.Topology) { t.Orderers.MaxMessageCount = 10 }},
	{Name: "block-50", Group: "block cutting", Setting: "maxMessageCount 50", Latency: true,
		Apply: func(t *network.Topology) { t.Orderers.MaxMessageCount = 50 }},
	{Name: "block-500-2s", Group: "block cutting", Setting: "maxMessageCount 500, batchTimeout 2s (Fabric's sample defaults)", Latency: true,
		Apply: func(t *network.Topology) { t.Orderers.MaxMessageCount, t.Orderers.BatchTimeout = 500, "2s" }},
	{Name: "timeout-100ms", Group: "block cutting", Setting: "batchTimeout 100ms", Latency: true,
		Apply: func(t *network.Topology) { t.Orderers.BatchTimeout = "100ms" }},
	{Name: "timeout-250ms", Group: "block cutting", Setting: "batchTimeout 250ms", Latency: true,
		Apply: func(t *network.Topology) { t.Orderers.BatchTimeout = "250ms" }},
	{Name: "timeout-500ms", Group: "block cutting", Setting: "batchTimeout 500ms", Latency: true,
		Apply: func(t *network.Topology) { t.Orderers.BatchTimeout = "500ms" }},
	{Name: "endorse-any", Group: "endorsement policy", Setting: "ANY Endorsement (one county; measurement only)",
		Apply: func(t *network.Topology) { t.Endorsement = network.EndorsementAny }},
	{Name: "gateway-16", Group: "gateway concurrency", Setting: "peer gatewayService limit 16 (default 500)",
		Apply: func(t *network.Topology) { t.PeerLimits.GatewayService = 16 }},
	{Name: "peers-2", Group: "peers per county", Setting: "2 peers per county",
		Apply: func(t *network.Topology) {
			for i := range t.Counties {
				t.Counties[i].Peers = 2
			}
		}},
}

func variantNames() []string {
	var out []string
	for _, v := range TuningVariants {
		out = append(out, v.Name)
	}
	return out
}

func findVariant(name string) (TuningVariant, bool) {
	for _, v := range TuningVariants {
		if v.Name == name {
			return v, true
		}
	}
	return TuningVariant{}, false
}

// scalingCounties are the counties the scaling networks take, in order:
// the default three, then more county offices of the same provinces.
var scalingCounties = []network.County{
	{Code: "330782", Name: "义乌市"}, {Code: "330182", Name: "建德市"}, {Code: "371324", Name: "兰陵县"},
	{Code: "330783", Name: "东阳市"}, {Code: "330781", Name: "兰溪市"}, {Code: "371323", Name: "沂水县"},
	{Code: "330784", Name: "永康市"}, {Code: "371325", Name: "费县"},
}

// MaxScalingCounties is the largest county count the suite can build.
var MaxScalingCounties = len(scalingCounties)

// withCounties returns a copy of t with the first n scaling counties.
func withCounties(t network.Topology, n int) network.Topology {
	t.Counties = nil
	for _, c := range scalingCounties[:n] {
		c.Host, c.Peers = "127.0.0.1", 1
		t.Counties = append(t.Counties, c)
	}
	return t
}

// NetworkResult is what the suite measured on one network.
type NetworkResult struct {
	Name     string        `json:"name"`
	Setting  string        `json:"setting"`
	Counties int           `json:"counties"`
	Peers    int           `json:"peers"`
	Up       time.Duration `json:"upNs"`
	// IdleCPU is the CPU the network's processes used per second while
	// no load ran (gossip, Raft heartbeats, health checks), in ms/s
	// (1000 is one core); 0 when not sampled.
	IdleCPU float64      `json:"idleCpuMsPerS,omitempty"`
	Loads   []LoadResult `json:"loads"`
	Error   string       `json:"error,omitempty"`
}

func (n *NetworkResult) load(name string) *LoadResult {
	if n == nil {
		return nil
	}
	for i := range n.Loads {
		if n.Loads[i].Name == name {
			return &n.Loads[i]
		}
	}
	return nil
}

// LookupPoint is one point of the lookup-latency curve (from the indexer's
// scaling benchmark).
type LookupPoint struct {
	Records float64 `json:"records"`
	P50us   float64 `json:"p50us"`
	P99us   float64 `json:"p99us"`
}

// SuiteResults is everything one run of the suite measured; the table and
// the plot are made from it alone (`creditctl bench table`).
type SuiteResults struct {
	Header   TableHeader     `json:"header"`
	Plan     SuitePlan       `json:"plan"`
	Networks []NetworkResult `json:"networks"`
	GoBench  []GoBench       `json:"goBench"`
}

func (s *SuiteResults) network(name string) *NetworkResult {
	for i := range s.Networks {
		if s.Networks[i].Name == name {
			return &s.Networks[i]
		}
	}
	return nil
}

// Load names on the networks.
const (
	loadNoop        = "Noop"
	loadPut         = "BaselinePut"
	loadCredit      = "MakeCommitment"
	loadMix         = "credit mix"
	loadCreditRate  = "MakeCommitment, moderate load"
	loadNoopRate    = "Noop, moderate load"
	loadConnsPeers  = "MakeCommitment, 1 connection per peer"
	loadConnsOne    = "MakeCommitment, 1 connection"
	loadConnsFour   = "MakeCommitment, 4 connections per peer"
	netDefault      = "default"
	sectionLedger   = "Ledger throughput"
	sectionLatency  = "Commit latency"
	sectionTuning   = "Tuning"
	sectionScaling  = "Scaling"
	sectionIndexer  = "Indexer"
	sectionCert     = "Certificates"
	benchLookupName = "BenchmarkSubjectProfileScaling"
)

func tps(l *LoadResult) Value {
	if l == nil || l.Committed == 0 {
		return Missing("tx/s")
	}
	return Value{V: l.TPS, Unit: "tx/s"}
}

func latency(l *LoadResult, p int) Value {
	if l == nil || l.Committed == 0 {
		return Missing("ms")
	}
	v := l.Latency.P50
	if p == 99 {
		v = l.Latency.P99
	}
	return Value{V: v, Unit: "ms"}
}

func loadNote(l *LoadResult) string {
	if l == nil {
		return "not measured"
	}
	conns := fmt.Sprintf("%d connections", l.Connections)
	if l.Connections == 1 {
		conns = "1 connection"
	}
	s := fmt.Sprintf("%d clients, %s, %d tx in %.0f s", l.Clients, conns, l.Committed, l.Window.Seconds())
	if l.Rate > 0 {
		s = fmt.Sprintf("open loop %.0f tx/s offered, %d tx in %.0f s", l.Rate, l.Committed, l.Window.Seconds())
	}
	if l.Failed > 0 {
		s += fmt.Sprintf("; %d failed", l.Failed)
		if len(l.Errors) > 0 {
			s += ": " + l.Errors[0].Error
		}
	}
	return s
}

// SuiteRows makes the table's rows from the results, in the order of
// docs/PERFORMANCE.md: throughput, latency, tuning, scaling, then the Go
// benchmarks of the indexer and the certificates.
func SuiteRows(s *SuiteResults) []Row {
	var rows []Row
	def := s.network(netDefault)
	noop, put, cr, mix := def.load(loadNoop), def.load(loadPut), def.load(loadCredit), def.load(loadMix)
	c := s.Plan.Clients
	rows = append(rows,
		Row{Section: sectionLedger, Name: fmt.Sprintf("credit writes (MakeCommitment), %d clients", c), Figure: tps(cr), BaselineName: "Noop (ceiling)", Baseline: tps(noop), Note: loadNote(cr)},
		Row{Section: sectionLedger, Name: fmt.Sprintf("credit writes (MakeCommitment), %d clients", c), Figure: tps(cr), BaselineName: "BaselinePut", Baseline: tps(put), Note: loadNote(put)},
		Row{Section: sectionLedger, Name: fmt.Sprintf("credit mix (45%% make, 20%% fulfil, 20%% punish, 15%% enforce), %d clients", c), Figure: tps(mix), BaselineName: "Noop (ceiling)", Baseline: tps(noop), Note: loadNote(mix)},
		Row{Section: sectionLedger, Name: fmt.Sprintf("BaselinePut (one key, one JSON value), %d clients", c), Figure: tps(put), BaselineName: "Noop (ceiling)", Baseline: tps(noop), Note: loadNote(noop)},
	)
	crR, noR := def.load(loadCreditRate), def.load(loadNoopRate)
	rows = append(rows,
		Row{Section: sectionLatency, Name: "p50, MakeCommitment at moderate load", Figure: latency(crR, 50), BaselineName: "Noop at the same rate", Baseline: latency(noR, 50), Note: loadNote(crR)},
		Row{Section: sectionLatency, Name: "p99, MakeCommitment at moderate load", Figure: latency(crR, 99), BaselineName: "Noop at the same rate", Baseline: latency(noR, 99)},
		Row{Section: sectionLatency, Name: fmt.Sprintf("p50, MakeCommitment at %d clients (saturated)", c), Figure: latency(cr, 50), BaselineName: "Noop, same load", Baseline: latency(noop, 50)},
	)
	// Tuning: each setting's credit throughput against the default's.
	for _, name := range s.Plan.Variants {
		v, ok := findVariant(name)
		if !ok {
			continue
		}
		n := s.network(name)
		l := n.load(loadCredit)
		r := Row{Section: sectionTuning, Name: v.Group + ": " + v.Setting, Figure: tps(l), BaselineName: "default network", Baseline: tps(cr), Note: loadNote(l)}
		if l != nil {
			r.Note = fmt.Sprintf("p50 %s ms, p99 %s ms; %s", sig3(l.Latency.P50), sig3(l.Latency.P99), loadNote(l))
		}
		if n != nil && n.Error != "" {
			r.Note = "failed: " + n.Error
		}
		rows = append(rows, r)
		if v.Latency {
			lr := n.load(loadCreditRate)
			r := Row{Section: sectionTuning, Name: v.Group + ": " + v.Setting + ", commit latency p50 at moderate load",
				Figure: latency(lr, 50), BaselineName: "default network", Baseline: latency(crR, 50), Note: loadNote(lr)}
			if lr != nil {
				r.Note = fmt.Sprintf("p99 %s ms (default %s); %s", sig3(lr.Latency.P99), latency(crR, 99), loadNote(lr))
			}
			if n != nil && n.Error != "" {
				r.Note = "failed: " + n.Error
			}
			rows = append(rows, r)
		}
	}
	one, four, perPeer := def.load(loadConnsOne), def.load(loadConnsFour), def.load(loadConnsPeers)
	rows = append(rows,
		Row{Section: sectionTuning, Name: "client connections: 1 (every client through one county's gateway)", Figure: tps(one), BaselineName: "1 per peer", Baseline: tps(perPeer), Note: loadNote(one)},
		Row{Section: sectionTuning, Name: "client connections: 4 per peer", Figure: tps(four), BaselineName: "1 per peer", Baseline: tps(perPeer), Note: loadNote(four)},
	)
	// Scaling: throughput and latency with more counties, against the
	// smallest network measured.
	pts := ScalingPoints(s)
	if len(pts) > 0 {
		base := pts[0]
		for _, p := range pts[1:] {
			rows = append(rows,
				Row{Section: sectionScaling, Name: fmt.Sprintf("credit throughput, %d counties", p.Counties), Figure: p.TPS, BaselineName: fmt.Sprintf("%d counties", base.Counties), Baseline: base.TPS,
					Note: joinNotes(p.cpuNote(), "at "+strconv.Itoa(base.Counties)+": "+base.cpuNote())},
				Row{Section: sectionScaling, Name: fmt.Sprintf("commit latency p50, %d counties", p.Counties), Figure: p.P50, BaselineName: fmt.Sprintf("%d counties", base.Counties), Baseline: base.P50, Note: "p99 " + p.P99.String()},
			)
		}
	}
	lk := LookupPoints(s.GoBench)
	if len(lk) > 0 {
		base := lk[0]
		for _, p := range lk[1:] {
			rows = append(rows, Row{Section: sectionScaling,
				Name:   fmt.Sprintf("subject profile lookup p50, %s records", commas(strconv.Itoa(int(p.Records)))),
				Figure: Value{p.P50us, "µs"}, BaselineName: fmt.Sprintf("%s records", commas(strconv.Itoa(int(base.Records)))), Baseline: Value{base.P50us, "µs"},
				Note: fmt.Sprintf("p99 %s µs (%s at %s)", sig3(p.P99us), sig3(base.P99us), commas(strconv.Itoa(int(base.Records))))})
		}
	} else {
		rows = append(rows, Row{Section: sectionScaling, Name: "subject profile lookup p50 at 10k, 100k, 1M records", Figure: Missing("µs"), Baseline: Missing("µs"),
			Note: "not run: indexer " + benchLookupName})
	}
	return append(rows, GoBenchRows(goBenchRowSpecs, s.GoBench)...)
}

// ScalePoint is the credit throughput and latency of one county count.
type ScalePoint struct {
	Counties int
	TPS      Value
	P50, P99 Value
	// IdleCPU (ms/s) and CPUPerTx (ms) of the network, 0 if not sampled.
	IdleCPU, CPUPerTx float64
}

// cpuNote says what a scaling point's network cost in CPU.
func (p ScalePoint) cpuNote() string {
	var parts []string
	if p.CPUPerTx > 0 {
		parts = append(parts, fmt.Sprintf("%s ms CPU per tx", sig3(p.CPUPerTx)))
	}
	if p.IdleCPU > 0 {
		parts = append(parts, fmt.Sprintf("idle network %s%% of a core", sig3(p.IdleCPU/10)))
	}
	return strings.Join(parts, "; ")
}

// ScalingPoints lists the scaling networks' points by county count (the
// default network is the three-county point).
func ScalingPoints(s *SuiteResults) []ScalePoint {
	var pts []ScalePoint
	add := func(counties int, n *NetworkResult) {
		l := n.load(loadCredit)
		if l == nil {
			return
		}
		pts = append(pts, ScalePoint{Counties: counties, TPS: tps(l), P50: latency(l, 50), P99: latency(l, 99), IdleCPU: n.IdleCPU, CPUPerTx: l.CPUPerTx["all"]})
	}
	seen := map[int]bool{}
	for _, n := range s.Networks {
		if strings.HasPrefix(n.Name, "counties-") || n.Name == netDefault {
			if !seen[n.Counties] {
				seen[n.Counties] = true
				add(n.Counties, &n)
			}
		}
	}
	// by county count
	for i := 1; i < len(pts); i++ {
		for j := i; j > 0 && pts[j].Counties < pts[j-1].Counties; j-- {
			pts[j], pts[j-1] = pts[j-1], pts[j]
		}
	}
	return pts
}

// LookupPoints reads the indexer's lookup scaling benchmark
// (BenchmarkSubjectProfileScaling/records=N, metrics p50-µs and p99-µs).
func LookupPoints(bs []GoBench) []LookupPoint {
	var pts []LookupPoint
	seen := map[float64]bool{}
	for i := len(bs) - 1; i >= 0; i-- { // the last run of each size wins
		b := bs[i]
		rest, ok := strings.CutPrefix(b.Name, benchLookupName+"/records=")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(rest, 64)
		if err != nil || seen[n] {
			continue
		}
		seen[n] = true
		if r, ok := b.Metrics["records"]; ok {
			n = r
		}
		pts = append(pts, LookupPoint{Records: n, P50us: b.Metrics["p50-µs"], P99us: b.Metrics["p99-µs"]})
	}
	for i := 1; i < len(pts); i++ {
		for j := i; j > 0 && pts[j].Records < pts[j-1].Records; j-- {
			pts[j], pts[j-1] = pts[j-1], pts[j]
		}
	}
	return pts
}

// goBenchRowSpecs are the rows the other parts' Go benchmarks give (their
// metric names are theirs: see each benchmark's comment).
var goBenchRowSpecs = []goBenchRowSpec{
	{Section: sectionIndexer, Name: "index ingest, real network blocks of a quiet network (decode, index, synced batch per block)", Package: "cli", Bench: "BenchmarkIndexIngestVsDelivery/blocks=quiet",
		Figure: metricRef{Metric: "ingest-blocks/s", Unit: "blocks/s"}, BaselineName: "raw delivery (Deliver stream + decode)", Baseline: metricRef{Metric: "delivery-blocks/s", Unit: "blocks/s"},
		Note: "{blocks} blocks, {txs/block} txs each; {ingest-txs/s} tx/s ingested"},
	{Section: sectionIndexer, Name: "index ingest, real network blocks cut under a 100-client credit mix", Package: "cli", Bench: "BenchmarkIndexIngestVsDelivery/blocks=loaded",
		Figure: metricRef{Metric: "ingest-blocks/s", Unit: "blocks/s"}, BaselineName: "raw delivery (Deliver stream + decode)", Baseline: metricRef{Metric: "delivery-blocks/s", Unit: "blocks/s"},
		Note: "{blocks} blocks, {txs/block} txs each; {ingest-txs/s} tx/s ingested; CPU µs a block: delivery {delivery-cpu-µs/block} + peer {delivery-peer-cpu-µs/block}, ingest {ingest-cpu-µs/block} + peer {ingest-peer-cpu-µs/block}; from files {file-ingest/read}×"},
	{Section: sectionIndexer, Name: "index storage floor, the same loaded blocks: received and decoded, each block's batch the rows ingest wrote (recorded), nothing built", Package: "cli", Bench: "BenchmarkIndexIngestVsDelivery/blocks=loaded",
		Figure: metricRef{Metric: "floor-blocks/s", Unit: "blocks/s"}, BaselineName: "raw delivery (Deliver stream + decode)", Baseline: metricRef{Metric: "delivery-blocks/s", Unit: "blocks/s"},
		Note: "the most ingest can reach here; {rows/block} rows, {row-bytes/block} bytes a block; the state mirror's rows alone: {mirror-floor/delivery}×"},
	{Section: sectionIndexer, Name: "replay of ≥100,000 credit transactions into an index on disk", Package: "indexer", Bench: "BenchmarkReplay",
		Figure: metricRef{Metric: "replay-blocks/s", Unit: "blocks/s"}, BaselineName: "decoding the same blocks", Baseline: metricRef{Metric: "decode-blocks/s", Unit: "blocks/s"},
		Note: "{credit-txs} credit txs replayed in {replay-s} s ({replay-txs/s} tx/s); synthetic blocks from the chaincode's operations"},
	{Section: sectionIndexer, Name: "subject profile lookup p50 (index, in process)", Package: "cli", Bench: "BenchmarkIndexSubjectProfile",
		Figure: metricRef{Metric: "index-p50-µs", Unit: "µs"}, BaselineName: "chaincode evaluate SubjectRecords", Baseline: metricRef{Metric: "evaluate-p50-µs", Unit: "µs"},
		Note: "{subjects} subjects, {records/profile} records each"},
	{Section: sectionIndexer, Name: "subject profile lookup p99 (index, in process)", Package: "cli", Bench: "BenchmarkIndexSubjectProfile",
		Figure: metricRef{Metric: "index-p99-µs", Unit: "µs"}, BaselineName: "chaincode evaluate SubjectRecords", Baseline: metricRef{Metric: "evaluate-p99-µs", Unit: "µs"}},
	{Section: sectionIndexer, Name: "subject profile lookup p50 (HTTP API on loopback)", Package: "cli", Bench: "BenchmarkIndexSubjectProfile",
		Figure: metricRef{Metric: "http-p50-µs", Unit: "µs"}, BaselineName: "chaincode evaluate SubjectRecords", Baseline: metricRef{Metric: "evaluate-p50-µs", Unit: "µs"},
		Note: "p99 {http-p99-µs} µs"},
	{Section: sectionCert, Name: "offline verify, one member of a 1,000-certificate batch (warm verifier)", Package: "client/cert", Bench: "BenchmarkOfflineVerifyBatch",
		Figure: metricRef{Metric: "ns/cert", Unit: "µs", Scale: 1e-3}, BaselineName: "raw ECDSA P-256 verify", Baseline: metricRef{Metric: "ns/ecdsa", Unit: "µs", Scale: 1e-3}},
	{Section: sectionCert, Name: "offline verify, one certificate from its own bundle (cold verifier)", Package: "client/cert", Bench: "BenchmarkOfflineVerifyCold",
		Figure: metricRef{Metric: "ns/cert", Unit: "µs", Scale: 1e-3}, BaselineName: "raw ECDSA P-256 verify", Baseline: metricRef{Metric: "ns/ecdsa", Unit: "µs", Scale: 1e-3}},
	{Section: sectionCert, Name: "batch issuance of 10,000 on the network, per certificate", Package: "client/cert", Bench: "BenchmarkIssueBatchNetwork",
		Figure: metricRef{Metric: "issue-ns/cert", Unit: "ms", Scale: 1e-6}, BaselineName: "one single issuance", Baseline: metricRef{Metric: "single-issue-ns", Unit: "ms", Scale: 1e-6},
		Note: "bundle {bundle-ns/cert} ns/cert, offline verify {verify-ns/cert} ns/cert"},
	{Section: sectionCert, Name: "batch issuance of 10,000, chaincode side, per certificate", Package: "chaincode", Bench: "BenchmarkIssueCertificateBatch10000",
		Figure: metricRef{Metric: "ns/cert", Unit: "µs", Scale: 1e-3}, BaselineName: "one single issuance (IssueCertificate)", Baseline: metricRef{Metric: "ns/single", Unit: "µs", Scale: 1e-3},
		Note: "{ms/batch} ms per 10,000 batch, on the chaincode's test stub"},
}

// --- running ---

// SuiteEnv is how the suite reaches networks and the clock; tests replace
// it.
type SuiteEnv struct {
	// Up and Clean manage a throw-away network (network.Up, network.Clean).
	Up    func(context.Context, network.Options) (*network.Network, error)
	Clean func(context.Context, string, io.Writer) error
	// Dial opens connections (DialPool).
	Dial func(p *network.Profile, connections int, user string) ([]BenchConn, error)
	// Profile loads a network's profile.
	Profile func(path string) (*network.Profile, error)
	// Now is the clock (IDs and dates).
	Now func() time.Time
	// CPU, if set, returns a sampler of a run folder's processes' CPU
	// (NetworkCPU).
	CPU func(runDir string) func() map[string]time.Duration
}

// SuiteConfig says where the networks come from.
type SuiteConfig struct {
	Topology        *network.Topology // the default network
	Dir             string            // parent of the run folders
	FabricDir       string
	ChaincodeServer string
	Calendars       []json.RawMessage
	Log             io.Writer // network progress (a file)
	Progress        io.Writer // one line per step (stderr)
	// IdleSample is how long each network's idle CPU is sampled before
	// its loads (0: not sampled).
	IdleSample time.Duration
}

// RunSuite measures the plan's networks and returns the results (with the
// networks that failed marked, not dropped). It stops every network it
// started, also when ctx ends.
func RunSuite(ctx context.Context, plan SuitePlan, cfg SuiteConfig, env SuiteEnv) (*SuiteResults, error) {
	res := &SuiteResults{Plan: plan}
	tag := strconv.FormatInt(env.Now().UnixNano()/1e6%(36*36*36*36*36*36), 36)
	today := credit.DateOf(env.Now())
	say := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "bench: "+format+"\n", args...)
		}
	}
	closed := func(workload string) LoadSpec {
		return LoadSpec{Workload: workload, Clients: plan.Clients, Warmup: plan.Warmup, Duration: plan.Duration}
	}
	var cpu func() map[string]time.Duration // samples the network being measured
	var moderate float64                    // the default network's moderate load, tx/s
	// withNetwork brings up t, runs f against it and always cleans it up.
	withNetwork := func(name, setting string, t network.Topology, f func(p *network.Profile, nr *NetworkResult) error) {
		nr := NetworkResult{Name: name, Setting: setting, Counties: len(t.Counties)}
		for _, c := range t.Counties {
			nr.Peers += c.Peers
		}
		defer func() { res.Networks = append(res.Networks, nr) }()
		if err := ctx.Err(); err != nil {
			nr.Error = err.Error()
			return
		}
		dir := filepath.Join(cfg.Dir, name)
		if err := t.ShiftToFreePorts(1000, 20); err != nil {
			nr.Error = err.Error()
			say("%s: %v", name, err)
			return
		}
		t0 := time.Now()
		_, err := env.Up(ctx, network.Options{Dir: dir, Topology: &t, FabricDir: cfg.FabricDir, ChaincodeServer: cfg.ChaincodeServer,
			Calendars: cfg.Calendars, Progress: cfg.Log})
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := env.Clean(cctx, dir, cfg.Log); err != nil {
				say("%s: clean: %v", name, err)
			}
		}()
		nr.Up = time.Since(t0)
		if err != nil {
			nr.Error = firstErrLine(err)
			say("%s: network up failed: %s", name, nr.Error)
			return
		}
		say("%s (%s): %d counties, %d peers, up in %.1fs", name, setting, nr.Counties, nr.Peers, nr.Up.Seconds())
		p, err := env.Profile(filepath.Join(dir, "network.json"))
		cpu = nil
		if env.CPU != nil {
			cpu = env.CPU(dir)
		}
		if err == nil && cpu != nil && cfg.IdleSample > 0 {
			nr.IdleCPU = idleCPU(ctx, cpu, cfg.IdleSample)
		}
		if err == nil {
			err = f(p, &nr)
		}
		if err != nil {
			nr.Error = firstErrLine(err)
			say("%s: %s", name, nr.Error)
		}
	}
	progress := func(s string) { say("  %s", s) }
	calls := 0
	compare := func(cases []LoadCase, rounds int) ([]LoadResult, error) {
		calls++ // every comparison gets its own tag: record IDs never repeat
		return CompareLoads(ctx, cases, CompareOptions{Rounds: rounds, Tag: fmt.Sprintf("%s%d", tag, calls), Today: today, Progress: progress, CPU: cpu})
	}

	// 1. The default network: throughput against the baselines, latency
	// at a moderate load, client connections.
	withNetwork(netDefault, "network/topology.yaml", *cfg.Topology, func(p *network.Profile, nr *NetworkResult) error {
		pool, err := env.Dial(p, PeerCount(p), "officer1")
		if err != nil {
			return err
		}
		defer ClosePool(pool)
		if err := WaitReady(ctx, pool, time.Minute); err != nil {
			return err
		}
		loads, err := compare([]LoadCase{
			{loadNoop, pool, closed(WorkloadNoop)}, {loadPut, pool, closed(WorkloadPut)},
			{loadCredit, pool, closed(WorkloadCredit)}, {loadMix, pool, closed(WorkloadMix)},
		}, plan.Rounds)
		nr.Loads = append(nr.Loads, loads...)
		if err != nil {
			return err
		}
		rate := math.Round(plan.ModerateLoad * loads[2].TPS)
		moderate = rate
		if rate >= 1 {
			spec := func(w string) LoadSpec { s := closed(w); s.Rate = rate; return s }
			loads, err = compare([]LoadCase{{loadCreditRate, pool, spec(WorkloadCredit)}, {loadNoopRate, pool, spec(WorkloadNoop)}}, plan.Rounds)
			nr.Loads = append(nr.Loads, loads...)
			if err != nil {
				return err
			}
		}
		one, err := env.Dial(p, 1, "officer1")
		if err != nil {
			return err
		}
		defer ClosePool(one)
		four, err := env.Dial(p, 4*PeerCount(p), "officer1")
		if err != nil {
			return err
		}
		defer ClosePool(four)
		loads, err = compare([]LoadCase{
			{loadConnsPeers, pool, closed(WorkloadCredit)}, {loadConnsOne, one, closed(WorkloadCredit)}, {loadConnsFour, four, closed(WorkloadCredit)},
		}, plan.Rounds)
		nr.Loads = append(nr.Loads, loads...)
		return err
	})
	// credit measures one network's credit throughput and, with latency,
	// its commit latency at the default network's moderate rate.
	credit := func(latency bool) func(p *network.Profile, nr *NetworkResult) error {
		return func(p *network.Profile, nr *NetworkResult) error {
			pool, err := env.Dial(p, PeerCount(p), "officer1")
			if err != nil {
				return err
			}
			defer ClosePool(pool)
			if err := WaitReady(ctx, pool, time.Minute); err != nil {
				return err
			}
			cases := []LoadCase{{loadCredit, pool, closed(WorkloadCredit)}}
			if latency && moderate >= 1 {
				spec := closed(WorkloadCredit)
				spec.Rate = moderate
				cases = append(cases, LoadCase{loadCreditRate, pool, spec})
			}
			loads, err := compare(cases, 1)
			nr.Loads = append(nr.Loads, loads...)
			return err
		}
	}
	// 2. Tuning: one fresh network per setting.
	for _, name := range plan.Variants {
		v, ok := findVariant(name)
		if !ok {
			return nil, fmt.Errorf("tuning variant %q: must be one of %s", name, strings.Join(variantNames(), ", "))
		}
		t := *cfg.Topology
		t.Counties = append([]network.County(nil), t.Counties...)
		v.Apply(&t)
		withNetwork(v.Name, v.Setting, t, credit(v.Latency))
	}
	// 3. Scaling: fresh networks of n counties, the same load.
	for _, n := range plan.Counties {
		if n < 1 || n > MaxScalingCounties {
			return nil, fmt.Errorf("counties %d: must be 1 to %d", n, MaxScalingCounties)
		}
		if n == len(cfg.Topology.Counties) && res.network(netDefault) != nil {
			continue // the default network is this point
		}
		withNetwork(fmt.Sprintf("counties-%d", n), fmt.Sprintf("%d counties", n), withCounties(*cfg.Topology, n), credit(false))
	}
	return res, ctx.Err()
}

// idleCPU samples the network's CPU (not the client's) over d with no
// load: ms of CPU per second.
func idleCPU(ctx context.Context, cpu func() map[string]time.Duration, d time.Duration) float64 {
	sum := func(m map[string]time.Duration) (t time.Duration) {
		for name, v := range m {
			if name != "client" {
				t += v
			}
		}
		return t
	}
	before, t0 := sum(cpu()), time.Now()
	select {
	case <-ctx.Done():
		return 0
	case <-time.After(d):
	}
	return ms(sum(cpu())-before) / time.Since(t0).Seconds()
}

// --- header, document ---

// MachineHeader describes this machine: CPU model and count, memory, OS,
// Go version; and the load average now.
func MachineHeader() (machine, load string) {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				if kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil {
					mem = fmt.Sprintf(", %.0f GiB", kb/(1<<20))
				}
			}
		}
	}
	machine = fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s, Fabric %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), network.FabricVersion)
	return machine, LoadAverage()
}

// LoadAverage is the 1, 5 and 15 minute load averages, or "".
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Markers of the generated block in docs/PERFORMANCE.md.
const (
	docBegin = "<!-- bench:begin (generated by make bench; do not edit by hand) -->"
	docEnd   = "<!-- bench:end -->"
)

// errNoMarkers: the document has no generated block to replace.
var errNoMarkers = errors.New("no bench block")

// ReplaceDocBlock returns doc with the text between the bench markers
// replaced by block.
func ReplaceDocBlock(doc, block []byte) ([]byte, error) {
	i := bytes.Index(doc, []byte(docBegin))
	j := bytes.Index(doc, []byte(docEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("%w: the document needs the lines %q and %q", errNoMarkers, docBegin, docEnd)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(docBegin)])
	out.WriteString("\n")
	out.Write(bytes.TrimSpace(block))
	out.WriteString("\n")
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// joinNotes joins the non-empty notes; a note that is only a label ("at
// 2: ") is dropped.
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" && !strings.HasSuffix(n, ": ") {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

// firstErrLine is the first line of an error's message.
func firstErrLine(err error) string {
	l, _, _ := strings.Cut(err.Error(), "\n")
	return l
}
