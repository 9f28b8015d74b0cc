package cli

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/network"
)

// The load generator of `creditctl bench`: Clients goroutines submit
// transactions through a pool of Gateway connections and time each one
// from the proposal to its commit status. Closed loop (each client sends
// its next transaction when the last one committed) measures throughput;
// open loop (transactions started at a fixed total rate) measures latency
// at a chosen load.

// Workloads: what each transaction is.
const (
	WorkloadNoop   = "noop"   // Noop: the platform's ceiling
	WorkloadPut    = "put"    // BaselinePut: one key, one JSON value (asset-transfer style)
	WorkloadCredit = "credit" // MakeCommitment: the most common credit write
	WorkloadMix    = "mix"    // a mix of credit writes (see mixStep)
)

// Workloads lists the workloads, for flags and docs.
var Workloads = []string{WorkloadNoop, WorkloadPut, WorkloadCredit, WorkloadMix}

// BenchLedger is what the load generator needs from a Gateway connection;
// *client.Client has it.
type BenchLedger interface {
	Noop(context.Context) (client.Result, error)
	BaselinePut(context.Context, credit.BaselinePutRequest) (client.Result, error)
	MakeCommitment(context.Context, credit.MakeCommitmentRequest) (*credit.Commitment, client.Result, error)
	FulfilCommitment(context.Context, credit.FulfilCommitmentRequest) (*credit.Commitment, client.Result, error)
	ImposePunishment(context.Context, credit.ImposePunishmentRequest) (*credit.Punishment, client.Result, error)
	RecordEnforcement(context.Context, credit.RecordEnforcementRequest) (*credit.Enforcement, client.Result, error)
	Close() error
}

var _ BenchLedger = (*client.Client)(nil)

// BenchConn is one Gateway connection of the pool, as one county's
// officer.
type BenchConn struct {
	County string // division code of the officer's county
	Peer   string // peer address, for the report
	Ledger BenchLedger
}

// LoadSpec is one load.
type LoadSpec struct {
	Workload string
	// Clients is the number of concurrent clients (goroutines); client i
	// uses connection i mod len(pool).
	Clients int
	// Rate, if positive, is the total rate at which transactions are
	// started (open loop; Clients bounds those in flight). Zero: closed
	// loop.
	Rate float64
	// Warmup is run and not counted; Duration is the measured window.
	Warmup, Duration time.Duration
}

func (s LoadSpec) validate() error {
	if !slices.Contains(Workloads, s.Workload) {
		return fmt.Errorf("workload %q: must be one of %s", s.Workload, strings.Join(Workloads, ", "))
	}
	if s.Clients < 1 {
		return fmt.Errorf("clients %d: must be at least 1", s.Clients)
	}
	if s.Rate < 0 {
		return fmt.Errorf("rate %g: must not be negative", s.Rate)
	}
	if s.Duration <= 0 || s.Warmup < 0 {
		return fmt.Errorf("duration %s, warmup %s: the duration must be positive and the warmup not negative", s.Duration, s.Warmup)
	}
	return nil
}

// LoadResult is what a load measured in its window (or, for a compared
// load, the sum of its rounds).
type LoadResult struct {
	Name        string  `json:"name"`
	Workload    string  `json:"workload"`
	Clients     int     `json:"clients"`
	Connections int     `json:"connections"`
	Rate        float64 `json:"rate,omitempty"`
	// Window is the measured time (the sum of the rounds' windows).
	Window time.Duration `json:"windowNs"`
	// Committed counts transactions whose commit status came back valid
	// inside the window, Failed those that failed inside it.
	Committed int `json:"committed"`
	Failed    int `json:"failed"`
	// Retried counts extra attempts the client made (read conflicts).
	Retried int `json:"retried"`
	// TPS is Committed ÷ Window.
	TPS float64 `json:"tps"`
	// Latency is from the proposal to the commit status, of the committed
	// transactions of the window.
	Latency LatencySummary `json:"latency"`
	// Errors are the distinct failures with their counts, most frequent
	// first (at most 5).
	Errors []ErrorCount `json:"errors,omitempty"`
	// Total counts every committed transaction, warmups included, and
	// CPUPerTx is the CPU time the processes used over the same time
	// (warmups included) per committed transaction, in ms, by group
	// (peer, orderer, chaincode, client; "all" sums them). Empty when the
	// CPU was not sampled.
	Total    int                `json:"total"`
	CPUPerTx map[string]float64 `json:"cpuMsPerTx,omitempty"`

	lat []time.Duration
}

// ErrorCount is a distinct failure and how often it happened.
type ErrorCount struct {
	Error string `json:"error"`
	Count int    `json:"count"`
}

var reTxID = regexp.MustCompile(`\(tx [0-9a-f]+\)|[0-9a-f]{64}`)

// errorKey groups failures that differ only in their transaction ID.
func errorKey(err error) string {
	s := reTxID.ReplaceAllString(err.Error(), "(tx …)")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// worker is one client's state: its connection, its county and, for the
// mix, the records it made and may act on next.
type worker struct {
	id     int
	conn   BenchConn
	tag    string
	seq    int
	rng    *rand.Rand
	today  credit.Date
	open   []string // commitments made and not closed
	active []string // punishments imposed
}

func (w *worker) nextID(kind string) string {
	w.seq++
	return fmt.Sprintf("%s%s-%d-%d", kind, w.tag, w.id, w.seq)
}

// subject is an enterprise of the worker's county (GB 32100 code with a
// valid check character).
func (w *worker) subject() string {
	return credit.CompleteCreditCode(fmt.Sprintf("91%sMA%07d", w.conn.County, w.rng.IntN(10_000_000)))
}

// step submits one transaction of the workload and returns the client's
// result.
func (w *worker) step(ctx context.Context, workload string) (client.Result, error) {
	l := w.conn.Ledger
	switch workload {
	case WorkloadNoop:
		return l.Noop(ctx)
	case WorkloadPut:
		id := w.nextID("A")
		return l.BaselinePut(ctx, credit.BaselinePutRequest{ID: id,
			Value: fmt.Appendf(nil, `{"ID":%q,"Color":"blue","Size":5,"Owner":"Tomoko","AppraisedValue":300}`, id)})
	case WorkloadCredit:
		return w.makeCommitment(ctx)
	default:
		return w.mixStep(ctx)
	}
}

// makeCommitment records an approval commitment (告知承诺, the most common
// credit write) with a deadline 30 days on.
func (w *worker) makeCommitment(ctx context.Context) (client.Result, error) {
	id := w.nextID("C")
	_, res, err := w.conn.Ledger.MakeCommitment(ctx, credit.MakeCommitmentRequest{
		ID: id, Kind: "approval", Subject: w.subject(), Content: "申请人承诺所填报信息真实有效，按期补齐材料",
		Deadline: w.today.AddDays(30).String(),
	})
	if err == nil {
		w.open = append(w.open, id)
	}
	return res, err
}

// mixStep is a day's mix of a county credit office's writes: 45% new
// commitments, 20% commitments fulfilled, 20% punishments imposed, 15%
// joint-punishment enforcements recorded. Each client fulfils and
// enforces only what it made itself, so a step never waits for another
// client's record.
func (w *worker) mixStep(ctx context.Context) (client.Result, error) {
	l := w.conn.Ledger
	r := w.rng.IntN(100)
	switch {
	case r < 20 && len(w.open) > 0:
		i := w.rng.IntN(len(w.open))
		id := w.open[i]
		w.open = slices.Delete(w.open, i, i+1)
		_, res, err := l.FulfilCommitment(ctx, credit.FulfilCommitmentRequest{ID: id, Note: "已按承诺补齐材料"})
		return res, err
	case r < 40:
		id := w.nextID("P")
		_, res, err := l.ImposePunishment(ctx, credit.ImposePunishmentRequest{
			ID: id, Subject: w.subject(), Kind: "publicity", Severity: "general",
			DecisionDate: w.today.String(), DecisionNo: "罚〔" + id + "〕", LegalBasis: "《食品安全法》第一百二十二条",
			Measures: []string{"procurement", "bidding"},
		})
		if err == nil {
			w.active = append(w.active, id)
		}
		return res, err
	case r < 55 && len(w.active) > 0:
		_, res, err := l.RecordEnforcement(ctx, credit.RecordEnforcementRequest{
			ID: w.nextID("E"), PunishmentID: w.active[w.rng.IntN(len(w.active))], Measure: "procurement", Date: w.today.String(),
		})
		return res, err
	}
	return w.makeCommitment(ctx)
}

// loadRun is one load being run: its workers and what they measured.
type loadRun struct {
	spec    LoadSpec
	workers []*worker

	mu        sync.Mutex
	lat       []time.Duration
	committed int
	total     int
	failed    int
	retried   int
	errs      map[string]int
	cpu       map[string]time.Duration // by group, over whole runs
}

// newLoadRun prepares the workers of a load over pool; tag makes the
// record IDs of this run unique on the ledger.
func newLoadRun(spec LoadSpec, pool []BenchConn, tag string, today credit.Date, seed uint64) *loadRun {
	r := &loadRun{spec: spec, errs: map[string]int{}, cpu: map[string]time.Duration{}}
	for i := range spec.Clients {
		r.workers = append(r.workers, &worker{
			id: i, conn: pool[i%len(pool)], tag: tag, today: today,
			rng: rand.New(rand.NewPCG(seed, uint64(i))),
		})
	}
	return r
}

// record counts one transaction that ended at end, if the window holds it.
func (r *loadRun) record(start, end, from, to time.Time, res client.Result, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.total++
	}
	if end.Before(from) || !end.Before(to) {
		return
	}
	if res.Attempts > 1 {
		r.retried += res.Attempts - 1
	}
	if err != nil {
		r.failed++
		r.errs[errorKey(err)]++
		return
	}
	r.committed++
	r.lat = append(r.lat, end.Sub(start))
}

// run runs the load once: warmup, then the window; clients stop starting
// transactions at the window's end and run returns when the last one in
// flight has ended. It returns the window.
func (r *loadRun) run(ctx context.Context, now func() time.Time, warmup, window time.Duration) time.Duration {
	begin := now()
	from := begin.Add(warmup)
	to := from.Add(window)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var tokens <-chan struct{}
	if r.spec.Rate > 0 {
		tokens = pace(ctx, r.spec.Rate, to)
	}
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if tokens != nil {
					if _, ok := <-tokens; !ok {
						return
					}
				}
				if ctx.Err() != nil || !now().Before(to) {
					return
				}
				start := now()
				res, err := w.step(ctx, r.spec.Workload)
				r.record(start, now(), from, to, res, err)
			}
		}()
	}
	wg.Wait()
	end := now()
	if end.Before(to) { // cancelled: the window was cut short
		return max(0, end.Sub(from))
	}
	return window
}

// pace sends tokens at rate per second until the deadline or the context
// ends, then closes the channel. Tokens not taken at once are kept (up to
// a second's worth), so a short stall is caught up.
func pace(ctx context.Context, rate float64, deadline time.Time) <-chan struct{} {
	ch := make(chan struct{}, max(1, int(rate)))
	go func() {
		defer close(ch)
		interval := time.Duration(float64(time.Second) / rate)
		next := time.Now()
		for {
			if !next.Before(deadline) {
				return
			}
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			select {
			case ch <- struct{}{}:
			default: // every client busy and the buffer full: this start is lost
			}
			next = next.Add(interval)
		}
	}()
	return ch
}

// LoadCase is one load of a comparison: a name, its connections and its
// spec.
type LoadCase struct {
	Name string
	Pool []BenchConn
	Spec LoadSpec
}

// CompareOptions tune CompareLoads.
type CompareOptions struct {
	// Rounds of alternation (at least 1).
	Rounds int
	// Tag makes this run's record IDs unique on the ledger; Today is the
	// date the records are made on (deadlines, decision dates).
	Tag   string
	Today credit.Date
	// Progress, if set, is told of each round.
	Progress func(string)
	// CPU, if set, returns the CPU time used so far by each process that
	// serves the load (by name: peer…, orderer…, cc.…, and "client" for
	// this one); it is read before and after every round.
	CPU func() map[string]time.Duration
}

// CompareLoads runs the cases alternately, o.Rounds times each (the order
// rotates every round, and each round measures Duration/Rounds after its
// own warmup), so slow drifts of the machine's load weigh on every case
// alike. It returns one result per case, summed over its rounds.
func CompareLoads(ctx context.Context, cases []LoadCase, o CompareOptions) ([]LoadResult, error) {
	rounds := max(o.Rounds, 1)
	for _, c := range cases {
		if err := c.Spec.validate(); err != nil {
			return nil, fmt.Errorf("load %s: %w", c.Name, err)
		}
		if len(c.Pool) == 0 {
			return nil, fmt.Errorf("load %s: no connections", c.Name)
		}
	}
	runs := make([]*loadRun, len(cases))
	windows := make([]time.Duration, len(cases))
	for i, c := range cases {
		// Every case's IDs differ: tag, case index, then client and
		// sequence. Tags of one ledger must differ ("c" ends a tag).
		runs[i] = newLoadRun(c.Spec, c.Pool, o.Tag+"c"+strconv.Itoa(i), o.Today, uint64(i)+1)
	}
	for round := range rounds {
		for k := range cases {
			i := (k + round) % len(cases)
			c := cases[i]
			var before map[string]time.Duration
			if o.CPU != nil {
				before = o.CPU()
			}
			w := runs[i].run(ctx, time.Now, c.Spec.Warmup, c.Spec.Duration/time.Duration(rounds))
			if o.CPU != nil {
				runs[i].addCPU(before, o.CPU())
			}
			windows[i] += w
			if o.Progress != nil {
				o.Progress(fmt.Sprintf("round %d/%d %-24s %s", round+1, rounds, c.Name, runs[i].snapshot(c, windows[i]).brief()))
			}
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("load %s: %w", c.Name, err)
			}
		}
	}
	out := make([]LoadResult, len(cases))
	for i, c := range cases {
		out[i] = runs[i].snapshot(c, windows[i])
	}
	return out, nil
}

// CPUGroup is the group of a process name in LoadResult.CPUPerTx.
func CPUGroup(name string) string {
	switch {
	case strings.HasPrefix(name, "peer"):
		return "peer"
	case strings.HasPrefix(name, "orderer"):
		return "orderer"
	case strings.HasPrefix(name, "cc."):
		return "chaincode"
	}
	return name
}

// addCPU adds the CPU used between two samples, by group.
func (r *loadRun) addCPU(before, after map[string]time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, t := range after {
		if b, ok := before[name]; ok && t >= b {
			r.cpu[CPUGroup(name)] += t - b
		}
	}
}

// snapshot is the result so far.
func (r *loadRun) snapshot(c LoadCase, window time.Duration) LoadResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := LoadResult{
		Name: c.Name, Workload: c.Spec.Workload, Clients: c.Spec.Clients, Connections: len(c.Pool), Rate: c.Spec.Rate,
		Window: window, Committed: r.committed, Failed: r.failed, Retried: r.retried,
		Latency: Summarize(r.lat), lat: slices.Clone(r.lat),
	}
	if window > 0 {
		res.TPS = float64(r.committed) / window.Seconds()
	}
	res.Total = r.total
	if len(r.cpu) > 0 && r.total > 0 {
		res.CPUPerTx = map[string]float64{}
		var all time.Duration
		for g, d := range r.cpu {
			res.CPUPerTx[g] = ms(d) / float64(r.total)
			all += d
		}
		res.CPUPerTx["all"] = ms(all) / float64(r.total)
	}
	for e, n := range r.errs {
		res.Errors = append(res.Errors, ErrorCount{Error: e, Count: n})
	}
	slices.SortFunc(res.Errors, func(a, b ErrorCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Error, b.Error)
	})
	if len(res.Errors) > 5 {
		res.Errors = res.Errors[:5]
	}
	return res
}

// brief is a one-line account for progress messages.
func (r LoadResult) brief() string {
	s := fmt.Sprintf("%6.1f tx/s  p50 %6.1f ms  p99 %7.1f ms  %d ok", r.TPS, r.Latency.P50, r.Latency.P99, r.Committed)
	if c, ok := r.CPUPerTx["all"]; ok {
		s += fmt.Sprintf("  cpu %.2f ms/tx", c)
	}
	if r.Failed > 0 {
		s += fmt.Sprintf("  %d failed", r.Failed)
		if len(r.Errors) > 0 {
			s += " (" + r.Errors[0].Error + ")"
		}
	}
	return s
}

// DialPool opens connections Gateway connections to the network of a
// profile, as each county's user (officer1 in a network made by `network
// up`): connection i goes to county i mod n, and within a county to its
// peers in turn, so the load is spread over every county and peer. The
// caller closes them (ClosePool).
func DialPool(p *network.Profile, connections int, user string) ([]BenchConn, error) {
	if connections < 1 {
		return nil, fmt.Errorf("connections %d: must be at least 1", connections)
	}
	signers := map[string]*client.Signer{}
	var pool []BenchConn
	for i := range connections {
		c := &p.Counties[i%len(p.Counties)]
		pe := c.Peers[(i/len(p.Counties))%len(c.Peers)]
		s, ok := signers[c.Code]
		if !ok {
			var err error
			if s, err = client.LoadMSP(c.MSPID, c.UserMSPDir(user)); err != nil {
				ClosePool(pool)
				return nil, fmt.Errorf("connect as %s of %s: %w", user, c.Code, err)
			}
			signers[c.Code] = s
		}
		cl, err := client.Connect(client.Config{
			Signer: s, PeerAddress: pe.Address, TLSRootCertFile: pe.TLSRootCert, HostOverride: pe.HostOverride,
			Channel: p.Channel, Chaincode: p.Chaincode,
		})
		if err != nil {
			ClosePool(pool)
			return nil, err
		}
		pool = append(pool, BenchConn{County: c.Code, Peer: pe.Address, Ledger: cl})
	}
	return pool, nil
}

// ClosePool closes every connection.
func ClosePool(pool []BenchConn) error {
	var errs []error
	for _, c := range pool {
		errs = append(errs, c.Ledger.Close())
	}
	return errors.Join(errs...)
}

// PeerCount is the number of peers in a profile.
func PeerCount(p *network.Profile) int {
	n := 0
	for _, c := range p.Counties {
		n += len(c.Peers)
	}
	return n
}

// SelfCPU is this process's CPU time (user plus system).
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// NetworkCPU samples the CPU of a run folder's processes and of this
// process ("client"), for CompareOptions.CPU.
func NetworkCPU(runDir string) func() map[string]time.Duration {
	return func() map[string]time.Duration {
		m, err := network.CPUTimes(runDir)
		if err != nil {
			m = map[string]time.Duration{}
		}
		m["client"] = SelfCPU()
		return m
	}
}

// WaitReady submits a Noop through every connection until each has
// committed one, or the timeout: a network that was just started (or
// restarted) may have no Raft leader or no endorsement plan for a few
// seconds, and a load must not measure that.
func WaitReady(ctx context.Context, pool []BenchConn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for _, c := range pool {
		for {
			_, err := c.Ledger.Noop(ctx)
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("network not ready through %s after %s: %w", c.Peer, timeout, err)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return nil
}
