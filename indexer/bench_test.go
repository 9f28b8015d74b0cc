package indexer

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/countycredit/creditledger/chaincode/credit"
	"github.com/countycredit/creditledger/indexer/keys"
)

// benchChain is built once per test binary: a workload of 60 blocks of 50
// transactions over 500 subjects (about 3,000 transactions).
var benchChain = sync.OnceValue(func() *workload {
	w := newWorkload(nil, 42, 500)
	for range 60 {
		w.block(50)
	}
	return w
})

// BenchmarkIngest compares, in the same run, raw decoding of a chain's
// blocks (ParseBlock: every envelope, header and read-write set unmarshalled,
// nothing indexed) with ingesting them (Apply: decoding plus the records'
// JSON, the facts, the index rows, the counters, and one synced batch per
// block). It reports both rates and ingest/decode. "mem" runs on an
// in-memory filesystem (Sync costs nothing), "disk" on the test's temporary
// directory (each block waits for fsync).
func BenchmarkIngest(b *testing.B) {
	w := benchChain()
	txs := 0
	for _, blk := range w.blocks {
		txs += len(blk.Data.Data)
	}
	for _, where := range []string{"mem", "disk"} {
		b.Run(where, func(b *testing.B) {
			var decode, ingest time.Duration
			for range b.N {
				t0 := time.Now()
				for _, blk := range w.blocks {
					if _, err := ParseBlock(blk, DefaultNamespace); err != nil {
						b.Fatal(err)
					}
				}
				t1 := time.Now()
				opts := Options{FS: vfs.NewMem()}
				dir := "idx"
				if where == "disk" {
					opts.FS, dir = nil, b.TempDir()
				}
				db, err := Open(dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				for _, blk := range w.blocks {
					if _, err := db.Apply(blk); err != nil {
						b.Fatal(err)
					}
				}
				t3 := time.Now()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				decode += t1.Sub(t0)
				ingest += t3.Sub(t2)
			}
			n := float64(b.N * len(w.blocks))
			b.ReportMetric(n/decode.Seconds(), "decode-blocks/s")
			b.ReportMetric(n/ingest.Seconds(), "ingest-blocks/s")
			b.ReportMetric(float64(b.N*txs)/ingest.Seconds(), "ingest-txs/s")
			b.ReportMetric(decode.Seconds()/ingest.Seconds(), "ingest/decode")
		})
	}
}

// BenchmarkSubjectProfile measures SubjectProfile latency over the
// subjects of the bench chain (p50 and p99 over every call) against the
// baseline of answering the same question without the index, by scanning
// every mirrored record in the same snapshot and keeping the subject's
// (what a plain key-value mirror without secondary indexes must do).
func BenchmarkSubjectProfile(b *testing.B) {
	w := benchChain()
	db, err := Open("idx", Options{FS: vfs.NewMem()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, blk := range w.blocks {
		if _, err := db.Apply(blk); err != nil {
			b.Fatal(err)
		}
	}
	asOf := credit.NewDate(2025, 6, 1)
	lat := make([]time.Duration, 0, b.N)
	records := 0
	b.ResetTimer()
	for i := range b.N {
		subj := w.subjects[i%len(w.subjects)]
		t0 := time.Now()
		p, err := db.SubjectProfile(subj, asOf)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		records += len(p.Records)
	}
	b.StopTimer()
	// Baseline, same run: a full scan for a sample of subjects.
	var scanLat []time.Duration
	for i := range 20 {
		subj := w.subjects[i*len(w.subjects)/20]
		t0 := time.Now()
		n, err := scanProfile(db, subj, asOf)
		scanLat = append(scanLat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if want, _ := db.SubjectProfile(subj, asOf); len(want.Records) != n {
			b.Fatalf("scan found %d records of %s, the index %d", n, subj, len(want.Records))
		}
	}
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	b.ReportMetric(float64(p50)/1e3, "p50-µs")
	b.ReportMetric(float64(p99)/1e3, "p99-µs")
	b.ReportMetric(float64(records)/float64(b.N), "records/profile")
	b.ReportMetric(float64(percentile(scanLat, 50))/1e3, "scan-p50-µs")
	b.ReportMetric(float64(percentile(scanLat, 50))/float64(p50), "scan/index-p50")
}

// scanProfile finds a subject's records by scanning every mirrored record.
func scanProfile(db *DB, subject string, asOf credit.Date) (int, error) {
	n := 0
	err := db.view(func(s *pebble.Snapshot) error {
		prefix := []byte{byte(keys.PrefixMirror)}
		return scan(s, prefix, keys.PrefixEnd(prefix), func(k, v []byte) error {
			ot, attrs, ok := keys.SplitCompositeKey(k[1:])
			if !ok || len(attrs) != 1 || !credit.IsRecordKind(ot) {
				return nil
			}
			rec := credit.NewRecord(ot)
			if err := json.Unmarshal(v, rec); err != nil {
				return err
			}
			if rec.Head().Subject == subject {
				rec.Derive(asOf)
				n++
			}
			return nil
		})
	})
	return n, err
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return s[i]
}

// replayChain is built once per test binary: synthetic blocks of 50
// transactions each, made by running the chaincode's own operations (the
// workload above) against a simulated world state, until they hold at
// least 100,000 valid credit transactions.
var replayChain = sync.OnceValue(func() *workload {
	w := newWorkload(nil, 7, 20000)
	valid := 0
	for valid < 100_000 {
		b := w.block(50)
		pb, err := ParseBlock(b, DefaultNamespace)
		if err != nil {
			panic(err)
		}
		for _, tx := range pb.Txs {
			if tx.Valid() && len(tx.Writes) > 0 {
				valid++
			}
		}
	}
	return w
})

// BenchmarkReplay replays at least 100,000 credit transactions from block
// 0 into an index on disk (one synced batch per block), through Follow as
// `index rebuild` does, and measures in the same run the baseline of
// decoding the same blocks with nothing indexed (ParseBlock). Blocks are
// synthetic: built by the chaincode's own domain operations, so their
// write sets hold exactly the keys and JSON the chaincode writes, but with
// placeholder signatures and certificates (smaller envelopes than a real
// network's).
func BenchmarkReplay(b *testing.B) {
	t0 := time.Now()
	w := replayChain()
	gen := time.Since(t0)
	txs, valid := 0, 0
	for _, blk := range w.blocks {
		pb, err := ParseBlock(blk, DefaultNamespace)
		if err != nil {
			b.Fatal(err)
		}
		txs += len(pb.Txs)
		for _, tx := range pb.Txs {
			if tx.Valid() && len(tx.Writes) > 0 {
				valid++
			}
		}
	}
	b.Logf("%d blocks, %d txs (%d valid credit txs) generated in %.1fs", len(w.blocks), txs, valid, gen.Seconds())
	b.ResetTimer()
	var decode, replay time.Duration
	var size int64
	for range b.N {
		t0 := time.Now()
		for _, blk := range w.blocks {
			if _, err := ParseBlock(blk, DefaultNamespace); err != nil {
				b.Fatal(err)
			}
		}
		decode += time.Since(t0)
		dir := b.TempDir()
		db, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := db.Follow(b.Context(), sliceSource(w.blocks)); err != nil {
			b.Fatal(err)
		}
		replay += time.Since(t1)
		if db.Height() != uint64(len(w.blocks)) {
			b.Fatalf("height %d of %d", db.Height(), len(w.blocks))
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		size = dirSize(b, dir)
	}
	n := float64(b.N)
	b.ReportMetric(float64(valid), "credit-txs")
	b.ReportMetric(replay.Seconds()/n, "replay-s")
	b.ReportMetric(n*float64(txs)/replay.Seconds(), "replay-txs/s")
	b.ReportMetric(n*float64(len(w.blocks))/replay.Seconds(), "replay-blocks/s")
	b.ReportMetric(n*float64(len(w.blocks))/decode.Seconds(), "decode-blocks/s")
	b.ReportMetric(decode.Seconds()/replay.Seconds(), "replay/decode")
	b.ReportMetric(float64(size)/(1<<20), "index-MiB")
}

func dirSize(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// BenchmarkIngestRealBlocks compares, in the same run, decoding and
// ingesting blocks captured from a real network: testdata/blocks/network,
// or the folder INDEXER_BENCH_BLOCKS names (`creditctl index capture`, or
// cli's BenchmarkIndexIngestVsDelivery with CREDIT_BENCH_SAVE_BLOCKS).
// With INDEXER_BENCH_FROM=N only blocks N on are measured: the blocks
// before them are applied once, not timed, and each run ingests into a
// copy of that index (to measure the loaded blocks of a capture alone).
// Real blocks carry endorsements and certificates, and on a quiet network
// few transactions each, so per-block costs weigh more than in the
// synthetic workload.
func BenchmarkIngestRealBlocks(b *testing.B) {
	dir := "testdata/blocks/network"
	if d := os.Getenv("INDEXER_BENCH_BLOCKS"); d != "" {
		dir = d
	}
	blocks, err := ReadBlockDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	from := 0
	if v := os.Getenv("INDEXER_BENCH_FROM"); v != "" {
		if from, err = strconv.Atoi(v); err != nil || from < 0 || from >= len(blocks) {
			b.Fatalf("INDEXER_BENCH_FROM=%q: a block number below %d", v, len(blocks))
		}
	}
	base := filepath.Join(b.TempDir(), "base")
	db, err := Open(base, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Follow(b.Context(), sliceSource(blocks[:from])); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	measured := blocks[from:]
	txs := 0
	for _, blk := range measured {
		txs += len(blk.Data.Data)
	}
	var decode, ingest, decodeCPU, ingestCPU time.Duration
	b.ResetTimer()
	for range b.N {
		c0, t0 := processCPU(), time.Now()
		for _, blk := range measured {
			if _, err := ParseBlock(blk, DefaultNamespace); err != nil {
				b.Fatal(err)
			}
		}
		decode += time.Since(t0)
		decodeCPU += processCPU() - c0
		b.StopTimer()
		idx := filepath.Join(b.TempDir(), "db")
		if err := os.CopyFS(idx, os.DirFS(base)); err != nil {
			b.Fatal(err)
		}
		db, err := Open(idx, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c1, t1 := processCPU(), time.Now()
		if err := db.Follow(b.Context(), sliceSource(blocks)); err != nil {
			b.Fatal(err)
		}
		ingest += time.Since(t1)
		ingestCPU += processCPU() - c1
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N * len(measured))
	b.ReportMetric(float64(len(measured)), "blocks")
	b.ReportMetric(float64(txs)/float64(len(measured)), "txs/block")
	b.ReportMetric(n/decode.Seconds(), "decode-blocks/s")
	b.ReportMetric(n/ingest.Seconds(), "ingest-blocks/s")
	b.ReportMetric(float64(b.N*txs)/ingest.Seconds(), "ingest-txs/s")
	b.ReportMetric(decode.Seconds()/ingest.Seconds(), "ingest/decode")
	b.ReportMetric(float64(decodeCPU)/1e3/n, "decode-cpu-µs/block")
	b.ReportMetric(float64(ingestCPU)/1e3/n, "ingest-cpu-µs/block")
}

// processCPU is the CPU time this process has used (user and system), of
// all its threads: Follow runs on several.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
