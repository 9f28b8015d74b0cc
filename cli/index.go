package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/spf13/cobra"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/client"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/httpapi"
)

func init() {
	commandAdders = append(commandAdders, NewCmdIndex)
}

// The index folder (--dir) holds the Pebble store in db/ and, while a
// process follows the channel into it, that process's status.json.
// rebuild builds db.rebuild/ and swaps it in.
const (
	indexDBDir      = "db"
	indexStatusFile = "status.json"
	envIndexDir     = "CREDITCTL_INDEX_DIR"
	envIndexServer  = "CREDITCTL_INDEX_SERVER"
)

// IndexOptions are what every `index` command shares: the index folder,
// the server to ask instead of opening it, and how to reach the peer.
type IndexOptions struct {
	Base
	// Dir is the index folder ("" = <profile folder>/index).
	Dir string
	// Server is the base URL of a running `index serve` the read commands
	// ask instead of opening Dir ("" = open Dir).
	Server string
	// Blocks is a folder of block files to follow instead of the peer.
	Blocks string
	// Peer connects to the peer: blocks, ledger height, world state.
	Peer func(context.Context) (IndexPeer, error)
	// profileDir gives the default Dir.
	profileDir func() (string, error)
	// signals is the context commands run under: ended by SIGINT or
	// SIGTERM (tests replace it).
	signals func() (context.Context, context.CancelFunc)
}

func (o *IndexOptions) context() (context.Context, context.CancelFunc) {
	if o.signals != nil {
		return o.signals()
	}
	return signalContext()
}

// IndexPeer is what the index commands need from the peer. The CLI
// adapts *client.Client (clientPeer); tests give a fake.
type IndexPeer interface {
	indexer.BlockSource
	indexer.StateReader
	// Height is the peer's ledger height (qscc GetChainInfo).
	Height(ctx context.Context) (uint64, error)
	Close() error
}

// clientPeer adapts the client to the indexer's interfaces: the indexer
// never imports the client (DESIGN §1).
type clientPeer struct{ c *client.Client }

func (p clientPeer) OpenBlocks(ctx context.Context, start uint64) (indexer.BlockStream, error) {
	s, err := p.c.OpenBlocks(ctx, start)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (p clientPeer) ListState(ctx context.Context, req credit.ListStateRequest) (*credit.ListStateResult, error) {
	r, _, err := p.c.ListState(ctx, req)
	return r, err
}

func (p clientPeer) Height(ctx context.Context) (uint64, error) {
	info, err := p.c.ChainInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("peer height: %w", err)
	}
	return info.GetHeight(), nil
}

func (p clientPeer) Close() error { return p.c.Close() }

// indexPeer connects as the caller (any identity of the channel may read
// blocks and the world state).
func (f *Factory) indexPeer(ctx context.Context) (IndexPeer, error) {
	l, err := f.Ledger(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := l.(*client.Client)
	if !ok {
		l.Close()
		return nil, errors.New("the ledger connection cannot stream blocks (not a Fabric client)")
	}
	return clientPeer{c}, nil
}

// newIndexOptions fills the options every index command shares.
func newIndexOptions(f *Factory) IndexOptions {
	return IndexOptions{
		Base: f.base(),
		Peer: f.indexPeer,
		profileDir: func() (string, error) {
			s, err := f.Settings()
			if err != nil {
				return "", err
			}
			return filepath.Dir(s.Profile), nil
		},
	}
}

// resolveIndex fills Dir and Server from the environment when their flags
// were not given, after parsing.
func (f *Factory) resolveIndex(o *IndexOptions) error {
	if err := f.resolveBase(&o.Base); err != nil {
		return err
	}
	if o.Dir == "" {
		o.Dir = f.getenv(envIndexDir)
	}
	if o.Server == "" {
		o.Server = f.getenv(envIndexServer)
	}
	return nil
}

// dir is the index folder.
func (o *IndexOptions) dir() (string, error) {
	if o.Dir != "" {
		return o.Dir, nil
	}
	if o.profileDir == nil {
		return "", &credit.FieldError{Field: "--dir", Rule: "is required"}
	}
	d, err := o.profileDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "index"), nil
}

// source is where blocks come from: --blocks, or the peer (connected by
// the caller).
func (o *IndexOptions) source(peer IndexPeer) indexer.BlockSource {
	if o.Blocks != "" {
		return indexer.DirSource{Dir: o.Blocks}
	}
	return peer
}

// connect returns the peer, or nil with --blocks (nothing to connect to).
func (o *IndexOptions) connect(ctx context.Context) (IndexPeer, error) {
	if o.Blocks != "" {
		if _, err := os.Stat(o.Blocks); err != nil {
			return nil, &credit.FieldError{Field: "--blocks", Rule: err.Error()}
		}
		return nil, nil
	}
	return o.Peer(ctx)
}

// ErrIndexBusy: another process (index run or serve) holds the index.
var ErrIndexBusy = errors.New("index is in use by another process")

// indexBusy takes the Pebble lock of dbDir for a moment, to tell whether
// a process is following the channel into it: true when one is.
func indexBusy(dbDir string) bool {
	if _, err := os.Stat(dbDir); err != nil {
		return false
	}
	l, err := pebble.LockDirectory(dbDir, vfs.Default)
	if err != nil {
		// Another process: fcntl says EAGAIN or EACCES; this process:
		// Pebble's own table of held locks says so.
		return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) ||
			strings.Contains(err.Error(), "lock held by current process")
	}
	l.Close()
	return false
}

// openIndex opens the index of the folder for this process.
func (o *IndexOptions) openIndex(extra indexer.Options) (*indexer.DB, string, error) {
	dir, err := o.dir()
	if err != nil {
		return nil, "", err
	}
	dbDir := filepath.Join(dir, indexDBDir)
	if indexBusy(dbDir) {
		return nil, dir, fmt.Errorf("%s: %w: a `creditctl index run` or `index serve` follows the channel into it; ask that server (--server, %s) or stop it first",
			dir, ErrIndexBusy, envIndexServer)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, dir, fmt.Errorf("index folder: %w", err)
	}
	db, err := indexer.Open(dbDir, extra)
	if err != nil {
		if errors.Is(err, indexer.ErrFormat) {
			err = fmt.Errorf("%w; rebuild it: creditctl index rebuild --dir %s", err, dir)
		}
		return nil, dir, err
	}
	return db, dir, nil
}

func init() {
	exitClassifiers = append(exitClassifiers, func(err error) (int, bool) {
		// An index that stopped on a block it cannot vouch for, or refuses
		// to open, is a failure (1), whatever sentinel it wraps inside.
		for _, e := range []error{indexer.ErrHashChain, indexer.ErrDataHash, indexer.ErrGap, indexer.ErrMalformed,
			indexer.ErrRecord, indexer.ErrChannel, indexer.ErrFormat, ErrIndexBusy} {
			if errors.Is(err, e) {
				return ExitError, true
			}
		}
		return 0, false
	})
}

// NewCmdIndex is the "index" noun.
func NewCmdIndex(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "index <run|serve|status|rebuild|reconcile|audit|subject|record|history|blacklist|watchlist|overdue|ending|repairs|indicators>",
		Short: "Follow the channel into a local index and answer lookups from it in a millisecond",
		Long: `The index mirrors the credit chaincode's world state into a local Pebble store,
block by block (one synced batch per block, so a crash loses nothing and
duplicates nothing), and answers a subject's profile, a record's history, the
county lists and the county credit indicators without asking the peer.

  index run        follow the channel into the index (resumes where it stopped)
  index serve      the same, plus an HTTP JSON API and Prometheus /metrics
  index status     height, lag behind the peer, ingest rate
  index rebuild    replay every block from 0 into a fresh index, then swap it in
  index reconcile  compare the index with the peer's world state, key by key
  index audit      look for records forged by a colluding majority of counties
  index capture    save the channel's blocks as files (fixtures, offline rebuilds)
  index subject|record|history|blacklist|watchlist|overdue|ending|repairs|indicators
                   lookups; they open the index folder, or ask a running
                   'index serve' with --server

The index folder (--dir, ` + envIndexDir + `) defaults to index/ next to the network
profile (.run/net/index). See docs/INDEXER.md.`,
	}
	cmd.AddCommand(NewCmdIndexRun(f, nil), NewCmdIndexServe(f, nil), NewCmdIndexStatus(f, nil),
		NewCmdIndexRebuild(f, nil), NewCmdIndexReconcile(f, nil), NewCmdIndexAudit(f, nil), NewCmdIndexCapture(f, nil))
	cmd.AddCommand(indexLookupCommands(f)...)
	return cmd
}

// indexFlags registers --dir (and --server for lookups).
func indexFlags(cmd *cobra.Command, o *IndexOptions, server bool) {
	cmd.Flags().StringVar(&o.Dir, "dir", "", "index folder (env "+envIndexDir+"; default: index/ next to the network profile)")
	if server {
		cmd.Flags().StringVar(&o.Server, "server", "", "ask a running `creditctl index serve` at this URL instead of opening the folder (env "+envIndexServer+"), e.g. http://127.0.0.1:7580")
	}
}

// blocksFlag registers --blocks.
func blocksFlag(cmd *cobra.Command, o *IndexOptions) {
	cmd.Flags().StringVar(&o.Blocks, "blocks", "", "follow a folder of block files (NNNNNN.block, as `index capture` or indexer.Capture write them) instead of the peer")
}

// IndexRunOptions are the inputs of `index run` and `index serve`.
type IndexRunOptions struct {
	IndexOptions
	// Once stops when the index reaches the peer's height at start (or the
	// end of --blocks) instead of following new blocks.
	Once bool
	// Progress is the interval of progress lines on stderr (0: none).
	Progress time.Duration
	// LogBlocks prints "applied block N" on stderr for every block.
	LogBlocks bool
	// Listen is the HTTP address of serve ("" for run).
	Listen string
	// NoFollow serves the index without following the channel (serve).
	NoFollow bool
	// ready, if set, is called with the listener's address once serve
	// accepts connections (tests).
	ready func(addr string)
}

// NewCmdIndexRun builds `index run`.
func NewCmdIndexRun(f *Factory, runF func(*IndexRunOptions) error) *cobra.Command {
	opts := &IndexRunOptions{IndexOptions: newIndexOptions(f)}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Follow the channel's blocks into the index, resuming from its checkpoint",
		Long: `Follow the channel's blocks into the index folder: open (or create) the index,
ask the peer for the blocks after its checkpoint, and apply each one in one
synced batch. It keeps following new blocks until interrupted (Ctrl-C,
SIGTERM), which stops it cleanly after the current block; killed at any
moment, it resumes where it stopped with nothing lost and nothing twice.

It stops, and exits 1, on a block it cannot vouch for: a broken hash chain
(another ledger than the one indexed), data that does not match its header,
a record it cannot read. A lost connection to the peer is retried.
Progress goes to stderr.`,
		Example: `  creditctl index run
  creditctl index run --once                # catch up to the peer's height, then exit
  creditctl index run --blocks testdata/blocks --dir /tmp/idx`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexRun(opts)
		},
	}
	indexFlags(cmd, &opts.IndexOptions, false)
	blocksFlag(cmd, &opts.IndexOptions)
	cmd.Flags().BoolVar(&opts.Once, "once", false, "stop at the peer's height at start (or the end of --blocks) instead of following")
	cmd.Flags().DurationVar(&opts.Progress, "progress", 5*time.Second, "interval of progress lines on stderr (0: none)")
	cmd.Flags().BoolVar(&opts.LogBlocks, "log-blocks", false, "print a line on stderr for every block applied")
	return cmd
}

// NewCmdIndexServe builds `index serve`.
func NewCmdIndexServe(f *Factory, runF func(*IndexRunOptions) error) *cobra.Command {
	opts := &IndexRunOptions{IndexOptions: newIndexOptions(f)}
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR]",
		Short: "Follow the channel into the index and serve it: HTTP JSON API and Prometheus /metrics",
		Long: `Do what 'index run' does and serve the index over HTTP while it grows: a JSON
API with one route per lookup and for the county indicators, /v1/status, and
Prometheus metrics at /metrics (ingest height, lag behind the peer, blocks and
transactions applied, apply latency, lookup latency). The API only reads.

Routes (GET; dates YYYY-MM-DD, asOf defaults to today):
  /v1/status
  /v1/subjects/{subject}?asOf=
  /v1/records/{kind}/{id}?asOf=          /v1/records/{kind}/{id}/history
  /v1/counties/{county}/blacklist?asOf=  /v1/counties/{county}/watchlist?asOf=
  /v1/counties/{county}/overdue?asOf=    /v1/counties/{county}/repairs-awaiting?asOf=
  /v1/counties/{county}/publicity-ending?asOf=&days=
  /v1/counties/{county|all}/indicators/{YYYY-MM}
  /metrics  /healthz

The other index commands ask it with --server http://ADDR.`,
		Example: `  creditctl index serve --listen 127.0.0.1:7580
  curl -s http://127.0.0.1:7580/v1/counties/330782/blacklist
  creditctl index subject 91330782MA2K3Y5Q1R --server http://127.0.0.1:7580`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexRun(opts)
		},
	}
	indexFlags(cmd, &opts.IndexOptions, false)
	blocksFlag(cmd, &opts.IndexOptions)
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:7580", "HTTP address to serve on")
	cmd.Flags().BoolVar(&opts.NoFollow, "no-follow", false, "serve the index as it is, without following the channel")
	cmd.Flags().DurationVar(&opts.Progress, "progress", 30*time.Second, "interval of progress lines on stderr (0: none)")
	cmd.Flags().BoolVar(&opts.LogBlocks, "log-blocks", false, "print a line on stderr for every block applied")
	return cmd
}

// rateMeter measures the recent ingest rate from cumulative counts
// sampled once a second over the last ten seconds.
type rateMeter struct {
	mu      sync.Mutex
	blocks  uint64
	txs     uint64
	samples []rateSample
}

type rateSample struct {
	at          time.Time
	blocks, txs uint64
}

func (m *rateMeter) add(r indexer.ApplyResult) {
	m.mu.Lock()
	m.blocks++
	m.txs += uint64(r.Txs)
	m.mu.Unlock()
}

// sample records the counts now and returns the rate over the window.
func (m *rateMeter) sample(now time.Time) (blocksPerSec, txsPerSec float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = append(m.samples, rateSample{now, m.blocks, m.txs})
	for len(m.samples) > 11 {
		m.samples = m.samples[1:]
	}
	first := m.samples[0]
	dt := now.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0, 0
	}
	return float64(m.blocks-first.blocks) / dt, float64(m.txs-first.txs) / dt
}

// follower follows the channel into an open index and keeps its status.
type follower struct {
	o       *IndexRunOptions
	db      *indexer.DB
	dir     string
	peer    IndexPeer // nil with --blocks
	metrics *httpapi.Metrics
	rate    *rateMeter
	errOut  io.Writer

	mu         sync.Mutex
	peerHeight uint64
	following  bool
	lastErr    string
	bps, tps   float64
}

func (fl *follower) status() httpapi.Status {
	st := httpapi.StatusOf(fl.db.Stats())
	fl.mu.Lock()
	st.PeerHeight, st.Following, st.Error = fl.peerHeight, fl.following, fl.lastErr
	st.BlocksPerSecond, st.TxsPerSecond = fl.bps, fl.tps
	fl.mu.Unlock()
	st.Lag = httpapi.Lag(st.PeerHeight, st.Height)
	st.UpdatedAt = credit.Instant(time.Now())
	return st
}

// writeStatus writes status.json atomically.
func (fl *follower) writeStatus() {
	b, err := json.MarshalIndent(fl.status(), "", "  ")
	if err != nil {
		return
	}
	tmp := filepath.Join(fl.dir, indexStatusFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err == nil {
		_ = os.Rename(tmp, filepath.Join(fl.dir, indexStatusFile))
	}
}

func (fl *follower) setPeerHeight(h uint64) {
	fl.mu.Lock()
	fl.peerHeight = h
	fl.mu.Unlock()
	if fl.metrics != nil {
		fl.metrics.SetPeerHeight(h)
	}
}

// tick samples the rate, refreshes the peer height every fifth call and
// writes the status, once a second until ctx ends.
func (fl *follower) tick(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastProgress time.Time
	var lastHeight uint64
	for i := 0; ; i++ {
		if fl.peer != nil && i%5 == 0 {
			hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if h, err := fl.peer.Height(hctx); err == nil {
				fl.setPeerHeight(h)
			}
			cancel()
		}
		bps, tps := fl.rate.sample(time.Now())
		fl.mu.Lock()
		fl.bps, fl.tps = bps, tps
		fl.mu.Unlock()
		fl.writeStatus()
		if p := fl.o.Progress; p > 0 && time.Since(lastProgress) >= p {
			st := fl.status()
			if st.Height != lastHeight || lastProgress.IsZero() {
				fl.progress(st)
				lastHeight = st.Height
			}
			lastProgress = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (fl *follower) progress(st httpapi.Status) {
	peer := "peer height unknown"
	if st.PeerHeight > 0 {
		peer = fmt.Sprintf("peer %d, lag %d", st.PeerHeight, st.Lag)
	}
	fmt.Fprintf(fl.errOut, "index: height %d (%s), %.0f blocks/s, %.0f txs/s; %d txs indexed (%d invalid skipped)\n",
		st.Height, peer, st.BlocksPerSecond, st.TxsPerSecond, st.Txs, st.Invalid)
}

// fatalIngest reports errors that stop ingest for good: the index will
// not go past a block it cannot vouch for.
func fatalIngest(err error) bool {
	for _, e := range []error{indexer.ErrHashChain, indexer.ErrDataHash, indexer.ErrMalformed,
		indexer.ErrRecord, indexer.ErrChannel, indexer.ErrFormat, indexer.ErrClosed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// follow follows until ctx ends, a fatal ingest error, or (once) the
// target height; connection failures are retried with backoff.
func (fl *follower) follow(ctx context.Context, once bool, target uint64) error {
	fl.mu.Lock()
	fl.following = true
	fl.mu.Unlock()
	defer func() {
		fl.mu.Lock()
		fl.following = false
		fl.mu.Unlock()
		if fl.dir != "" {
			fl.writeStatus() // the final state, at once
		}
	}()
	src := fl.o.source(fl.peer)
	backoff := time.Second
	for {
		var err error
		if once && fl.peer != nil {
			err = fl.db.FollowTo(ctx, src, target)
		} else {
			err = fl.db.Follow(ctx, src)
		}
		if err == nil {
			if once || fl.peer == nil {
				return nil // caught up, or the end of --blocks
			}
			err = errors.New("the block stream ended")
		}
		if ctx.Err() != nil {
			return nil // interrupted: every applied block is durable
		}
		fl.mu.Lock()
		fl.lastErr = err.Error()
		fl.mu.Unlock()
		if fatalIngest(err) || fl.peer == nil {
			return err
		}
		fmt.Fprintf(fl.errOut, "index: %v; retrying in %s\n", err, backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func runIndexRun(o *IndexRunOptions) error {
	ctx, cancel := o.context()
	defer cancel()
	serving := o.Listen != ""
	if o.NoFollow && !serving {
		return &UsageError{Err: errors.New("--no-follow is for index serve")}
	}
	if o.Blocks != "" && o.NoFollow {
		return &UsageError{Err: errors.New("--blocks and --no-follow contradict each other")}
	}
	fl := &follower{o: o, rate: &rateMeter{}, errOut: o.IO.ErrOut}
	var db *indexer.DB
	if serving {
		fl.metrics = httpapi.NewMetrics(func() uint64 { return db.Height() })
	}
	var peer IndexPeer
	if !o.NoFollow {
		var err error
		if peer, err = o.connect(ctx); err != nil {
			return err
		}
		if peer != nil {
			defer peer.Close()
		}
	}
	fl.peer = peer
	db, dir, err := o.openIndex(indexer.Options{OnApply: func(r indexer.ApplyResult, d time.Duration) {
		fl.rate.add(r)
		if fl.metrics != nil {
			fl.metrics.ObserveApply(r, d)
		}
		if o.LogBlocks {
			fmt.Fprintf(o.IO.ErrOut, "applied block %d: %d txs (%d invalid), %d writes\n", r.Block, r.Txs, r.Invalid, r.Writes)
		}
	}})
	if err != nil {
		return err
	}
	defer db.Close()
	fl.db, fl.dir = db, dir
	defer os.Remove(filepath.Join(dir, indexStatusFile))

	var target uint64
	if peer != nil {
		if target, err = peer.Height(ctx); err != nil {
			return err
		}
		fl.setPeerHeight(target)
		if target < db.Height() {
			return fmt.Errorf("the peer's ledger has %d blocks, the index %d: the index was built from another ledger (a network started anew?); rebuild it: creditctl index rebuild --dir %s: %w",
				target, db.Height(), dir, indexer.ErrHashChain)
		}
	}
	fmt.Fprintf(o.IO.ErrOut, "index: %s at height %d; %s\n", dir, db.Height(), fl.sourceWords(target))
	started := time.Now()

	tctx, stopTick := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); fl.tick(tctx) }()
	defer func() { stopTick(); wg.Wait() }()

	var srv *http.Server
	srvErr := make(chan error, 1)
	if serving {
		ln, err := net.Listen("tcp", o.Listen)
		if err != nil {
			return &credit.FieldError{Field: "--listen", Rule: err.Error()}
		}
		srv = &http.Server{
			Handler:           httpapi.New(db, httpapi.Options{Now: o.Now, Metrics: fl.metrics, Status: fl.status}),
			ReadHeaderTimeout: 10 * time.Second,
		}
		go func() { srvErr <- srv.Serve(ln) }()
		fmt.Fprintf(o.IO.ErrOut, "index: serving http://%s (API /v1/…, metrics /metrics)\n", ln.Addr())
		if o.ready != nil {
			o.ready(ln.Addr().String())
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}

	var ferr error
	if !o.NoFollow {
		ferr = fl.follow(ctx, o.Once, target)
	}
	if serving && ferr == nil && !o.Once {
		// Serving goes on (after --blocks ended, or with --no-follow)
		// until interrupted or the server fails.
		select {
		case <-ctx.Done():
		case err := <-srvErr:
			if !errors.Is(err, http.ErrServerClosed) {
				ferr = fmt.Errorf("serve: %w", err)
			}
		}
	}
	st := fl.status()
	fl.rate.mu.Lock()
	blocks, txs := fl.rate.blocks, fl.rate.txs
	fl.rate.mu.Unlock()
	took := time.Since(started)
	summary := fmt.Sprintf("applied %d blocks (%d txs) in %.1fs", blocks, txs, took.Seconds())
	if ferr != nil {
		return fmt.Errorf("index stopped at height %d (%s): %w", st.Height, summary, ferr)
	}
	fmt.Fprintf(o.IO.ErrOut, "index: stopped at height %d; %s\n", st.Height, summary)
	return nil
}

func (fl *follower) sourceWords(peerHeight uint64) string {
	switch {
	case fl.o.NoFollow:
		return "not following"
	case fl.o.Blocks != "":
		return "following the block files in " + fl.o.Blocks
	case fl.o.Once:
		return fmt.Sprintf("catching up to the peer's height %d", peerHeight)
	}
	return fmt.Sprintf("following the peer (height %d)", peerHeight)
}

// IndexStatusOptions are the inputs of `index status`.
type IndexStatusOptions struct {
	IndexOptions
	Offline bool
}

// NewCmdIndexStatus builds `index status`.
func NewCmdIndexStatus(f *Factory, runF func(*IndexStatusOptions) error) *cobra.Command {
	opts := &IndexStatusOptions{IndexOptions: newIndexOptions(f)}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the index's height, its lag behind the peer and the ingest rate",
		Long: `Show how far the index has come: its height (blocks applied), the last block and
transaction, its lag behind the peer's ledger height (asked of the peer, qscc
GetChainInfo), the ingest rate of the process following the channel into it
(if one is), and the transaction counts since block 0.`,
		Example: `  creditctl index status
  creditctl index status -o json
  creditctl index status --offline     # do not ask the peer`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexStatus(opts)
		},
	}
	indexFlags(cmd, &opts.IndexOptions, false)
	cmd.Flags().BoolVar(&opts.Offline, "offline", false, "do not ask the peer its height (lag unknown)")
	return cmd
}

func runIndexStatus(o *IndexStatusOptions) error {
	ctx, cancel := o.context()
	defer cancel()
	dir, err := o.dir()
	if err != nil {
		return err
	}
	var st httpapi.Status
	if indexBusy(filepath.Join(dir, indexDBDir)) {
		b, err := os.ReadFile(filepath.Join(dir, indexStatusFile))
		if err != nil {
			return fmt.Errorf("index %s is in use but has no status file: %w", dir, err)
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("index %s: status file: %w", dir, err)
		}
	} else {
		if _, err := os.Stat(filepath.Join(dir, indexDBDir)); err != nil {
			return fmt.Errorf("no index in %s: build one with `creditctl index run`: %w", dir, err)
		}
		db, _, err := o.openIndex(indexer.Options{})
		if err != nil {
			return err
		}
		st = httpapi.StatusOf(db.Stats())
		st.UpdatedAt = credit.Instant(o.Now())
		if err := db.Close(); err != nil {
			return err
		}
	}
	if !o.Offline {
		peer, err := o.Peer(ctx)
		if err != nil {
			return err
		}
		h, err := peer.Height(ctx)
		peer.Close()
		if err != nil {
			return err
		}
		st.PeerHeight = h
	}
	st.Lag = httpapi.Lag(st.PeerHeight, st.Height)
	p := o.Printer()
	if p.JSON() {
		return p.WriteJSON(st)
	}
	return printIndexStatus(p, st)
}

// printIndexStatus prints the status as label/value rows.
func printIndexStatus(p *Printer, st httpapi.Status) error {
	peer, lag := "unknown", "unknown"
	if st.PeerHeight > 0 {
		peer, lag = strconv.FormatUint(st.PeerHeight, 10), strconv.FormatUint(st.Lag, 10)
	}
	rate := "not following"
	if st.Following {
		rate = fmt.Sprintf("%.1f blocks/s, %.1f txs/s", st.BlocksPerSecond, st.TxsPerSecond)
	}
	rows := [][]string{
		{indexLabel(p, "namespace"), st.Namespace},
		{indexLabel(p, "height"), strconv.FormatUint(st.Height, 10)},
		{indexLabel(p, "lastBlock"), strconv.FormatUint(st.LastBlock, 10)},
		{indexLabel(p, "lastTxId"), st.LastTxID},
		{indexLabel(p, "peerHeight"), peer},
		{indexLabel(p, "lag"), lag},
		{indexLabel(p, "rate"), rate},
		{indexLabel(p, "txs"), fmt.Sprintf("%d (%d valid, %d invalid, %d config; %d credit)", st.Txs, st.Valid, st.Invalid, st.Config, st.CreditTxs)},
		{indexLabel(p, "writes"), fmt.Sprintf("%d (%d deletes)", st.Writes, st.Deletes)},
	}
	if st.Error != "" {
		rows = append(rows, []string{indexLabel(p, "error"), st.Error})
	}
	return p.Table(nil, rows)
}

// zhIndexLabels are the --lang zh labels of the index commands' own
// fields (record fields come from labels.go).
var zhIndexLabels = map[string]string{
	"namespace": "链码命名空间", "height": "索引高度(已处理区块数)", "lastBlock": "最新区块", "lastTxId": "最新交易",
	"peerHeight": "节点账本高度", "lag": "落后区块数", "rate": "写入速度", "txs": "交易数", "writes": "写入数",
	"error": "错误",
	// reconcile
	"objectType": "对象类型", "peer": "节点世界状态", "index": "索引", "pages": "分页数", "difference": "差异",
	"key": "键",
	// indicators
	"county": "县(市、区)", "month": "月份",
	"listActive": "黑名单及重点关注名单总量", "listShare": "占全市比重", "listEntries": "当月新增",
	"listExits": "当月退出", "listExitsRepaired": "其中:信用修复", "listExitsRevoked": "其中:撤销",
	"listExitsExpired": "其中:公示期满", "exitShare": "退出量占名单总量比重", "listSubjectShare": "列入名单主体占比",
	"repairsApplied": "信用修复申请", "repairsCompleted": "完成信用修复", "repairTraining": "参加信用修复培训",
	"commitmentsMade": "作出信用承诺", "commitmentsFulfilled": "履行承诺", "commitmentsBreached": "违背承诺",
	"overdueEntries": "当月逾期", "overdueActive": "逾期未履行", "subjectsSeen": "涉及主体数",
	"subjectsCommitted": "作出承诺主体数", "coverage": "信用承诺覆盖率",
}

// zhReconcileValues label the kinds of difference.
var zhReconcileValues = map[string]string{
	string(indexer.DiffMissing): "索引缺少", string(indexer.DiffExtra): "索引多出", string(indexer.DiffValue): "值不同",
}

// indexLabel is a field label for the index commands.
func indexLabel(p *Printer, key string) string {
	if p.Lang == "zh" {
		if l, ok := zhIndexLabels[key]; ok {
			return l
		}
	}
	return p.Label(key)
}

// IndexRebuildOptions are the inputs of `index rebuild`.
type IndexRebuildOptions struct {
	IndexRunOptions
}

// NewCmdIndexRebuild builds `index rebuild`.
func NewCmdIndexRebuild(f *Factory, runF func(*IndexRebuildOptions) error) *cobra.Command {
	opts := &IndexRebuildOptions{IndexRunOptions{IndexOptions: newIndexOptions(f)}}
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Replay every block from block 0 into a fresh index, then swap it in",
		Long: `Build a new index from block 0 up to the peer's current height (or every block
of --blocks) in db.rebuild/ inside the index folder, then swap it in for db/.
The old index stays in place, and is used by nobody, until the new one is
complete: interrupted, the rebuild leaves the old index as it was.

Rebuild when the index refuses to open (a format version this build does not
read), after a ledger reset, or when reconcile finds a difference. Stop
'index run' / 'index serve' first; the rebuild refuses to run beside them.`,
		Example: `  creditctl index rebuild
  creditctl index rebuild --blocks captured/ --dir /tmp/idx`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexRebuild(opts)
		},
	}
	indexFlags(cmd, &opts.IndexOptions, false)
	blocksFlag(cmd, &opts.IndexOptions)
	cmd.Flags().DurationVar(&opts.Progress, "progress", 5*time.Second, "interval of progress lines on stderr (0: none)")
	return cmd
}

// RebuildResult is the JSON output of `index rebuild`.
type RebuildResult struct {
	Dir     string  `json:"dir"`
	Height  uint64  `json:"height"`
	Txs     uint64  `json:"txs"`
	Seconds float64 `json:"seconds"`
}

func runIndexRebuild(o *IndexRebuildOptions) error {
	ctx, cancel := o.context()
	defer cancel()
	dir, err := o.dir()
	if err != nil {
		return err
	}
	dbDir := filepath.Join(dir, indexDBDir)
	newDir := dbDir + ".rebuild"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("index folder: %w", err)
	}
	// Hold the current index's lock throughout: no run or serve may use
	// it while it is replaced.
	if _, err := os.Stat(dbDir); err == nil {
		l, err := pebble.LockDirectory(dbDir, vfs.Default)
		if err != nil {
			return fmt.Errorf("%s: %w: stop `creditctl index run` / `index serve` first (%v)", dir, ErrIndexBusy, err)
		}
		defer l.Close()
	}
	peer, err := o.connect(ctx)
	if err != nil {
		return err
	}
	if peer != nil {
		defer peer.Close()
	}
	if err := os.RemoveAll(newDir); err != nil {
		return fmt.Errorf("remove an unfinished rebuild: %w", err)
	}
	fl := &follower{o: &o.IndexRunOptions, rate: &rateMeter{}, errOut: o.IO.ErrOut, peer: peer} // no status file: the new index is not the folder's yet
	db, err := indexer.Open(newDir, indexer.Options{OnApply: func(r indexer.ApplyResult, _ time.Duration) { fl.rate.add(r) }})
	if err != nil {
		return err
	}
	fl.db = db
	var target uint64
	if peer != nil {
		if target, err = peer.Height(ctx); err != nil {
			db.Close()
			return err
		}
		fl.setPeerHeight(target)
	}
	fmt.Fprintf(o.IO.ErrOut, "index: rebuilding %s from block 0 (%s)\n", newDir, fl.sourceWords(target))
	start := time.Now()
	tctx, stopTick := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); fl.tickProgressOnly(tctx) }()
	o.Once = true
	ferr := fl.follow(ctx, true, target)
	stopTick()
	<-done
	st := db.Stats()
	if cerr := db.Close(); ferr == nil {
		ferr = cerr
	}
	if ferr == nil && ctx.Err() != nil {
		ferr = ctx.Err()
	}
	if ferr == nil && peer != nil && st.Height < target {
		ferr = fmt.Errorf("reached height %d of %d", st.Height, target)
	}
	if ferr != nil {
		return fmt.Errorf("rebuild stopped at height %d; the index in %s is unchanged: %w", st.Height, dbDir, ferr)
	}
	old := dbDir + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if _, err := os.Stat(dbDir); err == nil {
		if err := os.Rename(dbDir, old); err != nil {
			return fmt.Errorf("swap in the rebuilt index: %w", err)
		}
	}
	if err := os.Rename(newDir, dbDir); err != nil {
		return fmt.Errorf("swap in the rebuilt index (the old one is in %s): %w", old, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove the old index: %w", err)
	}
	res := RebuildResult{Dir: dir, Height: st.Height, Txs: st.Txs, Seconds: time.Since(start).Seconds()}
	fmt.Fprintf(o.IO.ErrOut, "index: rebuilt to height %d (%d txs) in %.1fs and swapped in\n", res.Height, res.Txs, res.Seconds)
	p := o.Printer()
	if p.JSON() {
		return p.WriteJSON(res)
	}
	return p.WriteRecord(res)
}

// tickProgressOnly prints progress lines (rebuild writes no status file:
// its index is not the folder's yet).
func (fl *follower) tickProgressOnly(ctx context.Context) {
	if fl.o.Progress <= 0 {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			bps, tps := fl.rate.sample(now)
			fl.mu.Lock()
			fl.bps, fl.tps = bps, tps
			fl.mu.Unlock()
			if now.Sub(last) >= fl.o.Progress {
				fl.progress(fl.status())
				last = now
			}
		}
	}
}

// IndexReconcileOptions are the inputs of `index reconcile`.
type IndexReconcileOptions struct {
	IndexOptions
	PageSize  int
	NoCatchUp bool
	Attempts  int
}

// NewCmdIndexReconcile builds `index reconcile`.
func NewCmdIndexReconcile(f *Factory, runF func(*IndexReconcileOptions) error) *cobra.Command {
	opts := &IndexReconcileOptions{IndexOptions: newIndexOptions(f)}
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare the index with the peer's world state, key by key; exit 1 on any difference",
		Long: `Compare the index's mirror of the world state with the peer's, for every object
type of the credit chaincode: page through the peer's state with the
chaincode's ListState query and walk the mirror over the same keys in the same
order. Every key missing from the index, extra in it, or holding another value
is printed. Exit status 0 when they are equal, 1 on any difference.

First the index catches up to the peer's height (unless --no-catch-up), so
both describe the same block; if the peer's height moves during the
comparison, it is repeated (up to --attempts times). Stop 'index run' first,
or the index folder is busy.`,
		Example: `  creditctl index reconcile
  creditctl index reconcile -o json`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexReconcile(opts)
		},
	}
	indexFlags(cmd, &opts.IndexOptions, false)
	cmd.Flags().IntVar(&opts.PageSize, "page-size", 1000, "entries per ListState call (1-1000)")
	cmd.Flags().BoolVar(&opts.NoCatchUp, "no-catch-up", false, "compare the index as it is (differences are expected if it is behind)")
	cmd.Flags().IntVar(&opts.Attempts, "attempts", 3, "comparisons to try while the peer's height keeps moving")
	return cmd
}

// ReconcileOutput is the JSON output of `index reconcile`.
type ReconcileOutput struct {
	PeerHeight uint64 `json:"peerHeight"`
	indexer.ReconcileReport
	Attempts int `json:"attempts"`
}

func runIndexReconcile(o *IndexReconcileOptions) error {
	if o.PageSize < 1 || o.PageSize > 1000 {
		return &credit.FieldError{Field: "--page-size", Rule: "must be between 1 and 1000"}
	}
	if o.Attempts < 1 {
		return &credit.FieldError{Field: "--attempts", Rule: "must be at least 1"}
	}
	ctx, cancel := o.context()
	defer cancel()
	db, _, err := o.openIndex(indexer.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	peer, err := o.Peer(ctx)
	if err != nil {
		return err
	}
	defer peer.Close()
	var out ReconcileOutput
	for attempt := 1; ; attempt++ {
		h1, err := peer.Height(ctx)
		if err != nil {
			return err
		}
		if !o.NoCatchUp && db.Height() < h1 {
			fmt.Fprintf(o.IO.ErrOut, "index: catching up from height %d to the peer's %d\n", db.Height(), h1)
			if err := db.FollowTo(ctx, peer, h1); err != nil {
				return fmt.Errorf("catch up: %w", err)
			}
		}
		rep, err := db.Reconcile(ctx, peer, indexer.ReconcileOptions{PageSize: o.PageSize})
		if err != nil {
			return err
		}
		h2, err := peer.Height(ctx)
		if err != nil {
			return err
		}
		out = ReconcileOutput{PeerHeight: h2, ReconcileReport: *rep, Attempts: attempt}
		if (h1 == h2 && rep.Height == h2) || attempt >= o.Attempts {
			break
		}
		fmt.Fprintf(o.IO.ErrOut, "index: the ledger moved from height %d to %d during the comparison; comparing again\n", h1, h2)
	}
	p := o.Printer()
	if p.JSON() {
		if err := p.WriteJSON(out); err != nil {
			return err
		}
	} else if err := printReconcile(p, out); err != nil {
		return err
	}
	keysCompared := 0
	for _, t := range out.Types {
		keysCompared += t.Peer
	}
	if n := len(out.Differences); n > 0 {
		why := ""
		if out.Height != out.PeerHeight {
			why = fmt.Sprintf(" (the index is at height %d, the peer at %d: compare again when the ledger is quiet)", out.Height, out.PeerHeight)
		}
		return &codedError{ExitError, fmt.Errorf("reconcile: %d difference(s) between the index and the peer's world state at height %d%s", n, out.PeerHeight, why)}
	}
	fmt.Fprintf(o.IO.ErrOut, "index: reconcile clean: %d keys of %d object types equal at height %d\n", keysCompared, len(out.Types), out.Height)
	return nil
}

func printReconcile(p *Printer, out ReconcileOutput) error {
	rows := make([][]string, 0, len(out.Types))
	for _, t := range out.Types {
		rows = append(rows, []string{t.ObjectType, strconv.Itoa(t.Peer), strconv.Itoa(t.Index), strconv.Itoa(t.Pages)})
	}
	if p.Format == OutputTable {
		if err := p.Table([]string{indexLabel(p, "objectType"), indexLabel(p, "peer"), indexLabel(p, "index"), indexLabel(p, "pages")}, rows); err != nil {
			return err
		}
		fmt.Fprintln(p.IO.Out)
	}
	if len(out.Differences) == 0 {
		return nil
	}
	diff := make([][]string, 0, len(out.Differences))
	for _, d := range out.Differences {
		kind := string(d.Kind)
		if p.Lang == "zh" {
			kind = zhReconcileValues[kind]
		}
		peer, index := d.Peer, d.Index
		if p.Format == OutputTable {
			peer, index = abbreviate(peer, 48), abbreviate(index, 48)
		}
		diff = append(diff, []string{kind, d.Key, peer, index})
	}
	return p.Table([]string{indexLabel(p, "difference"), indexLabel(p, "key"), indexLabel(p, "peer"), indexLabel(p, "index")}, diff)
}

// IndexCaptureOptions are the inputs of `index capture`.
type IndexCaptureOptions struct {
	IndexOptions
	To          string
	From, Until uint64
}

// NewCmdIndexCapture builds `index capture`.
func NewCmdIndexCapture(f *Factory, runF func(*IndexCaptureOptions) error) *cobra.Command {
	opts := &IndexCaptureOptions{IndexOptions: newIndexOptions(f)}
	cmd := &cobra.Command{
		Use:   "capture --to DIR [--from N] [--until N]",
		Short: "Save the channel's blocks from the peer as block files",
		Long: `Save blocks [--from, --until) of the channel, exactly as the peer delivers them,
into a folder, one file per block (NNNNNN.block, the protobuf of the block).
'index run --blocks DIR' and 'index rebuild --blocks DIR' read such a folder;
the indexer's test fixtures are captured this way. --until defaults to the
peer's height.`,
		Example: `  creditctl index capture --to /tmp/blocks
  creditctl index capture --to /tmp/blocks --from 100 --until 200`,
		Args: usageArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.resolveIndex(&opts.IndexOptions); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runIndexCapture(opts)
		},
	}
	cmd.Flags().StringVar(&opts.To, "to", "", "folder to write the block files into (created)")
	cmd.Flags().Uint64Var(&opts.From, "from", 0, "first block")
	cmd.Flags().Uint64Var(&opts.Until, "until", 0, "block to stop before (default: the peer's height)")
	return cmd
}

func runIndexCapture(o *IndexCaptureOptions) error {
	if o.To == "" {
		return &credit.FieldError{Field: "--to", Rule: "is required: the folder to write the blocks into"}
	}
	if o.Until != 0 && o.Until <= o.From {
		return &credit.FieldError{Field: "--until", Rule: fmt.Sprintf("must be after --from (%d)", o.From)}
	}
	ctx, cancel := o.context()
	defer cancel()
	peer, err := o.Peer(ctx)
	if err != nil {
		return err
	}
	defer peer.Close()
	until := o.Until
	if until == 0 {
		if until, err = peer.Height(ctx); err != nil {
			return err
		}
		if until <= o.From {
			return &credit.FieldError{Field: "--from", Rule: fmt.Sprintf("the peer's height is %d", until)}
		}
	}
	n, err := indexer.Capture(ctx, peer, o.To, o.From, until)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "index: captured blocks %d to %d (%d files) into %s\n", o.From, until-1, n, o.To)
	return nil
}
