//go:build integration

package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer"
	"github.com/countycredit/creditledger/indexer/httpapi"
	"github.com/countycredit/creditledger/indexer/keys"
)

// Benchmarks of the index against the real network (make bench-indexer
// runs them inside network/with-network.sh). Each reports its baseline,
// measured in the same run, and the ratio; none asserts a time.
//
// The ledger is first grown to CREDIT_BENCH_TXS transactions (default
// 600) by generateTraffic, unless it already holds that many blocks' worth.

// benchLedger makes sure the shared network's ledger has traffic to
// measure and returns its height.
func benchLedger(b *testing.B, n *itNet) uint64 {
	b.Helper()
	txs := 600
	if v := os.Getenv("CREDIT_BENCH_TXS"); v != "" {
		var err error
		if txs, err = strconv.Atoi(v); err != nil {
			b.Fatalf("CREDIT_BENCH_TXS=%q", v)
		}
	}
	auditor := n.client(b, 2, "auditor1")
	if h := n.height(b, auditor); h < uint64(txs)/8 {
		generateTraffic(b, n, txs, 8)
	}
	return n.height(b, auditor)
}

// BenchmarkIndexIngestVsDelivery measures, over the same blocks, raw
// delivery — the blocks read and decoded (ParseBlock), nothing indexed —
// and ingest: Follow into an index on disk (decode, index, one synced
// batch per block). Both are measured from the peer (its Deliver stream)
// and from block files (the same blocks captured with indexer.Capture, as
// `creditctl index capture` saves them), the four alternated b.N times in
// a rotating order after a warm-up of each. Two sets of blocks:
//
//	blocks=quiet   the ledger from block 0 as benchLedger grew it: 8
//	               clients submitting one transaction after another, so
//	               blocks of a few transactions (a quiet network)
//	blocks=loaded  the blocks cut while `creditctl bench load --workload
//	               mix --clients 100` ran for CREDIT_BENCH_LOAD (default
//	               16s; the bench suite's load): tens of transactions a
//	               block, cut by the 100 ms batch timeout. Ingest starts
//	               from a copy of an index built up to the first loaded
//	               block (the copy is not timed).
//
// Two more runs from the peer measure the storage floor: the blocks
// received and decoded as for delivery, and as each block's one synced
// batch the rows the warm-up ingest wrote for it (recorded with
// RecordRows, written by StoreRecorded), nothing read from the index or
// built; and the same with the state mirror's rows alone. Their ratio to
// delivery is the most any ingest writing those rows can reach here.
//
// Each reports the blocks and transactions, every rate, ingest/delivery
// (from the peer; target ≥ 0.8), floor/delivery and mirror-floor/delivery,
// and file-ingest/file-read (from files).
// CREDIT_BENCH_SAVE_BLOCKS=DIR also saves the ledger's blocks from block 0
// to the end of the loaded ones into DIR, for in-process profiling
// (BenchmarkIngestRealBlocks with INDEXER_BENCH_BLOCKS=DIR).
func BenchmarkIndexIngestVsDelivery(b *testing.B) {
	n := loadITNet(b)
	b.Run("blocks=quiet", func(b *testing.B) {
		from, to := quietBlocks(b, n)
		ingestVsDelivery(b, n, from, to)
	})
	b.Run("blocks=loaded", func(b *testing.B) {
		from, to := loadedBlocks(b, n)
		ingestVsDelivery(b, n, from, to)
	})
}

// The two block ranges, fixed the first time they are asked for, so that
// -count and the runs with growing b.N measure the same blocks.
var benchRanges struct {
	sync.Mutex
	quiet, loaded [2]uint64
}

// quietBlocks is [0, height) of the ledger benchLedger grew.
func quietBlocks(b *testing.B, n *itNet) (uint64, uint64) {
	benchRanges.Lock()
	defer benchRanges.Unlock()
	if benchRanges.quiet[1] == 0 {
		benchRanges.quiet = [2]uint64{0, benchLedger(b, n)}
	}
	return benchRanges.quiet[0], benchRanges.quiet[1]
}

// loadedBlocks runs the bench suite's credit mix with 100 clients once and
// returns the range of blocks it made.
func loadedBlocks(b *testing.B, n *itNet) (uint64, uint64) {
	benchRanges.Lock()
	defer benchRanges.Unlock()
	if benchRanges.loaded[1] != 0 {
		return benchRanges.loaded[0], benchRanges.loaded[1]
	}
	dur := 16 * time.Second
	if v := os.Getenv("CREDIT_BENCH_LOAD"); v != "" {
		var err error
		if dur, err = time.ParseDuration(v); err != nil || dur <= 0 {
			b.Fatalf("CREDIT_BENCH_LOAD=%q: a positive duration", v)
		}
	}
	auditor := n.client(b, 2, "auditor1")
	ctx, cancel := context.WithTimeout(context.Background(), dur+5*time.Minute)
	defer cancel()
	pool, err := DialPool(n.profile, PeerCount(n.profile), "officer1")
	if err != nil {
		b.Fatal(err)
	}
	defer ClosePool(pool)
	if err := WaitReady(ctx, pool, time.Minute); err != nil {
		b.Fatal(err)
	}
	from := n.height(b, auditor)
	now := time.Now()
	res, err := CompareLoads(ctx, []LoadCase{{Name: WorkloadMix, Pool: pool,
		Spec: LoadSpec{Workload: WorkloadMix, Clients: 100, Warmup: time.Second, Duration: dur}}},
		CompareOptions{Rounds: 1, Tag: "IX" + strconv.FormatInt(now.UnixNano()/1e6%(36*36*36*36*36*36), 36), Today: credit.DateOf(now)})
	if err != nil {
		b.Fatal(err)
	}
	to := n.height(b, auditor)
	b.Logf("load: %s, %d clients: %d committed, %d failed, %.0f tx/s; blocks %d-%d", WorkloadMix, res[0].Clients,
		res[0].Committed, res[0].Failed, res[0].TPS, from, to-1)
	if to-from < 10 {
		b.Fatalf("the load made %d blocks", to-from)
	}
	if dir := os.Getenv("CREDIT_BENCH_SAVE_BLOCKS"); dir != "" {
		if _, err := indexer.Capture(ctx, clientPeer{auditor}, dir, 0, to); err != nil {
			b.Fatal(err)
		}
		b.Logf("blocks 0-%d saved in %s", to-1, dir)
	}
	benchRanges.loaded = [2]uint64{from, to}
	return from, to
}

// ingestVsDelivery measures blocks [from, to) of the test network (see
// BenchmarkIndexIngestVsDelivery).
func ingestVsDelivery(b *testing.B, n *itNet, from, to uint64) {
	auditor := n.client(b, 2, "auditor1")
	peer := clientPeer{auditor}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	files := filepath.Join(b.TempDir(), "blocks")
	if got, err := indexer.Capture(ctx, peer, files, from, to); err != nil || uint64(got) != to-from {
		b.Fatalf("capture blocks %d-%d: %d written: %v", from, to-1, got, err)
	}
	// The index ingest starts from: empty for block 0, else built up to
	// from and copied for each run.
	base := filepath.Join(b.TempDir(), "base")
	db, err := indexer.Open(base, indexer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.FollowTo(ctx, peer, from); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	// cpu is the CPU time used so far by this process ("client") and the
	// network's peers ("peer").
	sample := NetworkCPU(filepath.Dir(n.path))
	cpu := func() (m [2]time.Duration) {
		for name, d := range sample() {
			switch CPUGroup(name) {
			case "client":
				m[0] += d
			case "peer":
				m[1] += d
			}
		}
		return m
	}
	var cpuUsed [6][2]time.Duration // by measurement: this process, the peers
	// read receives and decodes every block, as Follow's receiving
	// goroutine does, without applying anything.
	read := func(src indexer.BlockSource, m int) (time.Duration, int) {
		txs := 0
		c0 := cpu()
		defer func() {
			c1 := cpu()
			cpuUsed[m][0] += c1[0] - c0[0]
			cpuUsed[m][1] += c1[1] - c0[1]
		}()
		t0 := time.Now()
		s, err := src.OpenBlocks(ctx, from)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		for range to - from {
			blk, err := s.Recv()
			if err != nil {
				b.Fatal(err)
			}
			pb, err := indexer.ParseBlock(blk, indexer.DefaultNamespace)
			if err != nil {
				b.Fatal(err)
			}
			txs += len(pb.Txs)
		}
		return time.Since(t0), txs
	}
	// ingest copies the base index and brings it to block to from src:
	// with Follow, keeping the rows it writes in record if that is set;
	// or, with store set, with StoreRecorded (the storage floor: blocks
	// received and decoded as Follow receives them, each block's batch
	// the rows Follow wrote for it, nothing built).
	ingest := func(src indexer.BlockSource, m int, record, store *indexer.RowRecording) time.Duration {
		dir := filepath.Join(b.TempDir(), "db")
		if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
			b.Fatal(err)
		}
		db, err := indexer.Open(dir, indexer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		db.RecordRows(record)
		c0 := cpu()
		t0 := time.Now()
		if store != nil {
			err = db.StoreRecorded(ctx, src, to, store)
		} else {
			err = db.FollowTo(ctx, src, to)
		}
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		c1 := cpu()
		cpuUsed[m][0] += c1[0] - c0[0]
		cpuUsed[m][1] += c1[1] - c0[1]
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		return d
	}
	fileSrc := indexer.DirSource{Dir: files}
	// Warm up every path (the peer's block file cache, the connection,
	// the page cache of the files); the first ingest records its rows.
	rec := indexer.NewRowRecording()
	_, txs := read(peer, 0)
	read(fileSrc, 2)
	ingest(peer, 1, rec, nil)
	ingest(fileSrc, 3, nil, nil)
	mirrorRec := rec.MirrorOnly()
	ingest(peer, 4, nil, rec)
	ingest(peer, 5, nil, mirrorRec)
	cpuUsed = [6][2]time.Duration{}
	// delivery, ingest, file read, file ingest, storage floor, mirror floor
	var times [6]time.Duration
	runs := [6]func() time.Duration{
		func() time.Duration { d, _ := read(peer, 0); return d },
		func() time.Duration { return ingest(peer, 1, nil, nil) },
		func() time.Duration { d, _ := read(fileSrc, 2); return d },
		func() time.Duration { return ingest(fileSrc, 3, nil, nil) },
		func() time.Duration { return ingest(peer, 4, nil, rec) },
		func() time.Duration { return ingest(peer, 5, nil, mirrorRec) },
	}
	b.ResetTimer()
	for i := range b.N {
		// Rotate the order, so that none always follows another.
		for k := range runs {
			j := (k + i) % len(runs)
			times[j] += runs[j]()
		}
	}
	b.StopTimer()
	blocks := float64(to - from)
	nb := float64(b.N) * blocks
	rate := func(d time.Duration) float64 { return nb / d.Seconds() }
	b.ReportMetric(blocks, "blocks")
	b.ReportMetric(float64(txs), "txs")
	b.ReportMetric(float64(txs)/blocks, "txs/block")
	b.ReportMetric(rate(times[0]), "delivery-blocks/s")
	b.ReportMetric(rate(times[1]), "ingest-blocks/s")
	b.ReportMetric(float64(b.N*txs)/times[1].Seconds(), "ingest-txs/s")
	b.ReportMetric(times[0].Seconds()/times[1].Seconds(), "ingest/delivery")
	b.ReportMetric(rate(times[2]), "file-read-blocks/s")
	b.ReportMetric(rate(times[3]), "file-ingest-blocks/s")
	b.ReportMetric(times[2].Seconds()/times[3].Seconds(), "file-ingest/read")
	// CPU per block: of this process (receiving, decoding and, for
	// ingest, indexing) and of the peers (delivering).
	us := func(d time.Duration) float64 { return float64(d) / 1e3 / nb }
	b.ReportMetric(us(cpuUsed[0][0]), "delivery-cpu-µs/block")
	b.ReportMetric(us(cpuUsed[0][1]), "delivery-peer-cpu-µs/block")
	b.ReportMetric(us(cpuUsed[1][0]), "ingest-cpu-µs/block")
	b.ReportMetric(us(cpuUsed[1][1]), "ingest-peer-cpu-µs/block")
	b.ReportMetric(us(cpuUsed[2][0]), "file-read-cpu-µs/block")
	b.ReportMetric(us(cpuUsed[3][0]), "file-ingest-cpu-µs/block")
	// The storage floor: what writing ingest's rows costs, received and
	// decoded as delivery receives them; its ratio to delivery is the
	// best ingest can reach here, whatever it builds.
	rs := rec.Stats()
	b.ReportMetric(rs.Rows, "rows/block")
	b.ReportMetric(rs.MirrorRows, "mirror-rows/block")
	b.ReportMetric(rs.Bytes, "row-bytes/block")
	b.ReportMetric(rate(times[4]), "floor-blocks/s")
	b.ReportMetric(times[0].Seconds()/times[4].Seconds(), "floor/delivery")
	b.ReportMetric(us(cpuUsed[4][0]), "floor-cpu-µs/block")
	b.ReportMetric(us(cpuUsed[4][1]), "floor-peer-cpu-µs/block")
	b.ReportMetric(rate(times[5]), "mirror-floor-blocks/s")
	b.ReportMetric(times[0].Seconds()/times[5].Seconds(), "mirror-floor/delivery")
	b.ReportMetric(us(cpuUsed[5][0]), "mirror-floor-cpu-µs/block")
}

// BenchmarkIndexSubjectProfile measures a subject's profile from the index
// (SubjectProfile, in process; and GET /v1/subjects/{subject} through the
// HTTP API on loopback) against the same question put to the chaincode
// (SubjectRecords, a Gateway evaluate on the peer), over every subject on
// the ledger, and reports p50 and p99 of each and the ratios.
func BenchmarkIndexSubjectProfile(b *testing.B) {
	n := loadITNet(b)
	height := benchLedger(b, n)
	auditor := n.client(b, 2, "auditor1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	db, err := indexer.Open(b.TempDir(), indexer.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.FollowTo(ctx, clientPeer{auditor}, height); err != nil {
		b.Fatal(err)
	}
	var subjects []string
	err = db.ScanMirror(keys.CompositeKey(credit.TypeSubject), keys.PrefixEnd(keys.CompositeKey(credit.TypeSubject)), func(k, _ []byte) error {
		_, attrs, _ := keys.SplitCompositeKey(k)
		if len(subjects) == 0 || subjects[len(subjects)-1] != attrs[0] {
			subjects = append(subjects, attrs[0])
		}
		return nil
	})
	if err != nil || len(subjects) == 0 {
		b.Fatalf("%d subjects: %v", len(subjects), err)
	}
	srv := httptest.NewServer(httpapi.New(db, httpapi.Options{}))
	defer srv.Close()
	today := credit.DateOf(time.Now())
	const lookups, evaluates = 5000, 400
	var idx, api, ev []time.Duration
	records := 0
	b.ResetTimer()
	for range b.N {
		// Each timed loop starts from a collected heap, so that none pays
		// for the garbage of the one before (as testing.B collects before
		// each benchmark).
		runtime.GC()
		for i := range evaluates {
			s := subjects[i%len(subjects)]
			t0 := time.Now()
			res, _, err := auditor.SubjectRecords(ctx, s)
			ev = append(ev, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			records += len(res.Records)
		}
		runtime.GC()
		for i := range lookups {
			s := subjects[i%len(subjects)]
			t0 := time.Now()
			if _, err := db.SubjectProfile(s, today); err != nil {
				b.Fatal(err)
			}
			idx = append(idx, time.Since(t0))
		}
		runtime.GC()
		for i := range lookups {
			s := subjects[i%len(subjects)]
			t0 := time.Now()
			resp, err := srv.Client().Get(srv.URL + "/v1/subjects/" + s)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			api = append(api, time.Since(t0))
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %v %s", s, err, resp.Status)
			}
		}
	}
	b.StopTimer()
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	p := func(d []time.Duration, q int) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[(len(s)-1)*q/100]
	}
	b.ReportMetric(float64(len(subjects)), "subjects")
	b.ReportMetric(float64(records)/float64(len(ev)), "records/profile")
	b.ReportMetric(us(p(idx, 50)), "index-p50-µs")
	b.ReportMetric(us(p(idx, 99)), "index-p99-µs")
	b.ReportMetric(us(p(api, 50)), "http-p50-µs")
	b.ReportMetric(us(p(api, 99)), "http-p99-µs")
	b.ReportMetric(us(p(ev, 50)), "evaluate-p50-µs")
	b.ReportMetric(us(p(ev, 99)), "evaluate-p99-µs")
	b.ReportMetric(float64(p(ev, 50))/float64(p(idx, 50)), "evaluate/index-p50")
	b.ReportMetric(float64(p(ev, 99))/float64(p(idx, 99)), "evaluate/index-p99")
	b.ReportMetric(float64(p(ev, 50))/float64(p(api, 50)), "evaluate/http-p50")
	b.Log(fmt.Sprintf("%d subjects, ledger height %d", len(subjects), height))
}
