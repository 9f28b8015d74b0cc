package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/network"
)

func msd(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1: unsorted on purpose
	}
	tests := []struct {
		name string
		d    []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty sample", nil, 50, 0},
		{"one value", msd(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100 is 50", msd(hundred...), 50, 50 * time.Millisecond},
		{"p90 of 1..100 is 90", msd(hundred...), 90, 90 * time.Millisecond},
		{"p99 of 1..100 is 99", msd(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the maximum", msd(hundred...), 100, 100 * time.Millisecond},
		{"nearest rank rounds up", msd(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of four is the largest", msd(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{"tiny p is the minimum", msd(5, 3, 9), 0.1, 3 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.d)
			if got := Percentile(tt.d, tt.p); got != tt.want {
				t.Errorf("Percentile(p%g) = %s, want %s", tt.p, got, tt.want)
			}
			if !slices.Equal(before, tt.d) {
				t.Error("the sample was modified")
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize(msd(10, 20, 30, 40))
	want := LatencySummary{Count: 4, Mean: 25, P50: 20, P90: 40, P99: 40, Max: 40}
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if (Summarize(nil) != LatencySummary{}) {
		t.Error("empty sample: want the zero summary")
	}
}

func TestRatioAndFormatting(t *testing.T) {
	nan := math.NaN()
	ratios := []struct {
		name           string
		figure, base   float64
		want           string
		wantComputable bool
	}{
		{"credit below the ceiling", 270, 300, "0.900×", true},
		{"above one", 450, 150, "3.00×", true},
		{"large", 12346, 10, "1,235×", true},
		{"small", 1, 3000, "0.000333×", true},
		{"baseline zero", 5, 0, "—", false},
		{"figure missing", nan, 5, "—", false},
		{"baseline missing", 5, nan, "—", false},
	}
	for _, tt := range ratios {
		t.Run(tt.name, func(t *testing.T) {
			r := Ratio(tt.figure, tt.base)
			if got := FormatRatio(r); got != tt.want {
				t.Errorf("FormatRatio(%g/%g) = %q, want %q", tt.figure, tt.base, got, tt.want)
			}
			if math.IsNaN(r) == tt.wantComputable {
				t.Errorf("Ratio = %g, computable %v", r, tt.wantComputable)
			}
		})
	}
	values := []struct {
		v    Value
		want string
	}{
		{Value{312.4, "tx/s"}, "312 tx/s"},
		{Value{1234.6, "blocks/s"}, "1,235 blocks/s"},
		{Value{84.23, "ms"}, "84.2 ms"},
		{Value{5, "ms"}, "5.00 ms"},
		{Value{0.04123, "ms"}, "0.0412 ms"},
		{Value{0, "µs"}, "0 µs"},
		{Value{-1500, "ms"}, "-1,500 ms"},
		{Missing("tx/s"), "—"},
	}
	for _, tt := range values {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestWriteTable(t *testing.T) {
	h := TableHeader{Date: time.Date(2026, 11, 23, 6, 30, 0, 0, time.UTC), Machine: "2 CPUs (test)", Load: "load 0.10", Command: "make bench",
		Notes: []string{"Closed loop."}}
	rows := []Row{
		{Section: "Ledger throughput", Name: "credit writes", Figure: Value{270, "tx/s"}, BaselineName: "Noop", Baseline: Value{300, "tx/s"}, Note: "100 clients"},
		{Section: "Ledger throughput", Name: "a | b", Figure: Value{1, "tx/s"}, Baseline: Missing("tx/s"), Note: "not run: x"},
		{Section: "Latency", Name: "p50", Figure: Value{84.2, "ms"}, BaselineName: "Noop", Baseline: Value{42.1, "ms"}},
	}
	var b bytes.Buffer
	if err := WriteTable(&b, h, rows); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"Date: 2026-11-23 06:30 UTC", "Machine: 2 CPUs (test)", "Load: load 0.10", "Command: `make bench`", "\nClosed loop.\n",
		"| **Ledger throughput** | credit writes | 270 tx/s | Noop: 300 tx/s | 0.900× | 100 clients |",
		"|  | a \\| b | 1.00 tx/s | — | — | not run: x |",
		"| **Latency** | p50 | 84.2 ms | Noop: 42.1 ms | 2.00× |  |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "**Ledger throughput**") != 1 {
		t.Errorf("a section is named on its first row only:\n%s", got)
	}
}

// goTestJSON is go test -json output as Go 1.2x writes it for benchmarks:
// the name comes in one event before the benchmark runs, the result in
// another, and log lines follow the result.
const goTestJSON = `{"Action":"start","Package":"github.com/countycredit/creditledger/indexer"}
{"Action":"output","Package":"github.com/countycredit/creditledger/indexer","Output":"goos: linux\n"}
{"Action":"output","Package":"github.com/countycredit/creditledger/indexer","Output":"pkg: github.com/countycredit/creditledger/indexer\n"}
{"Action":"output","Package":"github.com/countycredit/creditledger/indexer","Test":"BenchmarkReplay","Output":"BenchmarkReplay\n"}
{"Action":"output","Package":"github.com/countycredit/creditledger/indexer","Test":"BenchmarkReplay","Output":"BenchmarkReplay-2   \t"}
{"Action":"output","Package":"github.com/countycredit/creditledger/indexer","Test":"BenchmarkReplay","Output":"       1\t4021 ns/op\t   100017 credit-txs\t  2.50 replay-s\t 812.5 replay-blocks/s\t 3000 decode-blocks/s\n"}
{"Action":"output","Package":"github.com/countycredit/creditledger/indexer","Test":"BenchmarkReplay","Output":"    bench_test.go:250: 2001 blocks\n"}
{"Action":"output","Package":"github.com/countycredit/creditledger/indexer","Test":"BenchmarkIngest/disk","Output":"BenchmarkIngest/disk-2 \t      10\t 1000 ns/op\t 50.0 ingest-blocks/s\n"}
{"Action":"output","Package":"github.com/countycredit/creditledger/client/cert","Output":"BenchmarkOfflineVerifyBatch-2   \t   20000\t 61000 ns/op\t 60000 ns/cert\t 40000 ns/ecdsa\t 1.5 cert/ecdsa\n"}
{"Action":"pass","Package":"github.com/countycredit/creditledger/indexer"}
`

const goTestText = `goos: linux
goarch: amd64
pkg: github.com/countycredit/creditledger/chaincode
cpu: test
BenchmarkIssueCertificateBatch10000
    certificates_test.go:380: a log line between name and result
BenchmarkIssueCertificateBatch10000-2   	       1	1234 ns/op	 9000 ns/cert	 90.0 ms/batch	 30000 ns/single	 0.300 batch-cert/single
BenchmarkSubjectProfileScaling/records=10000-2 	 5000	 200 ns/op	 10000 records	 12.5 p50-µs	 40.0 p99-µs
PASS
ok  	github.com/countycredit/creditledger/chaincode	3.2s
`

func TestParseGoBench(t *testing.T) {
	bs, err := ParseGoBench(strings.NewReader(goTestJSON + goTestText))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range bs {
		got = append(got, fmt.Sprintf("%s %s %d", strings.TrimPrefix(b.Package, goBenchModule), b.Name, b.N))
	}
	want := []string{
		"indexer BenchmarkReplay 1", "indexer BenchmarkIngest/disk 10", "client/cert BenchmarkOfflineVerifyBatch 20000",
		"chaincode BenchmarkIssueCertificateBatch10000 1", "chaincode BenchmarkSubjectProfileScaling/records=10000 5000",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("benchmarks = %q\nwant %q", got, want)
	}
	if m := bs[0].Metrics; m["replay-blocks/s"] != 812.5 || m["credit-txs"] != 100017 || m["ns/op"] != 4021 {
		t.Errorf("metrics = %v", m)
	}
	if _, err := ParseGoBench(strings.NewReader("{not json\n")); err == nil {
		t.Error("a malformed -json event is an error")
	}
}

func TestGoBenchRows(t *testing.T) {
	bs, err := ParseGoBench(strings.NewReader(goTestJSON + goTestText))
	if err != nil {
		t.Fatal(err)
	}
	specs := []goBenchRowSpec{
		{Section: "S", Name: "replay", Package: "indexer", Bench: "BenchmarkReplay",
			Figure: metricRef{Metric: "replay-blocks/s", Unit: "blocks/s"}, Baseline: metricRef{Metric: "decode-blocks/s", Unit: "blocks/s"},
			Note: "{credit-txs} txs in {replay-s} s, {nope}"},
		{Section: "S", Name: "verify", Package: "client/cert", Bench: "BenchmarkOfflineVerifyBatch",
			Figure: metricRef{Metric: "ns/cert", Unit: "µs", Scale: 1e-3}, Baseline: metricRef{Metric: "ns/ecdsa", Unit: "µs", Scale: 1e-3}},
		{Section: "S", Name: "absent", Package: "cli", Bench: "BenchmarkNothing",
			Figure: metricRef{Metric: "x", Unit: "µs"}, Baseline: metricRef{Metric: "y", Unit: "µs"}},
		{Section: "S", Name: "metric gone", Package: "indexer", Bench: "BenchmarkIngest/disk",
			Figure: metricRef{Metric: "ingest-blocks/s", Unit: "blocks/s"}, Baseline: metricRef{Metric: "decode-blocks/s", Unit: "blocks/s"}},
	}
	rows := GoBenchRows(specs, bs)
	if r := rows[0]; r.Figure.V != 812.5 || r.Baseline.V != 3000 || r.Note != "100,017 txs in 2.50 s, ?" || !r.Complete() {
		t.Errorf("replay row = %+v", r)
	}
	if r := rows[1]; r.Figure.String() != "60.0 µs" || r.Baseline.String() != "40.0 µs" || FormatRatio(r.Ratio()) != "1.50×" {
		t.Errorf("verify row = %+v", r)
	}
	if r := rows[2]; r.Complete() || r.Note != "not run: cli BenchmarkNothing" {
		t.Errorf("absent row = %+v", r)
	}
	if r := rows[3]; r.Complete() || r.Note != "BenchmarkIngest/disk did not report decode-blocks/s" {
		t.Errorf("metric-gone row = %+v", r)
	}
}

func TestReplaceDocBlock(t *testing.T) {
	doc := []byte("# Perf\n\nprose\n\n" + docBegin + "\nold table\n" + docEnd + "\n\nmore prose\n")
	got, err := ReplaceDocBlock(doc, []byte("\nnew table\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# Perf\n\nprose\n\n" + docBegin + "\nnew table\n" + docEnd + "\n\nmore prose\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := ReplaceDocBlock([]byte("no markers"), nil); !errors.Is(err, errNoMarkers) {
		t.Errorf("err = %v, want errNoMarkers", err)
	}
}

// fakeBenchLedger commits every call after a short pause, fails the ones
// failFn names, and remembers what was asked.
type fakeBenchLedger struct {
	mu       sync.Mutex
	calls    map[string]int
	made     map[string]bool // commitments and punishments it made
	bad      []string        // fulfilments or enforcements of records it never made
	ids      []string
	failNoop bool
}

func newFakeBenchLedger() *fakeBenchLedger {
	return &fakeBenchLedger{calls: map[string]int{}, made: map[string]bool{}}
}

func (f *fakeBenchLedger) call(fn, id string, creates bool, needs string) (client.Result, error) {
	time.Sleep(time.Millisecond)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[fn]++
	if id != "" {
		f.ids = append(f.ids, id)
	}
	if needs != "" && !f.made[needs] {
		f.bad = append(f.bad, fn+" "+needs)
	}
	if creates {
		f.made[id] = true
	}
	n := f.calls[fn]
	return client.Result{TxID: fmt.Sprintf("%064x", n), Attempts: 1 + n%2}, nil
}

func (f *fakeBenchLedger) Noop(context.Context) (client.Result, error) {
	if f.failNoop {
		time.Sleep(time.Millisecond)
		return client.Result{}, &client.TxError{Op: "Noop", Stage: client.StageSubmit, TxID: fmt.Sprintf("%064x", time.Now().UnixNano()), Err: errors.New("no orderers could successfully process transaction")}
	}
	return f.call("Noop", "", false, "")
}
func (f *fakeBenchLedger) BaselinePut(_ context.Context, r credit.BaselinePutRequest) (client.Result, error) {
	if err := r.Validate(); err != nil {
		return client.Result{}, err
	}
	return f.call("BaselinePut", r.ID, true, "")
}
func (f *fakeBenchLedger) MakeCommitment(_ context.Context, r credit.MakeCommitmentRequest) (*credit.Commitment, client.Result, error) {
	if err := r.Validate(); err != nil {
		return nil, client.Result{}, err
	}
	res, err := f.call("MakeCommitment", r.ID, true, "")
	return &credit.Commitment{}, res, err
}
func (f *fakeBenchLedger) FulfilCommitment(_ context.Context, r credit.FulfilCommitmentRequest) (*credit.Commitment, client.Result, error) {
	res, err := f.call("FulfilCommitment", "", false, r.ID)
	return &credit.Commitment{}, res, err
}
func (f *fakeBenchLedger) ImposePunishment(_ context.Context, r credit.ImposePunishmentRequest) (*credit.Punishment, client.Result, error) {
	if err := r.Validate(); err != nil {
		return nil, client.Result{}, err
	}
	res, err := f.call("ImposePunishment", r.ID, true, "")
	return &credit.Punishment{}, res, err
}
func (f *fakeBenchLedger) RecordEnforcement(_ context.Context, r credit.RecordEnforcementRequest) (*credit.Enforcement, client.Result, error) {
	if err := r.Validate(); err != nil {
		return nil, client.Result{}, err
	}
	res, err := f.call("RecordEnforcement", r.ID, true, r.PunishmentID)
	return &credit.Enforcement{}, res, err
}
func (f *fakeBenchLedger) Close() error { return nil }

func fakePool(n int) ([]BenchConn, []*fakeBenchLedger) {
	var pool []BenchConn
	var fakes []*fakeBenchLedger
	codes := []string{"330782", "330182", "371324"}
	for i := range n {
		f := newFakeBenchLedger()
		fakes = append(fakes, f)
		pool = append(pool, BenchConn{County: codes[i%len(codes)], Peer: fmt.Sprintf("peer%d", i), Ledger: f})
	}
	return pool, fakes
}

// TestCompareLoads: every workload runs through the pool, is counted in
// its own result, makes valid and unique record IDs, and the mix only
// fulfils and enforces what its client made; failures are grouped with
// their transaction IDs removed; the CPU samples are split by group.
func TestCompareLoads(t *testing.T) {
	pool, fakes := fakePool(3)
	spec := func(w string) LoadSpec {
		return LoadSpec{Workload: w, Clients: 6, Warmup: 5 * time.Millisecond, Duration: 60 * time.Millisecond}
	}
	var cpu time.Duration
	var order []string
	res, err := CompareLoads(context.Background(), []LoadCase{
		{"noop", pool, spec(WorkloadNoop)}, {"put", pool, spec(WorkloadPut)}, {"credit", pool, spec(WorkloadCredit)}, {"mix", pool, spec(WorkloadMix)},
	}, CompareOptions{Rounds: 2, Tag: "t1", Today: credit.MustDate("2026-11-23"),
		Progress: func(s string) { order = append(order, strings.Fields(s)[2]) },
		CPU: func() map[string]time.Duration {
			cpu += 10 * time.Millisecond
			return map[string]time.Duration{"peer0.c330782": cpu, "orderer0": cpu / 2, "cc.c330782": cpu / 10, "client": cpu}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"noop", "put", "credit", "mix", "put", "credit", "mix", "noop"}; !slices.Equal(order, want) {
		t.Errorf("round order = %v, want %v", order, want)
	}
	for _, r := range res {
		if r.Committed == 0 || r.Committed > r.Total || r.Failed != 0 || r.TPS <= 0 || r.Latency.Count != r.Committed || r.Window != 60*time.Millisecond {
			t.Errorf("%s: %+v", r.Name, r)
		}
		if r.Clients != 6 || r.Connections != 3 {
			t.Errorf("%s: clients %d, connections %d", r.Name, r.Clients, r.Connections)
		}
		if r.CPUPerTx["peer"] <= 0 || r.CPUPerTx["orderer"] <= 0 || r.CPUPerTx["chaincode"] <= 0 || r.CPUPerTx["client"] <= 0 ||
			math.Abs(r.CPUPerTx["all"]-(r.CPUPerTx["peer"]+r.CPUPerTx["orderer"]+r.CPUPerTx["chaincode"]+r.CPUPerTx["client"])) > 1e-9 {
			t.Errorf("%s: cpu %v", r.Name, r.CPUPerTx)
		}
	}
	seen := map[string]bool{}
	calls := map[string]int{}
	for i, f := range fakes {
		if len(f.bad) > 0 {
			t.Errorf("connection %d acted on records it never made: %v", i, f.bad)
		}
		for fn, n := range f.calls {
			calls[fn] += n
		}
		for _, id := range f.ids {
			if seen[id] {
				t.Errorf("record ID %s used twice", id)
			}
			seen[id] = true
			if err := credit.ValidateID("id", id); err != nil {
				t.Errorf("record ID %s: %v", id, err)
			}
		}
	}
	for _, fn := range []string{"Noop", "BaselinePut", "MakeCommitment", "FulfilCommitment", "ImposePunishment", "RecordEnforcement"} {
		if calls[fn] == 0 {
			t.Errorf("no %s was submitted (%v)", fn, calls)
		}
	}

	// Failures: counted, grouped without their transaction IDs.
	bad, _ := fakePool(1)
	bad[0].Ledger.(*fakeBenchLedger).failNoop = true
	res, err = CompareLoads(context.Background(), []LoadCase{{"noop", bad, spec(WorkloadNoop)}}, CompareOptions{Tag: "t2"})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Committed != 0 || r.Failed == 0 || len(r.Errors) != 1 || r.Errors[0].Count != r.Failed ||
		r.Errors[0].Error != "Noop (tx …): submit: no orderers could successfully process transaction" {
		t.Errorf("failures = %+v", r)
	}
}

func TestCompareLoadsRefuses(t *testing.T) {
	pool, _ := fakePool(1)
	ok := LoadSpec{Workload: WorkloadNoop, Clients: 1, Duration: time.Millisecond}
	tests := []struct {
		name string
		c    LoadCase
		want string
	}{
		{"unknown workload", LoadCase{"x", pool, LoadSpec{Workload: "transfer", Clients: 1, Duration: time.Second}}, `workload "transfer"`},
		{"no clients", LoadCase{"x", pool, LoadSpec{Workload: WorkloadNoop, Duration: time.Second}}, "clients 0"},
		{"no duration", LoadCase{"x", pool, LoadSpec{Workload: WorkloadNoop, Clients: 1}}, "duration"},
		{"negative rate", LoadCase{"x", pool, LoadSpec{Workload: WorkloadNoop, Clients: 1, Duration: time.Second, Rate: -1}}, "rate"},
		{"no connections", LoadCase{"x", nil, ok}, "no connections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompareLoads(context.Background(), []LoadCase{tt.c}, CompareOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// TestOpenLoopRate: with a rate, transactions start at about that rate
// whatever the number of clients (checked loosely: the clock is real).
func TestOpenLoopRate(t *testing.T) {
	pool, fakes := fakePool(1)
	res, err := CompareLoads(context.Background(), []LoadCase{{"noop", pool,
		LoadSpec{Workload: WorkloadNoop, Clients: 20, Rate: 100, Duration: 300 * time.Millisecond}}}, CompareOptions{Tag: "t3"})
	if err != nil {
		t.Fatal(err)
	}
	// 100/s for 0.3 s is 30 starts; 20 closed-loop clients would make
	// thousands. Only the order of magnitude is checked.
	if n := fakes[0].calls["Noop"]; n < 5 || n > 60 || res[0].Rate != 100 {
		t.Errorf("%d Noops at 100/s over 0.3 s; result %+v", n, res[0])
	}
}

func TestWaitReady(t *testing.T) {
	pool, _ := fakePool(2)
	if err := WaitReady(context.Background(), pool, time.Second); err != nil {
		t.Fatal(err)
	}
	pool[1].Ledger.(*fakeBenchLedger).failNoop = true
	if err := WaitReady(context.Background(), pool, 50*time.Millisecond); err == nil || !strings.Contains(err.Error(), "peer1") {
		t.Errorf("err = %v, want one naming the connection", err)
	}
}

func loadResult(name string, tps, p50, p99 float64) LoadResult {
	return LoadResult{Name: name, Workload: "x", Clients: 100, Connections: 3, Window: 20 * time.Second, Committed: int(tps * 20), Total: int(tps * 25),
		TPS: tps, Latency: LatencySummary{Count: int(tps * 20), P50: p50, P99: p99}}
}

func sampleResults() *SuiteResults {
	return &SuiteResults{
		Header: TableHeader{Date: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC), Machine: "2 CPUs (test), linux/amd64", Command: "make bench"},
		Plan:   SuitePlan{Clients: 100, Variants: []string{"block-10", "endorse-any"}, Counties: []int{2, 4}},
		Networks: []NetworkResult{
			{Name: netDefault, Counties: 3, Peers: 3, Loads: []LoadResult{
				loadResult(loadNoop, 300, 300, 600), loadResult(loadPut, 280, 320, 640), loadResult(loadCredit, 270, 350, 700),
				loadResult(loadMix, 240, 380, 760), loadResult(loadCreditRate, 135, 400, 800), loadResult(loadNoopRate, 135, 200, 500),
				loadResult(loadConnsPeers, 260, 350, 700), loadResult(loadConnsOne, 130, 700, 900), loadResult(loadConnsFour, 265, 345, 690),
			}},
			{Name: "block-10", Counties: 3, Peers: 3, Loads: []LoadResult{loadResult(loadCredit, 135, 700, 900), loadResult(loadCreditRate, 135, 600, 950)}},
			{Name: "endorse-any", Counties: 3, Peers: 3, Error: "network up failed: boom"},
			{Name: "counties-2", Counties: 2, Peers: 2, Loads: []LoadResult{loadResult(loadCredit, 300, 300, 500)}},
			{Name: "counties-4", Counties: 4, Peers: 4, Loads: []LoadResult{loadResult(loadCredit, 240, 400, 800)}},
		},
		GoBench: []GoBench{
			{Package: goBenchModule + "indexer", Name: benchLookupName + "/records=1000000", Metrics: map[string]float64{"records": 1e6, "p50-µs": 30, "p99-µs": 90}},
			{Package: goBenchModule + "indexer", Name: benchLookupName + "/records=10000", Metrics: map[string]float64{"records": 1e4, "p50-µs": 10, "p99-µs": 30}},
			{Package: goBenchModule + "indexer", Name: benchLookupName + "/records=100000", Metrics: map[string]float64{"records": 1e5, "p50-µs": 15, "p99-µs": 45}},
		},
	}
}

func findRow(rows []Row, section, prefix string) *Row {
	for i := range rows {
		if rows[i].Section == section && strings.HasPrefix(rows[i].Name, prefix) {
			return &rows[i]
		}
	}
	return nil
}

// TestSuiteRows: each row's figure and baseline come from the right
// loads of the right networks; a network that failed gives a row with
// missing values that says why; the scaling rows compare with the
// smallest network.
func TestSuiteRows(t *testing.T) {
	rows := SuiteRows(sampleResults())
	check := func(section, prefix, baseName string, fig, base float64) {
		t.Helper()
		r := findRow(rows, section, prefix)
		if r == nil {
			t.Fatalf("no row %s / %s", section, prefix)
		}
		if r.Figure.V != fig || r.Baseline.V != base || (baseName != "" && r.BaselineName != baseName) {
			t.Errorf("%s / %s = %+v, want %g vs %s %g", section, prefix, r, fig, baseName, base)
		}
	}
	check(sectionLedger, "credit writes (MakeCommitment)", "Noop (ceiling)", 270, 300)
	check(sectionLedger, "credit mix", "Noop (ceiling)", 240, 300)
	check(sectionLedger, "BaselinePut", "Noop (ceiling)", 280, 300)
	check(sectionLatency, "p50, MakeCommitment at moderate", "Noop at the same rate", 400, 200)
	check(sectionLatency, "p99, MakeCommitment at moderate", "", 800, 500)
	check(sectionTuning, "block cutting: maxMessageCount 10", "default network", 135, 270)
	check(sectionTuning, "block cutting: maxMessageCount 10, commit latency p50 at moderate load", "default network", 600, 400)
	check(sectionTuning, "client connections: 1", "1 per peer", 130, 260)
	check(sectionTuning, "client connections: 4 per peer", "1 per peer", 265, 260)
	check(sectionScaling, "credit throughput, 3 counties", "2 counties", 270, 300)
	check(sectionScaling, "credit throughput, 4 counties", "2 counties", 240, 300)
	check(sectionScaling, "commit latency p50, 4 counties", "2 counties", 400, 300)
	check(sectionScaling, "subject profile lookup p50, 1,000,000 records", "10,000 records", 30, 10)
	if r := findRow(rows, sectionTuning, "endorsement policy"); r == nil || r.Complete() || r.Note != "failed: network up failed: boom" {
		t.Errorf("failed network row = %+v", r)
	}
	if r := findRow(rows, sectionLedger, "credit writes (MakeCommitment)"); FormatRatio(r.Ratio()) != "0.900×" {
		t.Errorf("credit/noop ratio = %s", FormatRatio(r.Ratio()))
	}
	if r := findRow(rows, sectionCert, "offline verify, one member"); r == nil || r.Complete() || !strings.HasPrefix(r.Note, "not run:") {
		t.Errorf("a Go benchmark that did not run: %+v", r)
	}
	if pts := LookupPoints(sampleResults().GoBench); len(pts) != 3 || pts[0].Records != 1e4 || pts[2].Records != 1e6 {
		t.Errorf("lookup points = %+v", pts)
	}
}

// TestRenderSuite: the table goes to stdout, table.md and the document's
// generated block; the plot is a PNG; missing rows make it fail after
// printing.
func TestRenderSuite(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "PERFORMANCE.md")
	if err := os.WriteFile(doc, []byte("# P\n\n"+docBegin+"\n"+docEnd+"\n\ntail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	plot := filepath.Join(dir, "scaling.png")
	err := renderSuite(&out, sampleResults(), filepath.Join(dir, "table.md"), doc, plot)
	if !errors.Is(err, errIncomplete) || !strings.Contains(err.Error(), "endorsement policy") {
		t.Errorf("err = %v, want errIncomplete naming the failed row", err)
	}
	if !strings.Contains(out.String(), "| **Ledger throughput** |") {
		t.Errorf("stdout:\n%s", out.String())
	}
	table, _ := os.ReadFile(filepath.Join(dir, "table.md"))
	if !bytes.Equal(table, out.Bytes()) {
		t.Error("table.md differs from what was printed")
	}
	d, _ := os.ReadFile(doc)
	if !bytes.Contains(d, []byte(docBegin+"\nDate: 2026-11-23 07:00 UTC")) || !bytes.Contains(d, []byte("](scaling.png)\n"+docEnd+"\n\ntail\n")) {
		t.Errorf("document:\n%s", d)
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("plot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 300 {
		t.Errorf("plot is %v", b)
	}
}

func TestScalingPlotWithoutData(t *testing.T) {
	var b bytes.Buffer
	if err := WriteScalingPlot(&b, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&b); err != nil {
		t.Fatal(err)
	}
}

// fakeSuiteEnv records the networks brought up and cleaned; every
// connection of the suite goes to one fake ledger.
type fakeSuiteEnv struct {
	mu      sync.Mutex
	up      []string
	topos   map[string]network.Topology
	cleaned []string
	failUp  string
	ledger  *fakeBenchLedger
}

func (e *fakeSuiteEnv) env() SuiteEnv {
	return SuiteEnv{
		Up: func(_ context.Context, o network.Options) (*network.Network, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			name := filepath.Base(o.Dir)
			e.up = append(e.up, name)
			e.topos[name] = *o.Topology
			if name == e.failUp {
				return nil, errors.New("orderer0 exited")
			}
			return nil, nil
		},
		Clean: func(_ context.Context, dir string, _ io.Writer) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.cleaned = append(e.cleaned, filepath.Base(dir))
			return nil
		},
		Profile: func(path string) (*network.Profile, error) {
			name := filepath.Base(filepath.Dir(path))
			t := e.topos[name]
			p := &network.Profile{Name: name}
			for _, c := range t.Counties {
				cp := network.CountyProfile{Code: c.Code}
				for range c.Peers {
					cp.Peers = append(cp.Peers, network.PeerProfile{Address: "p"})
				}
				p.Counties = append(p.Counties, cp)
			}
			return p, nil
		},
		Dial: func(_ *network.Profile, n int, _ string) ([]BenchConn, error) {
			pool, _ := fakePool(n)
			if e.ledger != nil {
				for i := range pool {
					pool[i].Ledger = e.ledger
				}
			}
			return pool, nil
		},
		Now: func() time.Time { return time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC) },
	}
}

// TestRunSuite: the default network, every variant and every county
// count get a fresh network with the right topology, each is cleaned up,
// a network that fails to come up is reported and cleaned, and the rows
// come out of the results.
func def(r *SuiteResults) *NetworkResult { return r.network(netDefault) }

func TestRunSuite(t *testing.T) {
	fe := &fakeSuiteEnv{topos: map[string]network.Topology{}, failUp: "gateway-16", ledger: newFakeBenchLedger()}
	plan := SuitePlan{Clients: 4, Duration: 20 * time.Millisecond, Warmup: time.Millisecond, Rounds: 1, ModerateLoad: 0.5,
		Variants: []string{"block-10", "endorse-any", "gateway-16", "peers-2"}, Counties: []int{2, 3, 6}}
	top := network.DefaultTopology()
	top.BasePort = 32050
	var progress bytes.Buffer
	env := fe.env()
	var cpuTick time.Duration
	var cpuMu sync.Mutex
	env.CPU = func(string) func() map[string]time.Duration {
		return func() map[string]time.Duration {
			cpuMu.Lock()
			defer cpuMu.Unlock()
			cpuTick += time.Millisecond
			return map[string]time.Duration{"peer0.c330782": cpuTick, "client": 100 * cpuTick}
		}
	}
	res, err := RunSuite(context.Background(), plan, SuiteConfig{Topology: top, Dir: t.TempDir(), Progress: &progress, IdleSample: 5 * time.Millisecond}, env)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"default", "block-10", "endorse-any", "gateway-16", "peers-2", "counties-2", "counties-6"}
	if !slices.Equal(fe.up, want) {
		t.Errorf("networks = %v, want %v", fe.up, want)
	}
	if !slices.Equal(fe.cleaned, want) {
		t.Errorf("cleaned = %v, want every network: %v", fe.cleaned, want)
	}
	if tp := fe.topos["block-10"]; tp.Orderers.MaxMessageCount != 10 {
		t.Errorf("block-10 topology = %+v", tp.Orderers)
	}
	if tp := fe.topos["endorse-any"]; tp.Endorsement != network.EndorsementAny {
		t.Errorf("endorse-any topology endorsement = %s", tp.Endorsement)
	}
	if tp := fe.topos["peers-2"]; tp.Counties[0].Peers != 2 || top.Counties[0].Peers != 1 {
		t.Errorf("peers-2 topology = %+v (the default must be left alone: %+v)", tp.Counties, top.Counties)
	}
	if tp := fe.topos["counties-6"]; len(tp.Counties) != 6 || tp.Counties[5].Code != "371323" {
		t.Errorf("counties-6 topology = %+v", tp.Counties)
	}
	if n := res.network("block-10"); len(n.Loads) != 2 || n.Loads[1].Name != loadCreditRate || n.Loads[1].Rate != def(res).load(loadCreditRate).Rate {
		t.Errorf("block-10 loads = %+v: want credit and credit at the default's moderate rate", n.Loads)
	}
	if n := res.network("endorse-any"); len(n.Loads) != 1 || n.Loads[0].Name != loadCredit {
		t.Errorf("endorse-any loads = %+v: want credit only", n.Loads)
	}
	if n := res.network("gateway-16"); n == nil || n.Error != "orderer0 exited" || len(n.Loads) != 0 {
		t.Errorf("failed network = %+v", n)
	}
	def := res.network(netDefault)
	if def.IdleCPU <= 0 || def.load(loadCredit).CPUPerTx["peer"] <= 0 {
		t.Errorf("idle CPU %g, credit CPU %v: want both sampled", def.IdleCPU, def.load(loadCredit).CPUPerTx)
	}
	if pts := ScalingPoints(res); len(pts) == 0 || pts[0].IdleCPU <= 0 || !strings.Contains(pts[0].cpuNote(), "idle network") {
		t.Errorf("scaling points lack the CPU: %+v", pts)
	}
	var names []string
	for _, l := range def.Loads {
		names = append(names, l.Name)
		if l.Committed == 0 {
			t.Errorf("default network, %s: nothing committed", l.Name)
		}
	}
	if want := []string{loadNoop, loadPut, loadCredit, loadMix, loadCreditRate, loadNoopRate, loadConnsPeers, loadConnsOne, loadConnsFour}; !slices.Equal(names, want) {
		t.Errorf("default loads = %v, want %v", names, want)
	}
	if l := def.load(loadConnsFour); l.Connections != 12 {
		t.Errorf("4 per peer = %d connections", l.Connections)
	}
	if l := def.load(loadCreditRate); l.Rate != math.Round(0.5*def.load(loadCredit).TPS) {
		t.Errorf("moderate rate %g for credit at %g tx/s", l.Rate, def.load(loadCredit).TPS)
	}
	if pts := ScalingPoints(res); len(pts) != 3 || pts[0].Counties != 2 || pts[1].Counties != 3 || pts[2].Counties != 6 {
		t.Errorf("scaling points = %+v", pts)
	}
	// One ledger saw every load of the run: no record ID twice.
	seen := map[string]bool{}
	for _, id := range fe.ledger.ids {
		if seen[id] {
			t.Fatalf("record ID %s submitted twice in one run", id)
		}
		seen[id] = true
	}
	if len(seen) == 0 || len(fe.ledger.bad) > 0 {
		t.Errorf("%d IDs; acted on unknown records: %v", len(seen), fe.ledger.bad)
	}
	if !strings.Contains(progress.String(), "gateway-16: network up failed: orderer0 exited") {
		t.Errorf("progress:\n%s", progress.String())
	}

	// Cancelled: what was started is still cleaned up.
	fe = &fakeSuiteEnv{topos: map[string]network.Topology{}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err = RunSuite(ctx, plan, SuiteConfig{Topology: top, Dir: t.TempDir()}, fe.env())
	if !errors.Is(err, context.Canceled) || len(fe.up) != 0 || len(fe.cleaned) != 0 || res.network(netDefault).Error == "" {
		t.Errorf("cancelled: err %v, up %v, cleaned %v", err, fe.up, fe.cleaned)
	}
}

func TestBenchCommandsParse(t *testing.T) {
	run := func(t *testing.T, mk func(*Factory) *cobra.Command, args ...string) error {
		t.Helper()
		ios, _, _, _ := Test()
		f := &Factory{IO: ios, Getenv: func(string) string { return "" }}
		cmd := mk(f)
		cmd.SetArgs(args)
		cmd.SetOut(ios.Out)
		cmd.SetErr(ios.ErrOut)
		cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
		return cmd.Execute()
	}
	var load *BenchLoadOptions
	loadCmd := func(f *Factory) *cobra.Command {
		return NewCmdBenchLoad(f, func(o *BenchLoadOptions) error { load = o; return nil })
	}
	if err := run(t, loadCmd); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(load.Workloads, []string{"noop", "credit"}) || load.Clients != 100 || load.Connections != 0 || load.Rounds != 1 ||
		load.Duration != 30*time.Second || load.User != "officer1" || load.JSON {
		t.Errorf("load defaults = %+v", load)
	}
	if err := run(t, loadCmd, "--workload", "put,mix", "--clients", "10", "--rate", "50", "--rounds", "3"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(load.Workloads, []string{"put", "mix"}) || load.Clients != 10 || load.Rate != 50 || load.Rounds != 3 {
		t.Errorf("load flags = %+v", load)
	}
	var suite *BenchSuiteOptions
	suiteCmd := func(f *Factory) *cobra.Command {
		return NewCmdBenchSuite(f, func(o *BenchSuiteOptions) error { suite = o; return nil })
	}
	if err := run(t, suiteCmd, "--variants", "block-10,peers-2", "--counties", "2,6", "--duration", "5s", "--command", "make bench"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(suite.Plan.Variants, []string{"block-10", "peers-2"}) || !slices.Equal(suite.Plan.Counties, []int{2, 6}) ||
		suite.Plan.Duration != 5*time.Second || suite.Plan.Clients != 100 || suite.Command != "make bench" || suite.BasePort != 32050 {
		t.Errorf("suite options = %+v", suite)
	}
	for _, tt := range []struct {
		name string
		mk   func(*Factory) *cobra.Command
		args []string
	}{
		{"unknown workload", loadCmd, []string{"--workload", "transfer"}},
		{"no clients", loadCmd, []string{"--clients", "0"}},
		{"negative rate", loadCmd, []string{"--rate", "-5"}},
		{"unknown variant", suiteCmd, []string{"--variants", "turbo"}},
		{"too many counties", suiteCmd, []string{"--counties", "9"}},
		{"moderate load above one", suiteCmd, []string{"--moderate-load", "1.5"}},
		{"low base port", suiteCmd, []string{"--base-port", "80"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code := ExitCode(run(t, tt.mk, tt.args...)); code != ExitUsage {
				t.Errorf("exit = %d, want %d", code, ExitUsage)
			}
		})
	}
}

// TestBenchTableFromResults: bench table redraws from results.json with
// more Go benchmark output folded in.
func TestBenchTableFromResults(t *testing.T) {
	dir := t.TempDir()
	b, err := json.Marshal(sampleResults())
	if err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "results.json")
	gb := filepath.Join(dir, "cert.json")
	os.WriteFile(results, b, 0o644)
	os.WriteFile(gb, []byte(goTestJSON), 0o644)
	ios, _, out, _ := Test()
	err = runBenchTable(&BenchTableOptions{IO: ios, Results: results, GoBench: []string{gb}})
	if !errors.Is(err, errIncomplete) {
		t.Errorf("err = %v", err)
	}
	if !strings.Contains(out.String(), "| offline verify, one member of a 1,000-certificate batch (warm verifier) | 60.0 µs | raw ECDSA P-256 verify: 40.0 µs | 1.50× |") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestPlainTicks(t *testing.T) {
	got := map[float64]string{}
	for _, tk := range (plainTicks{}).Ticks(0, 2500) {
		if tk.Label != "" {
			got[tk.Value] = tk.Label
		}
	}
	for v, want := range map[float64]string{0: "0", 500: "500", 1000: "1,000", 2500: "2,500"} {
		if l, ok := got[v]; ok && l != want {
			t.Errorf("tick %g labelled %q, want %q", v, l, want)
		}
	}
	if len(got) == 0 {
		t.Fatal("no labelled ticks")
	}
	for _, tk := range (plainTicks{}).Ticks(0, 0.5) {
		if tk.Label == "0.50" || tk.Label == "0.500" {
			t.Errorf("label %q keeps trailing zeros", tk.Label)
		}
	}
}
