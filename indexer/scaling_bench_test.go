package indexer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// scalingSizes are the index sizes of BenchmarkSubjectProfileScaling, in
// records: INDEXER_SCALING_RECORDS (comma-separated) or 10,000, 100,000
// and 1,000,000.
func scalingSizes(tb testing.TB) []int {
	s := os.Getenv("INDEXER_SCALING_RECORDS")
	if s == "" {
		return []int{10_000, 100_000, 1_000_000}
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 {
			tb.Fatalf("INDEXER_SCALING_RECORDS=%q: want sizes of at least 100, comma-separated", s)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkSubjectProfileScaling measures SubjectProfile latency (p50 and
// p99 over b.N lookups of random subjects that have records) in indexes of
// growing size, for the scaling curve of docs/PERFORMANCE.md: one
// sub-benchmark per size (records=N: at least N records). Each
// index is built on disk from synthetic blocks of 500 transactions that
// the chaincode's own domain operations produce (the workload generator:
// commitments, punishments, enforcements, repairs, with a subject every 8
// transactions, so a profile holds about as many records at every size);
// building is not timed. The baseline of each size is the smallest size,
// compared by the bench table; the building rate is reported too.
func BenchmarkSubjectProfileScaling(b *testing.B) {
	for _, n := range scalingSizes(b) {
		// Built once per size, outside the sub-benchmark (which the
		// framework runs more than once).
		db, w, stats := buildScalingIndex(b, n)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			asOf := credit.DateOf(w.day)
			// Subjects with at least one record, from the subject index.
			var subjects []string
			prefix := keys.CompositeKey(credit.TypeSubject)
			err := db.ScanMirror(prefix, keys.PrefixEnd(prefix), func(k, _ []byte) error {
				_, attrs, _ := keys.SplitCompositeKey(k)
				if len(attrs) > 0 && (len(subjects) == 0 || subjects[len(subjects)-1] != attrs[0]) {
					subjects = append(subjects, attrs[0])
				}
				return nil
			})
			if err != nil || len(subjects) == 0 {
				b.Fatalf("%d subjects: %v", len(subjects), err)
			}
			lat := make([]time.Duration, 0, b.N)
			records := 0
			b.ResetTimer()
			for range b.N {
				subj := subjects[w.rng.IntN(len(subjects))]
				t0 := time.Now()
				p, err := db.SubjectProfile(subj, asOf)
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				records += len(p.Records)
			}
			b.StopTimer()
			b.ReportMetric(float64(stats.Records), "records")
			b.ReportMetric(float64(stats.CreditTxs), "credit-txs")
			b.ReportMetric(float64(len(subjects)), "subjects")
			b.ReportMetric(float64(records)/float64(b.N), "records/profile")
			b.ReportMetric(float64(percentile(lat, 50))/1e3, "p50-µs")
			b.ReportMetric(float64(percentile(lat, 99))/1e3, "p99-µs")
			b.ReportMetric(float64(stats.CreditTxs)/stats.build.Seconds(), "build-txs/s")
		})
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

type scalingStats struct {
	Records, CreditTxs int
	build              time.Duration
}

// countRecords counts the records (the six record kinds) in the mirror.
func countRecords(b *testing.B, db *DB) int {
	n := 0
	for _, kind := range credit.RecordKinds {
		prefix := keys.CompositeKey(kind)
		if err := db.ScanMirror(prefix, keys.PrefixEnd(prefix), func(_, _ []byte) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// buildScalingIndex generates blocks until the index holds at least n
// records, applying each to an index on disk while the next is generated
// (the blocks are not kept).
func buildScalingIndex(b *testing.B, n int) (*DB, *workload, scalingStats) {
	b.Helper()
	t0 := time.Now()
	w := newWorkload(b, uint64(n), max(n/8, 10))
	db, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Most transactions create a record, some change one: build to n
	// transactions, count, and go on by the measured ratio until there
	// are n records.
	target := uint64(n)
	applied := 0
	records := 0
	for {
		blocks := make(chan []*common.Block, 4)
		done := make(chan error, 1)
		go func() {
			var err error
			for bs := range blocks {
				for _, blk := range bs {
					if err == nil {
						_, err = db.Apply(blk)
					}
				}
			}
			done <- err
		}()
		// The generator runs here and stays ahead of Apply by at most a
		// few blocks; it counts the credit transactions it made.
		made := db.Stats().CreditTxs
		for made < target {
			if applied == 0 { // the config block and the registrations first
				applied = len(w.blocks)
			} else {
				w.block(500)
			}
			for _, blk := range w.blocks {
				made += uint64(len(blk.GetData().GetData())) // a few are invalid: the count below corrects
			}
			blocks <- w.blocks
			w.blocks = nil
		}
		close(blocks)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		records = countRecords(b, db)
		if records >= n {
			break
		}
		if db.Stats().CreditTxs >= target { // the estimate held no invalid transactions
			target = db.Stats().CreditTxs
		}
		perTx := float64(records) / float64(db.Stats().CreditTxs)
		target = db.Stats().CreditTxs + uint64(float64(n-records)/perTx) + 1
	}
	st := scalingStats{Records: records, CreditTxs: int(db.Stats().CreditTxs), build: time.Since(t0)}
	settle(b, db)
	b.Logf("%d records from %d credit transactions in %d blocks, built in %.1fs", st.Records, st.CreditTxs, db.Height(), st.build.Seconds())
	return db, w, st
}

// settle waits (up to a minute) until Pebble has flushed and no
// compaction has run for half a second, so lookups measure a settled
// index, as a long-running one is, not one still compacting what the
// build wrote.
func settle(b *testing.B, db *DB) {
	b.Helper()
	if err := db.pdb.Flush(); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	quiet := 0
	for time.Since(t0) < time.Minute && quiet < 5 {
		time.Sleep(100 * time.Millisecond)
		if db.pdb.Metrics().Compact.NumInProgress == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
	b.Logf("settled in %.1fs", time.Since(t0).Seconds())
}
