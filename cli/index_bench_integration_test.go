//go:build integration

package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
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

// BenchmarkIndexIngestVsDelivery measures, over the same blocks from the
// same peer, raw delivery — the peer's Deliver stream read from block 0
// and every block decoded (ParseBlock), nothing indexed — and ingest:
// Follow into a fresh index on disk (decode, index, one synced batch per
// block). It alternates the two b.N times and reports both rates and
// ingest/delivery (target ≥ 0.8).
func BenchmarkIndexIngestVsDelivery(b *testing.B) {
	n := loadITNet(b)
	height := benchLedger(b, n)
	auditor := n.client(b, 2, "auditor1")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// delivery reads and decodes every block, as Follow's receiving
	// goroutine does, without applying anything.
	delivery := func() (time.Duration, int) {
		txs := 0
		t0 := time.Now()
		s, err := auditor.OpenBlocks(ctx, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		for range height {
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
	ingestOnce := func() time.Duration {
		db, err := indexer.Open(b.TempDir(), indexer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := db.FollowTo(ctx, clientPeer{auditor}, height); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		return d
	}
	// Warm up both paths (the peer's block file cache, the connection).
	_, txs := delivery()
	ingestOnce()
	var raw, ingest time.Duration
	b.ResetTimer()
	for i := range b.N {
		// Alternate which goes first, so neither always follows the other.
		if i%2 == 0 {
			d, _ := delivery()
			raw += d
			ingest += ingestOnce()
		} else {
			ingest += ingestOnce()
			d, _ := delivery()
			raw += d
		}
	}
	b.StopTimer()
	nb := float64(b.N) * float64(height)
	b.ReportMetric(float64(height), "blocks")
	b.ReportMetric(float64(txs), "txs")
	b.ReportMetric(nb/raw.Seconds(), "delivery-blocks/s")
	b.ReportMetric(nb/ingest.Seconds(), "ingest-blocks/s")
	b.ReportMetric(float64(b.N*txs)/ingest.Seconds(), "ingest-txs/s")
	b.ReportMetric(raw.Seconds()/ingest.Seconds(), "ingest/delivery")
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
		for i := range lookups {
			s := subjects[i%len(subjects)]
			t0 := time.Now()
			if _, err := db.SubjectProfile(s, today); err != nil {
				b.Fatal(err)
			}
			idx = append(idx, time.Since(t0))
		}
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
